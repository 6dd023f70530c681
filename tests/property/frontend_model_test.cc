// Model-based test of the frontend (src/core/frontend.h).
//
// The system under test is one Frontend between honest storage nodes and clients that
// live in the harness. RapidCheck generates the schedule: which client sends what,
// which node reads its next message, when a node's disk batch lands, crashes (the
// batch in flight is lost), dropped connections (the process lives on and its batch in
// flight still lands, after it has rejoined), reconnecting clients that resend what is
// unanswered, and the clock jumping past the failure detector's timeouts.
//
// The honest node is the real Replica (property-tested on its own) plus a batch that
// becomes durable at a Flush; it answers reads, catch-up fetches and relayed chunks as
// docs/PROTOCOL.md says. Messages from the frontend queue per connection, in order;
// messages to the frontend arrive at once.
//
// Invariants, checked on every message the frontend sends and after every step:
//  * the commit watermark W never decreases, and every member holds every write <= W;
//  * a PUT is answered ok only when its write is durable on every current member;
//  * a read goes only to a member, at a watermark <= W that the member has reached;
//  * an LSN names one write and a write gets one LSN, however often it is resent;
//  * a node is told "member" only when it holds every write <= W (catch-up done);
//  * invalid requests, and only they, are rejected.
// At the end, a quiet phase (every node up and connected, every message delivered,
// every batch landed) must make every node a member and answer every request, and the
// history of all client operations must pass the simulator's checkers (per-key
// linearizability, read-your-writes, monotonic reads and writes, session order).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "core/frontend.h"
#include "core/replica.h"
#include "sim/check.h"

namespace kvs {
namespace {

constexpr int kPeers = 3;
constexpr int kClients = 2;
constexpr std::array<const char*, 3> kKeys = {"a", "b", "c"};
constexpr TimerId kTick = 1;

struct Action {
  enum class Kind {
    kPut,              // a client sends a PUT of a fresh value
    kGet,              // a client sends a GET
    kBadRequest,       // a client sends a PUT with an empty key
    kDeliver,          // a node reads the next message the frontend sent it
    kFlush,            // a node's disk batch lands: it acks and confirms chunks
    kFlushSome,        // only the first records of the batch land
    kCrash,            // a node's process dies: its batch in flight is lost
    kDisconnect,       // a node's connection drops; the process and its batch live on
    kConnect,          // a node (re)starts or reconnects and joins
    kClientReconnect,  // a client reconnects and resends what is unanswered
    kTick,             // time passes
  };
  Kind kind = Kind::kTick;
  int who = 0;  // node or client index
  int key = 0;
  int ms = 0;  // kTick: how long
};

const char* kind_name(Action::Kind k) {
  static const char* names[] = {"put",        "get",   "bad-request", "deliver", "flush",
                                "flush-some", "crash", "disconnect",  "connect", "client-reconnect",
                                "tick"};
  return names[static_cast<int>(k)];
}

void showValue(const Action& a, std::ostream& os) {
  os << kind_name(a.kind) << "(" << a.who;
  if (a.kind == Action::Kind::kPut || a.kind == Action::Kind::kGet) os << ", " << kKeys[a.key];
  if (a.kind == Action::Kind::kTick) os << ", " << a.ms << "ms";
  if (a.kind == Action::Kind::kFlushSome) os << ", " << a.key + 1 << " records";
  os << ")";
}

rc::Gen<Action> gen_action() {
  using K = Action::Kind;
  return rc::gen::apply(
      [](K kind, int who, int key, int ms) {
        return Action{kind, who, key, ms};
      },
      rc::gen::weightedElement<K>({{6, K::kPut},
                                   {5, K::kGet},
                                   {1, K::kBadRequest},
                                   {14, K::kDeliver},
                                   {4, K::kFlush},
                                   {3, K::kFlushSome},
                                   {1, K::kCrash},
                                   {1, K::kDisconnect},
                                   {3, K::kConnect},
                                   {1, K::kClientReconnect},
                                   {2, K::kTick}}),
      rc::gen::inRange(0, kPeers), rc::gen::inRange(0, static_cast<int>(kKeys.size())),
      rc::gen::element(5, 200, 1200, 3500));
}

struct Peer {
  std::string id;
  Replica durable;               // survives crashes
  std::vector<WalRecord> batch;  // received, not yet durable
  // Catch-up chunks to confirm once the batch's first `end` records have landed.
  struct PendingChunk {
    std::uint64_t req;
    std::size_t end;
  };
  std::vector<PendingChunk> batch_chunks;
  ConnId conn = 0;            // 0: not connected
  std::deque<Message> inbox;  // sent by the frontend, not yet read
  bool member = false;        // told "member" on this connection
};

struct Client {
  std::string id;
  ConnId conn = 0;
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, Request> unanswered;
  std::map<std::uint64_t, Response> answered;  // not yet delivered: an earlier one is open
  std::map<std::uint64_t, Request> issued;
  std::uint64_t delivered_below = 1;  // answers below this went to the history in order
};

class Harness {
 public:
  Harness() : fe_(config(), SeedKey{4, 2}) {
    fe_.on_start(now_);
    for (int i = 0; i < kPeers; ++i) peers_[i].id = "s" + std::to_string(i);
    for (int i = 0; i < kClients; ++i) {
      clients_[i].id = "c" + std::to_string(i);
      connect_client(i);
    }
    run_effects();
  }

