// The frontend, top to bottom: connections, client sessions, replication and the
// commit watermark, reads, membership (join, catch-up, removal), and the periodic tick.
#include "core/frontend.h"

#include <algorithm>
#include <vector>

namespace kvs {

namespace {

constexpr TimerId kTickTimer = 1;
// Catch-up progress is logged every this many chunks, so long catch-ups show progress
// without flooding the log.
constexpr std::uint64_t kCatchupLogEvery = 16;

std::string seconds(Nanos n) {
  std::string s = std::to_string(static_cast<double>(n) / kSecond);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s + "s";
}

std::string id_list(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) out += (out.empty() ? "" : ",") + id;
  return out.empty() ? "(none)" : out;
}

bool contains(const std::vector<std::string>& ids, const std::string& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

const char* state_name(int s) {
  static const char* names[] = {"joining", "waiting", "catching_up", "member"};
  return names[s];
}

}  // namespace

Frontend::Frontend(FrontendConfig config, const SeedKey& seed, FrontendState recovered)
    : config_(std::move(config)),
      nonces_(seed),
      storage_timeout_(seconds_to_nanos(config_.storage_timeout)),
      unavailable_timeout_(seconds_to_nanos(config_.unavailable_timeout)),
      session_idle_timeout_(seconds_to_nanos(config_.session_idle_timeout)),
      tick_period_(std::clamp<Nanos>(storage_timeout_ / 4, 5 * kMillisecond, 100 * kMillisecond)),
      recorded_(std::move(recovered)),
      discarded_(recorded_.discarded) {}

void Frontend::on_start(Nanos now) {
  no_member_since_ = now;
  outbox_.push(SetTimer{kTickTimer, now + tick_period_});
  outbox_.log(LogLevel::kInfo, "frontend up: storage_timeout=" + seconds(storage_timeout_) +
                                   ", unavailable_timeout=" + seconds(unavailable_timeout_) +
                                   "; waiting for storage nodes to join");
  if (recorded_.members.empty()) {
    outbox_.log(LogLevel::kInfo,
                "no member was ever recorded: a new cluster; the first storage node to join "
                "defines its data");
  } else {
    outbox_.log(LogLevel::kInfo,
                "restarted: the last members were " + id_list(recorded_.members) +
                    " (each holds every acknowledged write); LSNs up to " +
                    std::to_string(recorded_.reserved) +
                    " were handed out; requests wait until one of those nodes rejoins");
  }
  if (!config_.secret.empty()) {
    outbox_.log(LogLevel::kInfo,
                "cluster secret set: every client and storage node must prove it knows it");
  } else if (config_.insecure_no_secret) {
    outbox_.log(LogLevel::kWarn,
                "WARNING: no cluster secret and --insecure-no-secret: accepting "
                "unauthenticated clients and storage nodes from ANY address. Anyone who can "
                "reach these ports can read and overwrite every key, or join as a storage node. "
                "Set --secret or --secret-file.");
  } else {
    outbox_.log(LogLevel::kInfo,
                "protected mode: no cluster secret is set, so only connections from loopback "
                "(127.0.0.0/8, ::1) are accepted; set --secret or --secret-file to accept "
                "others");
  }
}

// ---- connections ------------------------------------------------------------

// Every accepted connection gets a challenge first (with or without a secret, so the
// handshake has one shape); without a secret, only loopback peers get that far.
void Frontend::on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos) {
  Conn c;
  c.listener = listener;
  c.address = peer.address;
  Conn& stored = conns_[conn] = std::move(c);
  const std::size_t open = ++conns_per_host_[host_of(peer.address)];
  if (open > config_.max_connections_per_address) {
    return refuse(conn, "too_many_connections",
                  "more than " + std::to_string(config_.max_connections_per_address) +
                      " connections from " + host_of(peer.address) +
                      " (max_connections_per_address)");
  }
  if (config_.secret.empty() && !config_.insecure_no_secret && !peer.loopback) {
    return refuse(conn, "protected_mode",
                  "kvs frontend is in protected mode: no cluster secret is set, so only "
                  "loopback connections are accepted. Set a secret (--secret or --secret-file) "
                  "and connect with it, or start the frontend with --insecure-no-secret");
  }
  stored.nonce = nonces_.next();
  outbox_.send(conn, Challenge{stored.nonce});
}

void Frontend::on_connected(ConnId, Nanos) {}  // the frontend opens no connections

void Frontend::on_closed(ConnId conn, Nanos now) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn c = std::move(it->second);
  conns_.erase(it);
  auto host = conns_per_host_.find(host_of(c.address));
  if (host != conns_per_host_.end() && --host->second == 0) conns_per_host_.erase(host);
  if (c.role == Role::kClient) {
    auto s = sessions_.find(c.peer);
    if (s != sessions_.end() && s->second.conn == conn) {
      s->second.conn = 0;
      s->second.disconnected_at = now;
    }
  } else if (c.role == Role::kStorage) {
    remove_node(conn, "connection closed", now);
  }
}

void Frontend::close_conn(ConnId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second.closing) return;
  it->second.closing = true;
  outbox_.push(Close{conn});
}

void Frontend::refuse(ConnId conn, const std::string& code, const std::string& message) {
  auto it = conns_.find(conn);
  std::string who = "connection " + std::to_string(conn);
  if (it != conns_.end() && !it->second.address.empty()) who += " from " + it->second.address;
  if (it != conns_.end() && !it->second.peer.empty()) who += " (" + it->second.peer + ")";
  outbox_.log(LogLevel::kWarn, who + " refused: " + message);
  outbox_.send(conn, Error{code, message});
  close_conn(conn);
}

