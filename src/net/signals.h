// SIGINT and SIGTERM as loop events, for a graceful stop of the programs. The signal
// handles are unreferenced: they never keep uv_run() alive on their own, so the loop
// also ends when the runtime stops for another reason (a Stop effect).
#pragma once

#include <uv.h>

#include <functional>

namespace kvs::net {

class StopOnSignals {
 public:
  // on_signal("SIGINT" or "SIGTERM") runs on the loop thread.
  StopOnSignals(uv_loop_t* loop, std::function<void(const char*)> on_signal);
  // REQUIRES: close() was called and the loop ran its close callbacks.
  ~StopOnSignals() = default;
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  void close();

 private:
  static void on_signal(uv_signal_t* handle, int signum);

  std::function<void(const char*)> callback_;
  uv_signal_t sigint_;
  uv_signal_t sigterm_;
  bool closed_ = false;
};

class Runtime;

// Runs the loop until SIGINT/SIGTERM (a graceful shutdown) or a Stop effect ends the
// runtime, then closes the loop. Returns the process exit status: 1 if a Stop ended it.
int serve_until_stopped(uv_loop_t* loop, Runtime& runtime);

}  // namespace kvs::net
