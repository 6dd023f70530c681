#include "sim/fault_injector.h"

#include <algorithm>

namespace kvs::sim {
namespace {

// After a disk failure with no planned delay (or in the liveness phase), a stopped node
// is restarted after this long.
constexpr Nanos kDefaultRestart = 10 * kMillisecond;
// A flaky link drops one delivery in twenty.
constexpr Ppm kFlakyPpm = 50'000;

}  // namespace

FaultInjector::FaultInjector(EventQueue* queue, Cluster* cluster, Workload* workload, Trace* trace)
    : q_(queue),
      cluster_(cluster),
      workload_(workload),
      trace_(trace),
      down_epoch_(static_cast<std::size_t>(cluster->nodes()), 0),
      stop_restart_(static_cast<std::size_t>(cluster->nodes()), kDefaultRestart) {
  cluster_->on_stopped([this](int node) { node_stopped(node); });
}

void FaultInjector::schedule(const FaultPlan& plan, Nanos until) {
  for (const FaultEvent& e : plan) {
    if (e.at >= until) continue;
    q_->at(e.at, [this, e] {
      if (!quiet_) apply(e);
    });
  }
}

ProcId FaultInjector::target_proc(const FaultEvent& e) const {
  return e.client ? cluster_->client_proc(e.target) : cluster_->node_proc(e.target);
}

void FaultInjector::apply(const FaultEvent& e) {
  const bool is_node_fault = e.kind == FaultKind::kCrash || e.kind == FaultKind::kDiskFail ||
                             e.kind == FaultKind::kBitFlip;
  const int limit = e.client ? cluster_->clients() : cluster_->nodes();
  if (e.kind != FaultKind::kTotalFailure && (e.target < 0 || e.target >= limit)) return;
  if (is_node_fault && e.client) return;
  ++applied_;
  trace_->event(q_->now(), -1, "fault", event_to_text(e));
  switch (e.kind) {
    case FaultKind::kCrash:
      if (!cluster_->node_up(e.target)) return;
      crash(e.target, e);
      restart_later(e.target, e.duration);
      break;
    case FaultKind::kTotalFailure:
      for (int i = 0; i < cluster_->nodes(); ++i) {
        if (!cluster_->node_up(i)) continue;
        crash(i, e);
        // Staggered, so the order in which nodes return varies with the duration.
        restart_later(i, e.duration + i * (e.duration / 7 + kMillisecond));
      }
      break;
    case FaultKind::kDiskFail:
      stop_restart_[e.target] = e.duration;
      cluster_->arm_disk_failure(e.target);
      break;
    case FaultKind::kBitFlip: {
      if (cluster_->node_up(e.target)) crash(e.target, e);
      // The flip (and so the wipe at boot) is decided when the node restarts: by then the
      // frontend has usually removed it and recorded the members without it.
      const int node = e.target;
      const std::uint64_t epoch = down_epoch_[node];
      q_->after(e.duration, [this, node, epoch] {
        if (cluster_->node_up(node) || down_epoch_[node] != epoch) return;
        if (const char* why = wipe_refused(node)) {
          trace_->event(q_->now(), -1, "fault", std::string("bit flip skipped: ") + why);
        } else if (cluster_->flip_bit(node)) {
          ++wipes_;
        }
        cluster_->start_node(node);
      });
      break;
    }
    case FaultKind::kFrontendCrash: {
      if (!cluster_->frontend_up()) return;
      cluster_->crash_frontend();
      const std::uint64_t epoch = ++frontend_epoch_;
      q_->after(e.duration, [this, epoch] {
        if (frontend_epoch_ == epoch) cluster_->start_frontend();
      });
      break;
    }
    case FaultKind::kPartition:
      cluster_->net().partition(target_proc(e), q_->now() + e.duration, /*stall=*/e.notify);
      break;
    case FaultKind::kSlow:
      cluster_->net().slow(target_proc(e), q_->now() + e.duration, e.extra);
      break;
    case FaultKind::kReset:
      cluster_->net().reset(target_proc(e));
      break;
    case FaultKind::kFlaky:
      cluster_->net().flaky(target_proc(e), q_->now() + e.duration, kFlakyPpm);
      break;
    case FaultKind::kClientCrash: {
      const int c = e.target;
      if (!cluster_->client_up(c)) return;
      cluster_->crash_client(c);
      workload_->crashed(c);
      q_->after(e.duration, [this, c] {
        if (cluster_->client_up(c)) return;
        cluster_->start_client(c);
        workload_->restarted(c);
      });
      break;
    }
  }
}

void FaultInjector::crash(int node, const FaultEvent& e) {
  ++down_epoch_[node];
  cluster_->crash_node(node, e.notify, e.torn ? kMillion : 0);
}

void FaultInjector::restart_later(int node, Nanos delay) {
  const std::uint64_t epoch = down_epoch_[node];
  q_->after(delay, [this, node, epoch] {
    if (cluster_->node_up(node) || down_epoch_[node] != epoch) return;
    cluster_->start_node(node);
  });
}

void FaultInjector::node_stopped(int node) {
  ++down_epoch_[node];
  restart_later(node, quiet_ ? kDefaultRestart : stop_restart_[node]);
}

Lsn FaultInjector::durable_complete(int node) const {
  // A running node's replica is its durable state; a dead one's is on its disk.
  return cluster_->node_up(node) ? cluster_->node(node)->replica().complete()
                                 : cluster_->storage(node).durable_complete().value_or(0);
}

const char* FaultInjector::wipe_refused(int node) {
  if (!cluster_->frontend_up()) return "the frontend is down (it may still name the node)";
  const nlohmann::json status = cluster_->frontend().status();
  for (const auto& id : status["recorded_members"]) {
    if (id == "s" + std::to_string(node + 1)) {
      return "the frontend's state file still names the node as a member";
    }
  }
  if (!other_holder(node)) return "no other node holds every committed write";
  return nullptr;
}

bool FaultInjector::other_holder(int except) {
  // Not only W: acks the node sent before it died may still be on their way and raise W
  // later, so another node must hold everything this one durably holds too.
  const Lsn needed = std::max(cluster_->frontend().commit_watermark(), durable_complete(except));
  for (int i = 0; i < cluster_->nodes(); ++i) {
    if (i != except && durable_complete(i) >= needed) return true;
  }
  return false;
}

void FaultInjector::quiesce() {
  quiet_ = true;
  trace_->event(q_->now(), -1, "quiesce", "no more faults: heal, restart everything");
  cluster_->disarm_disk_failures();
  cluster_->net().heal_all();
  ++frontend_epoch_;  // a pending frontend restart is done here instead
  cluster_->start_frontend();
  for (int i = 0; i < cluster_->nodes(); ++i) {
    if (!cluster_->node_up(i)) {
      ++down_epoch_[i];
      cluster_->start_node(i);
    }
  }
  for (int c = 0; c < cluster_->clients(); ++c) {
    if (!cluster_->client_up(c)) {
      cluster_->start_client(c);
      workload_->restarted(c);
    }
  }
}

}  // namespace kvs::sim
