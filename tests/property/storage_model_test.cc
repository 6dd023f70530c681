// Model-based test of the storage node (src/core/storage.h) with rapidcheck/state.h.
//
// The system under test is one StorageNode between a fake frontend and a fake disk.
// The fake frontend sends only what docs/PROTOCOL.md lets a correct frontend send
// (writes numbered 1, 2, 3, ... in order, resent above the node's `complete` when it
// rejoins; pings and writes carrying a prune bound that never decreases; reads at an
// `at` between that bound and the watermark W, only to a member (never below the bound:
// versions older than it may be pruned, docs/ARCHITECTURE.md decision 7); catch-up
// relayed one chunk at a time from an imagined donor that holds every write <= W, has
// pruned to at most the bound, and answers each further fetch at once), plus resends of
// writes already sent. Other members are imagined too, so W may move on while this node
// is away, which makes it catch up when it rejoins. The fake disk keeps the bytes of
// DiskAppend and DiskSnapshot as src/sim/sim_disk does, appends and snapshots in two
// lanes that finish in any interleaving; an operation is durable once a DiskDone
// command completes it, and a Crash keeps any prefix of the append in flight (a torn
// tail) and any stage of the snapshot in flight (before its rename, after it, after
// deleting the logs it holds), then recovers the node from the bytes with recover().
//
// The rapidcheck Model is the frontend's write log (every write: lsn -> key, value) and
// whether the node is linked. What a correct frontend does next depends on the node's
// answers (its acks decide W, membership and catch-up), so that part of the frontend
// lives in the harness next to the node.
//
// Properties, checked after every input:
// * Durable acks: `ack{complete=N}` is sent only when a crash at that moment would keep
//   every write <= N: recovering the fake disk's durable bytes gives complete >= N and
//   answers every read at [prune bound, N] as the model does. On one connection acks
//   never decrease (starting from the join's `complete`). A catchup_applied confirms
//   only the chunk relayed on this connection, once its entries are durable.
// * Reads: a read_reply at `at` is the newest version of the key with lsn <= at in the
//   model (found, value and lsn).
// * Crash: recovery from the disk bytes succeeds, loses no acked write (as above), and
//   the node rejoins with join.complete >= the last ack it sent.
// * Health: on a healthy disk the node never emits Stop, Error, Close or an error log.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/recovery.h"
#include "core/storage.h"
#include "core/wal.h"

namespace kvs {
namespace {

// A few keys, so versions pile up and pruning matters; JSON escapes included.
const std::vector<std::string> kKeys = {"a", "b", "c", "k\"\\é"};

// ---- generators ------------------------------------------------------------------

rc::Gen<std::string> gen_key() {
  return rc::gen::elementOf(kKeys);
}

// Short UTF-8 values (the frontend refuses anything else) with characters the log
// format must escape.
rc::Gen<std::string> gen_value() {
  static const std::vector<std::string> kPieces = {"x",  "y",    "0", " ", "\"", "\\",
                                                   "\n", "\x01", "é", "€", "😀"};
  return rc::gen::map(
      rc::gen::resize(8, rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(kPieces))),
      [](const std::vector<std::string>& pieces) {
        std::string out;
        for (const std::string& p : pieces) out += p;
        return out;
      });
}

// How far below W a prune bound or a read's `at` is (a read pending elsewhere).
rc::Gen<Lsn> gen_lag() {
  return rc::gen::inRange<Lsn>(0, 4);
}

std::string json_quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

void require(bool ok, const std::string& what) {
  if (!ok) RC_FAIL(what);
}

// ---- the model -------------------------------------------------------------------

struct Model {
  std::vector<Entry> writes;  // the frontend's log: writes[i] has lsn i + 1
  bool linked = true;         // connected and joined; false after Crash or Disconnect

  Lsn last_lsn() const { return writes.size(); }
};

// The newest version of each key at every lsn, for comparing a replica against the model.
class Expected {
 public:
  explicit Expected(const Model& m) : m_(m) {}
  // Calls check(key, at, the newest version of key with lsn <= at, or null) for every
  // key and every at in [from, to].
  template <typename F>
  void each(Lsn from, Lsn to, F check) const {
    std::map<std::string, const Entry*> newest;
    for (Lsn at = 1; at <= to; ++at) {
      if (at <= m_.last_lsn()) newest[m_.writes[at - 1].key] = &m_.writes[at - 1];
      if (at < from) continue;
      for (const std::string& key : kKeys) {
        auto it = newest.find(key);
        check(key, at, it == newest.end() ? nullptr : it->second);
      }
    }
  }

