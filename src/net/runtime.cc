#include "net/runtime.h"

#include <netinet/in.h>

#include <csignal>
#include <utility>

#include "core/auth.h"
#include "core/config.h"
#include "core/framing.h"
#include "net/disk.h"
#include "net/log.h"
#include "net/timers.h"

namespace kvs::net {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

std::string describe_uv(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

// "ip:port" -> an IPv4 socket address; false with a reason if it is not one.
bool resolve(const std::string& address, sockaddr_in* addr, std::string* error) {
  std::string ip;
  int port = 0;
  if (!split_address(address, &ip, &port)) {
    *error = "malformed address (want IP:PORT)";
    return false;
  }
  int r = uv_ip4_addr(ip.c_str(), port, addr);
  if (r < 0) {
    *error = "not an IPv4 address: " + describe_uv(r);
    return false;
  }
  return true;
}

// Who is on the other end of an accepted socket; an unknown peer is not loopback.
PeerAddress peer_of(const uv_tcp_t* handle) {
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(handle, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {"?", false};
  char ip[64] = {};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  } else {
    return {"?", false};
  }
  return {std::string(ip) + ":" + std::to_string(port), is_loopback_ip(ip)};
}

}  // namespace

Runtime::Runtime(uv_loop_t* loop, Machine* machine, RuntimeOptions options)
    : loop_(loop), machine_(machine), options_(std::move(options)) {
  timers_ = std::make_unique<TimerSet>(
      loop_, [this](TimerId id) { feed([this, id] { machine_->on_timer(id, now()); }); });
  if (!options_.data_dir.empty()) {
    disk_ = std::make_unique<Disk>(
        loop_, options_.data_dir, [this](std::uint64_t token, const DiskResult& result) {
          feed([this, token, result] { machine_->on_disk_done(token, result, now()); });
        });
  }
}

Runtime::~Runtime() = default;

Nanos Runtime::now() {
  return static_cast<Nanos>(uv_hrtime());
}

bool Runtime::start(std::string* error) {
  // A peer that closed its socket must show up as EPIPE on our write, not kill the
  // process with SIGPIPE (libuv writes with write(2), not send(MSG_NOSIGNAL)).
  std::signal(SIGPIPE, SIG_IGN);
  for (const ListenerSpec& spec : options_.listeners) {
    sockaddr_in addr{};
    std::string why;
    if (!resolve(spec.address, &addr, &why)) {
      *error = "cannot listen on " + spec.address + ": " + why;
      shutdown();
      return false;
    }
    auto ls = std::make_unique<ListenSocket>();
    ls->runtime = this;
    ls->which = spec.which;
    ls->wire = spec.wire;
    ls->pause_reading_backlog = spec.pause_reading_backlog;
    uv_tcp_init(loop_, &ls->handle);
    ls->handle.data = ls.get();
    ListenSocket* raw = ls.get();
    listeners_.push_back(std::move(ls));
    int r = uv_tcp_bind(&raw->handle, reinterpret_cast<const sockaddr*>(&addr), 0);
    if (r == 0) {
      r = uv_listen(reinterpret_cast<uv_stream_t*>(&raw->handle), 128, &Runtime::on_new_connection);
    }
    if (r < 0) {
      *error = "cannot listen on " + spec.address + ": " + describe_uv(r);
      shutdown();
      return false;
    }
  }
  if (disk_ && !disk_->open(error)) {
    shutdown();
    return false;
  }
  // Unreferenced: they must not keep the loop alive by themselves.
  uv_prepare_init(loop_, &flush_before_poll_);
  uv_check_init(loop_, &flush_after_poll_);
  flush_before_poll_.data = this;
  flush_after_poll_.data = this;
  uv_prepare_start(&flush_before_poll_,
                   [](uv_prepare_t* h) { static_cast<Runtime*>(h->data)->flush_writes(); });
  uv_check_start(&flush_after_poll_,
                 [](uv_check_t* h) { static_cast<Runtime*>(h->data)->flush_writes(); });
  uv_unref(reinterpret_cast<uv_handle_t*>(&flush_before_poll_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&flush_after_poll_));
  flush_hooks_ = true;
  started_ = true;
  feed([this] { machine_->on_start(now()); });
  return true;
}

int Runtime::bound_port(Listener which, Wire wire) const {
  for (const auto& ls : listeners_) {
    if (ls->which != which || ls->wire != wire) continue;
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (uv_tcp_getsockname(&ls->handle, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return -1;
    if (ss.ss_family != AF_INET) return -1;
    return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  }
  return -1;
}

void Runtime::feed(std::function<void()> input) {
  if (shut_down_) return;
  deferred_.push_back(std::move(input));
  drain();
}

void Runtime::drain() {
  // A drain already running (we are inside on_effect, or inside an effect that fed an
  // input synchronously) picks up new effects and inputs itself: inputs never nest.
  if (draining_ || shut_down_) return;
  draining_ = true;
  while (!shut_down_) {
    if (!machine_->outbox().empty()) {
      std::vector<Effect> effects = machine_->outbox().take();
      for (Effect& effect : effects) {
        if (shut_down_) break;  // after Stop nothing more is carried out
        execute(effect);
      }
      continue;
    }
    if (deferred_.empty()) break;
    std::function<void()> input = std::move(deferred_.front());
    deferred_.pop_front();
    input();
  }
  draining_ = false;
}

void Runtime::execute(Effect& effect) {
  std::visit(Overloaded{
                 [&](Send& e) { do_send(e); },
                 [&](Close& e) { do_close(e); },
                 [&](Connect& e) { do_connect(e); },
                 [&](SetTimer& e) { timers_->set(e.id, e.at); },
                 [&](CancelTimer& e) { timers_->cancel(e.id); },
                 [&](DiskAppend& e) {
                   if (disk_) return disk_->append(e.token, e.log, std::move(e.bytes), e.sync);
                   std::uint64_t token = e.token;
                   log(LogLevel::kError, "disk effect without a data directory");
                   feed([this, token] {
                     machine_->on_disk_done(token, DiskResult{false, "no data directory"}, now());
                   });
                 },
                 [&](DiskSnapshot& e) {
                   if (disk_) return disk_->snapshot(e.token, std::move(e.content), e.first_log);
                   std::uint64_t token = e.token;
                   log(LogLevel::kError, "disk effect without a data directory");
                   feed([this, token] {
                     machine_->on_disk_done(token, DiskResult{false, "no data directory"}, now());
                   });
                 },
                 [&](Deliver&) {
                   if (options_.on_effect) options_.on_effect(effect);
                 },
                 [&](LogLine& e) {
                   log(e.level, e.text);
                   if (options_.on_effect) options_.on_effect(effect);
                 },
                 [&](Stop& e) { do_stop(e); },
                 [&](PauseReading& e) {
                   auto it = conns_.find(e.conn);
                   if (it != conns_.end()) it->second->pause_reading(e.paused);
                 },
             },
             effect);
}

void Runtime::do_send(Send& send) {
  auto it = conns_.find(send.conn);
  // Gone already: its on_closed is delivered (or on its way); the frame has no reader.
  if (it == conns_.end()) return;
  it->second->send(send.msg);
}

void Runtime::flush_writes() {
  if (dirty_.empty()) return;
  std::vector<ConnId> dirty = std::exchange(dirty_, {});
  for (ConnId id : dirty) {
    auto it = conns_.find(id);
    if (it != conns_.end()) it->second->flush();
  }
}

void Runtime::do_close(const Close& close) {
  auto it = conns_.find(close.conn);
  if (it != conns_.end()) it->second->close_gracefully();
}

void Runtime::do_connect(const Connect& connect) {
  ConnId id = connect.conn;
  if (conns_.count(id) != 0) {
    // The machine must wait for on_closed before reusing an id; refuse rather than
    // confuse two sockets under one id.
    log(LogLevel::kError,
        "connect: connection id " + std::to_string(id) + " is still open; connect ignored");
    return;
  }
  sockaddr_in addr{};
  std::string why;
  if (!resolve(connect.address, &addr, &why)) {
    log(LogLevel::kError, "cannot connect to " + connect.address + ": " + why);
    feed([this, id] { machine_->on_closed(id, now()); });
    return;
  }
  Connection* conn = Connection::make_outbound(loop_, id, addr, options_.max_frame_bytes, this);
  conn->set_backlog_limits(0, options_.max_backlog_bytes);
  conns_[id] = conn;
  live_.insert(conn);
}

void Runtime::do_stop(const Stop& stop) {
  log(LogLevel::kError, "stopping: " + stop.reason);
  stop_reason_ = stop.reason;
  if (options_.on_effect) options_.on_effect(Effect{stop});
  shutdown();
}

void Runtime::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& ls : listeners_) {
    auto* h = reinterpret_cast<uv_handle_t*>(&ls->handle);
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }
  // abandon() never reports on_closed; the close callbacks free the connections.
  std::set<Connection*> live = live_;
  for (Connection* conn : live) conn->abandon();
  conns_.clear();
  dirty_.clear();
  if (flush_hooks_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_before_poll_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&flush_after_poll_), nullptr);
    flush_hooks_ = false;
  }
  timers_->close_all();
  if (disk_) disk_->stop();
  deferred_.clear();
}

