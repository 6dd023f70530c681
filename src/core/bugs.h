// Planted bugs: deliberate protocol mistakes that `kvsim --bug NAME` switches on, so we
// can show that the simulator's checkers catch each of them (a checker that cannot
// fail proves nothing). Every flag defaults to false; the real programs never set one.
// Each use in a machine is a tiny branch commented "planted bug for kvsim --bug".
#pragma once

#include <array>
#include <string_view>

namespace kvs {

struct PlantedBugs {
  bool ack_before_fsync = false;              // storage: ack writes before they are synced
  bool rejoin_serves_before_catchup = false;  // frontend + storage: joiner serves at once
  bool read_ignores_watermark = false;        // storage: reads return the newest version
  bool no_retry_dedupe = false;               // frontend: a resent PUT is applied again
  bool answer_put_after_first_ack = false;    // frontend: PUT ok after one member's ack
  bool restart_trusts_any_node = false;       // frontend: after a restart, any node is the base
  bool restart_reuses_lsns = false;           // frontend: after a restart, nothing is discarded
};

struct PlantedBugInfo {
  std::string_view name;
  std::string_view description;
  bool PlantedBugs::*flag;
};

inline constexpr std::array<PlantedBugInfo, 7> kPlantedBugs = {{
    {"ack-before-fsync", "storage acknowledges a write batch before its fdatasync completes",
     &PlantedBugs::ack_before_fsync},
    {"rejoin-serves-before-catchup",
     "a rejoining node becomes a member and serves reads before it has caught up",
     &PlantedBugs::rejoin_serves_before_catchup},
    {"read-ignores-watermark",
     "storage answers a read with its newest version, ignoring the commit watermark",
     &PlantedBugs::read_ignores_watermark},
    {"no-retry-dedupe",
     "the frontend applies a resent PUT again instead of answering it from the session",
     &PlantedBugs::no_retry_dedupe},
    {"answer-put-after-first-ack",
     "the frontend answers a PUT once the first member acks it instead of all members",
     &PlantedBugs::answer_put_after_first_ack},
    {"restart-trusts-any-node",
     "a restarted frontend takes the first node to join as holding every acknowledged "
     "write, not only a node of the last recorded member set",
     &PlantedBugs::restart_trusts_any_node},
    {"restart-reuses-lsns",
     "a restarted frontend numbers new writes right after the first node's data instead of "
     "discarding the LSNs the previous run handed out",
     &PlantedBugs::restart_reuses_lsns},
}};

// The bug named `name` switched on in *bugs; false if no bug has that name.
inline bool plant_bug(std::string_view name, PlantedBugs* bugs) {
  for (const PlantedBugInfo& b : kPlantedBugs) {
    if (b.name == name) {
      bugs->*(b.flag) = true;
      return true;
    }
  }
  return false;
}

}  // namespace kvs