 private:
  const Model& m_;
};

// ---- the fake disk ---------------------------------------------------------------

// One data directory, like sim/sim_disk: numbered logs (durable and unsynced bytes),
// the snapshot. Appends are carried out one at a time in order, and snapshots one at a
// time beside them (the backends' two lanes); the first of each lane is under way (an
// append's bytes may be partly written, a snapshot partly installed).
class FakeDisk {
 public:
  void submit(Effect op) {
    (std::holds_alternative<DiskAppend>(op) ? appends_ : snapshots_).push_back(std::move(op));
  }
  bool busy() const { return !appends_.empty() || !snapshots_.empty(); }
  int version() const { return version_; }

  // Completes the oldest operation of one lane (the snapshot lane if snapshot_first and
  // it has one, else the other) successfully; returns its token.
  std::uint64_t complete(bool snapshot_first) {
    const bool snapshot = snapshots_.empty() ? false : appends_.empty() || snapshot_first;
    std::deque<Effect>& lane = snapshot ? snapshots_ : appends_;
    Effect op = std::move(lane.front());
    lane.pop_front();
    ++version_;
    if (auto* a = std::get_if<DiskAppend>(&op)) {
      Log& log = logs_[a->log];
      log.unsynced += a->bytes;
      if (a->sync) log.durable += std::exchange(log.unsynced, "");
      return a->token;
    }
    auto& s = std::get<DiskSnapshot>(op);
    install(s);
    logs_.erase(logs_.begin(), logs_.lower_bound(s.first_log));
    return s.token;
  }

  // Power loss. Of each log's unsynced bytes and the append under way, keep_percent
  // survive (a torn write); a snapshot under way got through `stage` (0: temp file
  // written, 1: renamed over the snapshot, 2: the logs it holds deleted too). Later
  // operations never started.
  void crash(int keep_percent, int stage) {
    ++version_;
    if (!appends_.empty()) {
      const auto& a = std::get<DiskAppend>(appends_.front());
      logs_[a.log].unsynced += a.bytes;
    }
    for (auto& [number, log] : logs_) {
      const std::string tail = std::exchange(log.unsynced, "");
      log.durable += tail.substr(0, tail.size() * static_cast<std::size_t>(keep_percent) / 100);
    }
    if (!snapshots_.empty() && stage >= 1) {
      const auto& s = std::get<DiskSnapshot>(snapshots_.front());
      install(s);
      if (stage == 2) logs_.erase(logs_.begin(), logs_.lower_bound(s.first_log));
    }
    appends_.clear();
    snapshots_.clear();
  }

  std::variant<Recovered, RecoveryError> recover() const {
    std::optional<std::string_view> snapshot;
    if (snapshot_) snapshot = *snapshot_;
    std::vector<LogFile> logs;
    for (const auto& [number, log] : logs_) {
      logs.push_back(LogFile{number, log_file_name(number), log.durable});
    }
    return kvs::recover(snapshot, "snapshot", logs);
  }
  // What the backend does after recovery: delete stale logs, cut the newest log's tail.
  void after_recovery(const Recovered& rec) {
    for (std::uint64_t stale : rec.stale_logs) logs_.erase(stale);
    auto it = logs_.find(rec.position.number);
    if (it != logs_.end()) it->second.durable.resize(rec.log_valid_bytes);
  }

 private:
  struct Log {
    std::string durable;
    std::string unsynced;
  };
  void install(const DiskSnapshot& s) {
    snapshot_ = encode_snapshot_content(s.content, s.first_log);
  }

  std::map<std::uint64_t, Log> logs_;
  std::optional<std::string> snapshot_;
  std::deque<Effect> appends_;
  std::deque<Effect> snapshots_;
  int version_ = 0;
};

// ---- the harness: node, disk and the fake frontend ------------------------------

class Harness {
 public:
  explicit Harness(StorageConfig config) : config_(std::move(config)) {
    const Model empty;
    boot(empty, Replica{}, LogPosition{});
    reconnect(empty);
  }