void Runtime::log(LogLevel level, const std::string& text) const {
  if (static_cast<int>(level) < static_cast<int>(options_.min_level)) return;
  write_log_line(level, options_.log_name, text);
}

void Runtime::conn_connected(ConnId id) {
  feed([this, id] { machine_->on_connected(id, now()); });
}

void Runtime::conn_message(ConnId id, Message msg) {
  feed([this, id, msg = std::move(msg)]() mutable {
    machine_->on_message(id, std::move(msg), now());
  });
}

void Runtime::conn_needs_flush(ConnId id) {
  dirty_.push_back(id);
}

// One buffered message per machine input, so that a PauseReading it causes takes effect
// before the next is delivered.
void Runtime::conn_input_ready(ConnId id) {
  feed([this, id] {
    auto it = conns_.find(id);
    if (it != conns_.end() && it->second->deliver_buffered()) conn_input_ready(id);
  });
}

void Runtime::conn_protocol_error(ConnId id, const std::string& what) {
  feed([this, id, what] { machine_->on_protocol_error(id, what, now()); });
}

void Runtime::conn_released(ConnId id) {
  conns_.erase(id);
  feed([this, id] { machine_->on_closed(id, now()); });
}

void Runtime::conn_destroyed(Connection* conn) {
  live_.erase(conn);
}