std::string Frontend::host_of(const std::string& address) {
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

std::string Frontend::session_lost_text(const std::string& client) const {
  return "no record of session " + client + " (idle longer than session_idle_timeout " +
         seconds(session_idle_timeout_) +
         " while disconnected, or the frontend restarted); its unanswered requests may or "
         "may not have taken effect; start a new session";
}

void Frontend::on_protocol_error(ConnId conn, const std::string& what, Nanos) {
  refuse(conn, "bad_frame", "bad input: " + what);
}

void Frontend::on_message(ConnId conn, Message msg, Nanos now) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second.closing) return;
  Conn& c = it->second;

  if (c.role == Role::kUnknown) {
    if (auto* h = std::get_if<Hello>(&msg)) {
      handle_hello(conn, c, *h, now);
    } else {
      refuse(conn, "expected_hello",
             "the first message must be hello, got " + std::string(type_name(msg)));
    }
    return;
  }
  if (std::holds_alternative<StatusRequest>(msg)) {
    outbox_.send(conn, StatusReply{status()});
    return;
  }
  if (c.role == Role::kClient) {
    if (auto* r = std::get_if<Request>(&msg)) {
      handle_request(c.peer, std::move(*r), now);
      return;
    }
  } else {
    Node& n = nodes_.at(conn);
    n.waiting_since = now;  // any message is progress
    if (auto* j = std::get_if<Join>(&msg)) return handle_join(conn, n, j->complete, now);
    if (auto* a = std::get_if<Ack>(&msg)) return handle_ack(conn, n, a->complete, now);
    if (auto* r = std::get_if<ReadReply>(&msg)) {
      n.outstanding = std::max(0, n.outstanding - 1);
      return handle_read_reply(conn, *r, now);
    }
    if (auto* ch = std::get_if<CatchupChunk>(&msg)) {
      n.outstanding = std::max(0, n.outstanding - 1);
      return handle_donor_chunk(conn, std::move(*ch), now);
    }
    if (auto* ap = std::get_if<CatchupApplied>(&msg)) {
      n.outstanding = std::max(0, n.outstanding - 1);
      return handle_catchup_applied(conn, *ap, now);
    }
  }
  refuse(conn, "unexpected", "unexpected message " + std::string(type_name(msg)));
}

void Frontend::handle_hello(ConnId conn, Conn& c, const Hello& h, Nanos now) {
  const bool client_port = c.listener == Listener::kClients;
  const std::string want = client_port ? "client" : "storage";
  if (h.role != want) {
    return refuse(conn, "bad_hello",
                  "this port takes role '" + want + "', got role '" + h.role + "'");
  }
  if (h.version != kProtocolVersion) {
    return refuse(conn, "bad_version",
                  "protocol version " + std::to_string(h.version) +
                      " is not supported (this "
                      "frontend speaks " +
                      std::to_string(kProtocolVersion) + ")");
  }
  if (!config_.secret.empty() && !proof_matches(config_.secret, c.nonce, h.role, h.id, h.proof)) {
    return refuse(conn, "auth_failed",
                  "authentication failed: the hello's proof does not match this cluster's "
                  "secret (check --secret / --secret-file)");
  }
  if (h.id.empty() || h.id.size() > 256) {
    return refuse(conn, "bad_hello", "hello needs an id of 1..256 bytes");
  }
  c.peer = h.id;
  if (client_port) {
    if (h.resume && sessions_.count(h.id) == 0) {
      // Whether its earlier requests took effect is unknown here, and a resend must
      // never be executed twice (seq 1 included), so the client has to start afresh.
      return refuse(conn, "session_lost", session_lost_text(h.id));
    }
    c.role = Role::kClient;
    Session& s = sessions_[h.id];
    if (s.conn != 0 && s.conn != conn) {
      outbox_.send(s.conn, Error{"replaced", "a newer connection of client " + h.id +
                                                 " took over this session"});
      close_conn(s.conn);
    }
    s.conn = conn;
    outbox_.send(conn, Welcome{"frontend"});
    if (s.waiting_room) set_read_paused(conn, true);
    // Answers that were ready while the client was away are resent when it resends.
    return;
  }
  c.role = Role::kStorage;
  for (auto& [other, n] : nodes_) {
    if (n.id == h.id) {
      remove_node(other, "replaced by a new connection from the same node id", now);
      break;
    }
  }
  Node n;
  n.id = h.id;
  nodes_.emplace(conn, std::move(n));
  outbox_.send(conn, Welcome{"frontend"});
}

// ---- clients ------------------------------------------------------------------

std::optional<std::string> Frontend::invalid_request(const Request& req) const {
  if (req.key.empty()) return "key must not be empty";
  if (req.key.size() > config_.max_key_bytes) {
    return "key is " + std::to_string(req.key.size()) + " bytes; the limit is " +
           std::to_string(config_.max_key_bytes) + " (max_key_bytes)";
  }
  if (req.op == Op::kPut && req.value.size() > config_.max_value_bytes) {
    return "value is " + std::to_string(req.value.size()) + " bytes; the limit is " +
           std::to_string(config_.max_value_bytes) + " (max_value_bytes)";
  }
  return std::nullopt;
}

