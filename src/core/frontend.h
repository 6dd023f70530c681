// The frontend's protocol: client sessions, LSNs, the commit watermark, membership,
// failure detection, join and catch-up relay. See docs/PROTOCOL.md.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/auth.h"
#include "core/config.h"
#include "core/machine.h"
#include "core/wal.h"

namespace kvs {

class Frontend : public Machine {
 public:
  // seed: 32 unpredictable bytes from the backend; the challenges' nonces derive from it.
  // recovered: the state file read at start; empty for a new cluster.
  Frontend(FrontendConfig config, const SeedKey& seed, FrontendState recovered = {});

  // LSNs are reserved durably this many at a time, so the state file is written once per
  // million PUTs, not per PUT; a restart discards what its predecessor left unused.
  static constexpr Lsn kLsnBlock = 1 << 20;

  void on_start(Nanos now) override;
  void on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos now) override;
  void on_connected(ConnId conn, Nanos now) override;
  void on_closed(ConnId conn, Nanos now) override;
  void on_message(ConnId conn, Message msg, Nanos now) override;
  void on_protocol_error(ConnId conn, const std::string& what, Nanos now) override;
  void on_timer(TimerId id, Nanos now) override;
  void on_disk_done(std::uint64_t token, const DiskResult& result, Nanos now) override;

  nlohmann::json status() const;
  Lsn commit_watermark() const { return commit_; }

 private:
  enum class Role { kUnknown, kClient, kStorage };
  struct Conn {
    Listener listener = Listener::kClients;
    Role role = Role::kUnknown;
    std::string peer;          // client id or storage node id once known
    std::string address;       // the peer's ip:port, for logs
    std::string nonce;         // of the challenge sent on it
    bool closing = false;      // refused or removed: ignore anything more from it
    bool read_paused = false;  // PauseReading{paused=true} is in force
  };

  // One operation of a client, from arrival to the client's done_below passing it.
  struct ClientOp {
    Request req;
    Nanos arrived = 0;
    Lsn lsn = 0;                 // PUT: its LSN once started
    std::uint64_t read_req = 0;  // GET: its read once started
    bool done = false;
    Response response;
  };
  struct Session {
    ConnId conn = 0;  // 0 while the client is disconnected
    std::uint64_t highest_seq = 0;
    std::map<std::uint64_t, ClientOp> ops;
    std::deque<std::uint64_t> queue;  // seqs not yet started, in issue order
    Lsn last_put_lsn = 0;             // the client's latest started PUT
    Nanos disconnected_at = 0;        // when conn last became 0
    bool waiting_room = false;        // in waiting_for_room_: its next PUT does not fit
  };

  enum class NodeState { kJoining, kWaiting, kCatchingUp, kMember };
  struct Node {
    std::string id;
    NodeState state = NodeState::kJoining;
    Lsn join_complete = 0;  // what the node held when it joined
    Lsn acked = 0;
    bool caught_up = false;  // holds every write <= its join watermark
    int outstanding = 0;     // pings, reads, fetches and relays awaiting an answer
    Lsn highest_sent = 0;    // writes sent to it: it owes acks up to here
    bool ping_outstanding = false;
    Nanos waiting_since = 0;  // start of the current wait for an answer
    Nanos last_ping = 0;
    bool held = false;        // joined before the base was chosen and recorded
    bool discarding = false;  // sent Discard; its second Join says what it holds after
  };

  // Catch-up of one joining node, relayed chunk by chunk from a donor member.
  struct Catchup {
    ConnId donor = 0;       // 0: none chosen yet
    std::uint64_t req = 0;  // current fetch/relay id
    Lsn after = 0;
    Lsn upto = 0;        // S: the watermark at join
    std::string cursor;  // last key the joiner has durably applied
    enum class Phase { kNeedFetch, kFetching, kRelaying } phase = Phase::kNeedFetch;
    std::string relayed_cursor;
    bool relayed_done = false;
    std::uint64_t chunks = 0, entries = 0;
  };

  struct PendingRead {
    std::string client;
    std::uint64_t seq = 0;
    std::string key;
    Lsn at = 0;
    ConnId node = 0;  // 0: waiting for a member
  };

  struct Buffered {
    Entry entry;
    std::string client;  // who to answer when committed
    std::uint64_t seq = 0;
  };

  // Connections and handshakes.
  void handle_hello(ConnId conn, Conn& c, const Hello& h, Nanos now);
  void refuse(ConnId conn, const std::string& code, const std::string& message);
  // The IP part of a peer's "ip:port", the unit max_connections_per_address counts.
  static std::string host_of(const std::string& address);
  std::string session_lost_text(const std::string& client) const;

