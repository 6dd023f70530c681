// The storage node's protocol: joins the frontend, logs writes with group commit,
// acks cumulatively, answers reads at a watermark, serves and receives catch-up.
// See docs/PROTOCOL.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/auth.h"
#include "core/config.h"
#include "core/machine.h"
#include "core/recovery.h"
#include "core/replica.h"

namespace kvs {

class StorageNode : public Machine {
 public:
  // recovered: state read from disk; log: where recovery left the logs; seed: 32
  // unpredictable bytes from the backend for the probe port's challenges.
  StorageNode(StorageConfig config, Replica recovered, LogPosition log, const SeedKey& seed);

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;
  void on_disk_done(std::uint64_t token, const DiskResult& result, Nanos now) override;

  nlohmann::json status() const;
  const Replica& replica() const { return replica_; }

  // Timer ids this machine uses (public so tests can fire them).
  static constexpr TimerId kReconnectTimer = 1;
  // The first reconnect delay; it doubles per failed attempt up to reconnect_max.
  static constexpr Nanos kInitialBackoff = 50 * kMillisecond;

 private:
  enum class State { kConnecting, kJoining, kCatchingUp, kMember, kWaiting, kStopped };

  // Records on their way to the log, in arrival order, and what to announce once
  // they are durable.
  struct Batch {
    std::vector<WalRecord> records;
    std::vector<std::pair<ConnId, std::uint64_t>> chunks;  // (frontend conn, req) applied
    Lsn caught_up_to = 0;  // a done catch-up chunk's upto, if the batch holds one
    ConnId rejoin = 0;     // frontend conn that sent Discard: join it again once durable
  };

  // The frontend link.
  void connect();
  void frontend_lost(Nanos now);
  void send_to_frontend(Message m);
  void handle_frontend(ConnId conn, Message msg);
  void handle_frontend_challenge(ConnId conn, Message msg);
  void handle_join_state(const JoinState& js);

  // Probe links.
  void handle_probe(ConnId conn, Message msg);

  // Replication and catch-up.
  void note_commit(Lsn commit);
  bool queue_entry(Entry&& e);
  void handle_write(Write&& w);
  void handle_read(ConnId conn, const Read& r);
  void handle_catchup_fetch(ConnId conn, const CatchupFetch& f);
  void handle_catchup_chunk(ConnId conn, CatchupChunk&& c);
  void handle_discard(ConnId conn, const Discard& d);
  bool queued_within(const LsnRange& range) const;

  // Group commit: at most one append in flight; everything that arrives meanwhile
  // waits in pending_ and goes out as the next single append. Compaction runs beside
  // the appends: a new log is started and the durable state before it snapshotted.
  bool disk_idle() const { return !in_flight_.has_value(); }
  void maybe_start_disk();
  void start_compaction();
  void finish_append();
  void finish_compaction();
  void announce_durable(const Batch& b);

  void refuse(ConnId conn, const std::string& code, const std::string& message);
  void unexpected(ConnId conn, const Message& msg);
  std::string peer_name(ConnId conn) const;
  static const char* state_name(State s);

  StorageConfig config_;
  Replica replica_;  // durable state only: what is on disk (logs + snapshot)
  LogPosition log_;  // the log appended to, and bytes logged since the last snapshot
  Nanos backoff_max_;

  State state_ = State::kConnecting;
  bool stopped_ = false;  // a Stop was emitted: every further input is ignored

  ConnId frontend_ = 0;              // current outbound connection (opening or open); 0: none
  bool frontend_connected_ = false;  // on_connected seen for frontend_
  bool frontend_up_ = false;         // challenge answered (Hello and Join sent), not being closed
  ConnId next_conn_ = 1;
  Nanos backoff_ = kInitialBackoff;

  struct Probe {
    bool greeted = false;  // hello accepted
    std::string nonce;     // of the challenge sent on it
  };
  NonceSource nonces_;
  std::map<ConnId, Probe> probes_;  // inbound probe connections
  std::set<ConnId> closing_;        // refused: ignore until on_closed

  Lsn commit_ = 0;  // highest commit watermark heard
  Batch pending_;
  std::optional<Batch> in_flight_;  // the append in flight
  std::uint64_t in_flight_token_ = 0;
  std::uint64_t in_flight_bytes_ = 0;
  std::uint64_t compaction_token_ = 0;  // the snapshot in flight; 0: none
  std::size_t compaction_records_ = 0;
  std::uint64_t next_token_ = 1;
  std::set<Lsn> queued_;  // entry lsns in pending_ or in_flight_
};

}  // namespace kvs