void Frontend::handle_request(const std::string& client, Request req, Nanos now) {
  Session& s = sessions_[client];
  // The client has every answer below done_below: forget them.
  while (!s.ops.empty() && s.ops.begin()->first < req.done_below && s.ops.begin()->second.done) {
    s.ops.erase(s.ops.begin());
  }
  if (req.seq == 0) {
    outbox_.send(s.conn, Response{0, Status::kRejected, "", "seq must be 1 or more"});
    return;
  }
  if (s.highest_seq == 0 && req.seq > 1) {
    // A session this frontend has no record of, resuming: it expired (or the frontend
    // restarted). Whether its earlier requests took effect is unknown here, and a
    // resend must never be executed twice, so the client has to start a new session.
    return refuse(s.conn, "session_lost", session_lost_text(client));
  }
  if (req.seq <= s.highest_seq) {
    // A resend after a reconnect: answer from the session, never execute twice.
    auto it = s.ops.find(req.seq);
    if (config_.bugs.no_retry_dedupe && it != s.ops.end() && req.op == Op::kPut) {
      // planted bug for kvsim --bug: a resent PUT is answered and applied once more
      if (it->second.done) outbox_.send(s.conn, it->second.response);
      return start_put(client, s, it->second, now);
    }
    if (it != s.ops.end() && it->second.done) outbox_.send(s.conn, it->second.response);
    return;  // still pending: answered when done; forgotten: the client has the answer
  }
  if (s.ops.size() >= config_.max_client_outstanding) {
    // Not recorded (highest_seq stays), so the client's resend is a new request: the
    // session holds at most max_client_outstanding operations whatever the client does.
    return refuse(s.conn, "too_many_requests",
                  "more than " + std::to_string(config_.max_client_outstanding) +
                      " requests outstanding on this session (max_client_outstanding); "
                      "wait for answers before sending more");
  }
  s.highest_seq = req.seq;
  const std::uint64_t seq = req.seq;
  const std::optional<std::string> invalid = invalid_request(req);
  ClientOp op;
  op.req = std::move(req);
  op.arrived = now;
  s.ops.emplace(seq, std::move(op));
  if (invalid) {
    // It has no effect, so it need not wait its turn: the answer is "rejected" even
    // while the cluster is unavailable (the client delivers answers in seq order).
    return finish(client, seq, Response{seq, Status::kRejected, "", *invalid});
  }
  s.queue.push_back(seq);
  advance_session(client, s, now);
}

// Starts the session's operations in issue order. PUTs start at once (their LSNs keep
// their order); a GET first waits until the commit covers the client's earlier PUTs,
// and nothing after it starts before it has sampled the watermark.
void Frontend::advance_session(const std::string& client, Session& s, Nanos now) {
  while (!s.queue.empty()) {
    const std::uint64_t seq = s.queue.front();
    ClientOp& op = s.ops.at(seq);
    // Until a restarted frontend knows what was committed, W means nothing and LSNs may
    // not be handed out; a PUT also needs its LSN reserved durably.
    if (!ready_for_requests() || (op.req.op == Op::kPut && next_lsn_ > recorded_.reserved)) {
      waiting_for_state_.insert(client);
      write_state();
      return;
    }
    if (op.req.op == Op::kPut) {
      if (blocked_on_room(s)) return wait_for_room(client, s);
      s.queue.pop_front();
      start_put(client, s, op, now);
      continue;
    }
    if (commit_ < s.last_put_lsn) {
      gets_waiting_commit_.emplace(s.last_put_lsn, client);
      break;
    }
    s.queue.pop_front();
    start_get(client, s, op);
    dispatch_read(op.read_req, now);
  }
  if (s.waiting_room) stop_waiting_for_room(client, s);
}

// ---- bounded memory -------------------------------------------------------------

bool Frontend::room_for(const Request& put) const {
  if (uncommitted_.empty()) return true;  // one PUT always fits, however large
  return uncommitted_.size() < config_.max_inflight_writes &&
         inflight_bytes_ + put.key.size() + put.value.size() <= config_.max_inflight_write_bytes;
}

// Sessions already waiting go first: a newcomer does not take the room they wait for.
bool Frontend::blocked_on_room(const Session& s) const {
  if (s.queue.empty()) return false;
  const ClientOp& op = s.ops.at(s.queue.front());
  if (op.req.op != Op::kPut) return false;
  return !room_for(op.req) || (!waiting_for_room_.empty() && !s.waiting_room);
}

void Frontend::wait_for_room(const std::string& client, Session& s) {
  if (!s.waiting_room) {
    s.waiting_room = true;
    waiting_for_room_.push_back(client);
    ++puts_waited_for_room_;
  }
  // Backpressure: what the client sends meanwhile stays in its socket.
  set_read_paused(s.conn, true);
}

void Frontend::stop_waiting_for_room(const std::string& client, Session& s) {
  s.waiting_room = false;
  auto it = std::find(waiting_for_room_.begin(), waiting_for_room_.end(), client);
  if (it != waiting_for_room_.end()) waiting_for_room_.erase(it);
  set_read_paused(s.conn, false);
}

