// The one interface between a protocol state machine and a backend.
//
// Every input is a method taking `now`; every output is an Effect in outbox().
// A backend calls exactly one input at a time, then drains outbox() and carries the
// effects out in order. Machines never read clocks, sockets, files or random sources.
#pragma once

#include <string>

#include "core/effects.h"
#include "core/messages.h"
#include "core/types.h"

namespace kvs {

struct DiskResult {
  bool ok = true;
  std::string error;  // when !ok: what failed, e.g. "fdatasync: EIO"
};

class Machine {
 public:
  virtual ~Machine() = default;

  // Called once, before any other input.
  virtual void on_start(Nanos now) = 0;

  // An inbound connection from `peer` was accepted on `listener`.
  virtual void on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos now) = 0;
  // An outbound connection (from a Connect effect) is established.
  virtual void on_connected(ConnId conn, Nanos now) = 0;
  // A connection closed for any reason (peer, error, failed Connect, our Close).
  virtual void on_closed(ConnId conn, Nanos now) = 0;
  virtual void on_message(ConnId conn, Message msg, Nanos now) = 0;
  // The peer sent bytes that are not a valid frame or message. The backend has
  // stopped reading from conn; the machine decides what to answer and closes it.
  virtual void on_protocol_error(ConnId conn, const std::string& what, Nanos now) = 0;
  virtual void on_timer(TimerId id, Nanos now) = 0;
  virtual void on_disk_done(std::uint64_t /*token*/, const DiskResult& /*result*/, Nanos /*now*/) {}

  Outbox& outbox() { return outbox_; }

 protected:
  Outbox outbox_;
};

}  // namespace kvs