  // The frontend numbers a new write (the model's last) and sends it if the node is in.
  void new_write(const Model& m) {
    if (conn_ == 0) return;  // buffered: sent when the node rejoins
    send_write(m, m.last_lsn());
    settle(m);
  }

  // A write sent on this connection, sent again.
  void resend(const Model& m, std::size_t pick) {
    if (sent_.empty()) return;
    const Lsn lsn = sent_[pick % sent_.size()];
    to_node_.push_back(Write{m.writes[lsn - 1], bound_});
    settle(m);
  }

  void ping(const Model& m) {
    const int acks = acks_;
    to_node_.push_back(Ping{bound_});
    settle(m);
    require(acks_ > acks, "a ping was not answered with an ack");
  }

  // Other members ack: W rises, up to this node's ack while it is a member. The prune
  // bound follows, `lag` behind (a read sampled at an older W is still pending).
  void advance_w(const Model& m, Lsn step, Lsn lag) {
    const Lsn cap = state_ == State::kMember ? std::min(acked_, m.last_lsn()) : m.last_lsn();
    w_ = std::max(w_, std::min(cap, w_ + step));
    bound_ = std::max(bound_, w_ - std::min(lag, w_));
  }

  void read(const Model& m, const std::string& key, Lsn lag) {
    if (state_ != State::kMember) return;  // reads go to members only
    const Lsn at = std::max(bound_, w_ - std::min(lag, w_));
    const std::uint64_t req = next_req_++;
    replies_.clear();
    to_node_.push_back(Read{req, key, at});
    settle(m);
    ++stats_.reads;
    require(replies_.size() == 1 && replies_[0].req == req, "read not answered once");
    const ReadReply& r = replies_[0];
    std::optional<Entry> want;
    Expected(m).each(at, at, [&](const std::string& k, Lsn, const Entry* e) {
      if (k == key && e != nullptr) want = *e;
    });
    const std::string what = "read " + json_quoted(key) + " at " + std::to_string(at) + ": ";
    require(r.found == want.has_value(), what + "found=" + std::to_string(r.found));
    if (want) {
      require(r.lsn == want->lsn && r.value == want->value,
              what + "got lsn " + std::to_string(r.lsn) + " " + json_quoted(r.value) +
                  ", want lsn " + std::to_string(want->lsn) + " " + json_quoted(want->value));
    }
    // And what any other read the frontend may send now would get.
    check_replica(m, node_->replica(), w_, "the node's replica");
  }

  // The donor's first answer arrives and is relayed. The donor holds every write
  // <= held (>= W) and has pruned to `pruned` (<= the prune bound), `lag`s below them.
  // Later fetches (one per confirmed chunk) are answered at once, the same way.
  void first_chunk(const Model& m, std::uint64_t max_bytes, Lsn hold_lag, Lsn prune_lag) {
    if (!catchup_ || catchup_->donor) return;
    catchup_->donor = Donor{max_bytes, hold_lag, prune_lag};
    relay_chunk(m);
    settle(m);
  }

  void disk_done(const Model& m, bool snapshot_first) {
    if (!disk_.busy()) return;
    const std::uint64_t token = disk_.complete(snapshot_first);
    node_->on_disk_done(token, DiskResult{}, tick());
    settle(m);
  }

  // The frontend removes the node (e.g. a timeout) and closes its connection.
  void disconnect(const Model& m) {
    const ConnId conn = conn_;
    drop();
    node_->on_closed(conn, tick());
    settle(m);
  }

  void crash(const Model& m, int keep_percent, int stage) {
    drop();
    node_.reset();
    disk_.crash(keep_percent, stage);
    auto result = disk_.recover();
    if (auto* bad = std::get_if<RecoveryError>(&result)) RC_FAIL("recovery: " + bad->describe());
    Recovered& rec = std::get<Recovered>(result);
    check_replica(m, rec.replica, last_ack_, "after a crash");
    if (rec.log_dropped_bytes > 0) ++stats_.torn_tails;
    disk_.after_recovery(rec);
    boot(m, std::move(rec.replica), rec.position);
    ++stats_.crashes;
  }

