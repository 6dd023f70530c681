// The fault plan of a run: a list of timed fault events drawn up front from the seed's
// "faults" stream, so a failing run's plan can be saved, replayed (--plan) and shrunk
// (--minimize) while the workload and network keep their own streams. Each event holds
// every choice it needs (target, duration, ...), so removing one changes no other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/types.h"
#include "sim/prng.h"

namespace kvs::sim {

enum class FaultKind {
  kCrash,          // a storage node dies (mid-write, mid-catch-up, as a donor: any instant)
  kTotalFailure,   // every storage node dies at once
  kDiskFail,       // a node's next disk operation fails: it must stop, then restarts
  kBitFlip,        // a node dies and a bit of its log flips: it refuses to start, gets wiped
  kPartition,      // a process is cut off from the frontend for a while
  kSlow,           // a process's link gets slower than storage_timeout for a while
  kReset,          // a process's connections are reset
  kClientCrash,    // a client process dies; a new incarnation starts later
  kFlaky,          // for a while, a process's connections drop now and then mid-stream
  kFrontendCrash,  // the frontend process dies; it restarts from its state file later
};
constexpr int kFaultKinds = 10;

const char* fault_kind_name(FaultKind k);

struct FaultEvent {
  Nanos at = 0;
  FaultKind kind = FaultKind::kCrash;
  bool client = false;  // partition / slow / reset: the target is a client, not a node
  int target = 0;       // node or client index (unused for total failure)
  Nanos duration = 0;   // down time, partition or slow-link length
  bool notify = true;   // crash: the peer sees the connection close (process killed) or
                        // not (machine lost power); partition: stall (true) or reset
  bool torn = false;    // crash: a prefix of unsynced bytes may survive
  Nanos extra = 0;      // slow: added latency per frame
  bool operator==(const FaultEvent&) const = default;
};

// Per seed: which faults happen and how often (swarm testing: each seed draws its own).
struct FaultMix {
  Nanos mean_gap[kFaultKinds] = {};  // 0: this kind is off
  Nanos down_min = 0, down_max = 0;  // how long a crashed node stays down
  Ppm torn_ppm = 0;                  // chance a crash keeps a torn prefix
  Ppm silent_ppm = 0;                // chance a crash goes unnoticed by the peer
  Nanos partition_max = 0;
  Ppm stall_ppm = 0;  // partitions that stall rather than reset
  Nanos slow_extra_min = 0, slow_extra_max = 0;
  std::string describe() const;  // "crash/4.0s,part/2.1s,..." or "none"
};

using FaultPlan = std::vector<FaultEvent>;

// Draws the events of [0, until) for `nodes` nodes and `clients` clients, sorted by time.
FaultPlan draw_plan(Prng& rng, const FaultMix& mix, int nodes, int clients, Nanos until);

// One line per event: "at=1.250000000 crash node=2 down=0.400000000 notify=1 torn=0".
std::string event_to_text(const FaultEvent& e);
std::optional<FaultEvent> event_from_text(const std::string& line, std::string* error);

}  // namespace kvs::sim

namespace kvs::sim {

// A saved plan: the seed and planted bug it was found with, then one event per line.
// Lines starting with '#' are comments.
struct PlanFile {
  std::uint64_t seed = 0;
  std::string bug;  // empty: none
  FaultPlan plan;
};
std::string plan_file_text(const PlanFile& f);
std::optional<PlanFile> parse_plan_file(const std::string& text, std::string* error);

// "1.250000000": seconds with nanosecond digits; parse_seconds reads it back exactly.
std::string seconds_text(Nanos t);
std::optional<Nanos> parse_seconds(const std::string& s);

}  // namespace kvs::sim
