// Client: see client_lib.h.
#include "net/client_lib.h"

#include <unistd.h>

#include <cstdio>
#include <random>
#include <utility>

namespace kvs {

namespace {

// A fresh incarnation per Client: see ClientSession's constructor. 64 random bits make
// a clash between two processes of one client id negligible.
std::string new_incarnation() {
  std::uint64_t bits;
  try {
    std::random_device rd;
    bits = (std::uint64_t{rd()} << 32) ^ rd();
  } catch (...) {
    // No entropy source: time and pid still differ between successive processes.
    bits = uv_hrtime() ^ (std::uint64_t(getpid()) << 40);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

}  // namespace

std::unique_ptr<Client> Client::open(ClientConfig config, std::string* error, LogLevel min_level) {
  std::unique_ptr<net::HistoryWriter> history;
  if (!config.history.empty()) {
    history = net::HistoryWriter::open(config.history, config.id, error);
    if (!history) return nullptr;
  }
  std::unique_ptr<Client> client(new Client(std::move(config), std::move(history)));
  net::RuntimeOptions options;
  options.max_frame_bytes = client->config_.max_frame_bytes;
  options.log_name = "client " + client->config_.id;
  options.min_level = min_level;
  Client* self = client.get();
  options.on_effect = [self](const Effect& e) { self->on_effect(e); };
  client->runtime_ = std::make_unique<net::Runtime>(&client->loop_, &client->session_, options);
  if (!client->runtime_->start(error)) return nullptr;
  return client;
}

Client::Client(ClientConfig config, std::unique_ptr<net::HistoryWriter> history)
    : config_(config),
      session_(std::move(config), new_incarnation()),
      history_(std::move(history)) {
  uv_loop_init(&loop_);
}

Client::~Client() {
  // The Runtime's contract: shut down, let the loop run the close callbacks, and only
  // then destroy it.
  if (runtime_) runtime_->shutdown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  runtime_.reset();
  uv_loop_close(&loop_);
}

std::uint64_t Client::get(std::string key) {
  const Nanos now = net::Runtime::now();
  const std::uint64_t id = session_.get(key, now);
  // Recorded before drain(): nothing can complete before its invoke line.
  if (history_) history_->invoke(id, Op::kGet, key, std::nullopt, now);
  runtime_->drain();
  return id;
}

std::uint64_t Client::put(std::string key, std::string value) {
  const Nanos now = net::Runtime::now();
  const std::uint64_t id = session_.put(key, value, now);
  if (history_) history_->invoke(id, Op::kPut, key, value, now);
  put_values_.emplace(id, std::move(value));
  runtime_->drain();
  return id;
}

void Client::on_effect(const Effect& e) {
  const auto* d = std::get_if<Deliver>(&e);
  if (!d) return;  // LogLines are already written; a client session never Stops
  Result r{d->op_id, d->op, d->status, d->key, std::nullopt, d->detail};
  if (d->op == Op::kGet) {
    if (d->status == Status::kOk) r.value = d->value;
  } else if (auto it = put_values_.find(d->op_id); it != put_values_.end()) {
    r.value = std::move(it->second);
    put_values_.erase(it);
  }
  if (history_) {
    history_->complete(r.op_id, r.op, r.status, r.key, r.value, net::Runtime::now());
    if (!history_->error().empty() && !history_error_reported_) {
      history_error_reported_ = true;
      runtime_->log(LogLevel::kError, config_.history + ": " + history_->error());
    }
  }
  ready_.push_back(std::move(r));
}

void Client::run_once() {
  uv_run(&loop_, UV_RUN_ONCE);
}

std::optional<Result> Client::poll() {
  uv_run(&loop_, UV_RUN_NOWAIT);
  if (ready_.empty()) return std::nullopt;
  Result r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

Result Client::wait_next() {
  while (ready_.empty()) {
    if (session_.outstanding() == 0) {
      return Result{0, Op::kGet, Status::kRejected, {}, std::nullopt, "no operation outstanding"};
    }
    if (runtime_->stop_reason()) return stopped_result(0);
    run_once();
  }
  Result r = std::move(ready_.front());
  ready_.pop_front();
  return r;
}

Result Client::wait_for(std::uint64_t op_id) {
  for (;;) {
    for (auto it = ready_.begin(); it != ready_.end(); ++it) {
      if (it->op_id == op_id) {
        Result r = std::move(*it);
        ready_.erase(it);
        return r;
      }
    }
    if (runtime_->stop_reason()) return stopped_result(op_id);
    run_once();
  }
}

Result Client::stopped_result(std::uint64_t op_id) const {
  return Result{op_id, Op::kGet,     Status::kUnavailable,
                {},    std::nullopt, "client stopped: " + runtime_->stop_reason().value_or("")};
}

Result Client::get_sync(std::string key) {
  return wait_for(get(std::move(key)));
}

Result Client::put_sync(std::string key, std::string value) {
  return wait_for(put(std::move(key), std::move(value)));
}

std::optional<nlohmann::json> Client::status_sync(std::string* error) {
  session_.request_status(net::Runtime::now());
  runtime_->drain();
  for (;;) {
    if (auto st = session_.take_status()) {
      if (st->ok) return std::move(st->body);
      *error = st->detail;
      return std::nullopt;
    }
    if (runtime_->stop_reason()) {
      *error = "client stopped: " + *runtime_->stop_reason();
      return std::nullopt;
    }
    run_once();
  }
}

}  // namespace kvs
