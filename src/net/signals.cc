#include "net/signals.h"

#include <csignal>
#include <string>

#include "net/runtime.h"

namespace kvs::net {

StopOnSignals::StopOnSignals(uv_loop_t* loop, std::function<void(const char*)> on_signal)
    : callback_(std::move(on_signal)) {
  for (uv_signal_t* h : {&sigint_, &sigterm_}) {
    uv_signal_init(loop, h);
    h->data = this;
  }
  uv_signal_start(&sigint_, &StopOnSignals::on_signal, SIGINT);
  uv_signal_start(&sigterm_, &StopOnSignals::on_signal, SIGTERM);
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigint_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&sigterm_));
}

void StopOnSignals::close() {
  if (closed_) return;
  closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
}

void StopOnSignals::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<StopOnSignals*>(handle->data);
  if (self->callback_) self->callback_(signum == SIGINT ? "SIGINT" : "SIGTERM");
}

int serve_until_stopped(uv_loop_t* loop, Runtime& runtime) {
  StopOnSignals signals(loop, [&](const char* signal) {
    runtime.log(LogLevel::kInfo, std::string("received ") + signal + ", shutting down");
    runtime.shutdown();
  });
  uv_run(loop, UV_RUN_DEFAULT);
  signals.close();
  uv_run(loop, UV_RUN_DEFAULT);  // the signal handles' close callbacks
  uv_loop_close(loop);
  return runtime.stop_reason() ? 1 : 0;
}

}  // namespace kvs::net
