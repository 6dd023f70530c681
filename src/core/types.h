// Basic vocabulary shared by every state machine and both backends.
#pragma once

#include <cstdint>
#include <string>

namespace kvs {

// Log sequence number: the frontend numbers every PUT 1, 2, 3, ...; 0 means "none".
using Lsn = std::uint64_t;

// Time as nanoseconds on a monotonic clock. The real backend passes uv_hrtime();
// the simulator passes its virtual clock. State machines never read a clock.
using Nanos = std::int64_t;

constexpr Nanos kMillisecond = 1'000'000;
constexpr Nanos kSecond = 1'000'000'000;

// A connection as a state machine sees it. Outbound ids are chosen by the machine
// (below kFirstInboundConn); inbound ids are chosen by the backend (from it on).
using ConnId = std::uint64_t;
constexpr ConnId kFirstInboundConn = 1ull << 32;

using TimerId = std::uint64_t;

// Which listening socket accepted an inbound connection.
enum class Listener { kClients, kStorage, kProbe };

// Who opened an inbound connection, as the backend saw it (getpeername).
struct PeerAddress {
  std::string address;    // "ip:port", for logs
  bool loopback = false;  // from 127.0.0.0/8 or ::1
};

// A run of LSNs: (after, upto], i.e. after+1 .. upto.
struct LsnRange {
  Lsn after = 0;
  Lsn upto = 0;
  bool operator==(const LsnRange&) const = default;
};

// 2: challenge-response authentication (challenge, hello.proof) replaced hello.token.
// 3: frontend restarts: a joining node is told which LSN ranges to discard ("discard").
constexpr int kProtocolVersion = 3;

}  // namespace kvs