// Writes committed: the sessions waiting for room start their PUTs, first come first
// served, until the room is used up again.
void Frontend::admit_waiting_puts(Nanos now) {
  while (!waiting_for_room_.empty()) {
    const std::string client = waiting_for_room_.front();
    auto it = sessions_.find(client);
    if (it == sessions_.end() || !it->second.waiting_room) {
      waiting_for_room_.pop_front();
      continue;
    }
    Session& s = it->second;
    advance_session(client, s, now);  // leaves the queue unless its next PUT still waits
    if (s.waiting_room) return;       // still first in line: no room left
  }
}

void Frontend::set_read_paused(ConnId conn, bool paused) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || it->second.closing || it->second.read_paused == paused) return;
  it->second.read_paused = paused;
  outbox_.push(PauseReading{conn, paused});
}

void Frontend::start_put(const std::string& client, Session& s, ClientOp& op, Nanos now) {
  const Lsn lsn = next_lsn_++;
  if (next_lsn_ + kLsnBlock / 2 > recorded_.reserved) write_state();  // reserve ahead
  op.lsn = lsn;
  s.last_put_lsn = lsn;
  inflight_bytes_ += op.req.key.size() + op.req.value.size();
  Buffered& b = uncommitted_[lsn];
  // The value moves to the buffer: a session keeps a finished PUT (for resends) until the
  // client confirms it, which must not hold its value that long. (The planted bug
  // no_retry_dedupe replays the request, so it keeps a copy.)
  b.entry =
      Entry{lsn, op.req.key, config_.bugs.no_retry_dedupe ? op.req.value : std::move(op.req.value)};
  b.client = client;
  b.seq = op.req.seq;
  broadcast(b.entry, now);
}

bool Frontend::start_get(const std::string& client, Session&, ClientOp& op) {
  const std::uint64_t req = next_req_++;
  op.read_req = req;
  reads_[req] = PendingRead{client, op.req.seq, op.req.key, commit_, 0};
  return true;
}

void Frontend::finish(const std::string& client, std::uint64_t seq, Response r) {
  auto s = sessions_.find(client);
  if (s == sessions_.end()) return;
  auto it = s->second.ops.find(seq);
  if (it == s->second.ops.end() || it->second.done) return;
  it->second.done = true;
  it->second.response = std::move(r);
  if (s->second.conn != 0) outbox_.send(s->second.conn, it->second.response);
}

// ---- replication ----------------------------------------------------------------

bool Frontend::awaiting(const Node& n) {
  return n.outstanding > 0 || n.ping_outstanding || n.acked < n.highest_sent;
}

void Frontend::expect_answer(Node& n, Nanos now) {
  if (!awaiting(n)) n.waiting_since = now;
}

void Frontend::broadcast(const Entry& e, Nanos now) {
  for (auto& [conn, n] : nodes_) {
    if (n.state == NodeState::kMember || n.state == NodeState::kCatchingUp) {
      send_write(conn, n, e, now);
    }
  }
}

// What nodes may prune to: W, but never past the watermark of a read still pending. A
// read sampled at W=a and (re)sent after W moved on (no member at first, or its node was
// removed) must still find the newest version <= a; a node that had pruned at a newer
// W would answer "not found" (found by kvsim, seed 12).
Lsn Frontend::prune_bound() const {
  Lsn bound = commit_;
  for (const auto& [req, r] : reads_) bound = std::min(bound, r.at);
  return bound;
}

void Frontend::send_write(ConnId conn, Node& n, const Entry& e, Nanos now) {
  if (e.lsn <= n.highest_sent) return;  // the node already has it
  expect_answer(n, now);
  n.highest_sent = e.lsn;
  outbox_.send(conn, Write{e, prune_bound()});
}

void Frontend::handle_ack(ConnId conn, Node& n, Lsn complete, Nanos now) {
  n.ping_outstanding = false;
  n.acked = std::max(n.acked, complete);
  if (config_.bugs.answer_put_after_first_ack && n.state == NodeState::kMember) {
    // planted bug for kvsim --bug: one member's ack answers the PUT
    for (auto it = uncommitted_.begin(); it != uncommitted_.end() && it->first <= complete; ++it) {
      finish(it->second.client, it->second.seq, Response{it->second.seq, Status::kOk, "", ""});
    }
  }
  if (n.state == NodeState::kMember) {
    advance_commit(now);
  } else if (n.state == NodeState::kCatchingUp) {
    // Writes that were on their way to its disk when it joined may already cover what
    // the donor would send: then it needs no donor, which matters when none is left.
    if (auto it = catchups_.find(conn); it != catchups_.end() && n.acked >= it->second.upto) {
      catchups_.erase(it);
      n.caught_up = true;
    }
    maybe_promote(conn, n, now);
  } else if (n.state == NodeState::kWaiting && n.acked >= commit_) {
    // It joined stale only because its last disk batch was still in flight.
    n.join_complete = n.acked;
    admit(conn, n, now);
  }
}

// W = the lowest ack among members; it never decreases. Committed PUTs are answered
// and GETs that waited for their client's earlier PUTs may start.
void Frontend::advance_commit(Nanos now) {
  // Acknowledging needs the state file to name only current members: a restart takes
  // its data from one of them.
  if (member_count() == 0 || !membership_recorded()) return;
  Lsn lowest = next_lsn_ - 1;
  for (const auto& [conn, n] : nodes_) {
    if (n.state == NodeState::kMember) lowest = std::min(lowest, n.acked);
  }
  if (lowest <= commit_) return;
  commit_ = lowest;
  while (!uncommitted_.empty() && uncommitted_.begin()->first <= commit_) {
    Buffered b = std::move(uncommitted_.begin()->second);
    uncommitted_.erase(uncommitted_.begin());
    inflight_bytes_ -= b.entry.key.size() + b.entry.value.size();
    finish(b.client, b.seq, Response{b.seq, Status::kOk, "", ""});
  }
  while (!gets_waiting_commit_.empty() && gets_waiting_commit_.begin()->first <= commit_) {
    const std::string client = gets_waiting_commit_.begin()->second;
    gets_waiting_commit_.erase(gets_waiting_commit_.begin());
    auto s = sessions_.find(client);
    if (s != sessions_.end()) advance_session(client, s->second, now);
  }
  admit_waiting_puts(now);
}