  // The node's next connection attempt succeeds: hello, join, the frontend admits it.
  void reconnect(const Model& m) {
    if (connecting_ == 0) {
      require(timer_armed_, "the node neither connects nor set its reconnect timer");
      timer_armed_ = false;
      node_->on_timer(StorageNode::kReconnectTimer, tick());
      settle(m);
    }
    require(connecting_ != 0, "no Connect after the reconnect timer");
    conn_ = std::exchange(connecting_, 0);
    node_->on_connected(conn_, tick());
    to_node_.push_front(Challenge{std::string(64, '0')});  // the frontend speaks first
    settle(m);
    require(state_ != State::kNone, "the node did not join");
  }

  // How often the interesting paths ran, for RC_CLASSIFY.
  struct Stats {
    int reads = 0;
    int crashes = 0;
    int torn_tails = 0;
    int snapshots = 0;
    int catchups = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  enum class State { kNone, kCatchingUp, kMember };  // the frontend's view of the node
  struct Donor {
    std::uint64_t max_bytes = 0;
    Lsn hold_lag = 0;
    Lsn prune_lag = 0;
  };
  struct Catchup {
    Lsn after = 0;
    Lsn upto = 0;  // S: W when the node joined
    std::string cursor;
    std::optional<Donor> donor;           // set once the first chunk is relayed
    std::optional<CatchupChunk> relayed;  // awaiting catchup_applied
  };

  void relay_chunk(const Model& m) {
    const Donor& d = *catchup_->donor;
    const Lsn held = m.last_lsn() - std::min(d.hold_lag, m.last_lsn() - w_);
    const Lsn pruned = bound_ - std::min(d.prune_lag, bound_);
    CatchupChunk c = donor_chunk(m, held, pruned, d.max_bytes);
    c.req = next_req_++;
    c.upto = catchup_->upto;
    catchup_->relayed = c;
    to_node_.push_back(std::move(c));
  }

  Nanos tick() { return now_ += kMillisecond; }

  void boot(const Model& m, Replica replica, LogPosition log) {
    node_ = std::make_unique<StorageNode>(config_, std::move(replica), log, SeedKey{9});
    connecting_ = 0;
    timer_armed_ = false;
    node_->on_start(tick());
    settle(m);
  }

  // The node is gone from the frontend's view (its connection closed).
  void drop() {
    conn_ = 0;
    state_ = State::kNone;
    catchup_.reset();
    sent_.clear();
    to_node_.clear();
  }

  void send_write(const Model& m, Lsn lsn) {
    if (lsn <= highest_sent_) return;
    highest_sent_ = lsn;
    sent_.push_back(lsn);
    to_node_.push_back(Write{m.writes[lsn - 1], bound_});
  }

  // Carries out the node's effects and delivers the frontend's answers until quiet.
  void settle(const Model& m) {
    for (;;) {
      for (Effect& e : node_->outbox().take()) carry_out(m, std::move(e));
      if (to_node_.empty()) return;
      Message msg = std::move(to_node_.front());
      to_node_.pop_front();
      node_->on_message(conn_, std::move(msg), tick());
    }
  }

  void carry_out(const Model& m, Effect e) {
    if (auto* s = std::get_if<Send>(&e)) {
      require(s->conn == conn_ && conn_ != 0,
              "sent " + std::string(type_name(s->msg)) + " on a connection not open");
      from_node(m, std::move(s->msg));
    } else if (auto* c = std::get_if<Connect>(&e)) {
      connecting_ = c->conn;
    } else if (auto* t = std::get_if<SetTimer>(&e)) {
      require(t->id == StorageNode::kReconnectTimer, "unknown timer");
      timer_armed_ = true;
    } else if (std::holds_alternative<DiskAppend>(e)) {
      disk_.submit(std::move(e));
    } else if (std::holds_alternative<DiskSnapshot>(e)) {
      ++stats_.snapshots;
      disk_.submit(std::move(e));
    } else if (auto* l = std::get_if<LogLine>(&e)) {
      require(l->level != LogLevel::kError, "error logged: " + l->text);
    } else if (auto* stop = std::get_if<Stop>(&e)) {
      RC_FAIL("Stop on a healthy disk: " + stop->reason);
    } else if (std::holds_alternative<Close>(e)) {
      RC_FAIL("the node closed its frontend link");
    } else if (!std::holds_alternative<CancelTimer>(e)) {
      RC_FAIL("unexpected effect");
    }
  }

