#include "sim/workload.h"

#include <algorithm>

#include "sim/fault_plan.h"

namespace kvs::sim {
namespace {

// The final reader keeps this many reads in flight.
constexpr std::size_t kFinalReadsInFlight = 4;

std::string process_name(const std::string& base, int incarnation) {
  return incarnation > 1 ? base + "/" + std::to_string(incarnation) : base;
}

}  // namespace

Workload::Workload(EventQueue* queue, Cluster* cluster, Prng rng, WorkloadParams params,
                   History* history)
    : q_(queue), cluster_(cluster), rng_(rng), params_(params), history_(history) {
  clients_.resize(static_cast<std::size_t>(cluster_->clients() + 1));
  for (int i = 0; i < cluster_->clients(); ++i) clients_[i].process = "c" + std::to_string(i + 1);
  clients_.back().process = "final";
}

void Workload::start(int client, Nanos until) {
  clients_[client].until = until;
  arm(client, rng_.nanos(params_.think_min, params_.think_max));
}

void Workload::crashed(int client) {
  clients_[client].pending.clear();
}

void Workload::restarted(int client) {
  ClientState& c = clients_[client];
  c.pending.clear();
  c.process = process_name("c" + std::to_string(client + 1), cluster_->client_incarnation(client));
  c.tick_armed = false;
  arm(client, 0);
}

void Workload::arm(int client, Nanos delay) {
  ClientState& c = clients_[client];
  if (c.tick_armed) return;
  c.tick_armed = true;
  q_->after(delay, [this, client] { tick(client); });
}

void Workload::tick(int client) {
  ClientState& c = clients_[client];
  c.tick_armed = false;
  if (q_->now() >= c.until || !cluster_->client_up(client)) return;
  if (c.pending.size() >= static_cast<std::size_t>(params_.max_outstanding)) return;
  const int k = rng_.chance(params_.hot_ppm)
                    ? 0
                    : static_cast<int>(rng_.below(static_cast<std::uint64_t>(params_.keys)));
  const bool put = rng_.chance(params_.put_ppm);
  issue(client, put ? Op::kPut : Op::kGet, key_name(k));
  if (c.pending.size() < static_cast<std::size_t>(params_.max_outstanding)) {
    arm(client, rng_.nanos(params_.think_min, params_.think_max));
  }
}

void Workload::issue(int client, Op op, const std::string& key) {
  ClientState& c = clients_[client];
  Pending p{op, key, "", q_->now()};
  if (op == Op::kPut) p.value = "c" + std::to_string(client + 1) + "-" + std::to_string(++c.puts);
  history_->push_back(history_invocation(c.process, op, key, p.value, q_->now()));
  ++invoked_;
  const std::uint64_t id =
      op == Op::kPut ? cluster_->put(client, key, p.value) : cluster_->get(client, key);
  // The op may complete inside put()/get() only through a later event, never inline.
  c.pending.emplace(id, std::move(p));
}

void Workload::on_deliver(int client, const Deliver& d) {
  ClientState& c = clients_[client];
  auto it = c.pending.find(d.op_id);
  if (it == c.pending.end()) return;
  Pending p = std::move(it->second);
  c.pending.erase(it);
  ++completed_;

  history_->push_back(history_completion(c.process, p.op, d.status, p.key,
                                         p.op == Op::kGet ? d.value : p.value, q_->now()));
  const HistoryEvent::Type type = history_->back().type;

  const bool final_reader = client == cluster_->clients();
  if (type != HistoryEvent::Type::kOk &&
      (final_reader || (strict_from_ >= 0 && p.invoked >= strict_from_))) {
    liveness_failures_.push_back(
        std::string(final_reader ? "final read" : "operation") + " of " + p.key + " by " +
        c.process + " invoked at t=" + seconds_text(p.invoked) +
        (final_reader ? "" : ", when every fault had healed,") + " ended " +
        std::string(status_name(d.status)) + (d.detail.empty() ? "" : ": " + d.detail));
  }
  if (final_reader) {
    ++final_done_;
    if (c.final_next >= 0 && c.final_next < params_.keys) {
      issue(client, Op::kGet, key_name(c.final_next++));
    }
    return;
  }
  arm(client, rng_.nanos(params_.think_min, params_.think_max));
}

void Workload::start_final_reads(int reader) {
  ClientState& c = clients_[reader];
  c.final_next = 0;
  while (c.final_next < params_.keys && c.pending.size() < kFinalReadsInFlight) {
    issue(reader, Op::kGet, key_name(c.final_next++));
  }
}

std::size_t Workload::outstanding() const {
  std::size_t n = 0;
  for (const ClientState& c : clients_) n += c.pending.size();
  return n;
}

}  // namespace kvs::sim