  void step(const Action& a) {
    switch (a.kind) {
      case Action::Kind::kPut:
        send_request(a.who % kClients, Op::kPut, kKeys[a.key], "v" + std::to_string(++values_));
        break;
      case Action::Kind::kGet:
        send_request(a.who % kClients, Op::kGet, kKeys[a.key], "");
        break;
      case Action::Kind::kBadRequest:
        send_request(a.who % kClients, Op::kPut, "", "v" + std::to_string(++values_));
        break;
      case Action::Kind::kDeliver:
        deliver(peers_[a.who]);
        break;
      case Action::Kind::kFlush:
        flush(peers_[a.who]);
        break;
      case Action::Kind::kFlushSome:
        flush(peers_[a.who], static_cast<std::size_t>(a.key) + 1);
        break;
      case Action::Kind::kCrash:
        drop_connection(peers_[a.who]);
        peers_[a.who].batch.clear();
        break;
      case Action::Kind::kDisconnect:
        drop_connection(peers_[a.who]);
        break;
      case Action::Kind::kConnect:
        if (peers_[a.who].conn == 0) connect_peer(peers_[a.who]);
        break;
      case Action::Kind::kClientReconnect:
        reconnect_client(a.who % kClients);
        break;
      case Action::Kind::kTick:
        tick(a.ms * kMillisecond);
        break;
    }
    run_effects();
    check_state();
  }

  // The quiet phase. First only the nodes that are connected run (every message read,
  // every batch landed, until nothing moves): if one of them holds every committed
  // write, all of them must become members, whoever else is down. Then every node comes
  // up: the cluster must be whole and every request answered.
  void quiesce() {
    settle(/*restart=*/false);
    const bool one_has_all = std::any_of(peers_.begin(), peers_.end(), [&](const Peer& p) {
      return p.conn != 0 && p.durable.complete() >= fe_.commit_watermark();
    });
    for (const Peer& p : peers_) {
      if (one_has_all && p.conn != 0 && !p.member) {
        fail("node " + p.id +
             " is connected but not a member although a connected node "
             "holds every write <= W=" +
             std::to_string(fe_.commit_watermark()) +
             " (it holds <= " + std::to_string(p.durable.complete()) + ")");
      }
    }
    settle(/*restart=*/true);
    for (const Peer& p : peers_) {
      if (!p.member) {
        fail("with every node up, node " + p.id +
             " is not a member (W=" + std::to_string(fe_.commit_watermark()) +
             ", it holds <= " + std::to_string(p.durable.complete()) + ")");
      }
    }
    for (const Client& c : clients_) {
      if (!c.unanswered.empty()) {
        fail("with every node up, client " + c.id + " still waits for seq " +
             std::to_string(c.unanswered.begin()->first));
      }
    }
  }

