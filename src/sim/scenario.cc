#include "sim/scenario.h"

#include <algorithm>
#include <memory>

#include "sim/check.h"
#include "sim/fault_injector.h"
#include "sim/replica_check.h"

namespace kvs::sim {

const char* const kCheckNames =
    "linearizability,sessions,storage-durability,fail-stop,exactly-once,liveness,convergence,final-"
    "state";

namespace {

constexpr Nanos kMs = kMillisecond;

std::string percent(Ppm p) {
  return std::to_string(p / 10'000) + "%";
}

std::string ms_text(Nanos t) {
  return std::to_string(t / kMs) + "ms";
}

}  // namespace

// ---- the swarm draw ----------------------------------------------------------------

Scenario draw_scenario(std::uint64_t seed) {
  Prng r = Prng::stream(seed, "swarm");
  Scenario s;
  s.seed = seed;
  ClusterConfig& c = s.cluster;
  c.nodes = static_cast<int>(r.range(1, 5));
  c.clients = static_cast<int>(r.range(1, 8));

  // Timeouts, scaled down from the defaults so faults heal within a short run.
  static const double kStorageTimeouts[] = {0.2, 0.5, 1.0};
  const double storage_timeout = r.pick(kStorageTimeouts);
  static const double kUnavailable[] = {0.5, 1.0, 2.0};
  // The client gives up after a few storage timeouts: long enough that, once faults
  // heal, removing a dead member never makes an operation time out.
  static const double kRequestTimeouts[] = {3.0, 5.0, 10.0};
  static const double kReconnectMax[] = {0.1, 0.3, 1.0};
  static const std::uint64_t kSnapshotBytes[] = {1024, 8 * 1024, 64 * 1024, 64 * 1024 * 1024};
  static const std::uint64_t kChunkBytes[] = {64, 512, 4096, 256 * 1024};
  c.frontend.storage_timeout = storage_timeout;
  c.frontend.unavailable_timeout = r.pick(kUnavailable);
  c.frontend.catchup_chunk_bytes = r.pick(kChunkBytes);
  c.storage.snapshot_bytes = r.pick(kSnapshotBytes);
  c.storage.reconnect_max = r.pick(kReconnectMax);
  c.client.request_timeout = storage_timeout * r.pick(kRequestTimeouts);
  c.client.reconnect_max = r.pick(kReconnectMax);

  static const Nanos kLatencyMax[] = {200'000, 1'000'000, 5'000'000};
  static const Ppm kTail[] = {0, 5'000, 50'000};
  c.net.latency_min = 20'000;
  c.net.latency_max = r.pick(kLatencyMax);
  c.net.tail_ppm = r.pick(kTail);
  // The heavy tail stays below a quarter of storage_timeout: delays that trip the
  // failure detector are the slow-link fault's job, which stops in the liveness phase.
  c.net.tail_doublings = 0;
  while ((c.net.latency_max << (c.net.tail_doublings + 1)) <=
         seconds_to_nanos(storage_timeout) / 4) {
    ++c.net.tail_doublings;
  }
  c.net.connect_timeout = r.nanos(100 * kMs, 1000 * kMs);
  static const Nanos kSyncMax[] = {500'000, 2'000'000, 10'000'000};
  c.disk.sync_max = r.pick(kSyncMax);
  c.disk.slow_ppm = r.pick(kTail);
  c.stop_torn_ppm = 500'000;
  {
    // Half the seeds run with a cluster secret (every hello then carries an HMAC proof
    // and peers are not loopback). Its own stream: the draws above and below stay as
    // they were.
    Prng a = Prng::stream(seed, "auth");
    if (a.chance(kMillion / 2)) {
      const std::string secret = "sim-secret-" + std::to_string(a.next());
      c.frontend.secret = c.storage.secret = c.client.secret = secret;
    }
  }
  {
    // A third of the seeds forget idle sessions of disconnected clients about as fast
    // as partitions heal, so clients come back to "session_lost" and must start over
    // without executing anything twice. Own stream, like the secret.
    Prng e = Prng::stream(seed, "sessions");
    static const double kIdle[] = {0.3, 1.0, 3.0};
    if (e.chance(kMillion / 3)) c.frontend.session_idle_timeout = e.pick(kIdle);
  }
  {
    // A third of the seeds allow only 1-3 PUTs in flight frontend-wide, so sessions
    // queue for room (bounded memory) through crashes, partitions and restarts. Own
    // stream, like the secret.
    Prng b = Prng::stream(seed, "inflight");
    static const std::uint64_t kInflight[] = {1, 2, 3};
    if (b.chance(kMillion / 3)) c.frontend.max_inflight_writes = b.pick(kInflight);
  }

  WorkloadParams& w = s.workload;
  static const int kKeys[] = {1, 2, 3, 5, 8, 16, 32, 64};
  w.keys = r.pick(kKeys);
  w.put_ppm = static_cast<Ppm>(r.range(200'000, 800'000));
  w.hot_ppm = r.chance(kMillion / 2) ? 0 : 300'000;
  w.max_outstanding = static_cast<int>(r.range(1, 4));
  // A total offered load per seed, shared by the clients: long runs cost wall time.
  static const Nanos kTotalRate[] = {60, 120, 250};  // operations per virtual second
  const Nanos per_client_gap = kSecond * c.clients / r.pick(kTotalRate);
  w.think_min = 0;
  w.think_max = 2 * per_client_gap;

  FaultMix& f = s.faults;
  static const Nanos kGaps[] = {500 * kMs, 1000 * kMs, 2000 * kMs, 4000 * kMs};
  for (int k = 0; k < static_cast<int>(FaultKind::kFrontendCrash); ++k) {
    // Swarm testing: each kind is on for about half the seeds, at its own rate.
    if (r.chance(kMillion / 2)) f.mean_gap[k] = r.pick(kGaps);
  }
  if (c.nodes == 1) f.mean_gap[static_cast<int>(FaultKind::kTotalFailure)] = 0;  // = crash
  {
    // Drawn from a stream of its own (added later): every other choice of a seed stays
    // what it was, so seeds found earlier still mean the same run.
    Prng fr = Prng::stream(seed, "scenario/frontend-crash");
    static const Nanos kFrontendGaps[] = {1000 * kMs, 2000 * kMs, 4000 * kMs};
    f.mean_gap[static_cast<int>(FaultKind::kFrontendCrash)] =
        fr.chance(kMillion / 3) ? fr.pick(kFrontendGaps) : 0;
  }
  f.down_min = 10 * kMs;
  f.down_max = r.pick(kGaps);
  f.torn_ppm = static_cast<Ppm>(r.range(0, kMillion));
  f.silent_ppm = r.chance(kMillion / 2) ? 0 : 300'000;
  static const Nanos kPartitionMax[] = {300 * kMs, 1000 * kMs, 3000 * kMs};
  f.partition_max = r.pick(kPartitionMax);
  f.stall_ppm = static_cast<Ppm>(r.range(0, kMillion));
  f.slow_extra_min = seconds_to_nanos(storage_timeout) / 2;
  f.slow_extra_max = 2 * seconds_to_nanos(storage_timeout);

  s.fault_time = r.nanos(3 * kSecond, 8 * kSecond);
  // The liveness bound: a timeout to drop a dead member, reconnect backoffs of nodes and
  // clients, frames still delayed by a slow link, and a second for joins and catch-up.
  s.settle = 2 * seconds_to_nanos(storage_timeout) + seconds_to_nanos(c.storage.reconnect_max) +
             seconds_to_nanos(c.client.reconnect_max) + f.slow_extra_max + kSecond;
  s.quiet_ops = 2 * kSecond;
  return s;
}

std::string Scenario::describe() const {
  return "nodes=" + std::to_string(cluster.nodes) + " clients=" + std::to_string(cluster.clients) +
         " keys=" + std::to_string(workload.keys) + " put=" + percent(workload.put_ppm) +
         " out=" + std::to_string(workload.max_outstanding) +
         " st=" + ms_text(seconds_to_nanos(cluster.frontend.storage_timeout)) +
         (cluster.frontend.secret.empty() ? "" : " secret") +
         (cluster.frontend.session_idle_timeout < FrontendConfig{}.session_idle_timeout
              ? " idle=" + ms_text(seconds_to_nanos(cluster.frontend.session_idle_timeout))
              : "") +
         (cluster.frontend.max_inflight_writes < FrontendConfig{}.max_inflight_writes
              ? " inflight=" + std::to_string(cluster.frontend.max_inflight_writes)
              : "") +
         " faults=" + faults.describe();
}

// ---- results ----------------------------------------------------------------------

std::string RunResult::summary() const {
  std::string checks = ok() ? "passed" : "FAILED(" + first_check() + ")";
  return "seed=" + std::to_string(seed) + " " + scenario +
         " applied=" + std::to_string(faults_applied) + " ops=" + std::to_string(ops_completed) +
         "/" + std::to_string(ops_invoked) + " vtime=" + seconds_text(virtual_time).substr(0, 6) +
         "s checks=" + checks + " hash=" + Trace::hex(hash);
}

std::string RunResult::report() const {
  std::string out;
  for (const Failure& f : failures) out += "[" + f.check + "] " + f.text + "\n";
  return out;
}

// ---- one run ----------------------------------------------------------------------

namespace {

// Runs events until `done()` holds or the clock would pass `deadline`. Returns done().
template <class F>
bool run_until(EventQueue& q, Nanos deadline, F done) {
  while (!done()) {
    if (q.empty() || q.next_time() > deadline) return done();
    q.run_next();
  }
  return true;
}

void run_to(EventQueue& q, Nanos t) {
  while (!q.empty() && q.next_time() <= t) q.run_next();
}

}  // namespace

RunResult run_scenario(const RunOptions& options) {
  Scenario sc = draw_scenario(options.seed);
  if (options.intense) {
    for (Nanos& gap : sc.faults.mean_gap) gap = 500 * kMs;
    if (sc.cluster.nodes == 1) sc.faults.mean_gap[static_cast<int>(FaultKind::kTotalFailure)] = 0;
  }
  sc.cluster.frontend.bugs = options.bugs;
  sc.cluster.storage.bugs = options.bugs;

  RunResult result;
  result.seed = options.seed;
  result.scenario = sc.describe();

  EventQueue q;
  Trace trace(Cluster::process_names(sc.cluster), options.trace, options.shiviz);
  Cluster cluster(&q, &trace, options.seed, sc.cluster);
  History& history = result.history;
  Workload workload(&q, &cluster, Prng::stream(options.seed, "workload"), sc.workload, &history);
  cluster.on_deliver([&](int c, const Deliver& d) { workload.on_deliver(c, d); });
  FaultInjector injector(&q, &cluster, &workload, &trace);

  if (options.plan) {
    result.plan = *options.plan;
  } else {
    Prng faults = Prng::stream(options.seed, "faults");
    result.plan = draw_plan(faults, sc.faults, sc.cluster.nodes, sc.cluster.clients, sc.fault_time);
  }
  trace.event(
      0, -1, "scenario",
      "seed=" + std::to_string(options.seed) + " " + result.scenario +
          " fault_time=" + seconds_text(sc.fault_time) + " settle=" + seconds_text(sc.settle) +
          " request_timeout=" + seconds_text(seconds_to_nanos(sc.cluster.client.request_timeout)));

  // Phase 1: start everything (in a seed-chosen order) and apply the faults.
  Prng boot = Prng::stream(options.seed, "boot");
  const Nanos quiet = sc.fault_time;
  const Nanos strict_from = quiet + sc.settle;
  const Nanos ops_end = strict_from + sc.quiet_ops;
  cluster.start_frontend();
  for (int i = 0; i < sc.cluster.nodes; ++i) {
    q.at(boot.nanos(0, 50 * kMs), [&cluster, i] { cluster.start_node(i); });
  }
  for (int i = 0; i < sc.cluster.clients; ++i) {
    q.at(boot.nanos(0, 100 * kMs), [&cluster, &workload, i, ops_end] {
      cluster.start_client(i);
      workload.start(i, ops_end);
    });
  }
  injector.schedule(result.plan, quiet);

  // Phase 2: liveness.
  q.at(quiet, [&] {
    injector.quiesce();
    workload.require_success_from(strict_from);
  });
  run_to(q, ops_end);
  const Nanos request_timeout = seconds_to_nanos(sc.cluster.client.request_timeout);
  const Nanos drain_deadline = ops_end + request_timeout + kSecond;
  if (!run_until(q, drain_deadline, [&] { return workload.outstanding() == 0; })) {
    cluster.failures().push_back({"liveness", std::to_string(workload.outstanding()) +
                                                  " operations still pending " +
                                                  seconds_text(drain_deadline - ops_end) +
                                                  "s after the workload stopped (request_timeout " +
                                                  seconds_text(request_timeout) + "s)"});
  }
  // Every write the frontend still holds commits once the nodes are back.
  const Nanos commit_deadline = q.now() + 2 * sc.settle;
  if (!run_until(q, commit_deadline, [&] {
        return cluster.frontend_up() &&
               cluster.frontend().status()["uncommitted"].get<std::size_t>() == 0;
      })) {
    cluster.failures().push_back(
        {"liveness", "the frontend still holds uncommitted writes " + seconds_text(2 * sc.settle) +
                         "s after the workload drained: " +
                         (cluster.frontend_up() ? cluster.frontend().status().dump() : "down")});
  }

  // Phase 3: a fresh client reads every key.
  const int reader = sc.cluster.clients;
  cluster.start_client(reader);
  workload.start_final_reads(reader);
  const Nanos final_deadline = q.now() + request_timeout + kSecond;
  if (!run_until(q, final_deadline, [&] { return workload.final_reads_done(); })) {
    cluster.failures().push_back({"liveness", "the final reads did not complete within " +
                                                  seconds_text(request_timeout + kSecond) + "s"});
  }
  for (const std::string& f : workload.liveness_failures()) {
    cluster.failures().push_back({"liveness", f});
  }
  // Let pings carry the final watermark to every node before comparing them.
  run_to(q, q.now() + 2 * seconds_to_nanos(sc.cluster.frontend.storage_timeout) + kSecond);

  // Phase 4: checks.
  std::map<std::string, std::optional<std::string>> final_reads;
  for (const HistoryEvent& e : history) {
    if (e.process == "final" && e.type == HistoryEvent::Type::kOk) final_reads[e.key] = e.value;
  }
  std::vector<Failure> failures = std::move(cluster.failures());
  check_replicas(cluster, final_reads, &failures);
  if (options.check_history) {
    CheckReport report = check_history(history);
    for (const Violation& v : report.violations) {
      failures.push_back({v.checker, v.explanation});
    }
    for (const std::string& e : report.errors) failures.push_back({"history", e});
    if (report.undecided) failures.push_back({"linearizability", "undecided (search budget)"});
  }

  result.failures = std::move(failures);
  result.faults_applied = injector.applied();
  result.hash = trace.hash();
  result.ops_invoked = workload.invoked();
  result.ops_completed = workload.completed();
  result.virtual_time = q.now();
  result.events = q.executed();
  return result;
}

}  // namespace kvs::sim