// ---- reads ------------------------------------------------------------------------

ConnId Frontend::pick_member() {
  std::vector<ConnId> members;
  for (const auto& [conn, n] : nodes_) {
    if (n.state == NodeState::kMember) members.push_back(conn);
  }
  if (members.empty()) return 0;
  return members[round_robin_++ % members.size()];
}

void Frontend::dispatch_read(std::uint64_t req, Nanos now) {
  PendingRead& r = reads_.at(req);
  r.node = pick_member();
  if (r.node == 0) return;  // sent when a member appears, or failed by the tick
  Node& n = nodes_.at(r.node);
  expect_answer(n, now);
  n.outstanding++;
  outbox_.send(r.node, Read{req, r.key, r.at});
}

void Frontend::handle_read_reply(ConnId conn, const ReadReply& r, Nanos) {
  auto it = reads_.find(r.req);
  if (it == reads_.end() || it->second.node != conn) return;  // answered elsewhere already
  PendingRead pr = std::move(it->second);
  reads_.erase(it);
  if (r.found) {
    finish(pr.client, pr.seq, Response{pr.seq, Status::kOk, r.value, ""});
  } else {
    finish(pr.client, pr.seq, Response{pr.seq, Status::kNotFound, "", ""});
  }
}

// ---- membership -------------------------------------------------------------------

std::size_t Frontend::member_count() const {
  return static_cast<std::size_t>(std::count_if(nodes_.begin(), nodes_.end(), [](const auto& p) {
    return p.second.state == NodeState::kMember;
  }));
}

