// The client library: a kvs session for programs that link kvs_net.
//
//   std::string error;
//   auto client = kvs::Client::open(config, &error);   // starts connecting at once
//   std::uint64_t a = client->put("k", "v");            // returns at once
//   std::uint64_t b = client->get("k");
//   kvs::Result r = client->wait_next();                // a's result, then b's
//
// Results come back strictly in issue order, and the session guarantees hold across
// reconnects (the frontend deduplicates resent requests). Single-threaded: the client
// runs its own uv loop, only inside poll(), wait_next(), *_sync() and status_sync().
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/client.h"
#include "core/config.h"
#include "core/effects.h"
#include "net/history.h"
#include "net/runtime.h"

namespace kvs {

struct Result {
  std::uint64_t op_id = 0;
  Op op = Op::kGet;
  // kOk; kNotFound (GET of a key never written); kUnavailable (no answer in time: a
  // PUT so answered may or may not take effect); kRejected (invalid, had no effect).
  Status status = Status::kOk;
  std::string key;
  // GET: the value read, nullopt when not found or failed. PUT: the value written.
  std::optional<std::string> value;
  std::string detail;  // the reason when status is kUnavailable or kRejected

  bool ok() const { return status == Status::kOk || status == Status::kNotFound; }
};

class Client {
 public:
  // Opens the history file (if config.history is set) and starts connecting to
  // config.frontend. nullptr with *error set if that fails. Log lines at or above
  // min_level go to stderr, prefixed "client ID".
  static std::unique_ptr<Client> open(ClientConfig config, std::string* error,
                                      LogLevel min_level = LogLevel::kWarn);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Issue an operation; returns its op id (1, 2, 3, ...) at once.
  std::uint64_t get(std::string key);
  std::uint64_t put(std::string key, std::string value);

  // The next result in issue order, if one is ready. Never blocks: runs the loop once
  // without waiting.
  std::optional<Result> poll();
  // The next result in issue order, waiting for it (at most about request_timeout).
  // With no operation outstanding, returns at once a kRejected result with op_id 0.
  Result wait_next();

  // Issue and wait for this operation's result. Results of earlier asynchronous
  // operations stay queued for poll()/wait_next().
  Result get_sync(std::string key);
  Result put_sync(std::string key, std::string value);

  // The frontend's status JSON, waiting up to request_timeout; nullopt with *error.
  std::optional<nlohmann::json> status_sync(std::string* error);

  // Operations issued whose results were not yet returned by poll/wait_next/*_sync.
  std::size_t outstanding() const { return session_.outstanding() + ready_.size(); }

  const ClientConfig& config() const { return config_; }

 private:
  Client(ClientConfig config, std::unique_ptr<net::HistoryWriter> history);
  void on_effect(const Effect& e);
  // Runs the loop once, blocking until something happens (the session always has a
  // deadline timer armed while anything is outstanding, so this returns).
  void run_once();
  Result wait_for(std::uint64_t op_id);
  // The runtime was stopped (it never is by a client session; defensive): fail.
  Result stopped_result(std::uint64_t op_id) const;

  ClientConfig config_;
  uv_loop_t loop_;
  ClientSession session_;
  std::unique_ptr<net::Runtime> runtime_;
  std::unique_ptr<net::HistoryWriter> history_;
  std::map<std::uint64_t, std::string> put_values_;  // PUTs in flight, for results
  std::deque<Result> ready_;                         // delivered, not yet returned; in issue order
  bool history_error_reported_ = false;
};

}  // namespace kvs