  struct Stats {
    int catchup_chunks = 0, ok_puts = 0, waiting = 0, removed = 0;
  };
  const Stats& stats() const { return stats_; }
  const History& history() const { return history_; }
  const std::string& violation() const { return violation_; }

 private:
  void settle(bool restart) {
    for (int round = 0; round < 200; ++round) {
      bool moved = false;
      for (Peer& p : peers_) {
        if (p.conn == 0 && restart) {
          connect_peer(p);
          moved = true;
        }
        run_effects();
        while (p.conn != 0 && !p.inbox.empty()) {
          deliver(p);
          run_effects();
          moved = true;
        }
        if (p.conn != 0 && (!p.batch.empty() || !p.batch_chunks.empty())) {
          flush(p);
          run_effects();
          moved = true;
        }
      }
      for (int i = 0; i < kClients; ++i) {
        if (clients_[i].conn == 0) {
          reconnect_client(i);
          run_effects();
          moved = true;
        }
      }
      check_state();
      if (!moved && round > 0) return;
      tick(10 * kMillisecond);
      run_effects();
    }
  }

  static FrontendConfig config() {
    FrontendConfig c;
    c.storage_timeout = 1.0;
    c.unavailable_timeout = 3.0;
    c.catchup_chunk_bytes = 8;  // a key or two per chunk: catch-ups take several chunks
    return c;
  }

  void fail(const std::string& what) {
    if (violation_.empty()) violation_ = what;
  }

  // ---- clients ----

  void connect_client(int i) {
    Client& c = clients_[i];
    c.conn = next_conn_++;
    fe_.on_accepted(c.conn, Listener::kClients, PeerAddress{"127.0.0.1:1", true}, now_);
    fe_.on_message(c.conn, Hello{"client", kProtocolVersion, c.id, ""}, now_);
  }

  void reconnect_client(int i) {
    Client& c = clients_[i];
    if (c.conn != 0) fe_.on_closed(c.conn, now_);
    connect_client(i);
    for (const auto& [seq, req] : c.unanswered) {
      Request again = req;
      again.done_below = c.delivered_below;
      fe_.on_message(c.conn, again, now_);
    }
  }

  void send_request(int i, Op op, const std::string& key, const std::string& value) {
    Client& c = clients_[i];
    Request r{c.next_seq++, op, key, value, c.delivered_below};
    c.unanswered[r.seq] = r;
    c.issued[r.seq] = r;
    if (!key.empty()) {
      record(c.id, HistoryEvent::Type::kInvoke, op, key,
             op == Op::kPut ? std::optional<std::string>(value) : std::nullopt);
    }
    if (c.conn != 0) fe_.on_message(c.conn, r, now_);
  }

  void on_response(Client& c, const Response& r) {
    auto it = c.unanswered.find(r.seq);
    if (it == c.unanswered.end()) return;  // a repeat of an answer it has
    const Request req = it->second;
    c.unanswered.erase(it);
    const bool invalid = req.key.empty();
    if (invalid != (r.status == Status::kRejected)) {
      fail("client " + c.id + " seq " + std::to_string(r.seq) + " (key '" + req.key +
           "') answered with status " + std::to_string(static_cast<int>(r.status)));
    }
    if (req.op == Op::kPut && r.status == Status::kOk) {
      stats_.ok_puts++;
      check_put_durable(req);
    }
    c.answered[r.seq] = r;
    // Like the client library: answers reach the application in issue order.
    while (!c.answered.empty() && c.answered.begin()->first == c.delivered_below) {
      const Response& done = c.answered.begin()->second;
      const Request& asked = c.issued.at(done.seq);
      if (!asked.key.empty()) record_completion(c.id, asked, done);
      c.answered.erase(c.answered.begin());
      c.delivered_below++;
    }
  }

