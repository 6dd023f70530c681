// ClientSession: see client.h and docs/PROTOCOL.md (client <-> frontend).
#include "core/client.h"

#include <algorithm>
#include <sstream>
#include <type_traits>
#include <utility>

#include "core/auth.h"

namespace kvs {

namespace {

std::string seconds_text(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

std::string millis_text(Nanos n) {
  return std::to_string(n / kMillisecond) + "ms";
}

}  // namespace

ClientSession::ClientSession(ClientConfig config, std::string incarnation)
    : config_(std::move(config)),
      base_hello_id_(incarnation.empty() ? config_.id : config_.id + "/" + incarnation),
      hello_id_(base_hello_id_),
      request_timeout_(seconds_to_nanos(config_.request_timeout)),
      // validate() rejects a non-positive cap; clamp anyway so a bad config cannot make
      // the session spin on zero-delay reconnects.
      backoff_max_(std::max(seconds_to_nanos(config_.reconnect_max), kMillisecond)),
      backoff_(std::min(kInitialBackoff, backoff_max_)) {}

std::uint64_t ClientSession::get(std::string key, Nanos now) {
  return issue(Op::kGet, std::move(key), {}, now);
}

std::uint64_t ClientSession::put(std::string key, std::string value, Nanos now) {
  return issue(Op::kPut, std::move(key), std::move(value), now);
}

std::size_t ClientSession::outstanding() const {
  return pending_.size();
}

std::uint64_t ClientSession::issue(Op op, std::string key, std::string value, Nanos now) {
  const std::uint64_t seq = next_seq_++;
  const Nanos deadline = now + request_timeout_;
  auto& p = pending_[seq];
  p = PendingOp{op, std::move(key), std::move(value), deadline, std::nullopt};
  arm_deadline(deadline);
  // Requests are pipelined right behind the Hello; the frontend reads them in order.
  if (link_ == Link::kHandshaking || link_ == Link::kReady) send_request(seq, p);
  return op_base_ + seq;
}

void ClientSession::request_status(Nanos now) {
  status_wanted_ = true;
  status_result_.reset();
  status_deadline_ = now + request_timeout_;
  arm_deadline(status_deadline_);
  if (link_ == Link::kHandshaking || link_ == Link::kReady) outbox_.send(conn_, StatusRequest{});
}

std::optional<ClientSession::StatusResult> ClientSession::take_status() {
  return std::exchange(status_result_, std::nullopt);
}

void ClientSession::on_start(Nanos /*now*/) {
  connect();
}

void ClientSession::connect() {
  conn_ = next_conn_++;
  // Outbound ids must stay below the backend's inbound range; 2^32 attempts will not
  // happen, but wrapping keeps the invariant without a throw.
  if (next_conn_ >= kFirstInboundConn) next_conn_ = 1;
  link_ = Link::kConnecting;
  outbox_.push(Connect{conn_, config_.frontend});
  outbox_.log(LogLevel::kDebug, "connecting to frontend " + config_.frontend);
}

void ClientSession::send_request(std::uint64_t seq, const PendingOp& op) {
  sent_requests_ = true;
  outbox_.send(conn_, Request{seq, op.op, op.key, op.value, next_deliver_});
}

void ClientSession::on_accepted(ConnId conn, Listener /*listener*/, const PeerAddress& /*peer*/,
                                Nanos /*now*/) {
  // A client listens on nothing; a backend that reports an inbound connection is
  // confused, so refuse it rather than guess.
  outbox_.log(LogLevel::kWarn, "client: unexpected inbound connection; closing it");
  outbox_.push(Close{conn});
}

void ClientSession::on_connected(ConnId conn, Nanos /*now*/) {
  if (conn != conn_ || link_ != Link::kConnecting) {
    outbox_.log(LogLevel::kDebug, "ignoring connect of stale connection " + std::to_string(conn));
    return;
  }
  // The frontend speaks first: its challenge is answered in answer_challenge.
  link_ = Link::kChallenge;
}

void ClientSession::answer_challenge(const Challenge& c) {
  link_ = Link::kHandshaking;
  const std::string proof =
      config_.secret.empty() ? "" : auth_proof(config_.secret, c.nonce, "client", hello_id_);
  outbox_.send(conn_, Hello{"client", kProtocolVersion, hello_id_, proof, sent_requests_});
  // Every unanswered request again, in seq order, with the same seq: the frontend
  // answers a seq it already executed from its dedupe table instead of re-applying it.
  for (const auto& [seq, op] : pending_) {
    if (!op.outcome) send_request(seq, op);
  }
  if (status_wanted_) outbox_.send(conn_, StatusRequest{});
}

void ClientSession::on_closed(ConnId conn, Nanos now) {
  // Closes of connections we already gave up on (after an Error, say) are expected.
  if (conn != conn_ || link_ == Link::kDown) return;
  lose_connection(/*close=*/false, now);
}

void ClientSession::lose_connection(bool close, Nanos now) {
  if (close) outbox_.push(Close{conn_});
  conn_ = 0;
  link_ = Link::kDown;
  outbox_.push(SetTimer{kReconnectTimer, now + backoff_});
  outbox_.log(LogLevel::kInfo, "frontend " + config_.frontend + " not connected; retrying in " +
                                   millis_text(backoff_));
  backoff_ = std::min(backoff_ * 2, backoff_max_);
}

void ClientSession::on_message(ConnId conn, Message msg, Nanos now) {
  if (conn != conn_ || link_ == Link::kDown || link_ == Link::kConnecting) {
    outbox_.log(LogLevel::kDebug, "ignoring message on stale connection " + std::to_string(conn));
    return;
  }
  std::visit(
      [&](auto&& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Challenge>) {
          if (link_ == Link::kChallenge) return answer_challenge(m);
          const std::string what = "a second challenge from the frontend";
          outbox_.log(LogLevel::kWarn, what + "; reconnecting");
          outbox_.send(conn_, Error{"unexpected", what});
          lose_connection(/*close=*/true, now);
        } else if (link_ == Link::kChallenge && !std::is_same_v<T, Error>) {
          const std::string what = "expected a challenge from the frontend, got '" +
                                   std::string(type_name(Message{m})) + "'";
          outbox_.log(LogLevel::kWarn, what + "; reconnecting");
          outbox_.send(conn_, Error{"expected_challenge", what});
          lose_connection(/*close=*/true, now);
        } else if constexpr (std::is_same_v<T, Welcome>) {
          if (link_ == Link::kHandshaking) {
            link_ = Link::kReady;
            // Reset only once the frontend accepted us: a frontend that accepts TCP but
            // refuses the hello must not be hammered every 50ms.
            backoff_ = std::min(kInitialBackoff, backoff_max_);
            last_refusal_.clear();
            outbox_.log(LogLevel::kInfo, "connected to frontend " + config_.frontend);
          }
        } else if constexpr (std::is_same_v<T, Error>) {
          outbox_.log(LogLevel::kWarn,
                      "frontend " + config_.frontend + " refused: " + m.code + ": " + m.message);
          last_refusal_ = m.code + ": " + m.message;
          if (m.code == "session_lost") restart_session(m.message, now);
          lose_connection(/*close=*/true, now);
        } else if constexpr (std::is_same_v<T, Response>) {
          handle_response(std::move(m), now);
        } else if constexpr (std::is_same_v<T, StatusReply>) {
          if (status_wanted_) {
            status_wanted_ = false;
            status_result_ = StatusResult{true, std::move(m.body), {}};
            rearm_deadline();  // so an idle session leaves no timer armed
          }
        } else {
          const std::string what =
              "unexpected message '" + std::string(type_name(Message{m})) + "' from the frontend";
          outbox_.log(LogLevel::kWarn, what + "; reconnecting");
          outbox_.send(conn_, Error{"unexpected", what});
          lose_connection(/*close=*/true, now);
        }
      },
      std::move(msg));
}

void ClientSession::handle_response(Response r, Nanos now) {
  if (r.seq == 0 || r.seq >= next_seq_) {
    // Never issued: the frontend is confused about this session; start over.
    const std::string what = "response for seq " + std::to_string(r.seq) + " never issued";
    outbox_.log(LogLevel::kWarn, what + "; reconnecting");
    outbox_.send(conn_, Error{"bad_response", what});
    lose_connection(/*close=*/true, now);
    return;
  }
  auto it = pending_.find(r.seq);
  if (it == pending_.end() || it->second.outcome) {
    // Answered twice (a resend raced the first answer) or answered after it timed out.
    outbox_.log(LogLevel::kDebug, "ignoring duplicate response for seq " + std::to_string(r.seq));
    return;
  }
  it->second.outcome = std::move(r);
  deliver_ready();
  if (pending_.empty() && !status_wanted_) rearm_deadline();
}

void ClientSession::deliver_ready() {
  // pending_ holds exactly the seqs [next_deliver_, next_seq_), so its first entry is
  // the only one that may be delivered next.
  while (!pending_.empty() && pending_.begin()->second.outcome) {
    auto node = pending_.extract(pending_.begin());
    PendingOp& op = node.mapped();
    Response& out = *op.outcome;
    Deliver d{op_base_ + node.key(), op.op, out.status,
              std::move(op.key),     {},    std::move(out.detail)};
    if (op.op == Op::kGet && out.status == Status::kOk) d.value = std::move(out.value);
    outbox_.push(std::move(d));
    next_deliver_ = node.key() + 1;
  }
}

void ClientSession::restart_session(const std::string& why, Nanos /*now*/) {
  for (auto& [seq, op] : pending_) {
    if (op.outcome) continue;
    op.outcome = Response{seq,
                          Status::kUnavailable,
                          {},
                          "session lost (" + why + "); a put may or may not have taken effect"};
  }
  deliver_ready();  // every pending op has its outcome now: pending_ is empty
  op_base_ += next_seq_ - 1;
  next_seq_ = 1;
  next_deliver_ = 1;
  hello_id_ = base_hello_id_ + "#" + std::to_string(++session_number_);
  sent_requests_ = false;
  outbox_.log(LogLevel::kWarn, "continuing as a new session " + hello_id_);
  rearm_deadline();
}

void ClientSession::on_protocol_error(ConnId conn, const std::string& what, Nanos now) {
  if (conn != conn_ || link_ == Link::kDown) return;
  outbox_.log(LogLevel::kWarn,
              "bad data from frontend " + config_.frontend + ": " + what + "; reconnecting");
  outbox_.send(conn_, Error{"bad_frame", what});
  lose_connection(/*close=*/true, now);
}

void ClientSession::on_timer(TimerId id, Nanos now) {
  if (id == kReconnectTimer) {
    if (link_ == Link::kDown) connect();
  } else if (id == kDeadlineTimer) {
    armed_deadline_.reset();
    expire(now);
    rearm_deadline();
  }
}

void ClientSession::expire(Nanos now) {
  // Say which side is silent: a connected frontend that does not answer usually has no
  // storage node to serve the request.
  std::string why = " (frontend unreachable?)";
  if (link_ == Link::kReady) {
    why = " (the frontend is connected but silent)";
  } else if (!last_refusal_.empty()) {
    why = " (the frontend refused this client: " + last_refusal_ + ")";
  }
  const std::string detail =
      "no answer within " + seconds_text(config_.request_timeout) + "s" + why;
  for (auto& [seq, op] : pending_) {
    if (op.outcome || op.deadline > now) continue;
    if (op.op == Op::kPut) {
      // Info, not warn: the Deliver carries the failure to the user already.
      outbox_.log(LogLevel::kInfo,
                  "put seq " + std::to_string(seq) + " timed out; it may or may not take effect");
    }
    op.outcome = Response{seq, Status::kUnavailable, {}, detail};
  }
  deliver_ready();
  if (status_wanted_ && status_deadline_ <= now) {
    status_wanted_ = false;
    status_result_ = StatusResult{false, {}, detail};
  }
}

void ClientSession::arm_deadline(Nanos deadline) {
  if (armed_deadline_ && *armed_deadline_ <= deadline) return;
  armed_deadline_ = deadline;
  outbox_.push(SetTimer{kDeadlineTimer, deadline});
}

void ClientSession::rearm_deadline() {
  // Answered ops leave the timer armed at an old deadline; a spurious firing is cheaper
  // than rescanning on every response. Here we find the true earliest deadline.
  std::optional<Nanos> earliest;
  for (const auto& [seq, op] : pending_) {
    if (!op.outcome && (!earliest || op.deadline < *earliest)) earliest = op.deadline;
  }
  if (status_wanted_ && (!earliest || status_deadline_ < *earliest)) earliest = status_deadline_;
  if (earliest) {
    if (armed_deadline_ != earliest) {
      armed_deadline_ = earliest;
      outbox_.push(SetTimer{kDeadlineTimer, *earliest});
    }
  } else if (armed_deadline_) {
    armed_deadline_.reset();
    outbox_.push(CancelTimer{kDeadlineTimer});
  }
}

}  // namespace kvs
