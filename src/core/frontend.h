// The frontend's protocol: client sessions, LSNs, the commit watermark, membership,
// failure detection, join and catch-up relay. See docs/PROTOCOL.md.
#pragma once

#include "core/config.h"
#include "core/machine.h"

namespace kvs {

class Frontend : public Machine {
 public:
  explicit Frontend(FrontendConfig config);

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;

  nlohmann::json status() const;

 private:
  FrontendConfig config_;
};

}  // namespace kvs