  void record_completion(const std::string& client, const Request& req, const Response& r) {
    using T = HistoryEvent::Type;
    if (req.op == Op::kPut) {
      record(client, r.status == Status::kOk ? T::kOk : T::kInfo, req.op, req.key, req.value);
    } else if (r.status == Status::kOk) {
      record(client, T::kOk, req.op, req.key, r.value);
    } else if (r.status == Status::kNotFound) {
      record(client, T::kOk, req.op, req.key, std::nullopt);
    } else {
      record(client, T::kInfo, req.op, req.key, std::nullopt);
    }
  }

  void record(const std::string& client, HistoryEvent::Type type, Op op, const std::string& key,
              std::optional<std::string> value) {
    const auto f = op == Op::kPut ? HistoryEvent::F::kWrite : HistoryEvent::F::kRead;
    history_.push_back(HistoryEvent{client, type, f, key, std::move(value), ++clock_});
  }

  // ---- storage nodes ----

  void connect_peer(Peer& p) {
    p.conn = next_conn_++;
    p.member = false;
    fe_.on_accepted(p.conn, Listener::kStorage, PeerAddress{"127.0.0.1:1", true}, now_);
    fe_.on_message(p.conn, Hello{"storage", kProtocolVersion, p.id, ""}, now_);
    fe_.on_message(p.conn, Join{p.durable.complete()}, now_);
  }

  // The connection is gone for both sides; what was queued on it is lost.
  void forget_connection(Peer& p) {
    p.conn = 0;
    p.member = false;
    p.inbox.clear();
    p.batch_chunks.clear();
  }

  void drop_connection(Peer& p) {
    if (p.conn == 0) return;
    const ConnId conn = p.conn;
    forget_connection(p);
    fe_.on_closed(conn, now_);
  }

  void reply(Peer& p, Message m) { fe_.on_message(p.conn, std::move(m), now_); }

  void queue(Peer& p, const Entry& e) {
    const bool queued = std::any_of(p.batch.begin(), p.batch.end(), [&](const WalRecord& r) {
      const Entry* q = std::get_if<Entry>(&r);
      return q != nullptr && q->lsn == e.lsn;
    });
    if (!p.durable.contains(e.lsn) && !queued) p.batch.push_back(e);
  }

  void deliver(Peer& p) {
    if (p.inbox.empty()) return;
    Message m = std::move(p.inbox.front());
    p.inbox.pop_front();
    if (auto* w = std::get_if<Write>(&m)) {
      p.durable.prune(w->commit);
      queue(p, w->entry);
      if (p.batch.empty()) reply(p, Ack{p.durable.complete()});
    } else if (auto* ping = std::get_if<Ping>(&m)) {
      p.durable.prune(ping->commit);
      reply(p, Ack{p.durable.complete()});
    } else if (auto* r = std::get_if<Read>(&m)) {
      ReadReply answer{r->req, false, "", 0};
      if (auto v = p.durable.read(r->key, r->at))
        answer = ReadReply{r->req, true, v->value, v->lsn};
      reply(p, answer);
    } else if (auto* f = std::get_if<CatchupFetch>(&m)) {
      CatchupChunk chunk = p.durable.chunk_after(f->after, f->cursor, f->max_bytes);
      chunk.req = f->req;
      reply(p, chunk);
    } else if (auto* c = std::get_if<CatchupChunk>(&m)) {
      for (const Entry& e : c->entries) queue(p, e);
      if (c->done && c->upto > p.durable.complete()) p.batch.push_back(MarkRecord{c->upto});
      p.batch_chunks.push_back({c->req, p.batch.size()});
    }
    // Welcome, JoinState and Error need no answer.
  }

