// The simulated network: connections between processes, each a pair of FIFO byte
// streams like TCP. Every message goes through the real codec: encode_frame at the
// sender, a FrameDecoder per receiving end (fed in random pieces, frames coalesced), so
// the simulator exercises the same framing as the libuv backend.
//
// Faults: random latency with a heavy tail (one slow frame delays the frames behind it,
// as on TCP), connection resets (both ends see on_closed, in-flight data is lost),
// partitions of a process from everyone (its connections stall until the partition
// heals, or are reset at once; connection attempts fail meanwhile), slow links (extra
// latency on a process's connections), process death with or without the peer being
// told (a killed process's kernel sends FIN; a machine that lost power sends nothing).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/framing.h"
#include "core/messages.h"
#include "core/types.h"
#include "sim/event_queue.h"
#include "sim/prng.h"
#include "sim/trace.h"

namespace kvs::sim {

using ProcId = int;

// The processes, as the network sees them. Every call is one input to a machine.
class NetHandler {
 public:
  virtual ~NetHandler() = default;
  virtual bool net_up(ProcId p) const = 0;  // running, so it accepts connections
  virtual void net_accepted(ProcId p, ConnId conn, Listener listener) = 0;
  virtual void net_connected(ProcId p, ConnId conn) = 0;
  virtual void net_closed(ProcId p, ConnId conn) = 0;
  virtual void net_message(ProcId p, ConnId conn, Message msg) = 0;
  virtual void net_protocol_error(ProcId p, ConnId conn, const std::string& what) = 0;
};

struct NetParams {
  Nanos latency_min = 50'000;           // one-way delay of a frame: uniform in [min, max],
  Nanos latency_max = 1'000'000;        //
  Ppm tail_ppm = 10'000;                // then with this chance doubled 1..tail_doublings
  int tail_doublings = 8;               // times (a heavy tail: up to 256x)
  Nanos connect_timeout = 500'000'000;  // a connect to a partitioned process fails after
  Ppm split_ppm = 300'000;              // chance a delivery is fed to the decoder in pieces
};

class SimNetwork {
 public:
  SimNetwork(EventQueue* queue, Prng rng, NetParams params, NetHandler* handler, Trace* trace);

  // Connections to `address` reach process p, reported as accepted on `listener`.
  void listen(const std::string& address, ProcId p, Listener listener);

  // The effects of a machine of process `from`.
  void connect(ProcId from, ConnId conn, const std::string& address);
  void send(ProcId from, ConnId conn, const Message& msg);
  void close(ProcId from, ConnId conn);

  // Faults.
  // Every connection of p is reset: both ends see on_closed, in-flight data is lost.
  void reset(ProcId p);
  // Process p is gone: its ends vanish without on_closed. With notify_peers, each peer
  // sees the connection close after the data already sent (the kernel's FIN); without,
  // the peer learns nothing and must notice by a timeout.
  void died(ProcId p, bool notify_peers);
  // p is cut off from everyone until `until` (or heal()). Stall: frames wait and are
  // delivered after the heal, like TCP retransmissions; otherwise p's connections are
  // reset now. Connection attempts to or from p fail meanwhile.
  void partition(ProcId p, Nanos until, bool stall);
  // Frames from or to p sent before `until` take `extra` longer.
  void slow(ProcId p, Nanos until, Nanos extra);
  // Until `until`, each delivery on p's connections resets the connection instead with
  // `ppm` chance: in-flight requests and answers are lost mid-stream.
  void flaky(ProcId p, Nanos until, Ppm ppm);
  // Ends every partition, slow link and flaky link now.
  void heal_all();

  std::uint64_t frames_sent() const { return frames_sent_; }

 private:
  struct Frame {
    Nanos at = 0;  // delivery time
    std::string bytes;
    bool fin = false;  // the sender closed: the receiver sees on_closed here
    VectorClock clock;
  };
  struct Direction {
    std::deque<Frame> queue;
    Nanos last_at = 0;  // FIFO: no frame is delivered before the one sent earlier
    std::uint64_t pump_gen = 0;
    bool pump_armed = false;
  };
  enum class EndState { kOpen, kClosing, kGone };
  struct End {
    ProcId proc = 0;
    ConnId id = 0;
    EndState state = EndState::kOpen;
    bool reading = true;  // false after a protocol error: the backend stops reading
    FrameDecoder decoder;
  };
  struct Conn {
    End end[2];        // [0] the connecting side, [1] the accepting side
    Direction dir[2];  // dir[i]: from end[i] to end[1 - i]
  };
  using EndKey = std::pair<ProcId, ConnId>;

  Nanos frame_delay(ProcId a, ProcId b);
  bool stalled(const Conn& c) const;
  Nanos stall_end(const Conn& c) const;
  void enqueue(std::uint64_t key, int d, Frame f);
  void arm_pump(std::uint64_t key, int d, Nanos at);
  void pump(std::uint64_t key, int d, std::uint64_t gen);
  // Feeds the due frames to the receiver. Returns false if the connection went away.
  void deliver(std::uint64_t key, int d, std::vector<Frame> frames);
  void finish_connect(ProcId from, ConnId conn, std::uint64_t attempt, std::string address);
  void fail_connect(ProcId from, ConnId conn, std::uint64_t attempt, Nanos delay);
  // Marks an end gone and, if notify, tells its process (now).
  void end_gone(std::uint64_t key, int e, bool notify);
  void notify_closed_later(std::uint64_t key, int e, Nanos delay);
  Conn* find(std::uint64_t key);
  std::vector<std::pair<std::uint64_t, int>> ends_of(ProcId p) const;
  bool partitioned(ProcId p) const;
  bool flaky_now(const Conn& c) const;
  // Both ends of the connection see on_closed; everything in flight is lost.
  void reset_conn(std::uint64_t key, int local);

  EventQueue* q_;
  Prng rng_;
  NetParams params_;
  NetHandler* handler_;
  Trace* trace_;

  std::map<std::string, std::pair<ProcId, Listener>> listeners_;
  std::map<std::uint64_t, Conn> conns_;
  std::map<EndKey, std::pair<std::uint64_t, int>> ends_;  // live ends -> (conn, index)
  std::map<EndKey, std::uint64_t> connecting_;            // attempts in progress
  std::map<ProcId, ConnId> next_inbound_;
  std::map<ProcId, Nanos> partition_until_;
  std::map<ProcId, bool> partition_stalls_;
  std::map<ProcId, std::pair<Nanos, Nanos>> slow_;  // until, extra
  std::map<ProcId, std::pair<Nanos, Ppm>> flaky_;   // until, chance per delivery
  std::uint64_t next_conn_ = 1;
  std::uint64_t next_attempt_ = 1;
  std::uint64_t frames_sent_ = 0;
};

}  // namespace kvs::sim
