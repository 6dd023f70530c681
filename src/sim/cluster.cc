#include "sim/cluster.h"

#include <type_traits>
#include <utility>

namespace kvs::sim {
namespace {

std::string node_name(int i) {
  return "s" + std::to_string(i + 1);
}

const char* effect_name(const Effect& e) {
  static const char* names[] = {"Send",        "Close",      "Connect",      "SetTimer",
                                "CancelTimer", "DiskAppend", "DiskSnapshot", "Deliver",
                                "LogLine",     "Stop",       "PauseReading"};
  return names[e.index()];
}

std::string disk_detail(const DiskAppend& e) {
  return "token=" + std::to_string(e.token) + " log=" + std::to_string(e.log) +
         " bytes=" + std::to_string(e.bytes.size());
}

std::string disk_detail(const DiskSnapshot& e) {
  const auto* records = std::get_if<std::vector<WalRecord>>(&e.content);
  return "token=" + std::to_string(e.token) +
         (records ? " records=" + std::to_string(records->size()) +
                        " first_log=" + std::to_string(e.first_log)
                  : " frontend-state");
}

}  // namespace

std::vector<std::string> Cluster::process_names(const ClusterConfig& config) {
  std::vector<std::string> names{"frontend"};
  for (int i = 0; i < config.nodes; ++i) names.push_back(node_name(i));
  for (int i = 0; i < config.clients; ++i) names.push_back("c" + std::to_string(i + 1));
  names.push_back("final");
  return names;
}

Cluster::Cluster(EventQueue* queue, Trace* trace, std::uint64_t seed, ClusterConfig config)
    : q_(queue),
      trace_(trace),
      config_(std::move(config)),
      seed_(seed),
      bitflip_rng_(Prng::stream(seed, "bitflip")) {
  net_ = std::make_unique<SimNetwork>(q_, Prng::stream(seed, "network"), config_.net, this, trace_);
  net_->listen(kClientAddress, frontend_proc(), Listener::kClients);
  net_->listen(kStorageAddress, frontend_proc(), Listener::kStorage);
  config_.frontend.client_listen = kClientAddress;
  config_.frontend.storage_listen = kStorageAddress;
  frontend_disk_ =
      std::make_unique<SimStorage>(q_, Prng::stream(seed, "disk/frontend"), config_.disk);
  frontend_disk_->set_done([this](std::uint64_t token, const DiskResult& r) {
    trace_->event(q_->now(), frontend_proc(), "disk-done",
                  "token=" + std::to_string(token) + (r.ok ? " ok" : " FAILED " + r.error));
    input(frontend_proc(), [&](Machine& m) { m.on_disk_done(token, r, q_->now()); });
  });
  nodes_.resize(static_cast<std::size_t>(config_.nodes));
  for (int i = 0; i < config_.nodes; ++i) {
    NodeProc& n = nodes_[i];
    n.storage =
        std::make_unique<SimStorage>(q_, Prng::stream(seed, "disk/" + node_name(i)), config_.disk);
    n.storage->set_done(
        [this, i](std::uint64_t token, const DiskResult& r) { disk_done(i, token, r); });
  }
  clients_.resize(static_cast<std::size_t>(config_.clients + 1));
}

Cluster::~Cluster() = default;

// ---- processes -----------------------------------------------------------------

Machine* Cluster::machine(ProcId p) {
  if (p == 0) return frontend_.get();
  if (p <= config_.nodes) return nodes_[p - 1].machine.get();
  return clients_[p - 1 - config_.nodes].machine.get();
}

Cluster::Timers* Cluster::timers(ProcId p) {
  if (p == 0) return &frontend_timers_;
  if (p <= config_.nodes) return &nodes_[p - 1].timers;
  return &clients_[p - 1 - config_.nodes].timers;
}

std::uint64_t Cluster::incarnation(ProcId p) const {
  if (p == 0) return frontend_incarnation_;
  if (p <= config_.nodes) return nodes_[p - 1].incarnation;
  return static_cast<std::uint64_t>(clients_[p - 1 - config_.nodes].incarnation);
}

template <class F>
void Cluster::input(ProcId p, F&& f) {
  Machine* m = machine(p);
  if (m == nullptr) return;
  f(*m);
  run_effects(p);
}

SeedKey Cluster::seed_key(const std::string& name) const {
  Prng r = Prng::stream(seed_, "seed-key/" + name);
  SeedKey key{};
  for (std::size_t i = 0; i < key.size(); i += 8) {
    std::uint64_t v = r.next();
    for (std::size_t k = 0; k < 8; ++k) key[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
  return key;
}

void Cluster::fail(std::string check, std::string text) {
  trace_->event(q_->now(), -1, "violation", check + ": " + text);
  failures_.push_back(Failure{std::move(check), std::move(text)});
}

void Cluster::run_effects(ProcId p) {
  const bool is_node = p >= 1 && p <= config_.nodes;
  for (;;) {
    Machine* m = machine(p);
    if (m == nullptr || m->outbox().empty()) return;
    std::vector<Effect> effects = m->outbox().take();
    for (Effect& effect : effects) {
      if (machine(p) == nullptr) return;  // stopped part way: nothing more is carried out
      if (is_node && nodes_[p - 1].disk_failed && !std::holds_alternative<LogLine>(effect) &&
          !std::holds_alternative<Stop>(effect)) {
        fail("fail-stop", node_name(p - 1) + " carried on after its disk failed: it emitted " +
                              effect_name(effect) + " instead of stopping");
        nodes_[p - 1].disk_failed = false;  // report once
      }
      std::visit(
          [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, Send>) {
              if (is_node) {
                if (const auto* ack = std::get_if<Ack>(&e.msg)) {
                  nodes_[p - 1].acked = std::max(nodes_[p - 1].acked, ack->complete);
                }
              }
              if (p == frontend_proc()) {
                if (const auto* w = std::get_if<Write>(&e.msg)) check_once(w->entry);
              }
              net_->send(p, e.conn, e.msg);
            } else if constexpr (std::is_same_v<T, Close>) {
              net_->close(p, e.conn);
            } else if constexpr (std::is_same_v<T, Connect>) {
              net_->connect(p, e.conn, e.address);
            } else if constexpr (std::is_same_v<T, SetTimer>) {
              set_timer(p, e.id, e.at);
            } else if constexpr (std::is_same_v<T, CancelTimer>) {
              timers(p)->armed.erase(e.id);
            } else if constexpr (std::is_same_v<T, DiskAppend> || std::is_same_v<T, DiskSnapshot>) {
              trace_->event(q_->now(), p,
                            std::is_same_v<T, DiskAppend> ? "disk-append" : "disk-snapshot",
                            disk_detail(e));
              if (is_node) nodes_[p - 1].storage->submit(std::move(e));
              if (p == frontend_proc()) frontend_disk_->submit(std::move(e));
            } else if constexpr (std::is_same_v<T, Deliver>) {
              const int c = p - 1 - config_.nodes;
              trace_->event(q_->now(), p, "deliver",
                            "op=" + std::to_string(e.op_id) + " " +
                                (e.op == Op::kGet ? "get " : "put ") + e.key + " " +
                                std::string(status_name(e.status)) + " " + e.value);
              if (deliver_) deliver_(c, e);
            } else if constexpr (std::is_same_v<T, LogLine>) {
              trace_->event(q_->now(), p, log_level_name(e.level), e.text);
            } else if constexpr (std::is_same_v<T, PauseReading>) {
              // The simulated network does not pause: messages keep arriving, and the
              // frontend must stay correct (and within its bounds) regardless.
              trace_->event(q_->now(), p, e.paused ? "pause-reading" : "resume-reading",
                            "conn=" + std::to_string(e.conn));
            } else if constexpr (std::is_same_v<T, Stop>) {
              trace_->event(q_->now(), p, "stop", e.reason);
              if (is_node) {
                stop_node(p - 1, e.reason);
              } else {
                fail("unexpected-stop", "process " + std::to_string(p) + " stopped: " + e.reason);
              }
            }
          },
          effect);
    }
  }
}

// Values are unique per PUT, so one value under two LSNs is one request applied twice:
// the frontend's session table must answer a resent request, not execute it again.
void Cluster::check_once(const Entry& e) {
  auto [it, inserted] = replicated_.try_emplace(e.value, e.lsn);
  if (inserted || it->second == e.lsn) return;
  fail("exactly-once", "the PUT of \"" + e.value + "\" to " + e.key +
                           " was replicated twice, as lsn " + std::to_string(it->second) +
                           " and as lsn " + std::to_string(e.lsn) +
                           " (a resent request executed again)");
  it->second = e.lsn;
}

void Cluster::set_timer(ProcId p, TimerId id, Nanos at) {
  const std::uint64_t gen = ++timer_gen_;
  timers(p)->armed[id] = gen;
  const std::uint64_t inc = incarnation(p);
  q_->at(at, [this, p, id, gen, inc] {
    if (incarnation(p) != inc || machine(p) == nullptr) return;
    Timers* t = timers(p);
    auto it = t->armed.find(id);
    if (it == t->armed.end() || it->second != gen) return;
    t->armed.erase(it);
    trace_->event(q_->now(), p, "timer", std::to_string(id));
    input(p, [&](Machine& m) { m.on_timer(id, q_->now()); });
  });
}

// ---- frontend ------------------------------------------------------------------

void Cluster::start_frontend() {
  if (frontend_) return;
  // What the real frontend does at start (src/net/frontend_store.cc): drop a temp file
  // left by an interrupted write, read the state file.
  SimDisk& disk = frontend_disk_->disk();
  disk.remove_temp();
  FrontendState state;
  if (disk.snapshot()) {
    auto read = read_frontend_state(*disk.snapshot(), "/sim/frontend/snapshot");
    if (const auto* bad = std::get_if<RecoveryError>(&read)) {
      fail("frontend-state", "the frontend cannot read its state file: " + bad->describe());
      return;
    }
    state = std::get<FrontendState>(read);
  }
  trace_->event(q_->now(), frontend_proc(), "start",
                "incarnation=" + std::to_string(frontend_incarnation_) +
                    " members=" + std::to_string(state.members.size()) +
                    " reserved=" + std::to_string(state.reserved));
  frontend_ = std::make_unique<Frontend>(
      config_.frontend, seed_key("frontend/" + std::to_string(frontend_incarnation_)),
      std::move(state));
  input(frontend_proc(), [&](Machine& m) { m.on_start(q_->now()); });
}

void Cluster::crash_frontend() {
  if (!frontend_) return;
  const std::size_t kept = frontend_disk_->crash(0);
  trace_->event(q_->now(), frontend_proc(), "crash", "unsynced_kept=" + std::to_string(kept));
  frontend_.reset();
  frontend_timers_.armed.clear();
  ++frontend_incarnation_;
  net_->died(frontend_proc(), /*notify_peers=*/true);
}

// ---- storage nodes -------------------------------------------------------------

void Cluster::start_node(int i) {
  NodeProc& n = nodes_[i];
  if (n.machine) return;
  SimStorage::Boot boot = n.storage->boot();
  if (!boot.refused.empty()) {
    // The real node exits with this message; the operator wipes its data directory
    // and starts it again, and it rejoins empty.
    trace_->event(q_->now(), node_proc(i), "refused-to-start", boot.refused + "; wiped");
  }
  StorageConfig c = config_.storage;
  c.id = node_name(i);
  c.frontend = kStorageAddress;
  c.data_dir = "/sim/" + c.id;
  trace_->event(q_->now(), node_proc(i), "start",
                "complete=" + std::to_string(boot.replica.complete()) +
                    " log=" + std::to_string(boot.log.number) +
                    " log_bytes=" + std::to_string(boot.log.bytes) +
                    " torn_cut=" + std::to_string(boot.torn_bytes_cut));
  n.acked = 0;
  n.disk_failed = false;
  const SeedKey key = seed_key(c.id + "/" + std::to_string(n.incarnation));
  n.machine = std::make_unique<StorageNode>(std::move(c), std::move(boot.replica), boot.log, key);
  input(node_proc(i), [&](Machine& m) { m.on_start(q_->now()); });
}

void Cluster::crash_node(int i, bool notify, Ppm torn_ppm) {
  NodeProc& n = nodes_[i];
  if (!n.machine) return;
  ++crashes_;
  const std::size_t kept = n.storage->crash(torn_ppm);
  trace_->event(
      q_->now(), node_proc(i), "crash",
      std::string(notify ? "killed" : "power-loss") + " unsynced_kept=" + std::to_string(kept));
  // The storage checker: everything acknowledged must survive the crash.
  const std::optional<Lsn> durable = n.storage->durable_complete();
  if (durable && *durable < n.acked) {
    fail("storage-durability",
         node_name(i) + " acknowledged every write <= " + std::to_string(n.acked) +
             " but after a crash its disk holds only <= " + std::to_string(*durable));
  }
  n.machine.reset();
  n.timers.armed.clear();
  ++n.incarnation;
  n.acked = 0;
  n.disk_failed = false;
  net_->died(node_proc(i), notify);
}

void Cluster::stop_node(int i, const std::string& reason) {
  NodeProc& n = nodes_[i];
  const bool expected = n.disk_failed;
  if (!expected) fail("unexpected-stop", node_name(i) + " stopped: " + reason);
  // A process that exits loses its page cache only if the machine goes down with it;
  // assume the worst that the disk failure allows.
  crash_node(i, /*notify=*/true, config_.stop_torn_ppm);
  if (stopped_) stopped_(i);
}

bool Cluster::flip_bit(int i) {
  const bool flipped = nodes_[i].storage->disk().flip_bit(bitflip_rng_);
  trace_->event(q_->now(), node_proc(i), "bit-flip", flipped ? "log damaged" : "nothing to flip");
  return flipped;
}

void Cluster::disarm_disk_failures() {
  for (NodeProc& n : nodes_) n.storage->disarm();
}

void Cluster::disk_done(int i, std::uint64_t token, const DiskResult& r) {
  NodeProc& n = nodes_[i];
  const ProcId p = node_proc(i);
  trace_->event(q_->now(), p, "disk-done",
                "token=" + std::to_string(token) + (r.ok ? " ok" : " FAILED " + r.error));
  if (!r.ok) n.disk_failed = true;
  input(p, [&](Machine& m) { m.on_disk_done(token, r, q_->now()); });
  if (!r.ok && n.machine) {
    fail("fail-stop", node_name(i) + " did not stop after its disk failed (" + r.error + ")");
    crash_node(i, /*notify=*/true, config_.stop_torn_ppm);
    if (stopped_) stopped_(i);
  }
}

// ---- clients ---------------------------------------------------------------------

void Cluster::start_client(int i) {
  ClientProc& c = clients_[i];
  if (c.machine) return;
  ++c.incarnation;
  ClientConfig cfg = config_.client;
  cfg.id = i == config_.clients ? "final" : "c" + std::to_string(i + 1);
  cfg.frontend = kClientAddress;
  // Every incarnation after the first has its own session at the frontend.
  std::string inc = c.incarnation > 1 ? std::to_string(c.incarnation) : "";
  trace_->event(q_->now(), client_proc(i), "start", "incarnation=" + std::to_string(c.incarnation));
  c.machine = std::make_unique<ClientSession>(std::move(cfg), std::move(inc));
  input(client_proc(i), [&](Machine& m) { m.on_start(q_->now()); });
}

void Cluster::crash_client(int i) {
  ClientProc& c = clients_[i];
  if (!c.machine) return;
  trace_->event(q_->now(), client_proc(i), "crash", "");
  c.machine.reset();
  c.timers.armed.clear();
  net_->died(client_proc(i), /*notify_peers=*/true);
}

std::uint64_t Cluster::get(int i, const std::string& key) {
  std::uint64_t id = 0;
  input(client_proc(i), [&](Machine&) { id = clients_[i].machine->get(key, q_->now()); });
  return id;
}

std::uint64_t Cluster::put(int i, const std::string& key, const std::string& value) {
  std::uint64_t id = 0;
  input(client_proc(i), [&](Machine&) { id = clients_[i].machine->put(key, value, q_->now()); });
  return id;
}

// ---- network inputs ------------------------------------------------------------------

bool Cluster::net_up(ProcId p) const {
  if (p == 0) return frontend_ != nullptr;
  if (p <= config_.nodes) return nodes_[p - 1].machine != nullptr;
  return clients_[p - 1 - config_.nodes].machine != nullptr;
}

void Cluster::net_accepted(ProcId p, ConnId conn, Listener listener) {
  // Without a secret the simulated peers count as loopback (one host, protected mode
  // lets them in); with one they come from the network, so the proofs carry the run.
  const bool loopback = config_.frontend.secret.empty();
  const PeerAddress peer{
      loopback ? "127.0.0.1:1" : "10.0.0." + std::to_string(2 + conn % 200) + ":1", loopback};
  input(p, [&](Machine& m) { m.on_accepted(conn, listener, peer, q_->now()); });
}

void Cluster::net_connected(ProcId p, ConnId conn) {
  input(p, [&](Machine& m) { m.on_connected(conn, q_->now()); });
}

void Cluster::net_closed(ProcId p, ConnId conn) {
  input(p, [&](Machine& m) { m.on_closed(conn, q_->now()); });
}

void Cluster::net_message(ProcId p, ConnId conn, Message msg) {
  input(p, [&](Machine& m) { m.on_message(conn, std::move(msg), q_->now()); });
}

void Cluster::net_protocol_error(ProcId p, ConnId conn, const std::string& what) {
  input(p, [&](Machine& m) { m.on_protocol_error(conn, what, q_->now()); });
}

}  // namespace kvs::sim
