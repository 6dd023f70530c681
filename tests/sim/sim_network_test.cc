// The simulated network: frames go through the real codec, per-connection FIFO, resets
// close both ends, stalled partitions deliver after the heal.
#include "sim/sim_network.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvs::sim {
namespace {

// Two processes: 0 listens on "10.0.0.1:1", 1 connects to it.
class Recorder : public NetHandler {
 public:
  bool net_up(ProcId) const override { return true; }
  void net_accepted(ProcId p, ConnId c, Listener) override { log("accepted", p, c); }
  void net_connected(ProcId p, ConnId c) override { log("connected", p, c); }
  void net_closed(ProcId p, ConnId c) override { log("closed", p, c); }
  void net_message(ProcId p, ConnId c, Message m) override {
    log("message", p, c);
    if (auto* r = std::get_if<Request>(&m)) seqs[p].push_back(r->seq);
  }
  void net_protocol_error(ProcId p, ConnId c, const std::string&) override { log("error", p, c); }
  void log(const std::string& what, ProcId p, ConnId c) {
    events.push_back(what + " " + std::to_string(p) + " " + std::to_string(c));
    last[p] = c;
  }
  std::vector<std::string> events;
  std::map<ProcId, std::vector<std::uint64_t>> seqs;
  std::map<ProcId, ConnId> last;
  int count(const std::string& what) const {
    int n = 0;
    for (const auto& e : events) n += e.rfind(what, 0) == 0;
    return n;
  }
};

struct Fixture {
  EventQueue q;
  Trace trace{{"a", "b"}, nullptr, nullptr};
  Recorder rec;
  NetParams params;
  std::unique_ptr<SimNetwork> net;
  explicit Fixture(Ppm tail = 200'000) {
    params.tail_ppm = tail;
    params.split_ppm = 500'000;
    net = std::make_unique<SimNetwork>(&q, Prng(3), params, &rec, &trace);
    net->listen("10.0.0.1:1", 0, Listener::kClients);
  }
  void run() {
    while (!q.empty()) q.run_next();
  }
  ConnId connect() {
    net->connect(1, 1, "10.0.0.1:1");
    run();
    return rec.last.at(0);  // the accepted id
  }
};

TEST(SimNetwork, ConnectsAndDeliversInOrderThroughTheCodec) {
  Fixture f;
  f.connect();
  EXPECT_EQ(f.rec.count("accepted 0"), 1);
  EXPECT_EQ(f.rec.count("connected 1 1"), 1);
  std::vector<std::uint64_t> sent;
  for (std::uint64_t i = 1; i <= 200; ++i) {
    f.net->send(1, 1, Request{i, Op::kPut, "k", std::string(i % 50, 'x'), 0});
    sent.push_back(i);
    if (i % 7 == 0) f.q.run_next();  // interleave sending and delivering
  }
  f.run();
  EXPECT_EQ(f.rec.seqs[0], sent);  // FIFO despite random and heavy-tailed delays
}

TEST(SimNetwork, ResetClosesBothEndsAndDropsInFlightData) {
  Fixture f;
  const ConnId accepted = f.connect();
  f.net->send(1, 1, Request{1, Op::kGet, "k", "", 0});
  f.net->reset(1);
  f.run();
  EXPECT_EQ(f.rec.count("message"), 0);
  EXPECT_EQ(f.rec.count("closed 1 1"), 1);
  EXPECT_EQ(f.rec.count("closed 0 " + std::to_string(accepted)), 1);
}

TEST(SimNetwork, CloseDeliversDataThenClosesThePeer) {
  Fixture f;
  f.connect();
  f.net->send(1, 1, Request{1, Op::kGet, "k", "", 0});
  f.net->close(1, 1);
  f.run();
  ASSERT_EQ(f.rec.seqs[0].size(), 1u);
  EXPECT_EQ(f.rec.count("closed"), 2);
  // The message came before the peer's close.
  std::size_t msg = 0, closed = 0;
  for (std::size_t i = 0; i < f.rec.events.size(); ++i) {
    if (f.rec.events[i].rfind("message 0", 0) == 0) msg = i;
    if (f.rec.events[i].rfind("closed 0", 0) == 0) closed = i;
  }
  EXPECT_LT(msg, closed);
}

TEST(SimNetwork, StalledPartitionDeliversAfterTheHeal) {
  Fixture f(/*tail=*/0);
  f.connect();
  const Nanos heal = f.q.now() + kSecond;
  f.net->partition(1, heal, /*stall=*/true);
  f.net->send(1, 1, Request{1, Op::kGet, "k", "", 0});
  while (!f.q.empty() && f.rec.seqs[0].empty()) f.q.run_next();
  EXPECT_GE(f.q.now(), heal);
  EXPECT_EQ(f.rec.seqs[0].size(), 1u);
}

TEST(SimNetwork, ConnectFailsWhilePartitioned) {
  Fixture f;
  f.net->partition(0, kSecond, /*stall=*/false);
  f.net->connect(1, 1, "10.0.0.1:1");
  f.run();
  EXPECT_EQ(f.rec.count("connected"), 0);
  EXPECT_EQ(f.rec.count("closed 1 1"), 1);
}

TEST(SimNetwork, DeathWithNotifyClosesThePeer) {
  Fixture f;
  f.connect();
  f.net->died(1, /*notify_peers=*/true);
  f.run();
  EXPECT_EQ(f.rec.count("closed 0"), 1);
  EXPECT_EQ(f.rec.count("closed 1"), 0);  // the dead process hears nothing
}

}  // namespace
}  // namespace kvs::sim
