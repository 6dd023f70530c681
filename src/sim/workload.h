// The clients' workload: each client keeps up to max_outstanding GET/PUT operations in
// flight on its ClientSession, over a key space drawn per seed, writing unique values
// ("c3-17": client 3's 17th put) so every read names the one write it saw. Every
// invocation and completion goes into the history (core/history.h) the checkers judge:
//   GET ok -> ok with the value (none if not found); GET unavailable/rejected -> fail;
//   PUT ok -> ok; PUT unavailable (timed out) -> info; PUT rejected -> fail
// (history_completion in core/history.h, the same mapping client --history uses).
// At the end a fresh client reads every key; those reads are in the history too, so the
// linearizability checker also judges durability.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/history.h"
#include "sim/cluster.h"
#include "sim/event_queue.h"
#include "sim/prng.h"

namespace kvs::sim {

struct WorkloadParams {
  int keys = 8;
  Ppm put_ppm = 500'000;  // chance an operation is a PUT
  Ppm hot_ppm = 0;        // chance an operation goes to key k0 (contention)
  int max_outstanding = 2;
  Nanos think_min = 0, think_max = 20'000'000;  // pause before issuing the next operation
};

class Workload {
 public:
  Workload(EventQueue* queue, Cluster* cluster, Prng rng, WorkloadParams params, History* history);

  static std::string key_name(int k) { return "k" + std::to_string(k); }

  // Workload client i (a started ClientSession) issues operations until `until`.
  void start(int client, Nanos until);
  // Client i died: its pending operations stay pending forever (indeterminate).
  void crashed(int client);
  // Client i restarted as a new incarnation: a new history process, same workload. Its
  // previous incarnation's operations stay pending forever (indeterminate).
  void restarted(int client);
  // Operations invoked at or after t must succeed (the liveness phase).
  void require_success_from(Nanos t) { strict_from_ = t; }
  // The final reader (a started client) reads every key once.
  void start_final_reads(int reader);

  void on_deliver(int client, const Deliver& d);

  // Invoked and not completed, over live incarnations.
  std::size_t outstanding() const;
  bool final_reads_done() const { return final_done_ == params_.keys; }
  std::size_t invoked() const { return invoked_; }
  std::size_t completed() const { return completed_; }
  // Operations that had to succeed and did not, in words.
  const std::vector<std::string>& liveness_failures() const { return liveness_failures_; }

 private:
  struct Pending {
    Op op;
    std::string key;
    std::string value;
    Nanos invoked = 0;
  };
  struct ClientState {
    std::string process;                       // history process name of the current incarnation
    std::map<std::uint64_t, Pending> pending;  // by op id
    Nanos until = 0;
    bool tick_armed = false;
    std::uint64_t puts = 0;
    int final_next = -1;  // the final reader: next key to read
  };

  void arm(int client, Nanos delay);
  void tick(int client);
  void issue(int client, Op op, const std::string& key);

  EventQueue* q_;
  Cluster* cluster_;
  Prng rng_;
  WorkloadParams params_;
  History* history_;
  std::vector<ClientState> clients_;
  Nanos strict_from_ = -1;
  int final_done_ = 0;
  std::size_t invoked_ = 0, completed_ = 0;
  std::vector<std::string> liveness_failures_;
};

}  // namespace kvs::sim
