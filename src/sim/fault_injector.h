// Applies a fault plan to a running cluster: each event at its time, with the restart
// that belongs to it (a crashed node comes back after the event's duration). Then, for
// the liveness phase, quiesce() stops every fault: partitions and slow links heal,
// armed disk failures are disarmed, every dead process is restarted.
//
// Two faults are only applied when the design promises to survive them:
//  * a bit flip (which ends with the node's data wiped) only while another node holds
//    every committed write and everything the node itself holds (its acks may still be
//    on their way to the frontend and commit more); wiping the last copy is a loss no
//    system can undo, so the node is then only crashed. Nor while the frontend is down
//    or its state file still names the node as a member: a restarting frontend takes
//    its data from such a node, and an operator must not wipe one (docs/RELIABILITY.md);
//  * out-of-range targets in a replayed plan are ignored.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/cluster.h"
#include "sim/fault_plan.h"
#include "sim/trace.h"
#include "sim/workload.h"

namespace kvs::sim {

class FaultInjector {
 public:
  FaultInjector(EventQueue* queue, Cluster* cluster, Workload* workload, Trace* trace);

  // Schedules the plan's events that fall before `until`.
  void schedule(const FaultPlan& plan, Nanos until);
  void quiesce();

  std::size_t applied() const { return applied_; }
  std::size_t wipes() const { return wipes_; }

 private:
  void apply(const FaultEvent& e);
  void crash(int node, const FaultEvent& e);
  void restart_later(int node, Nanos delay);
  void node_stopped(int node);
  // Some node other than `except` durably holds every committed write.
  bool other_holder(int except);
  // Why node's data may not be wiped now, or nullptr.
  const char* wipe_refused(int node);
  Lsn durable_complete(int node) const;
  ProcId target_proc(const FaultEvent& e) const;

  EventQueue* q_;
  Cluster* cluster_;
  Workload* workload_;
  Trace* trace_;
  bool quiet_ = false;
  std::vector<std::uint64_t> down_epoch_;  // per node: bumped by each crash
  std::uint64_t frontend_epoch_ = 0;       // bumped by each frontend crash and by quiesce
  std::vector<Nanos> stop_restart_;        // per node: restart delay after a disk failure
  std::size_t applied_ = 0;
  std::size_t wipes_ = 0;
};

}  // namespace kvs::sim
