// The storage node's protocol: joins the frontend, logs writes with group commit,
// acks cumulatively, answers reads at a watermark, serves and receives catch-up.
// See docs/PROTOCOL.md.
#pragma once

#include "core/config.h"
#include "core/machine.h"
#include "core/replica.h"

namespace kvs {

class StorageNode : public Machine {
 public:
  // recovered: state read from disk; log_bytes: length of the (truncated) log file.
  StorageNode(StorageConfig config, Replica recovered, std::uint64_t log_bytes);

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;
  void on_disk_done(std::uint64_t token, const DiskResult& result, Nanos now) override;

  nlohmann::json status() const;
  const Replica& replica() const { return replica_; }

 private:
  StorageConfig config_;
  Replica replica_;
  std::uint64_t log_bytes_;
};

}  // namespace kvs
