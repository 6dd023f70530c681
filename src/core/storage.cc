// The storage node, top to bottom: connect and join; take writes and catch-up chunks
// into a pending batch; write each batch with one synced append (or a snapshot when
// the log is long); once durable, apply it to the in-memory replica and ack. Reads
// and donor fetches are answered from the replica, i.e. from durable data only.
#include "core/storage.h"

#include <algorithm>
#include <utility>

namespace kvs {

namespace {

std::string ms(Nanos n) {
  return std::to_string(n / kMillisecond) + "ms";
}

}  // namespace

StorageNode::StorageNode(StorageConfig config, Replica recovered, LogPosition log,
                         const SeedKey& seed)
    : config_(std::move(config)),
      replica_(std::move(recovered)),
      log_(log),
      backoff_max_(std::max(kInitialBackoff, seconds_to_nanos(config_.reconnect_max))),
      nonces_(seed) {}

// ---- the frontend link -----------------------------------------------------

void StorageNode::on_start(Nanos /*now*/) {
  outbox_.log(LogLevel::kInfo,
              "storage node " + config_.id + " recovered: " + std::to_string(replica_.key_count()) +
                  " keys, complete lsn " + std::to_string(replica_.complete()) + ", " +
                  std::to_string(log_.bytes) + " log bytes up to " + log_file_name(log_.number));
  if (config_.secret.empty() && !config_.insecure_no_secret) {
    outbox_.log(LogLevel::kInfo,
                "protected mode: no cluster secret is set, so the probe port accepts loopback "
                "connections only");
  } else if (config_.secret.empty()) {
    outbox_.log(LogLevel::kWarn,
                "WARNING: no cluster secret and --insecure-no-secret: the probe port accepts "
                "unauthenticated connections from any address");
  }
  outbox_.log(LogLevel::kInfo, "connecting to frontend " + config_.frontend);
  connect();
}

// A fresh id per attempt, so a late on_closed of an abandoned attempt is recognizable.
void StorageNode::connect() {
  frontend_ = next_conn_++;
  frontend_connected_ = false;
  frontend_up_ = false;
  state_ = State::kConnecting;
  outbox_.push(Connect{frontend_, config_.frontend});
}

void StorageNode::on_connected(ConnId conn, Nanos /*now*/) {
  if (stopped_ || conn != frontend_) return;
  frontend_connected_ = true;
  state_ = State::kJoining;
  // The frontend speaks first: a challenge, answered in handle_frontend_challenge.
}

void StorageNode::handle_frontend_challenge(ConnId conn, Message msg) {
  if (auto* e = std::get_if<Error>(&msg)) {
    outbox_.log(LogLevel::kError, "frontend refused this node: " + e->code + ": " + e->message);
    closing_.insert(conn);
    outbox_.push(Close{conn});
    return;
  }
  const auto* ch = std::get_if<Challenge>(&msg);
  if (ch == nullptr) {
    return refuse(conn, "expected_challenge",
                  "expected challenge first, got '" + std::string(type_name(msg)) + "'");
  }
  frontend_up_ = true;
  // Join with what is durable: pending writes may still be lost if we crash, and the
  // frontend resends every write above this point anyway.
  outbox_.log(LogLevel::kInfo,
              "connected to frontend " + config_.frontend +
                  ", joining with complete=" + std::to_string(replica_.complete()));
  const std::string proof =
      config_.secret.empty() ? "" : auth_proof(config_.secret, ch->nonce, "storage", config_.id);
  outbox_.send(conn, Hello{"storage", kProtocolVersion, config_.id, proof});
  outbox_.send(conn, Join{replica_.complete()});
}

void StorageNode::on_closed(ConnId conn, Nanos now) {
  closing_.erase(conn);
  probes_.erase(conn);
  if (stopped_ || conn != frontend_) return;
  frontend_lost(now);
}

// Everything learned stays: the replica, pending writes and the commit watermark. The
// frontend treats the node as removed, so it rejoins (and catches up) on reconnect.
void StorageNode::frontend_lost(Nanos now) {
  bool was_connected = frontend_connected_;
  frontend_ = 0;
  frontend_connected_ = false;
  frontend_up_ = false;
  state_ = State::kConnecting;
  Nanos delay = backoff_;
  backoff_ = std::min(backoff_ * 2, backoff_max_);
  if (was_connected) {
    outbox_.log(LogLevel::kWarn, "frontend connection lost; reconnecting in " + ms(delay));
  } else {
    outbox_.log(LogLevel::kWarn,
                "cannot reach frontend " + config_.frontend + "; retrying in " + ms(delay));
  }
  outbox_.push(SetTimer{kReconnectTimer, now + delay});
}

void StorageNode::on_timer(TimerId id, Nanos /*now*/) {
  if (stopped_ || id != kReconnectTimer || frontend_ != 0) return;
  outbox_.log(LogLevel::kDebug, "connecting to frontend " + config_.frontend);
  connect();
}

void StorageNode::send_to_frontend(Message m) {
  if (frontend_up_) outbox_.send(frontend_, std::move(m));
}

void StorageNode::on_message(ConnId conn, Message msg, Nanos /*now*/) {
  if (stopped_ || closing_.count(conn)) return;
  if (conn == frontend_ && frontend_up_) {
    handle_frontend(conn, std::move(msg));
  } else if (conn == frontend_ && frontend_connected_) {
    handle_frontend_challenge(conn, std::move(msg));
  } else if (probes_.count(conn)) {
    handle_probe(conn, std::move(msg));
  }
  // Anything else is from a connection already given up on: nothing to answer.
}

void StorageNode::handle_frontend(ConnId conn, Message msg) {
  if (auto* w = std::get_if<Write>(&msg)) {
    handle_write(std::move(*w));
  } else if (auto* p = std::get_if<Ping>(&msg)) {
    note_commit(p->commit);
    outbox_.send(conn, Ack{replica_.complete()});
  } else if (auto* r = std::get_if<Read>(&msg)) {
    handle_read(conn, *r);
  } else if (auto* f = std::get_if<CatchupFetch>(&msg)) {
    handle_catchup_fetch(conn, *f);
  } else if (auto* c = std::get_if<CatchupChunk>(&msg)) {
    handle_catchup_chunk(conn, std::move(*c));
  } else if (auto* js = std::get_if<JoinState>(&msg)) {
    handle_join_state(*js);
  } else if (auto* d = std::get_if<Discard>(&msg)) {
    handle_discard(conn, *d);
  } else if (std::holds_alternative<Welcome>(msg)) {
    // Only an accepted hello resets the backoff: a frontend that refuses us right
    // after connecting must not be redialed in a tight loop.
    backoff_ = kInitialBackoff;
    outbox_.log(LogLevel::kDebug, "frontend accepted hello");
  } else if (auto* e = std::get_if<Error>(&msg)) {
    outbox_.log(LogLevel::kError, "frontend refused this node: " + e->code + ": " + e->message);
    frontend_up_ = false;
    closing_.insert(conn);
    outbox_.push(Close{conn});
  } else if (std::holds_alternative<StatusRequest>(msg)) {
    outbox_.send(conn, StatusReply{status()});
  } else {
    unexpected(conn, msg);
  }
}

void StorageNode::handle_join_state(const JoinState& js) {
  std::string detail = js.detail.empty() ? "" : " (" + js.detail + ")";
  if (js.state == "member") {
    state_ = State::kMember;
    outbox_.log(LogLevel::kInfo,
                "member: serving reads, complete=" + std::to_string(replica_.complete()) + detail);
  } else if (js.state == "catching_up") {
    state_ = State::kCatchingUp;
    outbox_.log(LogLevel::kInfo,
                "catching up from complete=" + std::to_string(replica_.complete()) + detail);
  } else if (js.state == "waiting") {
    state_ = State::kWaiting;
    outbox_.log(LogLevel::kWarn, "waiting: this node is behind the cluster (complete=" +
                                     std::to_string(replica_.complete()) +
                                     ") and no member holds the newest data to catch up from" +
                                     detail);
  } else {
    outbox_.log(LogLevel::kWarn, "frontend sent unknown join state '" + js.state + "'" + detail);
  }
}

// ---- probe links -------------------------------------------------------------

void StorageNode::on_accepted(ConnId conn, Listener listener, const PeerAddress& peer,
                              Nanos /*now*/) {
  if (stopped_) return;
  if (listener != Listener::kProbe) {
    refuse(conn, "unexpected", "a storage node accepts probe connections only");
    return;
  }
  if (config_.secret.empty() && !config_.insecure_no_secret && !peer.loopback) {
    refuse(conn, "protected_mode",
           "kvs storage node is in protected mode: no cluster secret is set, so its probe port "
           "accepts loopback connections only (refused " +
               peer.address + ")");
    return;
  }
  Probe& p = probes_[conn];
  p.nonce = nonces_.next();
  outbox_.send(conn, Challenge{p.nonce});
}

void StorageNode::handle_probe(ConnId conn, Message msg) {
  Probe& probe = probes_[conn];
  bool& greeted = probe.greeted;
  if (!greeted) {
    const auto* h = std::get_if<Hello>(&msg);
    if (h == nullptr) {
      refuse(conn, "bad_hello", "expected hello first, got '" + std::string(type_name(msg)) + "'");
    } else if (h->role != "probe") {
      refuse(conn, "bad_hello",
             "this is a storage node's probe port; role must be 'probe', not '" + h->role + "'");
    } else if (h->version != kProtocolVersion) {
      refuse(conn, "bad_hello",
             "protocol version " + std::to_string(h->version) +
                 " not supported (this node speaks " + std::to_string(kProtocolVersion) + ")");
    } else if (!config_.secret.empty() &&
               !proof_matches(config_.secret, probe.nonce, h->role, h->id, h->proof)) {
      refuse(conn, "auth_failed",
             "authentication failed: the hello's proof does not match this cluster's secret");
    } else {
      greeted = true;
      outbox_.send(conn, Welcome{config_.id});
    }
    return;
  }
  if (std::holds_alternative<StatusRequest>(msg)) {
    outbox_.send(conn, StatusReply{status()});
  } else {
    unexpected(conn, msg);
  }
}

// ---- replication -------------------------------------------------------------

// The watermark only grows; the replica prunes incrementally as it does.
void StorageNode::note_commit(Lsn commit) {
  if (commit <= commit_) return;
  commit_ = commit;
  replica_.prune(commit_);
}

// Queues a version for the next batch unless it is durable or already on its way.
bool StorageNode::queue_entry(Entry&& e) {
  if (replica_.contains(e.lsn) || !queued_.insert(e.lsn).second) return false;
  pending_.records.push_back(std::move(e));
  return true;
}

void StorageNode::handle_write(Write&& w) {
  note_commit(w.commit);
  if (queue_entry(std::move(w.entry))) {
    maybe_start_disk();
  } else if (disk_idle() && pending_.records.empty()) {
    // A resent write we already hold: answer it now, no batch will.
    send_to_frontend(Ack{replica_.complete()});
  }
}

void StorageNode::handle_read(ConnId conn, const Read& r) {
  // The frontend reads only members, at a watermark every member has acked. A read
  // above what this node holds would be answered from stale data: refuse it loudly.
  // (Planted bug for kvsim --bug rejoin-serves-before-catchup: answer it anyway.)
  if (r.at > replica_.complete() && !config_.bugs.rejoin_serves_before_catchup) {
    refuse(conn, "stale_read",
           "read of '" + r.key + "' at lsn " + std::to_string(r.at) +
               ", but this node holds every write only up to " +
               std::to_string(replica_.complete()));
    return;
  }
  ReadReply reply{r.req, false, "", 0};
  Lsn at = r.at;
  if (config_.bugs.read_ignores_watermark) at = replica_.max_lsn();  // planted bug for kvsim --bug
  if (auto v = replica_.read(r.key, at)) {
    reply.found = true;
    reply.value = std::move(v->value);
    reply.lsn = v->lsn;
  }
  outbox_.send(conn, std::move(reply));
}

// This node is the donor: send durable versions newer than the joiner holds.
void StorageNode::handle_catchup_fetch(ConnId conn, const CatchupFetch& f) {
  CatchupChunk chunk = replica_.chunk_after(f.after, f.cursor, f.max_bytes);
  chunk.req = f.req;
  if (f.cursor.empty()) {
    outbox_.log(LogLevel::kInfo, "donating catch-up: versions after lsn " +
                                     std::to_string(f.after) + " to a joining node");
  }
  outbox_.log(LogLevel::kDebug, "catch-up chunk " + std::to_string(f.req) + ": " +
                                    std::to_string(chunk.entries.size()) +
                                    " versions, through key '" + chunk.cursor + "'" +
                                    (chunk.done ? ", done" : ""));
  outbox_.send(conn, std::move(chunk));
}

// This node is joining: a chunk is logged like writes, in arrival order, and confirmed
// only once durable. The done chunk's mark says every write <= upto is now held.
void StorageNode::handle_catchup_chunk(ConnId conn, CatchupChunk&& c) {
  for (Entry& e : c.entries) queue_entry(std::move(e));
  if (c.done) {
    if (c.upto > replica_.complete()) pending_.records.push_back(MarkRecord{c.upto});
    pending_.caught_up_to = std::max(pending_.caught_up_to, c.upto);
  }
  pending_.chunks.emplace_back(conn, c.req);
  maybe_start_disk();
}

// The frontend restarted, and these ranges were never committed: drop what this node
// holds in them (on disk, or still on its way there, which the batch order handles),
// then join again. Only ranges that change something here are logged.
void StorageNode::handle_discard(ConnId conn, const Discard& d) {
  std::size_t logged = 0;
  for (const LsnRange& range : d.ranges) {
    if (!replica_.affected_by(range) && !queued_within(range)) continue;
    if (!replica_.can_discard(range)) {
      // Only after --accept-data-loss made a staler node the base: this node pruned old
      // versions in favour of ones now void, so it can no longer answer reads below.
      const std::string why = "this node pruned versions up to a commit watermark above LSN " +
                              std::to_string(range.after) +
                              ", which the restarted frontend discards (data loss was "
                              "accepted); wipe its data directory so it rejoins empty";
      outbox_.log(LogLevel::kError, why);
      outbox_.push(Stop{why});
      stopped_ = true;
      state_ = State::kStopped;
      return;
    }
    pending_.records.push_back(DiscardRecord{range});
    ++logged;
  }
  outbox_.log(logged > 0 ? LogLevel::kWarn : LogLevel::kDebug,
              "frontend restarted: discarding " + std::to_string(logged) + " of " +
                  std::to_string(d.ranges.size()) +
                  " uncommitted LSN ranges this node holds writes in, then joining again");
  pending_.rejoin = conn;
  maybe_start_disk();
}

bool StorageNode::queued_within(const LsnRange& range) const {
  auto it = queued_.upper_bound(range.after);
  return it != queued_.end() && *it <= range.upto;
}

// ---- the disk ------------------------------------------------------------------

void StorageNode::maybe_start_disk() {
  if (stopped_ || !disk_idle()) return;
  // Only here is every append done, so the replica holds all that the logs do.
  if (log_.bytes > config_.snapshot_bytes && compaction_token_ == 0) start_compaction();
  if (pending_.records.empty()) {
    // Nothing new to write, but whatever the pending chunks or rejoin wait for is durable.
    if (!pending_.chunks.empty() || pending_.rejoin != 0) {
      announce_durable(std::exchange(pending_, Batch{}));
    }
    return;
  }
  in_flight_ = std::exchange(pending_, Batch{});
  in_flight_token_ = next_token_++;
  std::string bytes;
  for (const WalRecord& r : in_flight_->records) bytes += encode_wal_record(r);
  in_flight_bytes_ = bytes.size();
  outbox_.push(DiskAppend{in_flight_token_, log_.number, std::move(bytes), /*sync=*/true});
  if (config_.bugs.ack_before_fsync) {
    // Planted bug for kvsim --bug ack-before-fsync: treat the batch as durable now
    // (applying it again once done is a no-op) and ack what a crash may yet lose.
    for (const WalRecord& r : in_flight_->records) replica_.apply_record(r);
    send_to_frontend(Ack{replica_.complete()});
  }
}

// Appends move to a new log; the snapshot is the durable state, which is everything
// in the logs before it. Writes keep being logged and acked while the backend encodes
// and writes the snapshot (off the event loop), so the node never goes quiet for it.
void StorageNode::start_compaction() {
  std::vector<WalRecord> records = replica_.to_records();
  compaction_records_ = records.size();
  compaction_token_ = next_token_++;
  ++log_.number;
  log_.bytes = 0;
  outbox_.log(LogLevel::kDebug, "compacting: snapshot of " + std::to_string(compaction_records_) +
                                    " records; appending to " + log_file_name(log_.number));
  outbox_.push(DiskSnapshot{compaction_token_, std::move(records), log_.number});
}

void StorageNode::on_disk_done(std::uint64_t token, const DiskResult& result, Nanos /*now*/) {
  if (stopped_) return;
  const bool append = in_flight_ && token == in_flight_token_;
  if (!append && (compaction_token_ == 0 || token != compaction_token_)) {
    outbox_.log(LogLevel::kError, "disk completion for unknown operation " + std::to_string(token));
    return;
  }
  if (!result.ok) {
    // The batch may or may not be on disk and the OS may have dropped dirty pages:
    // acking anything further could acknowledge writes that are not durable.
    std::string what = append ? "log append" : "snapshot";
    outbox_.log(LogLevel::kError, what + " failed: " + result.error);
    outbox_.push(Stop{"disk write failed (" + result.error +
                      ") — refusing to continue, acknowledged writes may otherwise be lost"});
    stopped_ = true;
    state_ = State::kStopped;
    return;
  }
  if (append) {
    finish_append();
  } else {
    finish_compaction();
  }
}

void StorageNode::finish_append() {
  Batch done = std::move(*in_flight_);
  in_flight_.reset();
  for (WalRecord& r : done.records) {
    if (const auto* e = std::get_if<Entry>(&r)) queued_.erase(e->lsn);
    replica_.apply_record(std::move(r));
  }
  done.records.clear();  // moved into the replica
  log_.bytes += in_flight_bytes_;
  announce_durable(done);
  maybe_start_disk();
}

void StorageNode::finish_compaction() {
  compaction_token_ = 0;
  outbox_.log(LogLevel::kInfo, "compacted: snapshot of " + std::to_string(compaction_records_) +
                                   " records, logs below " + log_file_name(log_.number) +
                                   " removed");
  maybe_start_disk();  // the log may have grown past snapshot_bytes meanwhile
}

// Tells the frontend what became durable: the chunks first, then the cumulative ack.
// A chunk relayed on an earlier connection is not confirmed on a new one: that
// catch-up was abandoned with the connection, and its req means nothing now.
void StorageNode::announce_durable(const Batch& b) {
  if (b.caught_up_to != 0) {
    outbox_.log(LogLevel::kInfo,
                "catch-up data durable: every write <= " + std::to_string(b.caught_up_to) +
                    " is on disk here (complete=" + std::to_string(replica_.complete()) + ")");
  }
  if (!frontend_up_) return;
  for (const auto& [conn, req] : b.chunks) {
    if (conn == frontend_) outbox_.send(conn, CatchupApplied{req});
  }
  if (b.rejoin == frontend_) {
    outbox_.log(LogLevel::kInfo,
                "discarded; joining again with complete=" + std::to_string(replica_.complete()));
    outbox_.send(frontend_, Join{replica_.complete()});
  }
  outbox_.send(frontend_, Ack{replica_.complete()});
}

// ---- bad input -----------------------------------------------------------------

void StorageNode::on_protocol_error(ConnId conn, const std::string& what, Nanos /*now*/) {
  if (stopped_ || closing_.count(conn)) return;
  if (conn != frontend_ && !probes_.count(conn)) return;
  refuse(conn, "bad_frame", what);
}

void StorageNode::unexpected(ConnId conn, const Message& msg) {
  refuse(conn, "unexpected",
         "a storage node does not expect '" + std::string(type_name(msg)) + "' here");
}

// Answers with an error and closes. For the frontend link, on_closed then reconnects.
void StorageNode::refuse(ConnId conn, const std::string& code, const std::string& message) {
  outbox_.log(LogLevel::kWarn, "closing " + peer_name(conn) + ": " + code + ": " + message);
  outbox_.send(conn, Error{code, message});
  outbox_.push(Close{conn});
  closing_.insert(conn);
  probes_.erase(conn);
  if (conn == frontend_) frontend_up_ = false;
}

std::string StorageNode::peer_name(ConnId conn) const {
  if (conn == frontend_)
    return "frontend " + config_.frontend + " (conn " + std::to_string(conn) + ")";
  return "probe connection " + std::to_string(conn);
}

// ---- status --------------------------------------------------------------------

const char* StorageNode::state_name(State s) {
  switch (s) {
    case State::kConnecting:
      return "connecting";
    case State::kJoining:
      return "joining";
    case State::kCatchingUp:
      return "catching_up";
    case State::kMember:
      return "member";
    case State::kWaiting:
      return "waiting";
    case State::kStopped:
      return "stopped";
  }
  return "unknown";
}

nlohmann::json StorageNode::status() const {
  return nlohmann::json{
      {"role", "storage"},
      {"id", config_.id},
      {"state", state_name(state_)},
      {"frontend", config_.frontend},
      {"complete", replica_.complete()},
      {"max_lsn", replica_.max_lsn()},
      {"keys", replica_.key_count()},
      {"versions", replica_.version_count()},
      {"log", log_file_name(log_.number)},
      {"log_bytes", log_.bytes},
      {"compacting", compaction_token_ != 0},
      {"commit", commit_},
      {"pending", pending_.records.size()},
      {"in_flight", in_flight_ ? in_flight_->records.size() : 0},
  };
}

}  // namespace kvs