  // The first n records of the batch land (a disk batch is a prefix of what arrived).
  void flush(Peer& p, std::size_t n = SIZE_MAX) {
    if (p.batch.empty() && p.batch_chunks.empty()) return;
    n = std::min(n, p.batch.size());
    for (std::size_t i = 0; i < n; ++i) p.durable.apply_record(p.batch[i]);
    p.batch.erase(p.batch.begin(), p.batch.begin() + static_cast<std::ptrdiff_t>(n));
    std::vector<std::uint64_t> confirmed;
    std::vector<Peer::PendingChunk> still;
    for (const Peer::PendingChunk& c : p.batch_chunks) {
      if (c.end <= n) {
        confirmed.push_back(c.req);
      } else {
        still.push_back({c.req, c.end - n});
      }
    }
    p.batch_chunks = std::move(still);
    if (p.conn == 0) return;
    reply(p, Ack{p.durable.complete()});
    for (std::uint64_t req : confirmed) reply(p, CatchupApplied{req});
  }

  Peer* peer_on(ConnId conn) {
    for (Peer& p : peers_) {
      if (p.conn == conn && conn != 0) return &p;
    }
    return nullptr;
  }

  Client* client_on(ConnId conn) {
    for (Client& c : clients_) {
      if (c.conn == conn && conn != 0) return &c;
    }
    return nullptr;
  }

  void tick(Nanos by) {
    now_ += by;
    fe_.on_timer(kTick, now_);
  }

  // ---- the frontend's output, checked as it happens ----

  void run_effects() {
    while (true) {
      std::vector<Effect> effects = fe_.outbox().take();
      if (effects.empty()) return;
      std::vector<ConnId> closed;
      std::vector<std::uint64_t> disk_done;
      for (Effect& e : effects) {
        if (auto* s = std::get_if<Send>(&e)) on_send(s->conn, std::move(s->msg));
        // The state file: written at once (its timing is the simulator's business).
        if (auto* d = std::get_if<DiskSnapshot>(&e)) disk_done.push_back(d->token);
        if (auto* c = std::get_if<Close>(&e)) {
          // In order: a node is no member for what the frontend sends after closing it.
          if (Peer* p = peer_on(c->conn)) {
            stats_.removed++;
            forget_connection(*p);
          }
          if (Client* cl = client_on(c->conn)) cl->conn = 0;
          closed.push_back(c->conn);
        }
      }
      for (ConnId conn : closed) fe_.on_closed(conn, now_);
      for (std::uint64_t token : disk_done) fe_.on_disk_done(token, DiskResult{}, now_);
    }
  }

  void on_send(ConnId conn, Message m) {
    if (Client* c = client_on(conn)) {
      if (auto* r = std::get_if<Response>(&m)) on_response(*c, *r);
      return;
    }
    Peer* p = peer_on(conn);
    if (p == nullptr) return;  // a connection already closed
    if (auto* w = std::get_if<Write>(&m)) check_write(w->entry);
    if (auto* r = std::get_if<Read>(&m)) check_read(*p, *r);
    if (std::holds_alternative<CatchupChunk>(m)) stats_.catchup_chunks++;
    if (auto* js = std::get_if<JoinState>(&m); js != nullptr && js->state == "waiting") {
      stats_.waiting++;
    }
    if (auto* js = std::get_if<JoinState>(&m); js != nullptr && js->state == "member") {
      if (p->durable.complete() < fe_.commit_watermark()) {
        fail("node " + p->id +
             " made a member holding only <= " + std::to_string(p->durable.complete()) +
             " while W=" + std::to_string(fe_.commit_watermark()));
      }
      p->member = true;
    }
    p->inbox.push_back(std::move(m));
  }

