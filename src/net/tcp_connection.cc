#include "net/tcp_connection.h"

#include <array>
#include <string_view>

namespace kvs::net {
namespace {

std::string describe_uv(const char* what, int status) {
  return std::string(what) + ": " + uv_err_name(status) + " (" + uv_strerror(status) + ")";
}

}  // namespace

Connection::Connection(uv_loop_t* loop, ConnId id, std::size_t max_frame_bytes,
                       ConnectionEvents* events)
    : loop_(loop), id_(id), events_(events), decoder_(max_frame_bytes) {
  uv_tcp_init(loop_, &tcp_);
  tcp_.data = this;
  // Remembered by libuv and applied when the socket exists (accept or connect):
  // small request/response frames must not wait for Nagle's algorithm.
  uv_tcp_nodelay(&tcp_, 1);
}

Connection* Connection::make_inbound(uv_loop_t* loop, ConnId id, std::size_t max_frame_bytes,
                                     ConnectionEvents* events, std::unique_ptr<RespSession> resp) {
  auto* conn = new Connection(loop, id, max_frame_bytes, events);
  conn->resp_ = std::move(resp);
  return conn;
}

Connection* Connection::make_outbound(uv_loop_t* loop, ConnId id, const sockaddr_in& addr,
                                      std::size_t max_frame_bytes, ConnectionEvents* events) {
  auto* conn = new Connection(loop, id, max_frame_bytes, events);
  conn->state_ = State::kConnecting;
  conn->connect_req_.data = conn;
  int r = uv_tcp_connect(&conn->connect_req_, &conn->tcp_, reinterpret_cast<const sockaddr*>(&addr),
                         &Connection::connect_cb);
  if (r < 0) conn->fail("connect", r);  // reported from the close callback, not here
  return conn;
}

void Connection::start_reading() {
  if (reading_ || state_ == State::kClosed) return;
  int r = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::alloc_cb,
                        &Connection::read_cb);
  if (r < 0) return fail("read_start", r);
  reading_ = true;
}

void Connection::start_session() {
  if (!resp_ || state_ != State::kOpen) return;
  RespSession::Output out;
  resp_->start(&out);
  apply(std::move(out));
}

void Connection::send(const Message& msg) {
  if (!resp_) return queue(encode_frame(msg));
  if (state_ != State::kOpen) return;
  RespSession::Output out;
  resp_->on_message(msg, &out);
  apply(std::move(out));
}

void Connection::queue(std::string bytes) {
  // Bytes sent after a close request are dropped: the machine is done with the conn.
  if (state_ != State::kConnecting && state_ != State::kOpen) return;
  if (bytes.empty()) return;
  queued_bytes_ += bytes.size();
  queued_.push_back(std::move(bytes));
  if (queued_.size() == 1) events_->conn_needs_flush(id_);
  check_backlog();
}

void Connection::set_backlog_limits(std::size_t pause_above, std::size_t close_above) {
  pause_above_ = pause_above;
  close_above_ = close_above;
}

std::size_t Connection::backlog() const {
  return queued_bytes_ +
         uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
}

void Connection::check_backlog() {
  if (state_ != State::kOpen) return;
  const std::size_t bytes = backlog();
  if (close_above_ != 0 && bytes > close_above_) {
    events_->conn_log(LogLevel::kWarn, "connection " + std::to_string(id_) +
                                           " closed: " + std::to_string(bytes) +
                                           " bytes queued for a peer that does not read them "
                                           "(limit max_connection_backlog_bytes " +
                                           std::to_string(close_above_) + ")");
    return close_now();
  }
  if (pause_above_ == 0) return;
  if (!backlog_paused_ && bytes > pause_above_) {
    backlog_paused_ = true;
    pace_reading();
  } else if (backlog_paused_ && bytes <= pause_above_ / 2) {
    backlog_paused_ = false;
    pace_reading();
  }
}

void Connection::pause_reading(bool paused) {
  machine_paused_ = paused;
  pace_reading();
}

void Connection::apply(RespSession::Output out) {
  // Replies first: anything the translator emits later belongs to later commands.
  queue(std::move(out.reply));
  for (Message& msg : out.to_frontend) {
    if (state_ != State::kOpen) break;  // the machine closed the connection meanwhile
    events_->conn_message(id_, std::move(msg));
  }
  if (out.close) return close_gracefully();
  pace_reading();
}

void Connection::pace_reading() {
  if (state_ != State::kOpen) return;
  if (!machine_paused_ && !backlog_paused_ && (!resp_ || resp_->wants_input())) {
    if (!paused_) return;
    paused_ = false;
    start_reading();
    if (!reading_) return;
    if (!resp_) return events_->conn_input_ready(id_);  // frames read before the pause
    RespSession::Output out;                            // commands read before the pause
    resp_->on_bytes({}, &out);
    apply(std::move(out));
  } else if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
    paused_ = true;
  }
}

