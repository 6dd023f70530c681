#include "sim/sim_network.h"

#include <algorithm>

namespace kvs::sim {
namespace {

// The delay between a Close and the closer's own on_closed: "afterwards", not inline.
constexpr Nanos kLocalCloseDelay = 1'000;

std::string conn_text(ConnId id) {
  return "c" + std::to_string(id);
}

}  // namespace

SimNetwork::SimNetwork(EventQueue* queue, Prng rng, NetParams params, NetHandler* handler,
                       Trace* trace)
    : q_(queue), rng_(rng), params_(params), handler_(handler), trace_(trace) {}

void SimNetwork::listen(const std::string& address, ProcId p, Listener listener) {
  listeners_[address] = {p, listener};
}

// ---- timing -------------------------------------------------------------------

Nanos SimNetwork::frame_delay(ProcId a, ProcId b) {
  Nanos d = rng_.nanos(params_.latency_min, params_.latency_max);
  if (params_.tail_doublings > 0 && rng_.chance(params_.tail_ppm)) {
    d <<= 1 + rng_.below(static_cast<std::uint64_t>(params_.tail_doublings));
  }
  for (ProcId p : {a, b}) {
    auto it = slow_.find(p);
    if (it != slow_.end() && q_->now() < it->second.first) d += it->second.second;
  }
  return d;
}

bool SimNetwork::partitioned(ProcId p) const {
  auto it = partition_until_.find(p);
  return it != partition_until_.end() && q_->now() < it->second;
}

bool SimNetwork::stalled(const Conn& c) const {
  return partitioned(c.end[0].proc) || partitioned(c.end[1].proc);
}

Nanos SimNetwork::stall_end(const Conn& c) const {
  Nanos end = q_->now();
  for (const End& e : c.end) {
    auto it = partition_until_.find(e.proc);
    if (it != partition_until_.end()) end = std::max(end, it->second);
  }
  return end;
}

// ---- connections ----------------------------------------------------------------

SimNetwork::Conn* SimNetwork::find(std::uint64_t key) {
  auto it = conns_.find(key);
  return it == conns_.end() ? nullptr : &it->second;
}

void SimNetwork::connect(ProcId from, ConnId conn, const std::string& address) {
  const std::uint64_t attempt = next_attempt_++;
  connecting_[{from, conn}] = attempt;
  trace_->event(q_->now(), from, "connect", conn_text(conn) + " " + address);
  // A SYN and its SYN-ACK: about a round trip.
  const Nanos delay = 2 * rng_.nanos(params_.latency_min, params_.latency_max);
  q_->after(delay,
            [this, from, conn, attempt, address] { finish_connect(from, conn, attempt, address); });
}

void SimNetwork::finish_connect(ProcId from, ConnId conn, std::uint64_t attempt,
                                std::string address) {
  auto pending = connecting_.find({from, conn});
  if (pending == connecting_.end() || pending->second != attempt) return;  // abandoned
  auto target = listeners_.find(address);
  if (target == listeners_.end()) return fail_connect(from, conn, attempt, 0);
  const auto [to, listener] = target->second;
  if (partitioned(from) || partitioned(to)) {
    // No answer at all: the connect times out.
    return fail_connect(from, conn, attempt, params_.connect_timeout);
  }
  if (!handler_->net_up(to)) return fail_connect(from, conn, attempt, 0);  // refused
  connecting_.erase(pending);

  const std::uint64_t key = next_conn_++;
  ConnId& inbound = next_inbound_.try_emplace(to, kFirstInboundConn).first->second;
  Conn& c = conns_[key];
  c.end[0].proc = from;
  c.end[0].id = conn;
  c.end[1].proc = to;
  c.end[1].id = inbound++;
  ends_[{from, conn}] = {key, 0};
  ends_[{to, c.end[1].id}] = {key, 1};
  const ConnId accepted = c.end[1].id;
  trace_->event(q_->now(), to, "accept", conn_text(accepted) + " from " + address);
  handler_->net_accepted(to, accepted, listener);
  if (find(key) == nullptr || ends_.count({from, conn}) == 0) return;
  trace_->event(q_->now(), from, "connected", conn_text(conn));
  handler_->net_connected(from, conn);
}

void SimNetwork::fail_connect(ProcId from, ConnId conn, std::uint64_t attempt, Nanos delay) {
  q_->after(delay, [this, from, conn, attempt] {
    auto pending = connecting_.find({from, conn});
    if (pending == connecting_.end() || pending->second != attempt) return;
    connecting_.erase(pending);
    trace_->event(q_->now(), from, "connect-failed", conn_text(conn));
    handler_->net_closed(from, conn);
  });
}

void SimNetwork::send(ProcId from, ConnId conn, const Message& msg) {
  auto it = ends_.find({from, conn});
  if (it == ends_.end()) return;  // closed already: the frame has no reader
  const auto [key, e] = it->second;
  Conn& c = conns_.at(key);
  if (c.end[e].state != EndState::kOpen) return;
  trace_->event(q_->now(), from, "send", conn_text(conn), type_name(msg));
  Frame f;
  f.bytes = encode_frame(msg);
  f.clock = trace_->stamp(from);
  ++frames_sent_;
  enqueue(key, e, std::move(f));
}

void SimNetwork::close(ProcId from, ConnId conn) {
  if (auto pending = connecting_.find({from, conn}); pending != connecting_.end()) {
    // Abandoning a connect in progress: it never completes; on_closed follows.
    connecting_.erase(pending);
    q_->after(kLocalCloseDelay, [this, from, conn] { handler_->net_closed(from, conn); });
    return;
  }
  auto it = ends_.find({from, conn});
  if (it == ends_.end()) return;
  const auto [key, e] = it->second;
  Conn& c = conns_.at(key);
  if (c.end[e].state != EndState::kOpen) return;
  c.end[e].state = EndState::kClosing;
  trace_->event(q_->now(), from, "close", conn_text(conn));
  Frame fin;
  fin.fin = true;
  enqueue(key, e, std::move(fin));
  notify_closed_later(key, e, kLocalCloseDelay);
}

void SimNetwork::notify_closed_later(std::uint64_t key, int e, Nanos delay) {
  q_->after(delay, [this, key, e] {
    Conn* c = find(key);
    if (c == nullptr || c->end[e].state == EndState::kGone) return;
    end_gone(key, e, /*notify=*/true);
  });
}

void SimNetwork::end_gone(std::uint64_t key, int e, bool notify) {
  Conn& c = conns_.at(key);
  End& end = c.end[e];
  end.state = EndState::kGone;
  const ProcId p = end.proc;
  const ConnId id = end.id;
  ends_.erase({p, id});
  if (c.end[1 - e].state == EndState::kGone) conns_.erase(key);
  if (notify) {
    trace_->event(q_->now(), p, "closed", conn_text(id));
    handler_->net_closed(p, id);
  }
}

// ---- frames ---------------------------------------------------------------------

void SimNetwork::enqueue(std::uint64_t key, int d, Frame f) {
  Conn& c = conns_.at(key);
  Direction& dir = c.dir[d];
  f.at = std::max(q_->now() + frame_delay(c.end[0].proc, c.end[1].proc), dir.last_at);
  dir.last_at = f.at;
  const Nanos at = f.at;
  dir.queue.push_back(std::move(f));
  if (!dir.pump_armed) arm_pump(key, d, at);
}

void SimNetwork::arm_pump(std::uint64_t key, int d, Nanos at) {
  Direction& dir = conns_.at(key).dir[d];
  dir.pump_armed = true;
  const std::uint64_t gen = ++dir.pump_gen;
  q_->at(at, [this, key, d, gen] { pump(key, d, gen); });
}

void SimNetwork::pump(std::uint64_t key, int d, std::uint64_t gen) {
  Conn* c = find(key);
  if (c == nullptr || c->dir[d].pump_gen != gen) return;
  Direction& dir = c->dir[d];
  dir.pump_armed = false;
  if (dir.queue.empty()) return;
  if (stalled(*c)) return arm_pump(key, d, stall_end(*c));
  if (flaky_now(*c)) {
    auto it = flaky_.find(c->end[0].proc);
    if (it == flaky_.end() || it->second.first <= q_->now()) it = flaky_.find(c->end[1].proc);
    if (rng_.chance(it->second.second)) return reset_conn(key, 1 - d);
  }
  // Everything due now arrives together, as one read may return several frames.
  std::vector<Frame> due;
  while (!dir.queue.empty() && dir.queue.front().at <= q_->now()) {
    due.push_back(std::move(dir.queue.front()));
    dir.queue.pop_front();
  }
  if (!dir.queue.empty()) arm_pump(key, d, dir.queue.front().at);
  deliver(key, d, std::move(due));
}

void SimNetwork::deliver(std::uint64_t key, int d, std::vector<Frame> frames) {
  const int r = 1 - d;  // the receiving end
  std::string bytes;
  std::vector<std::size_t> body_at;  // offset of each data frame's body in bytes
  std::size_t data_frames = 0;
  for (const Frame& f : frames) {
    if (f.fin) break;
    body_at.push_back(bytes.size() + kFrameHeaderBytes);
    bytes += f.bytes;
    ++data_frames;
  }
  const bool fin = data_frames < frames.size();

  // Cut the stream at random points: a frame may arrive in pieces, pieces may join
  // frames.
  std::vector<std::size_t> cuts;
  if (bytes.size() > 1 && rng_.chance(params_.split_ppm)) {
    const std::uint64_t n = 1 + rng_.below(3);
    for (std::uint64_t i = 0; i < n; ++i) cuts.push_back(1 + rng_.below(bytes.size() - 1));
    std::sort(cuts.begin(), cuts.end());
  }
  cuts.push_back(bytes.size());

  std::size_t fed = 0, next_frame = 0;
  for (std::size_t cut : cuts) {
    if (cut <= fed) continue;
    Conn* c = find(key);
    if (c == nullptr) return;
    End& end = c->end[r];
    if (end.state != EndState::kOpen || !end.reading) return;  // nobody reads any more
    end.decoder.feed(std::string_view(bytes).substr(fed, cut - fed));
    fed = cut;
    for (;;) {
      c = find(key);
      if (c == nullptr || c->end[r].state != EndState::kOpen || !c->end[r].reading) return;
      End& rcv = c->end[r];
      Message msg;
      std::string error;
      const FrameDecoder::Result res = rcv.decoder.next(&msg, &error);
      if (res == FrameDecoder::Result::kNeedMore) break;
      const ProcId p = rcv.proc;
      const ConnId id = rcv.id;
      if (res == FrameDecoder::Result::kError) {
        rcv.reading = false;
        trace_->event(q_->now(), p, "protocol-error", conn_text(id) + " " + error);
        handler_->net_protocol_error(p, id, error);
        return;
      }
      const std::size_t i = next_frame++;
      const std::size_t end_at =
          i + 1 < body_at.size() ? body_at[i + 1] - kFrameHeaderBytes : bytes.size();
      trace_->merge(p, frames[i].clock);
      trace_->event(q_->now(), p, "recv", conn_text(id),
                    std::string_view(bytes).substr(body_at[i], end_at - body_at[i]));
      handler_->net_message(p, id, std::move(msg));
    }
  }
  if (!fin) return;
  Conn* c = find(key);
  if (c == nullptr || c->end[r].state != EndState::kOpen) return;
  end_gone(key, r, /*notify=*/true);
}

// ---- faults -------------------------------------------------------------------------

std::vector<std::pair<std::uint64_t, int>> SimNetwork::ends_of(ProcId p) const {
  std::vector<std::pair<std::uint64_t, int>> out;
  for (auto it = ends_.lower_bound({p, 0}); it != ends_.end() && it->first.first == p; ++it) {
    out.push_back(it->second);
  }
  return out;
}

void SimNetwork::reset_conn(std::uint64_t key, int local) {
  Conn& c = conns_.at(key);
  trace_->event(q_->now(), c.end[local].proc, "reset", conn_text(c.end[local].id));
  for (Direction& dir : c.dir) {
    dir.queue.clear();
    ++dir.pump_gen;  // any armed pump finds nothing
    dir.pump_armed = false;
  }
  // The local end learns at once, the peer when the RST reaches it.
  notify_closed_later(key, local, kLocalCloseDelay);
  notify_closed_later(key, 1 - local,
                      kLocalCloseDelay + rng_.nanos(params_.latency_min, params_.latency_max));
}

void SimNetwork::reset(ProcId p) {
  for (const auto& [key, e] : ends_of(p)) reset_conn(key, e);
  for (auto it = connecting_.lower_bound({p, 0});
       it != connecting_.end() && it->first.first == p;) {
    const auto [conn, attempt] = std::pair{it->first.second, it->second};
    ++it;
    fail_connect(p, conn, attempt, kLocalCloseDelay);
  }
}

void SimNetwork::died(ProcId p, bool notify_peers) {
  for (const auto& [key, e] : ends_of(p)) {
    Conn& c = conns_.at(key);
    c.dir[1 - e].queue.clear();  // nobody will read what was on its way to p
    if (notify_peers && c.end[1 - e].state == EndState::kOpen &&
        c.end[e].state == EndState::kOpen) {
      Frame fin;
      fin.fin = true;
      enqueue(key, e, std::move(fin));
    }
    end_gone(key, e, /*notify=*/false);
  }
  for (auto it = connecting_.lower_bound({p, 0});
       it != connecting_.end() && it->first.first == p;) {
    it = connecting_.erase(it);
  }
}

void SimNetwork::partition(ProcId p, Nanos until, bool stall) {
  Nanos& u = partition_until_[p];
  u = std::max(u, until);
  trace_->event(q_->now(), p, "partitioned",
                std::string(stall ? "stall" : "reset") + " until " + std::to_string(u));
  if (!stall) reset(p);
}

void SimNetwork::slow(ProcId p, Nanos until, Nanos extra) {
  auto& s = slow_[p];
  s.first = std::max(s.first, until);
  s.second = std::max(s.second, extra);
  trace_->event(q_->now(), p, "slow",
                "+" + std::to_string(extra) + " until " + std::to_string(s.first));
}

void SimNetwork::flaky(ProcId p, Nanos until, Ppm ppm) {
  auto& f = flaky_[p];
  f.first = std::max(f.first, until);
  f.second = std::max(f.second, ppm);
  trace_->event(q_->now(), p, "flaky",
                std::to_string(ppm) + "ppm until " + std::to_string(f.first));
}

bool SimNetwork::flaky_now(const Conn& c) const {
  for (const End& e : c.end) {
    auto it = flaky_.find(e.proc);
    if (it != flaky_.end() && q_->now() < it->second.first) return true;
  }
  return false;
}

void SimNetwork::heal_all() {
  partition_until_.clear();
  slow_.clear();
  flaky_.clear();
  trace_->event(q_->now(), -1, "heal", "all partitions and slow links");
  // Stalled frames go now rather than at the partition's planned end.
  for (auto& [key, c] : conns_) {
    for (int d = 0; d < 2; ++d) {
      Direction& dir = c.dir[d];
      if (!dir.queue.empty()) arm_pump(key, d, std::max(q_->now(), dir.queue.front().at));
    }
  }
}

}  // namespace kvs::sim