void Runtime::conn_log(LogLevel level, const std::string& text) {
  log(level, text);
}

void Runtime::on_new_connection(uv_stream_t* server, int status) {
  auto* ls = static_cast<ListenSocket*>(server->data);
  Runtime* self = ls->runtime;
  if (self->shut_down_) return;
  if (status < 0) {
    self->log(LogLevel::kWarn, "accept: " + describe_uv(status));
    return;
  }
  ConnId id = self->next_inbound_++;
  std::unique_ptr<RespSession> resp;
  if (ls->wire == Wire::kResp) {
    resp = std::make_unique<RespSession>(self->next_resp_session_++, self->options_.resp);
  }
  Connection* conn = Connection::make_inbound(self->loop_, id, self->options_.max_frame_bytes, self,
                                              std::move(resp));
  self->live_.insert(conn);
  conn->set_backlog_limits(ls->pause_reading_backlog, self->options_.max_backlog_bytes);
  int r = uv_accept(server, reinterpret_cast<uv_stream_t*>(conn->handle()));
  if (r < 0) {
    self->log(LogLevel::kWarn, "accept: " + describe_uv(r));
    conn->abandon();
    return;
  }
  self->conns_[id] = conn;
  conn->start_reading();  // reads arrive from the loop, after on_accepted below
  Listener which = ls->which;
  PeerAddress peer = peer_of(reinterpret_cast<const uv_tcp_t*>(conn->handle()));
  self->feed([self, id, which, peer] { self->machine_->on_accepted(id, which, peer, now()); });
  conn->start_session();  // a Redis client's session begins once the machine knows the conn
}

}  // namespace kvs::net
