// One simulated run, from a seed: the swarm draw of everything the seed decides (sizes,
// rates, timeouts, fault mix), the phases of the run, and the checks at its end.
//
// Phases (all in virtual time):
//  1. faults: [0, fault_time) the workload runs while the fault plan is applied;
//  2. liveness: at fault_time every fault stops and heals and every process restarts;
//     the workload goes on for `settle + quiet_ops`; every operation invoked at or after
//     fault_time + settle must succeed, and all operations must complete within the
//     clients' request_timeout after the workload stops;
//  3. final reads: a fresh client reads every key (recorded in the history);
//  4. checks: the history checkers (linearizability, session guarantees), every node a
//     member with the same committed state, and the checks made along the way
//     (storage durability, fail-stop).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/bugs.h"
#include "core/history.h"
#include "sim/cluster.h"
#include "sim/fault_plan.h"
#include "sim/workload.h"

namespace kvs::sim {

// Everything a seed decides before the run starts.
struct Scenario {
  std::uint64_t seed = 0;
  ClusterConfig cluster;
  WorkloadParams workload;
  FaultMix faults;
  Nanos fault_time = 0;
  Nanos settle = 0;     // after fault_time, operations must succeed once this has passed
  Nanos quiet_ops = 0;  // then the workload runs this much longer
  // "nodes=3 clients=5 keys=8 put=50% out=2 faults=crash/1.0s,part/2.0s"
  std::string describe() const;
};

Scenario draw_scenario(std::uint64_t seed);

struct RunOptions {
  std::uint64_t seed = 0;
  std::optional<FaultPlan> plan;  // replaces the plan drawn from the seed
  PlantedBugs bugs;
  // Every fault kind on, each every 0.5 s on average (for bug hunting; the swarm draw
  // keeps its other choices). The drawn plan differs, a saved plan replays as it is.
  bool intense = false;
  std::ostream* trace = nullptr;   // --trace: every event as a line of text
  std::ostream* shiviz = nullptr;  // --shiviz: a ShiViz log
  bool check_history = true;
};

struct RunResult {
  std::uint64_t seed = 0;
  std::string scenario;  // Scenario::describe()
  FaultPlan plan;
  std::size_t faults_applied = 0;
  std::uint64_t hash = 0;
  std::size_t ops_invoked = 0, ops_completed = 0;
  Nanos virtual_time = 0;
  std::uint64_t events = 0;
  std::vector<Failure> failures;
  History history;
  bool ok() const { return failures.empty(); }
  // The first failing check's name, or "" when the run passed.
  std::string first_check() const { return failures.empty() ? "" : failures.front().check; }
  // "seed=7 nodes=3 ... ops=1234 vtime=21.3s checks=passed hash=0123456789abcdef"
  std::string summary() const;
  // Every failure in words.
  std::string report() const;
};

RunResult run_scenario(const RunOptions& options);

// The names of the checks every run makes, for summaries and docs.
extern const char* const kCheckNames;

}  // namespace kvs::sim
