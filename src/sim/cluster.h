// The simulated cluster: one frontend, storage nodes and clients, each an unmodified
// src/core machine, wired to the simulated network and disks. It feeds every input
// (accepts, connects, closes, messages, timers, disk completions) from events, carries
// out each machine's effects in order, and offers the faults the injector applies:
// crash and restart a node (recovering from its durable bytes), fail its disk, flip a
// bit in its log, crash and restart a client.
//
// It also checks promises it can see directly, as TigerBeetle's storage checker does: a
// node never acknowledges more than a crash would leave on its disk
// ("storage-durability"), a node whose disk failed stops at once ("fail-stop"), and a
// PUT is applied once however often its client resends it ("exactly-once").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/client.h"
#include "core/frontend.h"
#include "core/storage.h"
#include "sim/event_queue.h"
#include "sim/sim_network.h"
#include "sim/sim_storage.h"
#include "sim/trace.h"

namespace kvs::sim {

struct ClusterConfig {
  int nodes = 3;
  int clients = 3;  // workload clients; one more process, the final reader, follows them
  FrontendConfig frontend;
  StorageConfig storage;  // id, frontend address filled in per node
  ClientConfig client;    // id, frontend address filled in per client
  NetParams net;
  DiskTiming disk;
  Ppm stop_torn_ppm = 0;  // a node stopped by a disk failure loses unsynced bytes so
};

// A broken promise found while the run goes on (or by a check at its end).
struct Failure {
  std::string check;  // "storage-durability", "fail-stop", "liveness", ...
  std::string text;
};

class Cluster : public NetHandler {
 public:
  using DeliverFn = std::function<void(int client, const Deliver&)>;
  using StoppedFn = std::function<void(int node)>;

  Cluster(EventQueue* queue, Trace* trace, std::uint64_t seed, ClusterConfig config);
  ~Cluster() override;

  static std::vector<std::string> process_names(const ClusterConfig& config);
  static constexpr const char* kClientAddress = "10.0.0.1:8000";
  static constexpr const char* kStorageAddress = "10.0.0.1:8001";

  void on_deliver(DeliverFn fn) { deliver_ = std::move(fn); }
  // Told when a node stopped itself (a Stop effect), so its restart can be planned.
  void on_stopped(StoppedFn fn) { stopped_ = std::move(fn); }

  int nodes() const { return config_.nodes; }
  int clients() const { return config_.clients; }  // the final reader is index clients()
  ProcId frontend_proc() const { return 0; }
  ProcId node_proc(int i) const { return 1 + i; }
  ProcId client_proc(int i) const { return 1 + config_.nodes + i; }

  // The frontend boots from its state file (on its own simulated disk) each time.
  void start_frontend();
  bool frontend_up() const { return frontend_ != nullptr; }
  // Kills the frontend process: its connections close (the kernel of a live host resets
  // them), unsynced state-file bytes are lost.
  void crash_frontend();
  std::uint64_t frontend_crashes() const { return frontend_incarnation_; }
  // ---- storage nodes
  bool node_up(int i) const { return nodes_[i].machine != nullptr; }
  void start_node(int i);
  // Kills node i. notify: its peer sees the connection close; torn_ppm: chance a
  // prefix of unsynced bytes survives.
  void crash_node(int i, bool notify, Ppm torn_ppm);
  // Flips a bit of node i's durable log (it must be down). False if nothing to flip.
  bool flip_bit(int i);
  void arm_disk_failure(int i) { nodes_[i].storage->fail_next(); }
  void disarm_disk_failures();
  StorageNode* node(int i) { return nodes_[i].machine.get(); }
  const SimStorage& storage(int i) const { return *nodes_[i].storage; }
  std::uint64_t crashes() const { return crashes_; }

  // ---- clients
  bool client_up(int i) const { return clients_[i].machine != nullptr; }
  void start_client(int i);  // a new incarnation each time
  void crash_client(int i);
  int client_incarnation(int i) const { return clients_[i].incarnation; }
  std::uint64_t get(int i, const std::string& key);
  std::uint64_t put(int i, const std::string& key, const std::string& value);

  // REQUIRES: frontend_up().
  Frontend& frontend() { return *frontend_; }
  SimNetwork& net() { return *net_; }
  std::vector<Failure>& failures() { return failures_; }

  // NetHandler.
  bool net_up(ProcId p) const override;
  void net_accepted(ProcId p, ConnId conn, Listener listener) override;
  void net_connected(ProcId p, ConnId conn) override;
  void net_closed(ProcId p, ConnId conn) override;
  void net_message(ProcId p, ConnId conn, Message msg) override;
  void net_protocol_error(ProcId p, ConnId conn, const std::string& what) override;

 private:
  struct Timers {
    std::map<TimerId, std::uint64_t> armed;  // id -> generation of its pending event
  };
  struct NodeProc {
    std::unique_ptr<StorageNode> machine;
    std::unique_ptr<SimStorage> storage;
    Timers timers;
    std::uint64_t incarnation = 0;
    Lsn acked = 0;             // highest complete this incarnation acknowledged
    bool disk_failed = false;  // a failed DiskResult was delivered: Stop must follow
  };
  struct ClientProc {
    std::unique_ptr<ClientSession> machine;
    Timers timers;
    int incarnation = 0;
  };

  Machine* machine(ProcId p);
  Timers* timers(ProcId p);
  std::uint64_t incarnation(ProcId p) const;
  // Runs one input of process p, then carries out its effects.
  template <class F>
  void input(ProcId p, F&& f);
  void run_effects(ProcId p);
  void set_timer(ProcId p, TimerId id, Nanos at);
  void disk_done(int node, std::uint64_t token, const DiskResult& r);
  void stop_node(int i, const std::string& reason);
  void fail(std::string check, std::string text);
  // The machines' random input: 32 bytes of the named PRNG stream of this run's seed.
  SeedKey seed_key(const std::string& name) const;
  void check_once(const Entry& e);

  EventQueue* q_;
  Trace* trace_;
  ClusterConfig config_;
  std::uint64_t seed_;
  Prng bitflip_rng_;
  std::unique_ptr<SimNetwork> net_;
  std::unique_ptr<Frontend> frontend_;
  std::unique_ptr<SimStorage> frontend_disk_;
  std::uint64_t frontend_incarnation_ = 0;
  Timers frontend_timers_;
  std::vector<NodeProc> nodes_;
  std::vector<ClientProc> clients_;
  DeliverFn deliver_;
  StoppedFn stopped_;
  std::vector<Failure> failures_;
  std::map<std::string, Lsn> replicated_;  // value -> the lsn the frontend gave it
  std::uint64_t timer_gen_ = 0;
  std::uint64_t crashes_ = 0;
};

}  // namespace kvs::sim