  // The fake frontend's reaction to what the node sends.
  void from_node(const Model& m, Message msg) {
    if (auto* h = std::get_if<Hello>(&msg)) {
      require(h->role == "storage" && h->id == config_.id, "bad hello");
      to_node_.push_back(Welcome{"frontend"});
    } else if (auto* j = std::get_if<Join>(&msg)) {
      join(m, j->complete);
    } else if (auto* a = std::get_if<Ack>(&msg)) {
      require(a->complete >= acked_, "ack " + std::to_string(a->complete) + " after ack/join " +
                                         std::to_string(acked_) + " on the same connection");
      check_durable(m, a->complete, "ack " + std::to_string(a->complete));
      acked_ = a->complete;
      last_ack_ = std::max(last_ack_, a->complete);
      ++acks_;
      maybe_promote();
    } else if (auto* r = std::get_if<ReadReply>(&msg)) {
      replies_.push_back(std::move(*r));
    } else if (auto* ap = std::get_if<CatchupApplied>(&msg)) {
      applied(m, ap->req);
    } else {
      RC_FAIL("the node sent " + std::string(type_name(msg)) + " to the frontend");
    }
  }

  // frontend.cc handle_join + admit: stream every uncommitted write above the node's
  // complete; a node that holds everything committed is a member at once, else it
  // catches up on (complete, W].
  void join(const Model& m, Lsn complete) {
    require(state_ == State::kNone, "join twice");
    require(complete >= last_ack_, "rejoined with complete=" + std::to_string(complete) +
                                       " below its last ack " + std::to_string(last_ack_));
    require(complete <= m.last_lsn(), "joined with writes nobody sent");
    acked_ = complete;
    last_ack_ = complete;
    highest_sent_ = complete;
    state_ = State::kCatchingUp;
    for (Lsn lsn = std::max(w_, complete) + 1; lsn <= m.last_lsn(); ++lsn) send_write(m, lsn);
    if (complete >= w_) {
      caught_up_ = true;
      maybe_promote();
    } else {
      caught_up_ = false;
      catchup_ = Catchup{complete, w_, "", std::nullopt, std::nullopt};
      to_node_.push_back(JoinState{"catching_up", ""});
    }
  }

  void maybe_promote() {
    if (state_ != State::kCatchingUp || !caught_up_ || acked_ < w_) return;
    state_ = State::kMember;
    to_node_.push_back(JoinState{"member", ""});
  }

  void applied(const Model& m, std::uint64_t req) {
    require(catchup_ && catchup_->relayed && catchup_->relayed->req == req,
            "catchup_applied " + std::to_string(req) + " for no chunk relayed on this connection");
    const CatchupChunk c = std::move(*catchup_->relayed);
    catchup_->relayed.reset();
    auto result = disk_.recover();
    if (auto* bad = std::get_if<RecoveryError>(&result)) RC_FAIL("recovery: " + bad->describe());
    const Replica& durable = std::get<Recovered>(result).replica;
    for (const Entry& e : c.entries) {
      require(durable.contains(e.lsn),
              "chunk confirmed before lsn " + std::to_string(e.lsn) + " is durable");
    }
    catchup_->cursor = c.cursor;
    if (!c.done) return relay_chunk(m);
    require(durable.complete() >= c.upto, "last chunk confirmed before its mark is durable");
    catchup_.reset();
    caught_up_ = true;
    ++stats_.catchups;
    maybe_promote();
  }

  // The donor's answer to catchup_fetch: its versions with lsn > after for keys after
  // the cursor, in key order, about max_bytes (Replica::chunk_after's contract).
  CatchupChunk donor_chunk(const Model& m, Lsn held, Lsn pruned, std::uint64_t max_bytes) const {
    std::map<std::string, std::map<Lsn, std::string>> donor;
    for (Lsn lsn = 1; lsn <= held; ++lsn) {
      const Entry& e = m.writes[lsn - 1];
      donor[e.key][lsn] = e.value;
    }
    CatchupChunk c;
    c.cursor = catchup_->cursor;
    std::uint64_t bytes = 0;
    auto k = donor.upper_bound(catchup_->cursor);
    for (; k != donor.end() && (bytes < max_bytes || c.entries.empty()); ++k) {
      auto& versions = k->second;
      auto newest_pruned = versions.upper_bound(pruned);
      if (newest_pruned != versions.begin()) versions.erase(versions.begin(), --newest_pruned);
      for (auto v = versions.upper_bound(catchup_->after); v != versions.end(); ++v) {
        c.entries.push_back(Entry{v->first, k->first, v->second});
        bytes += k->first.size() + v->second.size();
      }
      c.cursor = k->first;
    }
    c.done = k == donor.end();
    return c;
  }

