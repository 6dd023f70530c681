// A client session (the original kvslib): asynchronous get/put that return an op id at
// once; results are delivered (Deliver effects) in issue order. Reconnects with backoff
// and resends unanswered requests, which the frontend deduplicates by (id, seq).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/config.h"
#include "core/machine.h"

namespace kvs {

class ClientSession : public Machine {
 public:
  // incarnation: distinguishes this session from earlier ones of the same client id
  // (e.g. successive `./client --id a ...` processes, whose seqs all restart at 1).
  // The frontend keys its dedupe table by the id in the Hello, so a new process must
  // not look like a reconnect of the old one: with an incarnation the Hello id is
  // "ID/INCARNATION". The backend picks it (randomly); the simulator may pass any
  // unique string. Empty: the Hello id is config.id alone.
  explicit ClientSession(ClientConfig config, std::string incarnation = {});

  std::uint64_t get(std::string key, Nanos now);
  std::uint64_t put(std::string key, std::string value, Nanos now);
  // Operations issued and not yet delivered.
  std::size_t outstanding() const;

  // The frontend's status, for operators (`./client status`). Status is not an
  // operation of the session: it has no seq and is not ordered with get/put.
  struct StatusResult {
    bool ok = false;
    nlohmann::json body;  // when ok: the frontend's status_reply body
    std::string detail;   // when !ok: why (timed out)
  };
  // Asks for the frontend's status (sent now if connected, else once connected).
  // The answer, or a failure after request_timeout, is then returned by take_status().
  void request_status(Nanos now);
  // The answer to request_status(), once; nullopt while none has arrived.
  std::optional<StatusResult> take_status();

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;

  // Timer ids this machine uses (public so tests can fire them).
  static constexpr TimerId kReconnectTimer = 1;
  static constexpr TimerId kDeadlineTimer = 2;
  // The first reconnect delay; it doubles per failed attempt up to reconnect_max.
  static constexpr Nanos kInitialBackoff = 50 * kMillisecond;

 private:
  // An operation issued and not yet delivered. Its op id is its seq.
  struct PendingOp {
    Op op;
    std::string key;
    std::string value;
    Nanos deadline;
    // Set once the outcome is known (answered, or timed out); delivered when every
    // earlier op has been.
    std::optional<Response> outcome;
  };

  // kChallenge: connected, waiting for the frontend's challenge; kHandshaking: Hello
  // (and the pipelined requests) sent, waiting for Welcome.
  enum class Link { kDown, kConnecting, kChallenge, kHandshaking, kReady };

  std::uint64_t issue(Op op, std::string key, std::string value, Nanos now);
  void answer_challenge(const Challenge& c);
  void connect();
  void send_request(std::uint64_t seq, const PendingOp& op);
  void handle_response(Response r, Nanos now);
  // Drops the current connection (closing it if asked) and schedules a reconnect.
  void lose_connection(bool close, Nanos now);
  void deliver_ready();
  void expire(Nanos now);
  // The frontend has no record of this session (session_lost): fail what is pending and
  // continue as a new session.
  void restart_session(const std::string& why, Nanos now);
  // Arms the deadline timer for `deadline` if nothing earlier is armed.
  void arm_deadline(Nanos deadline);
  // Re-arms the deadline timer for the earliest deadline still pending (or cancels it).
  void rearm_deadline();

  ClientConfig config_;
  const std::string base_hello_id_;
  std::string hello_id_;  // base_hello_id_, then "#N" for the Nth session after a loss
  std::uint64_t session_number_ = 1;
  // Op ids stay unique across sessions, while each session's seqs start at 1:
  // op id = op_base_ + seq.
  std::uint64_t op_base_ = 0;
  // Requests of this session went out on some connection: later Hellos say "resume".
  bool sent_requests_ = false;
  Nanos request_timeout_;
  Nanos backoff_max_;

  std::map<std::uint64_t, PendingOp> pending_;  // by seq; all undelivered ops
  std::uint64_t next_seq_ = 1;
  std::uint64_t next_deliver_ = 1;  // lowest seq not yet delivered (= done_below)

  Link link_ = Link::kDown;
  ConnId conn_ = 0;  // current connection; 0 when none
  ConnId next_conn_ = 1;
  Nanos backoff_;
  std::optional<Nanos> armed_deadline_;
  std::string last_refusal_;  // the frontend's last error, until a Welcome

  bool status_wanted_ = false;  // a status request is waiting for its reply
  Nanos status_deadline_ = 0;
  std::optional<StatusResult> status_result_;
};

}  // namespace kvs
