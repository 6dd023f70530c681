// A client session (the original kvslib): asynchronous get/put that return an op id at
// once; results are delivered (Deliver effects) in issue order. Reconnects with backoff
// and resends unanswered requests, which the frontend deduplicates by (id, seq).
#pragma once

#include "core/config.h"
#include "core/machine.h"

namespace kvs {

class ClientSession : public Machine {
 public:
  explicit ClientSession(ClientConfig config);

  std::uint64_t get(std::string key, Nanos now);
  std::uint64_t put(std::string key, std::string value, Nanos now);
  // Operations issued and not yet delivered.
  std::size_t outstanding() const;

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;

 private:
  ClientConfig config_;
};

}  // namespace kvs