  // Clients.
  void handle_request(const std::string& client, Request req, Nanos now);
  void advance_session(const std::string& client, Session& s, Nanos now);
  void start_put(const std::string& client, Session& s, ClientOp& op, Nanos now);
  bool start_get(const std::string& client, Session& s, ClientOp& op);
  void finish(const std::string& client, std::uint64_t seq, Response r);
  std::optional<std::string> invalid_request(const Request& req) const;

  // Bounded memory: PUTs in flight (started, not committed) stay within
  // max_inflight_writes and max_inflight_write_bytes. A session whose next PUT does not
  // fit waits in FIFO order, and its connection is not read meanwhile.
  bool room_for(const Request& put) const;
  // The session's next operation is a PUT that must wait for room.
  bool blocked_on_room(const Session& s) const;
  void wait_for_room(const std::string& client, Session& s);
  void stop_waiting_for_room(const std::string& client, Session& s);
  void admit_waiting_puts(Nanos now);
  void set_read_paused(ConnId conn, bool paused);

  // Replication.
  void broadcast(const Entry& e, Nanos now);
  void send_write(ConnId node_conn, Node& n, const Entry& e, Nanos now);
  void handle_ack(ConnId conn, Node& n, Lsn complete, Nanos now);
  void advance_commit(Nanos now);
  Lsn prune_bound() const;

  // Reads.
  void dispatch_read(std::uint64_t req, Nanos now);
  ConnId pick_member();
  void handle_read_reply(ConnId conn, const ReadReply& r, Nanos now);

  // Membership.
  void handle_join(ConnId conn, Node& n, Lsn complete, Nanos now);
  bool can_be_base(const Node& n) const;
  void choose_base(Node& n, Nanos now);
  void proceed_join(ConnId conn, Node& n, Nanos now);
  void evaluate_join(ConnId conn, Node& n, Nanos now);
  void admit(ConnId conn, Node& n, Nanos now);
  void admit_with_loss(ConnId conn, Node& n, Nanos now);
  void continue_catchup(ConnId joiner, Nanos now);
  void handle_donor_chunk(ConnId donor, CatchupChunk chunk, Nanos now);
  void handle_catchup_applied(ConnId joiner, const CatchupApplied& a, Nanos now);
  void maybe_promote(ConnId conn, Node& n, Nanos now);
  void remove_node(ConnId conn, const std::string& why, Nanos now);
  void close_conn(ConnId conn);
  void resume_waiting(Nanos now);
  std::size_t member_count() const;
  static bool awaiting(const Node& n);
  static void expect_answer(Node& n, Nanos now);
  void resume_stalled_catchups(Nanos now);
  std::vector<std::string> member_ids() const;  // sorted
  std::string member_list() const;              // "s1,s2" or "(none)", for logs

  // The durable state (see FrontendState): written whole, one write at a time.
  FrontendState wanted_state() const;
  void write_state();
  void state_durable(Nanos now);
  bool membership_recorded() const;
  bool ready_for_requests() const { return base_chosen_ && !base_pending_; }

  void tick(Nanos now);
  void expire_sessions(Nanos now);
  void fail_unavailable(Nanos now);

  FrontendConfig config_;
  NonceSource nonces_;
  Nanos storage_timeout_;
  Nanos unavailable_timeout_;
  Nanos session_idle_timeout_;
  Nanos next_session_sweep_ = 0;
  std::uint64_t sessions_expired_ = 0;
  Nanos tick_period_;

  std::map<ConnId, Conn> conns_;
  std::map<std::string, Session> sessions_;
  std::map<std::string, std::size_t> conns_per_host_;  // open connections by peer IP
  std::map<ConnId, Node> nodes_;
  std::map<ConnId, Catchup> catchups_;  // by joiner conn
  std::map<std::uint64_t, PendingRead> reads_;
  std::map<Lsn, Buffered> uncommitted_;                  // every write > commit_, by LSN
  std::multimap<Lsn, std::string> gets_waiting_commit_;  // sessions blocked until W >= key

  FrontendState recorded_;                // what the state file holds
  std::optional<FrontendState> writing_;  // the write in flight, if any
  std::uint64_t next_token_ = 1;
  std::vector<LsnRange> discarded_;           // recorded_.discarded plus this run's, if new
  bool base_chosen_ = false;                  // a node's data defines what was committed
  bool base_pending_ = false;                 // ... but the state saying so is not durable yet
  std::set<std::string> waiting_for_state_;   // sessions whose next op waits for the above
  std::deque<std::string> waiting_for_room_;  // sessions whose next PUT waits, in FIFO order
  std::uint64_t inflight_bytes_ = 0;          // key+value bytes of uncommitted_
  std::uint64_t puts_waited_for_room_ = 0;    // times a session had to wait (status)

  Lsn next_lsn_ = 1;
  Lsn commit_ = 0;
  std::uint64_t next_req_ = 1;
  std::uint64_t round_robin_ = 0;
  Nanos no_member_since_ = 0;
};

}  // namespace kvs
