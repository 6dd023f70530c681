// One TCP connection on a uv loop: reads feed the core FrameDecoder (or, for a Redis
// client, the core RespSession translator), messages sent with send() go out batched
// (one uv_write per flush()), and a requested close lets queued bytes drain before the
// socket is shut down.
//
// Ownership: a Connection owns itself once created and frees itself in its last close
// callback; the owner learns of that through ConnectionEvents::conn_destroyed.
// Every event arrives on the loop thread.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/effects.h"
#include "core/framing.h"
#include "core/messages.h"
#include "core/resp_session.h"
#include "core/types.h"

namespace kvs::net {

class Connection;

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual void conn_connected(ConnId id) = 0;
  virtual void conn_message(ConnId id, Message msg) = 0;
  // Bytes were queued on an empty queue: flush() the connection soon.
  virtual void conn_needs_flush(ConnId id) = 0;
  // Reading resumed while messages read before the pause wait in the decoder: call
  // deliver_buffered() (one message per machine input) until it returns false.
  virtual void conn_input_ready(ConnId id) = 0;
  // The byte stream is broken (bad frame or message); reading has stopped.
  virtual void conn_protocol_error(ConnId id, const std::string& what) = 0;
  // The connection is gone from the protocol's point of view: called exactly once per
  // connection, after it closed or, for a requested close, once its frames were sent.
  virtual void conn_released(ConnId id) = 0;
  // The handle is closed and the object is about to be freed.
  virtual void conn_destroyed(Connection* conn) = 0;
  virtual void conn_log(LogLevel level, const std::string& text) = 0;
};

class Connection {
 public:
  // How long a requested close may take (flushing queued frames, then waiting for the
  // peer's end of stream so our last frames are not lost to a reset) before the socket
  // is closed hard.
  static constexpr std::uint64_t kCloseLingerMs = 2000;

  // An inbound connection: initializes the handle for uv_accept(). Call
  // start_reading() after a successful accept, or close_now() after a failed one.
  // With `resp`, the peer speaks RESP2 and `resp` translates both ways; call
  // start_session() once the machine knows of the connection.
  static Connection* make_inbound(uv_loop_t* loop, ConnId id, std::size_t max_frame_bytes,
                                  ConnectionEvents* events,
                                  std::unique_ptr<RespSession> resp = nullptr);
  // An outbound connection to addr: conn_connected or conn_released follows.
  static Connection* make_outbound(uv_loop_t* loop, ConnId id, const sockaddr_in& addr,
                                   std::size_t max_frame_bytes, ConnectionEvents* events);

  uv_tcp_t* handle() { return &tcp_; }
  ConnId id() const { return id_; }

  void start_reading();
  // RESP only: lets the translator introduce the session (its Hello) to the machine.
  void start_session();
  // Queues a message from the machine, encoded for the peer; written at the next flush().
  void send(const Message& msg);
  // Writes every queued frame with one uv_write.
  void flush();
  // Backpressure. pause_above: while more bytes than this wait to be written to the
  // peer, its input is not read (0: never). close_above: more than this, and the peer is
  // taken for one that does not read: the connection is closed at once, logged (0: never).
  void set_backlog_limits(std::size_t pause_above, std::size_t close_above);
  // The machine's PauseReading: stop delivering the peer's messages, or resume.
  void pause_reading(bool paused);
  // Hands one message read before a pause to the owner (conn_message); false if none is
  // complete or reading is paused.
  bool deliver_buffered();
  // Bytes queued for the peer and not yet taken by the kernel.
  std::size_t backlog() const;

  // Close after the queued frames are written.
  void close_gracefully();
  // Close at once, dropping queued frames.
  void close_now();
  // Close at once and never report conn_released (the owner is shutting down).
  void abandon();

 private:
  enum class State { kConnecting, kOpen, kClosing, kShutdownSent, kClosed };

  struct WriteReq {
    uv_write_t req;
    Connection* conn;
    std::vector<std::string> frames;
    std::vector<uv_buf_t> bufs;
  };

  Connection(uv_loop_t* loop, ConnId id, std::size_t max_frame_bytes, ConnectionEvents* events);
  ~Connection() = default;

  // Appends bytes to the queue, asking the owner for a flush if it was empty.
  void queue(std::string bytes);
  // Carries out what the RESP translator asked for.
  void apply(RespSession::Output out);
  // Reads while nothing pauses them: the machine (PauseReading), the backlog of bytes for
  // the peer, or (RESP) a translator owed too many replies.
  void pace_reading();
  // Pauses, resumes or closes as the backlog crosses the limits.
  void check_backlog();
  void release();
  void maybe_shutdown();
  void fail(const char* what, int status);
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void start_linger_timer();
  void handle_closed();

  static void alloc_cb(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void write_cb(uv_write_t* req, int status);
  static void connect_cb(uv_connect_t* req, int status);
  static void shutdown_cb(uv_shutdown_t* req, int status);
  static void close_cb(uv_handle_t* handle);

  uv_loop_t* loop_;
  ConnId id_;
  ConnectionEvents* events_;
  FrameDecoder decoder_;
  std::unique_ptr<RespSession> resp_;  // set for Redis clients
  State state_ = State::kOpen;
  uv_tcp_t tcp_;
  uv_timer_t linger_;
  uv_connect_t connect_req_;
  uv_shutdown_t shutdown_req_;
  std::vector<std::string> queued_;
  std::size_t queued_bytes_ = 0;  // in queued_
  std::size_t pause_above_ = 0;
  std::size_t close_above_ = 0;
  std::size_t writes_in_flight_ = 0;
  int open_handles_ = 1;  // tcp_, plus linger_ once started
  bool reading_ = false;
  bool paused_ = false;          // reading stopped by pace_reading() until nothing pauses it
  bool machine_paused_ = false;  // PauseReading{paused=true} in force
  bool backlog_paused_ = false;  // over pause_above_, until below half of it
  bool linger_started_ = false;
  bool released_ = false;
};

}  // namespace kvs::net