  // An ack of N: a crash now would keep every write <= N.
  void check_durable(const Model& m, Lsn n, const std::string& what) {
    if (disk_.version() == checked_version_ && n <= checked_upto_) return;
    auto result = disk_.recover();
    if (auto* bad = std::get_if<RecoveryError>(&result)) RC_FAIL("recovery: " + bad->describe());
    check_replica(m, std::get<Recovered>(result).replica, n, what + " (recovered from disk)");
    checked_version_ = disk_.version();
    checked_upto_ = n;
  }

  // The replica holds every write <= upto: complete() >= upto, and reads at any
  // watermark a frontend may still use (>= the prune bound) answer as the model does.
  void check_replica(const Model& m, const Replica& r, Lsn upto, const std::string& what) {
    require(r.complete() >= upto,
            what + ": complete " + std::to_string(r.complete()) + " < " + std::to_string(upto));
    Expected(m).each(bound_, upto, [&](const std::string& key, Lsn at, const Entry* want) {
      std::optional<Entry> got = r.read(key, at);
      const bool same = want == nullptr ? !got.has_value() : got == *want;
      require(same, what + ": read " + json_quoted(key) + " at " + std::to_string(at) +
                        " gives lsn " + (got ? std::to_string(got->lsn) : "none") + ", want lsn " +
                        (want ? std::to_string(want->lsn) : "none"));
    });
  }

  StorageConfig config_;
  std::unique_ptr<StorageNode> node_;
  FakeDisk disk_;
  Nanos now_ = 1000 * kSecond;
  ConnId connecting_ = 0;  // the node's Connect not yet answered
  bool timer_armed_ = false;
  int checked_version_ = -1;
  Lsn checked_upto_ = 0;

  // The frontend.
  ConnId conn_ = 0;  // the node's open connection; 0: none
  State state_ = State::kNone;
  Lsn acked_ = 0;     // highest ack (or join complete) on conn_
  Lsn last_ack_ = 0;  // highest the node ever reported
  Lsn highest_sent_ = 0;
  std::vector<Lsn> sent_;  // lsns written on conn_
  bool caught_up_ = false;
  std::optional<Catchup> catchup_;
  Lsn w_ = 0;      // commit watermark
  Lsn bound_ = 0;  // prune bound carried on write and ping: <= W, never decreases
  std::uint64_t next_req_ = 1;
  int acks_ = 0;
  std::vector<ReadReply> replies_;
  std::deque<Message> to_node_;
  Stats stats_;
};

// ---- commands ----------------------------------------------------------------------

using Cmd = rc::state::Command<Model, Harness>;

struct NewWrite : Cmd {
  std::string key = *gen_key();
  std::string value = *gen_value();
  void apply(Model& m) const override { m.writes.push_back(Entry{m.last_lsn() + 1, key, value}); }
  void run(const Model& m, Harness& h) const override { h.new_write(nextState(m)); }
  void show(std::ostream& os) const override {
    os << "NewWrite(" << json_quoted(key) << " = " << json_quoted(value) << ")";
  }
};

struct Resend : Cmd {
  std::size_t pick = *rc::gen::inRange<std::size_t>(0, 1000);
  void checkPreconditions(const Model& m) const override { RC_PRE(m.linked); }
  void run(const Model& m, Harness& h) const override { h.resend(m, pick); }
  void show(std::ostream& os) const override { os << "Resend(" << pick << ")"; }
};

struct PingNode : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.linked); }
  void run(const Model& m, Harness& h) const override { h.ping(m); }
  void show(std::ostream& os) const override { os << "Ping"; }
};