std::vector<std::string> Frontend::member_ids() const {
  std::vector<std::string> ids;
  for (const auto& [conn, n] : nodes_) {
    if (n.state == NodeState::kMember) ids.push_back(n.id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string Frontend::member_list() const {
  return id_list(member_ids());
}

// A node's first Join may need a Discard round first (after a restart); its data is
// judged (evaluate_join) on the Join that reports what it holds after that.
void Frontend::handle_join(ConnId conn, Node& n, Lsn complete, Nanos now) {
  if (n.state != NodeState::kJoining || n.held) {
    return refuse(conn, "unexpected", "join sent twice on one connection");
  }
  n.join_complete = complete;
  n.acked = complete;
  n.highest_sent = complete;
  if (n.discarding) {
    n.discarding = false;
    n.outstanding = std::max(0, n.outstanding - 1);
    return evaluate_join(conn, n, now);
  }
  if (!base_chosen_) {
    if (can_be_base(n)) {
      choose_base(n, now);
    } else {
      const std::string why = "the frontend restarted and waits for one of the last members (" +
                              id_list(recorded_.members) +
                              "), which hold every acknowledged write, to rejoin first (or "
                              "restart the frontend with --accept-data-loss)";
      outbox_.log(LogLevel::kWarn, "storage " + n.id + " waits: " + why);
      outbox_.send(conn, JoinState{"waiting", why});
    }
    n.held = true;
    return;
  }
  if (base_pending_) {
    n.held = true;  // released once the base is recorded
    return;
  }
  proceed_join(conn, n, now);
}

bool Frontend::can_be_base(const Node& n) const {
  return recorded_.members.empty() || contains(recorded_.members, n.id) ||
         config_.accept_data_loss || config_.bugs.restart_trusts_any_node;  // planted bug
}

// The base holds every acknowledged write (it is one of the last recorded members), so
// W restarts at what it holds. LSNs above that which the previous run handed out were
// never acknowledged; some nodes may hold some of them, so they are discarded everywhere
// and new writes start above every LSN ever handed out.
void Frontend::choose_base(Node& n, Nanos) {
  const Lsn base = n.join_complete;
  const Lsn reserved = config_.bugs.restart_reuses_lsns ? base : recorded_.reserved;  // planted
  if (reserved > base) discarded_.push_back(LsnRange{base, reserved});
  commit_ = std::max(base, reserved);
  next_lsn_ = commit_ + 1;
  base_chosen_ = true;
  base_pending_ = true;
  if (!recorded_.members.empty() && !contains(recorded_.members, n.id)) {
    outbox_.log(LogLevel::kError, "DATA LOSS ACCEPTED (--accept-data-loss): storage " + n.id +
                                      " is not one of the last members (" +
                                      id_list(recorded_.members) +
                                      "); writes acknowledged after it left are lost");
  }
  outbox_.log(
      LogLevel::kInfo,
      "storage " + n.id + " defines the data: it holds every write <= " + std::to_string(base) +
          (recorded_.reserved > base
               ? "; LSNs " + std::to_string(base + 1) + ".." + std::to_string(recorded_.reserved) +
                     " were never acknowledged and are discarded"
               : "") +
          "; W=" + std::to_string(commit_));
  write_state();
}

// A restarted frontend first has the node drop what earlier runs handed out and never
// committed; the node answers with a second Join.
void Frontend::proceed_join(ConnId conn, Node& n, Nanos now) {
  if (!discarded_.empty()) {
    n.discarding = true;
    expect_answer(n, now);
    n.outstanding++;
    outbox_.send(conn, Discard{discarded_});
    return;
  }
  evaluate_join(conn, n, now);
}

void Frontend::evaluate_join(ConnId conn, Node& n, Nanos now) {
  const Lsn complete = n.join_complete;
  // The node holds writes numbered by an earlier frontend run: never reuse their LSNs.
  next_lsn_ = std::max(next_lsn_, complete + 1);
  outbox_.log(LogLevel::kInfo, "storage " + n.id +
                                   " joins holding every write <= " + std::to_string(complete) +
                                   " (commit watermark W=" + std::to_string(commit_) + ")");
  if (member_count() > 0 || complete >= commit_) return admit(conn, n, now);
  if (config_.accept_data_loss) return admit_with_loss(conn, n, now);
  // Total failure and this node is stale: admitting it would roll back acknowledged
  // writes. Wait for a node that holds everything committed.
  n.state = NodeState::kWaiting;
  const std::string why = "stale: holds writes <= " + std::to_string(complete) +
                          " but writes <= " + std::to_string(commit_) +
                          " were acknowledged; waiting for a node that has them "
                          "(or restart the frontend with --accept-data-loss)";
  outbox_.log(LogLevel::kWarn, "storage " + n.id + " " + why);
  outbox_.send(conn, JoinState{"waiting", why});
}

// ---- the state file ------------------------------------------------------------------

// Members: the current ones (the file keeps the last non-empty set when none is left, as
// those nodes still hold every acknowledged write). LSNs: reserved ahead of next_lsn_.
FrontendState Frontend::wanted_state() const {
  FrontendState s;
  s.members = member_ids();
  if (s.members.empty()) s.members = recorded_.members;
  s.reserved = recorded_.reserved;
  if (next_lsn_ + kLsnBlock / 2 > s.reserved) s.reserved = next_lsn_ - 1 + kLsnBlock;
  s.discarded = discarded_;
  return s;
}

void Frontend::write_state() {
  if (!base_chosen_ || writing_) return;  // state_durable() writes again if still needed
  FrontendState next = wanted_state();
  if (next == recorded_) return;
  writing_ = std::move(next);
  outbox_.push(DiskSnapshot{next_token_++, *writing_});
}

void Frontend::on_disk_done(std::uint64_t, const DiskResult& result, Nanos now) {
  if (!writing_) return;
  if (!result.ok) {
    // Whether the file now holds the old or the new state is unknown, and acknowledging
    // anything more without a recorded state could lose it across a restart.
    outbox_.push(
        Stop{"cannot write the frontend state file (" + result.error + "); refusing to continue"});
    writing_.reset();
    base_chosen_ = false;  // nothing more is written or started
    return;
  }
  recorded_ = std::move(*writing_);
  writing_.reset();
  state_durable(now);
}

void Frontend::state_durable(Nanos now) {
  if (base_pending_ && recorded_.discarded == discarded_) {
    base_pending_ = false;
    std::vector<ConnId> held;
    for (const auto& [conn, n] : nodes_) {
      if (n.held) held.push_back(conn);
    }
    for (ConnId conn : held) {
      Node& n = nodes_.at(conn);
      n.held = false;
      proceed_join(conn, n, now);
    }
  }
  advance_commit(now);
  for (const std::string& client : std::exchange(waiting_for_state_, {})) {
    auto s = sessions_.find(client);
    if (s != sessions_.end()) advance_session(client, s->second, now);
  }
  write_state();  // whatever changed meanwhile
}

bool Frontend::membership_recorded() const {
  const std::vector<std::string> members = member_ids();
  return !recorded_.members.empty() &&
         std::all_of(recorded_.members.begin(), recorded_.members.end(),
                     [&](const std::string& id) { return contains(members, id); });
}

// Streams the node every write it lacks that is not yet committed, then either it is
// already complete or it catches up on the committed ones from a donor member.
void Frontend::admit(ConnId conn, Node& n, Nanos now) {
  n.state = NodeState::kCatchingUp;
  for (auto it = uncommitted_.upper_bound(n.join_complete); it != uncommitted_.end(); ++it) {
    send_write(conn, n, it->second.entry, now);
  }
  if (n.join_complete >= commit_) {
    n.caught_up = true;
    return maybe_promote(conn, n, now);
  }
  Catchup& cu = catchups_[conn];
  cu.after = n.join_complete;
  cu.upto = commit_;
  const std::string detail = "behind by " + std::to_string(commit_ - n.join_complete) +
                             " writes; catching up to " + std::to_string(commit_);
  outbox_.log(LogLevel::kInfo, "storage " + n.id + " " + detail);
  outbox_.send(conn, JoinState{"catching_up", detail});
  continue_catchup(conn, now);
  if (config_.bugs.rejoin_serves_before_catchup) {  // planted bug for kvsim --bug
    n.state = NodeState::kMember;
    n.acked = std::max(n.acked, commit_);
    outbox_.send(conn, JoinState{"member", "serving reads at W=" + std::to_string(commit_)});
  }
}

void Frontend::admit_with_loss(ConnId conn, Node& n, Nanos now) {
  outbox_.log(LogLevel::kError,
              "DATA LOSS ACCEPTED (--accept-data-loss): admitting stale storage " + n.id +
                  " as the only replica; acknowledged writes " +
                  std::to_string(n.join_complete + 1) + ".." + std::to_string(commit_) +
                  " are lost");
  n.state = NodeState::kCatchingUp;
  for (auto it = uncommitted_.begin(); it != uncommitted_.end(); ++it) {
    send_write(conn, n, it->second.entry, now);
  }
  // An empty final chunk: "treat everything <= W as present".
  Catchup& cu = catchups_[conn];
  cu.after = n.join_complete;
  cu.upto = commit_;
  cu.req = next_req_++;
  cu.phase = Catchup::Phase::kRelaying;
  cu.relayed_done = true;
  expect_answer(n, now);
  n.outstanding++;
  outbox_.send(conn, CatchupChunk{cu.req, {}, "", true, commit_});
}

void Frontend::continue_catchup(ConnId joiner, Nanos now) {
  auto it = catchups_.find(joiner);
  if (it == catchups_.end() || it->second.phase != Catchup::Phase::kNeedFetch) return;
  Catchup& cu = it->second;
  cu.donor = pick_member();
  if (cu.donor == 0) return;  // resumed when a member appears
  cu.req = next_req_++;
  cu.phase = Catchup::Phase::kFetching;
  Node& donor = nodes_.at(cu.donor);
  expect_answer(donor, now);
  donor.outstanding++;
  outbox_.send(cu.donor, CatchupFetch{cu.req, cu.after, cu.cursor, config_.catchup_chunk_bytes});
}

void Frontend::handle_donor_chunk(ConnId donor, CatchupChunk chunk, Nanos now) {
  for (auto& [joiner, cu] : catchups_) {
    if (cu.donor != donor || cu.req != chunk.req || cu.phase != Catchup::Phase::kFetching) {
      continue;
    }
    cu.phase = Catchup::Phase::kRelaying;
    cu.relayed_cursor = chunk.cursor;
    cu.relayed_done = chunk.done;
    cu.chunks++;
    cu.entries += chunk.entries.size();
    chunk.upto = cu.upto;
    Node& n = nodes_.at(joiner);
    expect_answer(n, now);
    n.outstanding++;
    outbox_.send(joiner, std::move(chunk));
    return;
  }
  // An answer to a fetch that no longer matters (the joiner left): drop it.
}

void Frontend::handle_catchup_applied(ConnId joiner, const CatchupApplied& a, Nanos now) {
  auto it = catchups_.find(joiner);
  if (it == catchups_.end()) return;
  Catchup& cu = it->second;
  if (cu.phase != Catchup::Phase::kRelaying || a.req != cu.req) return;
  Node& n = nodes_.at(joiner);
  cu.cursor = cu.relayed_cursor;
  if (cu.relayed_done) {
    outbox_.log(LogLevel::kInfo, "storage " + n.id + " caught up to " + std::to_string(cu.upto) +
                                     ": " + std::to_string(cu.entries) + " entries in " +
                                     std::to_string(cu.chunks) + " chunks");
    catchups_.erase(it);
    n.caught_up = true;
    return maybe_promote(joiner, n, now);
  }
  if (cu.chunks % kCatchupLogEvery == 0) {
    outbox_.log(LogLevel::kInfo, "storage " + n.id + " catching up: " + std::to_string(cu.entries) +
                                     " entries in " + std::to_string(cu.chunks) + " chunks so far");
  }
  cu.phase = Catchup::Phase::kNeedFetch;
  continue_catchup(joiner, now);
}

// A caught-up node becomes a member once it has acked everything committed, so that
// adding it never lowers the watermark.
void Frontend::maybe_promote(ConnId conn, Node& n, Nanos now) {
  if (n.state != NodeState::kCatchingUp || !n.caught_up || n.acked < commit_) return;
  const bool first = member_count() == 0;
  n.state = NodeState::kMember;
  outbox_.send(conn, JoinState{"member", "serving reads at W=" + std::to_string(commit_)});
  outbox_.log(LogLevel::kInfo, "storage " + n.id + " is a member (acked " +
                                   std::to_string(n.acked) + ", W=" + std::to_string(commit_) +
                                   "); members: " + member_list());
  write_state();
  advance_commit(now);
  if (!first) return;
  for (auto& [req, r] : reads_) {
    if (r.node == 0) dispatch_read(req, now);
  }
  resume_stalled_catchups(now);
  resume_waiting(now);
}

void Frontend::resume_stalled_catchups(Nanos now) {
  std::vector<ConnId> stalled;
  for (const auto& [joiner, cu] : catchups_) {
    if (cu.phase == Catchup::Phase::kNeedFetch) stalled.push_back(joiner);
  }
  for (ConnId j : stalled) continue_catchup(j, now);
}

void Frontend::resume_waiting(Nanos now) {
  std::vector<ConnId> waiting;
  for (const auto& [conn, n] : nodes_) {
    if (n.state == NodeState::kWaiting) waiting.push_back(conn);
  }
  for (ConnId c : waiting) admit(c, nodes_.at(c), now);
}

void Frontend::remove_node(ConnId conn, const std::string& why, Nanos now) {
  auto it = nodes_.find(conn);
  if (it == nodes_.end()) return;
  const Node n = std::move(it->second);
  nodes_.erase(it);
  close_conn(conn);
  catchups_.erase(conn);
  outbox_.log(LogLevel::kWarn, "storage " + n.id + " removed (" + state_name(int(n.state)) +
                                   "): " + why + "; members: " + member_list());

  for (auto& [joiner, cu] : catchups_) {
    if (cu.donor == conn && cu.phase == Catchup::Phase::kFetching) {
      cu.phase = Catchup::Phase::kNeedFetch;  // another donor continues from the cursor
    }
  }
  resume_stalled_catchups(now);
  for (auto& [req, r] : reads_) {
    if (r.node == conn) dispatch_read(req, now);
  }
  if (n.state != NodeState::kMember) return;
  write_state();  // until it is durable, nothing more is acknowledged
  if (member_count() == 0) {
    no_member_since_ = now;
    outbox_.log(LogLevel::kWarn, "no storage node is a member: requests wait up to " +
                                     seconds(unavailable_timeout_) +
                                     " for one to return, then fail as unavailable");
    return;
  }
  advance_commit(now);  // the removed node may have been the slowest
}

// ---- time ---------------------------------------------------------------------------

void Frontend::on_timer(TimerId id, Nanos now) {
  if (id != kTickTimer) return;
  tick(now);
  outbox_.push(SetTimer{kTickTimer, now + tick_period_});
}

void Frontend::tick(Nanos now) {
  std::vector<std::pair<ConnId, std::string>> dead;
  for (auto& [conn, n] : nodes_) {
    if (awaiting(n)) {
      if (now - n.waiting_since > storage_timeout_) {
        dead.emplace_back(conn, "no answer for " + seconds(now - n.waiting_since) +
                                    " (storage_timeout " + seconds(storage_timeout_) + ")");
      }
    } else if (now - n.last_ping >= storage_timeout_ / 3) {
      expect_answer(n, now);
      n.ping_outstanding = true;
      n.last_ping = now;
      // A node not yet admitted may still hold versions it must discard: it must not
      // prune in their favour, so it hears no watermark until then.
      outbox_.send(conn, Ping{n.state == NodeState::kJoining ? 0 : prune_bound()});
    }
  }
  for (const auto& [conn, why] : dead) remove_node(conn, why, now);
  if (member_count() == 0) fail_unavailable(now);
  if (now >= next_session_sweep_) expire_sessions(now);
}

// Forgets sessions whose client has been away for session_idle_timeout with nothing in
// progress, so that client processes that come and go do not grow memory for ever.
void Frontend::expire_sessions(Nanos now) {
  next_session_sweep_ = now + std::min(kSecond, session_idle_timeout_ / 4);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Session& s = it->second;
    const bool idle =
        s.conn == 0 && s.queue.empty() &&
        std::all_of(s.ops.begin(), s.ops.end(), [](const auto& op) { return op.second.done; });
    if (idle && now - s.disconnected_at >= session_idle_timeout_) {
      it = sessions_.erase(it);
      ++sessions_expired_;
    } else {
      ++it;
    }
  }
}

// With no member alive, an operation waits unavailable_timeout (counted from when it
// arrived or the last member left, whichever is later), then fails. A PUT failed so
// stays buffered: it is applied if a node returns, so its client must treat it as
// indeterminate.
void Frontend::fail_unavailable(Nanos now) {
  const std::string detail = "no storage node available for " + seconds(unavailable_timeout_);
  for (auto& [client, s] : sessions_) {
    bool changed = false;
    for (auto& [seq, op] : s.ops) {
      if (op.done || now - std::max(op.arrived, no_member_since_) < unavailable_timeout_) {
        continue;
      }
      auto q = std::find(s.queue.begin(), s.queue.end(), seq);
      if (q != s.queue.end()) s.queue.erase(q);
      if (op.read_req != 0) reads_.erase(op.read_req);
      const std::string why = op.req.op == Op::kPut && op.lsn != 0
                                  ? detail + "; the write may still be applied later"
                                  : detail;
      op.done = true;
      op.response = Response{seq, Status::kUnavailable, "", why};
      if (s.conn != 0) outbox_.send(s.conn, op.response);
      changed = true;
    }
    if (changed) advance_session(client, s, now);
  }
}

// ---- status ---------------------------------------------------------------------------

nlohmann::json Frontend::status() const {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& [conn, n] : nodes_) {
    nodes.push_back({{"id", n.id}, {"state", state_name(int(n.state))}, {"acked", n.acked}});
  }
  std::size_t connected = 0;
  for (const auto& [id, s] : sessions_) connected += s.conn != 0;
  return {{"role", "frontend"},
          {"commit", commit_},
          {"next_lsn", next_lsn_},
          {"uncommitted", uncommitted_.size()},
          {"inflight_write_bytes", inflight_bytes_},
          {"sessions_waiting_for_room", waiting_for_room_.size()},
          {"puts_waited_for_room", puts_waited_for_room_},
          {"members", member_count()},
          {"nodes", nodes},
          {"catchups", catchups_.size()},
          {"reads_in_flight", reads_.size()},
          {"clients", sessions_.size()},
          {"clients_connected", connected},
          {"sessions_expired", sessions_expired_},
          {"recorded_members", recorded_.members},
          {"lsns_reserved", recorded_.reserved},
          {"discarded_ranges", recorded_.discarded.size()},
          {"ready", ready_for_requests()}};
}

}  // namespace kvs