void Connection::flush() {
  if (state_ != State::kOpen && state_ != State::kClosing) return;
  if (queued_.empty()) return maybe_shutdown();
  queued_bytes_ = 0;
  auto* w = new WriteReq{};
  w->req.data = w;
  w->conn = this;
  w->frames = std::move(queued_);
  queued_.clear();
  w->bufs.reserve(w->frames.size());
  for (std::string& f : w->frames) {
    w->bufs.push_back(uv_buf_init(f.data(), static_cast<unsigned>(f.size())));
  }
  int r = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), w->bufs.data(),
                   static_cast<unsigned>(w->bufs.size()), &Connection::write_cb);
  if (r < 0) {
    delete w;
    return fail("write", r);
  }
  ++writes_in_flight_;
}

void Connection::close_gracefully() {
  if (state_ == State::kConnecting) return close_now();
  if (state_ != State::kOpen) return;
  state_ = State::kClosing;
  start_linger_timer();
  // Keep reading (and discarding) so the kernel never answers unread input with a reset
  // that could destroy our last frames (e.g. an Error) before the peer reads them.
  start_reading();
  flush();
}

void Connection::close_now() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), &Connection::close_cb);
  if (linger_started_) uv_close(reinterpret_cast<uv_handle_t*>(&linger_), &Connection::close_cb);
}

void Connection::abandon() {
  released_ = true;
  close_now();
}

void Connection::release() {
  if (released_) return;
  released_ = true;
  events_->conn_released(id_);
}

void Connection::maybe_shutdown() {
  if (state_ != State::kClosing || writes_in_flight_ != 0 || !queued_.empty()) return;
  state_ = State::kShutdownSent;
  shutdown_req_.data = this;
  int r =
      uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &Connection::shutdown_cb);
  if (r < 0) fail("shutdown", r);
}

void Connection::fail(const char* what, int status) {
  events_->conn_log(LogLevel::kDebug,
                    "connection " + std::to_string(id_) + ": " + describe_uv(what, status));
  close_now();
}

void Connection::start_linger_timer() {
  if (linger_started_) return;
  linger_started_ = true;
  ++open_handles_;
  uv_timer_init(loop_, &linger_);
  linger_.data = this;
  uv_timer_start(
      &linger_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->close_now(); },
      kCloseLingerMs, 0);
}

void Connection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    if (nread != UV_EOF) fail("read", static_cast<int>(nread));
    return close_now();
  }
  // Closing: the peer's bytes are read only to be discarded.
  if (nread == 0 || state_ != State::kOpen || !reading_) return;
  if (resp_) {
    RespSession::Output out;
    resp_->on_bytes(std::string_view(buf->base, static_cast<std::size_t>(nread)), &out);
    return apply(std::move(out));
  }
  decoder_.feed(std::string_view(buf->base, static_cast<std::size_t>(nread)));
  // Each message is handled before the next is decoded, so this stops as soon as the
  // machine closes or pauses the connection; the rest waits in the decoder.
  while (deliver_buffered()) {
  }
}

bool Connection::deliver_buffered() {
  if (state_ != State::kOpen || !reading_ || resp_) return false;
  Message msg;
  std::string error;
  FrameDecoder::Result r = decoder_.next(&msg, &error);
  if (r == FrameDecoder::Result::kNeedMore) return false;
  if (r == FrameDecoder::Result::kError) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
    events_->conn_protocol_error(id_, error);
    return false;
  }
  events_->conn_message(id_, std::move(msg));
  return true;
}

void Connection::handle_closed() {
  if (--open_handles_ > 0) return;
  release();
  events_->conn_destroyed(this);
  delete this;
}

void Connection::alloc_cb(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  // Each read is consumed (fed to the decoder) before the next allocation on this
  // thread, so one buffer per thread serves every connection.
  thread_local std::array<char, 64 * 1024> buffer;
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void Connection::read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  static_cast<Connection*>(stream->data)->on_read(nread, buf);
}

void Connection::write_cb(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Connection* conn = w->conn;
  delete w;
  --conn->writes_in_flight_;
  if (conn->state_ == State::kClosed) return;
  if (status < 0) return conn->fail("write", status);
  conn->check_backlog();
  conn->maybe_shutdown();
}

void Connection::connect_cb(uv_connect_t* req, int status) {
  auto* conn = static_cast<Connection*>(req->data);
  if (conn->state_ != State::kConnecting) return;  // closed meanwhile (UV_ECANCELED)
  if (status < 0) return conn->fail("connect", status);
  conn->state_ = State::kOpen;
  conn->start_reading();
  conn->flush();  // frames the machine sent before the connection was up (e.g. hello)
  if (conn->state_ == State::kOpen) conn->events_->conn_connected(conn->id_);
}

void Connection::shutdown_cb(uv_shutdown_t* req, int status) {
  auto* conn = static_cast<Connection*>(req->data);
  if (conn->state_ == State::kClosed) return;
  if (status < 0) return conn->fail("shutdown", status);
  // Everything we sent is on its way; the id is free for the machine to reuse while
  // the socket lingers until the peer's end of stream or the linger timer.
  conn->release();
}

void Connection::close_cb(uv_handle_t* handle) {
  static_cast<Connection*>(handle->data)->handle_closed();
}

}  // namespace kvs::net
