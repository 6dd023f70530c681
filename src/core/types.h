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

constexpr int kProtocolVersion = 1;

}  // namespace kvs