  void check_write(const Entry& e) {
    auto [lsn_it, new_lsn] = lsn_of_value_.emplace(e.value, e.lsn);
    if (!new_lsn && lsn_it->second != e.lsn) {
      fail("value " + e.value + " written twice: lsn " + std::to_string(lsn_it->second) +
           " and lsn " + std::to_string(e.lsn) + " (a retried PUT applied twice)");
    }
    auto [entry_it, new_entry] = entry_of_lsn_.emplace(e.lsn, e);
    if (!new_entry && !(entry_it->second == e)) {
      fail("lsn " + std::to_string(e.lsn) + " names two writes");
    }
  }

  void check_read(const Peer& p, const Read& r) {
    if (!p.member) fail("read sent to " + p.id + ", which is not a member");
    if (r.at > fe_.commit_watermark()) {
      fail("read at " + std::to_string(r.at) +
           " above W=" + std::to_string(fe_.commit_watermark()));
    }
    if (r.at > p.durable.complete()) {
      fail("read at " + std::to_string(r.at) + " sent to " + p.id +
           ", which holds only <= " + std::to_string(p.durable.complete()));
    }
  }

  void check_put_durable(const Request& req) {
    auto it = lsn_of_value_.find(req.value);
    if (it == lsn_of_value_.end()) {
      return fail("PUT " + req.key + "=" + req.value + " answered ok but never replicated");
    }
    for (const Peer& p : peers_) {
      if (p.member && !p.durable.contains(it->second)) {
        fail("PUT " + req.key + "=" + req.value + " (lsn " + std::to_string(it->second) +
             ") answered ok before member " + p.id + " had it on disk");
      }
    }
  }

  void check_state() {
    const Lsn w = fe_.commit_watermark();
    if (w < last_commit_) {
      fail("W went back from " + std::to_string(last_commit_) + " to " + std::to_string(w));
    }
    last_commit_ = w;
    for (const Peer& p : peers_) {
      if (p.member && p.durable.complete() < w) {
        fail("member " + p.id + " holds only <= " + std::to_string(p.durable.complete()) +
             " but W=" + std::to_string(w));
      }
    }
  }

  bool all_members() const {
    return std::all_of(peers_.begin(), peers_.end(), [](const Peer& p) { return p.member; });
  }
  bool all_answered() const {
    return std::all_of(clients_.begin(), clients_.end(),
                       [](const Client& c) { return c.unanswered.empty(); });
  }

  Nanos now_ = 1000 * kSecond;
  Frontend fe_;
  std::array<Peer, kPeers> peers_;
  std::array<Client, kClients> clients_;
  ConnId next_conn_ = kFirstInboundConn + 1;
  std::uint64_t values_ = 0;
  std::map<std::string, Lsn> lsn_of_value_;
  std::map<Lsn, Entry> entry_of_lsn_;
  Lsn last_commit_ = 0;
  History history_;
  std::int64_t clock_ = 0;
  std::string violation_;
  Stats stats_;
};

RC_GTEST_PROP(FrontendModel, HonestPeersSeeNoViolationInAnyInterleaving, ()) {
  const auto actions = *rc::gen::scale(3.0, rc::gen::container<std::vector<Action>>(gen_action()));
  Harness h;
  for (std::size_t i = 0; i < actions.size(); ++i) {
    h.step(actions[i]);
    if (!h.violation().empty()) {
      RC_FAIL("after step " + std::to_string(i) + ": " + h.violation());
    }
  }
  h.quiesce();
  if (!h.violation().empty()) RC_FAIL("in the quiet phase: " + h.violation());
  RC_CLASSIFY(h.stats().catchup_chunks > 0, "catch-up relayed");
  RC_CLASSIFY(h.stats().ok_puts >= 5, ">= 5 PUTs ok");
  RC_CLASSIFY(h.stats().waiting > 0, "a node waited (stale)");
  RC_CLASSIFY(h.stats().removed > 0, "a node was removed by the frontend");
  const CheckReport report = check_history(h.history());
  if (!report.ok()) RC_FAIL(describe(report));
}

}  // namespace
}  // namespace kvs
