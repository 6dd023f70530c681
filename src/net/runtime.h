// The libuv backend: hosts one kvs::Machine on a uv_loop_t and carries its effects
// out on real sockets, timers and files. It makes no protocol decision: it feeds
// inputs (accepts, connects, closes, messages, timer expiries, disk completions) to
// the machine and executes the machine's effects in emission order.
//
// Threading: everything runs on the loop's thread. Disk I/O runs in libuv's thread
// pool (uv_fs_* with callbacks); its completions come back on the loop thread.
//
// Lifetime: call shutdown() (or let a Stop effect do it), let uv_run() return, and
// only then destroy the Runtime: close callbacks still refer to it until then.
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/effects.h"
#include "core/machine.h"
#include "core/resp_session.h"
#include "core/types.h"
#include "net/tcp_connection.h"

namespace kvs::net {

class Disk;
class TimerSet;

// What a listener's connections speak: kvs frames, or RESP2 (Redis clients), which a
// core RespSession per connection translates into a native client session, so the
// machine sees a client connection on `which` either way.
enum class Wire { kFrames, kResp };

struct ListenerSpec {
  Listener which;
  std::string address;  // "ip:port" (IPv4); port 0 binds a port the OS chooses
  Wire wire = Wire::kFrames;
  // Backpressure: a connection's input is not read while more than this many bytes wait
  // to be written to it (0: never). For clients, whose requests produce the replies.
  std::size_t pause_reading_backlog = 0;
};

struct RuntimeOptions {
  std::vector<ListenerSpec> listeners;
  std::size_t max_frame_bytes = 4 * 1024 * 1024;
  // Any connection with more bytes than this waiting to be written to its peer is
  // closed, logged (0: no limit).
  std::size_t max_backlog_bytes = 0;
  RespOptions resp;      // for connections on Wire::kResp listeners
  std::string data_dir;  // holds the logs and "snapshot"; empty: no disk effects
  std::string log_name;  // prefix of log lines, e.g. "storage s1"
  LogLevel min_level = LogLevel::kInfo;
  // Called for Deliver and Stop effects, and for LogLine after it was written.
  // May be empty. May call inputs on the machine and then drain().
  std::function<void(const Effect&)> on_effect;
};

class Runtime : private ConnectionEvents {
 public:
  Runtime(uv_loop_t* loop, Machine* machine, RuntimeOptions options);
  ~Runtime() override;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Binds the listeners, opens the data directory's log (if data_dir is set), then
  // calls machine->on_start(now()) and drains. On failure returns false with a
  // message in *error and leaves nothing open that the loop would wait for.
  bool start(std::string* error);

  // The port a listener is bound to (useful after binding port 0); -1 if none.
  int bound_port(Listener which, Wire wire = Wire::kFrames) const;

  // Carries out every effect in machine->outbox(), in order. Call it after invoking
  // an input on the machine yourself (e.g. ClientSession::get). Safe to call from
  // inside on_effect: the running drain picks the new effects up. Frames of Send
  // effects are queued and written by the loop before it next waits for I/O (all of a
  // loop turn's frames to one connection in one write), so run the loop afterwards.
  void drain();

  // Closes every handle (listeners, connections, timers) so uv_run() returns once
  // in-flight disk requests finish. No machine input is called afterwards.
  void shutdown();

  // Why a Stop effect stopped this runtime; nullopt if none did.
  const std::optional<std::string>& stop_reason() const { return stop_reason_; }

  // Monotonic time for machine inputs: uv_hrtime() in nanoseconds.
  static Nanos now();

  // Writes one line to stderr in the runtime's format, if level >= min_level.
  void log(LogLevel level, const std::string& text) const;

 private:
  struct ListenSocket {
    Runtime* runtime;
    Listener which;
    Wire wire;
    std::size_t pause_reading_backlog;
    uv_tcp_t handle;
  };

  // Calls `input` (one machine input) now, or later if an input or a drain is
  // already running, so that machine inputs never nest; then drains.
  void feed(std::function<void()> input);
  void execute(Effect& effect);
  void do_send(Send& send);
  void do_close(const Close& close);
  void do_connect(const Connect& connect);
  void do_stop(const Stop& stop);
  // Writes every frame queued since the last flush: one uv_write per connection.
  // Runs from loop hooks (prepare: before the loop blocks; check: right after I/O
  // callbacks), so all frames produced in one loop turn go out together.
  void flush_writes();

  // ConnectionEvents: each becomes one machine input.
  void conn_connected(ConnId id) override;
  void conn_message(ConnId id, Message msg) override;
  void conn_needs_flush(ConnId id) override;
  void conn_input_ready(ConnId id) override;
  void conn_protocol_error(ConnId id, const std::string& what) override;
  void conn_released(ConnId id) override;
  void conn_destroyed(Connection* conn) override;
  void conn_log(LogLevel level, const std::string& text) override;

  static void on_new_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  Machine* machine_;
  RuntimeOptions options_;
  std::vector<std::unique_ptr<ListenSocket>> listeners_;
  std::map<ConnId, Connection*> conns_;  // by id, until released (on_closed)
  std::set<Connection*> live_;           // every handle not yet closed, incl. lingering
  std::vector<ConnId> dirty_;            // conns with frames queued since the last flush
  uv_prepare_t flush_before_poll_;
  uv_check_t flush_after_poll_;
  bool flush_hooks_ = false;  // the two handles above are initialized
  std::unique_ptr<TimerSet> timers_;
  std::unique_ptr<Disk> disk_;
  std::deque<std::function<void()>> deferred_;
  ConnId next_inbound_ = kFirstInboundConn;
  std::uint64_t next_resp_session_ = 1;
  bool draining_ = false;
  bool started_ = false;
  bool shut_down_ = false;
  std::optional<std::string> stop_reason_;
};

}  // namespace kvs::net