struct AdvanceW : Cmd {
  Lsn step = *rc::gen::inRange<Lsn>(1, 8);
  Lsn lag = *gen_lag();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.last_lsn() > 0); }
  void run(const Model& m, Harness& h) const override { h.advance_w(m, step, lag); }
  void show(std::ostream& os) const override {
    os << "AdvanceW(+" << step << ", bound lag " << lag << ")";
  }
};

struct ReadKey : Cmd {
  std::string key = *gen_key();
  Lsn lag = *gen_lag();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.linked); }
  void run(const Model& m, Harness& h) const override { h.read(m, key, lag); }
  void show(std::ostream& os) const override {
    os << "Read(" << json_quoted(key) << ", lag " << lag << ")";
  }
};

struct FirstChunk : Cmd {
  std::uint64_t max_bytes = *rc::gen::inRange<std::uint64_t>(1, 40);
  Lsn hold_lag = *gen_lag();
  Lsn prune_lag = *gen_lag();
  void checkPreconditions(const Model& m) const override { RC_PRE(m.linked); }
  void run(const Model& m, Harness& h) const override {
    h.first_chunk(m, max_bytes, hold_lag, prune_lag);
  }
  void show(std::ostream& os) const override {
    os << "FirstChunk(max_bytes " << max_bytes << ", hold lag " << hold_lag << ", prune lag "
       << prune_lag << ")";
  }
};

struct DiskDone : Cmd {
  bool snapshot_first = *rc::gen::arbitrary<bool>();
  void run(const Model& m, Harness& h) const override { h.disk_done(m, snapshot_first); }
  void show(std::ostream& os) const override {
    os << "DiskDone(" << (snapshot_first ? "snapshot" : "append") << " lane first)";
  }
};

struct Disconnect : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(m.linked); }
  void apply(Model& m) const override { m.linked = false; }
  void run(const Model& m, Harness& h) const override { h.disconnect(m); }
  void show(std::ostream& os) const override { os << "Disconnect"; }
};

struct Crash : Cmd {
  int keep_percent = *rc::gen::inRange(0, 101);
  int snapshot_stage = *rc::gen::inRange(0, 3);
  void apply(Model& m) const override { m.linked = false; }
  void run(const Model& m, Harness& h) const override { h.crash(m, keep_percent, snapshot_stage); }
  void show(std::ostream& os) const override {
    os << "Crash(keep " << keep_percent << "% of unsynced bytes, snapshot stage " << snapshot_stage
       << ")";
  }
};

struct Reconnect : Cmd {
  void checkPreconditions(const Model& m) const override { RC_PRE(!m.linked); }
  void apply(Model& m) const override { m.linked = true; }
  void run(const Model& m, Harness& h) const override { h.reconnect(m); }
  void show(std::ostream& os) const override { os << "Reconnect"; }
};

RC_GTEST_PROP(StorageModel, AcksAreDurableReadsAreRightAndCrashesLoseNoAckedWrite, ()) {
  StorageConfig config;
  config.id = "s1";
  config.frontend = "127.0.0.1:8001";
  // Small thresholds make the node compact (write a snapshot) often.
  config.snapshot_bytes = *rc::gen::element<std::uint64_t>(0, 100, 300, 1 << 20);
  Harness h(config);
  // Up to 61 commands. Repeated types weigh the choice; a command that does not apply
  // in the harness's state (no disk operation, not catching up, ...) does nothing.
  const auto commands = *rc::gen::resize(
      60, rc::state::gen::commands(
              Model{},
              rc::state::gen::execOneOfWithArgs<
                  NewWrite, NewWrite, NewWrite, NewWrite, DiskDone, DiskDone, DiskDone, DiskDone,
                  AdvanceW, AdvanceW, ReadKey, ReadKey, PingNode, Resend, FirstChunk, FirstChunk,
                  FirstChunk, FirstChunk, Disconnect, Crash, Reconnect, Reconnect>()));
  rc::state::runAll(commands, Model{}, h);
  RC_CLASSIFY(h.stats().reads > 0, "read");
  RC_CLASSIFY(h.stats().crashes > 0, "crash");
  RC_CLASSIFY(h.stats().torn_tails > 0, "torn tail");
  RC_CLASSIFY(h.stats().snapshots > 0, "snapshot");
  RC_CLASSIFY(h.stats().catchups > 0, "catch-up");
}

}  // namespace
}  // namespace kvs
