// The libuv backend on a real loop and real sockets on 127.0.0.1, with a tiny scripted
// Machine: connections, framing errors, timers, disk effects and Stop. Every wait is a
// condition with a deadline; nothing sleeps.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/framing.h"
#include "net/disk.h"
#include "net/runtime.h"
#include "uv_test_loop.h"

namespace kvs::net {
namespace {

// Records every input; optional hooks script its answers through outbox().
class TestMachine : public Machine {
 public:
  std::function<void(TestMachine&, Nanos)> start_hook;
  std::function<void(TestMachine&, ConnId)> accepted_hook;
  std::function<void(TestMachine&, ConnId)> connected_hook;
  std::function<void(TestMachine&, ConnId, const Message&)> message_hook;
  std::function<void(TestMachine&, ConnId)> protocol_error_hook;
  std::function<void(TestMachine&, TimerId, Nanos)> timer_hook;

  std::vector<std::pair<ConnId, Listener>> accepted;
  std::vector<ConnId> connected;
  std::vector<ConnId> closed;
  std::vector<std::pair<ConnId, Message>> messages;
  std::vector<std::pair<ConnId, std::string>> protocol_errors;
  std::vector<std::pair<TimerId, Nanos>> timers;
  std::vector<std::pair<std::uint64_t, DiskResult>> disk;
  bool nested = false;             // an input arrived while another was running
  std::vector<PeerAddress> peers;  // of accepted connections

  Outbox& out() { return outbox_; }

  void on_start(Nanos now) override {
    Guard g(this);
    if (start_hook) start_hook(*this, now);
  }
  void on_accepted(ConnId conn, Listener listener, const PeerAddress& peer, Nanos) override {
    Guard g(this);
    accepted.emplace_back(conn, listener);
    peers.push_back(peer);
    if (accepted_hook) accepted_hook(*this, conn);
  }
  void on_connected(ConnId conn, Nanos) override {
    Guard g(this);
    connected.push_back(conn);
    if (connected_hook) connected_hook(*this, conn);
  }
  void on_closed(ConnId conn, Nanos) override {
    Guard g(this);
    closed.push_back(conn);
  }
  void on_message(ConnId conn, Message msg, Nanos) override {
    Guard g(this);
    messages.emplace_back(conn, msg);
    if (message_hook) message_hook(*this, conn, msg);
  }
  void on_protocol_error(ConnId conn, const std::string& what, Nanos) override {
    Guard g(this);
    protocol_errors.emplace_back(conn, what);
    if (protocol_error_hook) protocol_error_hook(*this, conn);
  }
  void on_timer(TimerId id, Nanos now) override {
    Guard g(this);
    timers.emplace_back(id, now);
    if (timer_hook) timer_hook(*this, id, now);
  }
  void on_disk_done(std::uint64_t token, const DiskResult& result, Nanos) override {
    Guard g(this);
    disk.emplace_back(token, result);
  }

 private:
  struct Guard {
    explicit Guard(TestMachine* m) : m(m) {
      if (m->busy) m->nested = true;
      m->busy = true;
    }
    ~Guard() { m->busy = false; }
    TestMachine* m;
  };
  bool busy = false;
};

class NetRuntimeTest : public UvTestLoop {
 protected:
  void TearDown() override {
    for (auto& rt : runtimes_) rt->shutdown();
    UvTestLoop::TearDown();
    runtimes_.clear();
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir);
  }

  Runtime* make(TestMachine* m, RuntimeOptions options) {
    options.min_level = LogLevel::kError;
    runtimes_.push_back(std::make_unique<Runtime>(&loop_, m, std::move(options)));
    return runtimes_.back().get();
  }

  static RuntimeOptions listening(Listener which) {
    RuntimeOptions o;
    o.listeners.push_back({which, "127.0.0.1:0"});
    return o;
  }

  std::string temp_dir() {
    std::string pattern = ::testing::TempDir() + "kvs_net_XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    dirs_.push_back(pattern);
    return pattern;
  }

  std::vector<std::unique_ptr<Runtime>> runtimes_;
  std::vector<std::string> dirs_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(NetRuntimeTest, TwoRuntimesExchangeMessagesAndClose) {
  TestMachine server;
  server.message_hook = [](TestMachine& m, ConnId conn, const Message& msg) {
    if (std::holds_alternative<Hello>(msg)) m.out().send(conn, Welcome{"server"});
  };
  Runtime* srv = make(&server, listening(Listener::kStorage));
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;
  const int port = srv->bound_port(Listener::kStorage);
  ASSERT_GT(port, 0);
  EXPECT_EQ(srv->bound_port(Listener::kClients), -1);

  TestMachine client;
  client.start_hook = [port](TestMachine& m, Nanos) {
    m.out().push(Connect{7, "127.0.0.1:" + std::to_string(port)});
    // Sent before the connection is up: held until it is.
    m.out().send(7, Hello{"storage", kProtocolVersion, "c1", ""});
  };
  client.message_hook = [](TestMachine& m, ConnId conn, const Message&) {
    // Many frames in one drain, then a close: all must arrive, in order, before EOF.
    for (std::uint64_t i = 1; i <= 100; ++i) m.out().send(conn, Ack{i});
    m.out().push(Close{conn});
  };
  Runtime* cli = make(&client, {});
  ASSERT_TRUE(cli->start(&error)) << error;

  ASSERT_TRUE(run_until([&] { return !server.closed.empty() && !client.closed.empty(); }));
  ASSERT_EQ(client.connected, std::vector<ConnId>{7});
  ASSERT_EQ(server.accepted.size(), 1u);
  const ConnId inbound = server.accepted[0].first;
  EXPECT_GE(inbound, kFirstInboundConn);
  EXPECT_EQ(server.accepted[0].second, Listener::kStorage);
  // The peer's address reaches the machine, from getpeername: here, loopback.
  ASSERT_EQ(server.peers.size(), 1u);
  EXPECT_TRUE(server.peers[0].loopback);
  EXPECT_EQ(server.peers[0].address.rfind("127.0.0.1:", 0), 0u) << server.peers[0].address;
  ASSERT_EQ(server.messages.size(), 101u);
  EXPECT_EQ(server.messages[0].second, Message(Hello{"storage", kProtocolVersion, "c1", ""}));
  for (std::uint64_t i = 1; i <= 100; ++i) {
    EXPECT_EQ(server.messages[i].second, Message(Ack{i}));
  }
  ASSERT_EQ(client.messages.size(), 1u);
  EXPECT_EQ(client.messages[0].second, Message(Welcome{"server"}));

  // Let any stray late events arrive, then check each side saw one close.
  TestMachine idle;
  bool ticked = false;
  idle.start_hook = [](TestMachine& m, Nanos now) {
    m.out().push(SetTimer{1, now + 50 * kMillisecond});
  };
  idle.timer_hook = [&](TestMachine&, TimerId, Nanos) { ticked = true; };
  ASSERT_TRUE(make(&idle, {})->start(&error));
  ASSERT_TRUE(run_until([&] { return ticked; }));
  EXPECT_EQ(server.closed, std::vector<ConnId>{inbound});
  EXPECT_EQ(client.closed, std::vector<ConnId>{7});
  EXPECT_FALSE(server.nested);
  EXPECT_FALSE(client.nested);
}

TEST_F(NetRuntimeTest, SecondInboundConnectionGetsANewId) {
  TestMachine server;
  Runtime* srv = make(&server, listening(Listener::kClients));
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;
  int a = connect_loopback(srv->bound_port(Listener::kClients));
  int b = connect_loopback(srv->bound_port(Listener::kClients));
  ASSERT_TRUE(run_until([&] { return server.accepted.size() == 2; }));
  EXPECT_LT(server.accepted[0].first, server.accepted[1].first);
  EXPECT_EQ(server.accepted[0].second, Listener::kClients);
  close(a);
  close(b);
  ASSERT_TRUE(run_until([&] { return server.closed.size() == 2; }));
}

TEST_F(NetRuntimeTest, OversizedFrameIsAProtocolErrorAndTheAnswerArrivesBeforeEof) {
  TestMachine server;
  server.protocol_error_hook = [](TestMachine& m, ConnId conn) {
    m.out().send(conn, Error{"bad_frame", "too large"});
    m.out().push(Close{conn});
  };
  RuntimeOptions options = listening(Listener::kClients);
  options.max_frame_bytes = 1024;
  Runtime* srv = make(&server, options);
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;

  int fd = connect_loopback(srv->bound_port(Listener::kClients));
  // A header announcing 1 MiB, plus bytes the server never reads as a message.
  std::string bytes = std::string("\x00\x10\x00\x00", 4) + std::string(4096, 'x');
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(run_until([&] { return !server.closed.empty(); }));
  ASSERT_EQ(server.protocol_errors.size(), 1u);
  EXPECT_TRUE(server.messages.empty());

  // The Error frame is readable, then end of stream (not a reset).
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    ASSERT_GE(n, 0) << "connection reset before our Error frame was read";
    if (n == 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  FrameDecoder decoder;
  decoder.feed(got);
  Message msg;
  ASSERT_EQ(decoder.next(&msg, &error), FrameDecoder::Result::kMessage) << error;
  EXPECT_EQ(msg, Message(Error{"bad_frame", "too large"}));
}

// ---- backpressure ------------------------------------------------------------------

std::string requests(std::uint64_t n) {
  std::string bytes;
  for (std::uint64_t seq = 1; seq <= n; ++seq) {
    bytes += encode_frame(Request{seq, Op::kGet, "k", "", 0});
  }
  return bytes;
}

// Answers every request with a StatusReply of about `bytes`.
void answer_big(TestMachine& m, std::size_t bytes) {
  m.message_hook = [bytes](TestMachine& t, ConnId conn, const Message&) {
    t.out().send(conn, StatusReply{nlohmann::json{{"pad", std::string(bytes, 'x')}}});
  };
}

// Reads what has arrived on a non-blocking socket; false once it is closed.
bool read_available(int fd, std::size_t* total) {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      *total += static_cast<std::size_t>(n);
      continue;
    }
    return n < 0;  // EAGAIN: open, nothing more now; 0: end of stream
  }
}

TEST_F(NetRuntimeTest, PauseReadingHoldsThePeersMessagesUntilResumed) {
  TestMachine server;
  server.message_hook = [](TestMachine& m, ConnId conn, const Message&) {
    if (m.messages.size() == 2) m.out().push(PauseReading{conn, true});
  };
  Runtime* srv = make(&server, listening(Listener::kClients));
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;
  int fd = connect_loopback(srv->bound_port(Listener::kClients));
  const std::string bytes = requests(6);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(run_until([&] { return server.messages.size() >= 2; }));
  // Paused: the other four were read (or not) but are not delivered.
  EXPECT_FALSE(run_until([&] { return server.messages.size() > 2; }, 300 * kMillisecond));
  const ConnId conn = server.messages[0].first;
  server.out().push(PauseReading{conn, false});
  srv->drain();
  ASSERT_TRUE(run_until([&] { return server.messages.size() == 6; }));
  for (std::uint64_t i = 0; i < 6; ++i) {
    EXPECT_EQ(std::get<Request>(server.messages[i].second).seq, i + 1);
  }
  EXPECT_FALSE(server.nested);
  close(fd);
  ASSERT_TRUE(run_until([&] { return server.closed.size() == 1; }));
}

TEST_F(NetRuntimeTest, AClientThatDoesNotReadIsNotReadUntilItsRepliesDrain) {
  TestMachine server;
  constexpr std::size_t kReply = 1 << 20;
  constexpr std::uint64_t kRequests = 40;  // 40 MiB of replies: more than the kernel holds
  answer_big(server, kReply);
  RuntimeOptions options = listening(Listener::kClients);
  options.listeners[0].pause_reading_backlog = 64 * 1024;
  options.max_backlog_bytes = 8 * kReply;  // never reached while reading pauses
  Runtime* srv = make(&server, options);
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;
  int fd = connect_loopback(srv->bound_port(Listener::kClients));
  const std::string bytes = requests(kRequests);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(run_until([&] { return !server.messages.empty(); }));
  // We read nothing: the server stops reading us once its replies back up.
  EXPECT_FALSE(run_until([&] { return server.messages.size() == kRequests; }, 500 * kMillisecond));
  EXPECT_LT(server.messages.size(), kRequests);
  // Reading the replies lets it read (and answer) the rest.
  std::size_t received = 0;
  bool closed = false;
  ASSERT_TRUE(run_until(
      [&] {
        closed = !read_available(fd, &received);
        return closed || (server.messages.size() == kRequests && received > kRequests * kReply);
      },
      20 * kSecond));
  EXPECT_FALSE(closed);
  EXPECT_TRUE(server.closed.empty());
  close(fd);
  ASSERT_TRUE(run_until([&] { return server.closed.size() == 1; }));
}

TEST_F(NetRuntimeTest, APeerOverTheBacklogLimitIsClosed) {
  TestMachine server;
  constexpr std::size_t kReply = 1 << 20;
  answer_big(server, kReply);
  RuntimeOptions options = listening(Listener::kStorage);  // no pausing: only the limit
  options.max_backlog_bytes = 4 * kReply;
  Runtime* srv = make(&server, options);
  std::string error;
  ASSERT_TRUE(srv->start(&error)) << error;
  int fd = connect_loopback(srv->bound_port(Listener::kStorage));
  const std::string bytes = requests(40);
  ASSERT_EQ(write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ASSERT_TRUE(run_until([&] { return server.closed.size() == 1; }));
  EXPECT_LT(server.messages.size(), 40u);
  close(fd);
}

TEST_F(NetRuntimeTest, FailedConnectReportsClosedOnly) {
  // Find a port nobody listens on: bind one, then close it.
  TestMachine probe;
  Runtime* tmp = make(&probe, listening(Listener::kProbe));
  std::string error;
  ASSERT_TRUE(tmp->start(&error)) << error;
  const int port = tmp->bound_port(Listener::kProbe);
  tmp->shutdown();

  TestMachine client;
  client.start_hook = [port](TestMachine& m, Nanos) {
    m.out().push(Connect{1, "127.0.0.1:" + std::to_string(port)});
    m.out().push(Connect{2, "not an address"});
  };
  ASSERT_TRUE(make(&client, {})->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return client.closed.size() == 2; }));
  EXPECT_TRUE(client.connected.empty());
  EXPECT_FALSE(client.nested);
}

TEST_F(NetRuntimeTest, TimersFireInOrderNotEarlyAndCancelAndRearmWork) {
  TestMachine m;
  std::map<TimerId, Nanos> due;
  m.start_hook = [&](TestMachine& t, Nanos now) {
    due = {{1, now + 30 * kMillisecond}, {2, now + 10 * kMillisecond}};
    t.out().push(SetTimer{1, now + 5 * kMillisecond});
    t.out().push(SetTimer{2, due[2]});
    t.out().push(SetTimer{3, now + 5 * kMillisecond});
    t.out().push(CancelTimer{3});
    t.out().push(SetTimer{1, due[1]});  // re-arm replaces the first setting
  };
  std::string error;
  ASSERT_TRUE(make(&m, {})->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return m.timers.size() >= 2; }));
  ASSERT_EQ(m.timers.size(), 2u);
  EXPECT_EQ(m.timers[0].first, 2u);
  EXPECT_EQ(m.timers[1].first, 1u);
  for (auto& [id, at] : m.timers) EXPECT_GE(at, due[id]) << "timer " << id << " fired early";
}

TEST_F(NetRuntimeTest, AppendsLandInTheLogInOrder) {
  const std::string dir = temp_dir();
  TestMachine m;
  m.start_hook = [](TestMachine& t, Nanos) {
    t.out().push(DiskAppend{7, 1, "hello\n", true});
    t.out().push(DiskAppend{8, 1, "world\n", false});
    t.out().push(DiskAppend{9, 1, "", true});
  };
  RuntimeOptions options;
  options.data_dir = dir;
  std::string error;
  ASSERT_TRUE(make(&m, options)->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return m.disk.size() == 3; }));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(m.disk[i].first, 7 + i);
    EXPECT_TRUE(m.disk[i].second.ok) << m.disk[i].second.error;
  }
  // The records, then preallocated space (zeros), which recovery reads as unused.
  const std::string log = read_file(dir + "/wal-000001.log");
  EXPECT_EQ(log.substr(0, log.find('\0')), "hello\nworld\n");
  EXPECT_EQ(log.find_first_not_of('\0', 12), std::string::npos);
  EXPECT_GE(log.size(), kLogPreallocBytes);
  struct stat st {};
  ASSERT_EQ(stat((dir + "/wal-000001.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(NetRuntimeTest, SnapshotReplacesTheSnapshotAndDeletesTheLogsItHolds) {
  const std::string dir = temp_dir();
  { std::ofstream(dir + "/snapshot") << "old"; }
  TestMachine m;
  m.start_hook = [](TestMachine& t, Nanos) {
    t.out().push(DiskAppend{1, 1, "record\n", true});
    t.out().push(DiskSnapshot{2, std::vector<WalRecord>{Entry{7, "k", "v"}}, 2});
    t.out().push(DiskAppend{3, 2, "after\n", true});
  };
  RuntimeOptions options;
  options.data_dir = dir;
  std::string error;
  ASSERT_TRUE(make(&m, options)->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return m.disk.size() == 3; }));
  for (auto& [token, result] : m.disk) EXPECT_TRUE(result.ok) << token << ": " << result.error;
  // Encoded off the loop, by the one encoder.
  EXPECT_EQ(read_file(dir + "/snapshot"), encode_snapshot({Entry{7, "k", "v"}}, 2));
  EXPECT_FALSE(std::filesystem::exists(dir + "/wal-000001.log"));
  const std::string log = read_file(dir + "/wal-000002.log");
  EXPECT_EQ(log.substr(0, log.find('\0')), "after\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/snapshot.tmp"));
}

TEST_F(NetRuntimeTest, DiskFailureNamesTheCallAndTheError) {
  const std::string dir = temp_dir();
  // A directory where the temp file must go: opening it for writing fails.
  std::filesystem::create_directory(dir + "/snapshot.tmp");
  TestMachine m;
  m.start_hook = [](TestMachine& t, Nanos) { t.out().push(DiskSnapshot{5, FrontendState{}}); };
  RuntimeOptions options;
  options.data_dir = dir;
  std::string error;
  ASSERT_TRUE(make(&m, options)->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return m.disk.size() == 1; }));
  EXPECT_FALSE(m.disk[0].second.ok);
  EXPECT_EQ(m.disk[0].second.error.rfind("open snapshot.tmp: EISDIR", 0), 0u)
      << m.disk[0].second.error;
}

TEST_F(NetRuntimeTest, StopShutsDownAndSkipsTheRest) {
  TestMachine m;
  std::vector<std::string> seen;
  m.start_hook = [](TestMachine& t, Nanos now) {
    t.out().push(Stop{"fsync failed"});
    t.out().push(SetTimer{1, now});  // never carried out
  };
  RuntimeOptions options = listening(Listener::kProbe);
  options.on_effect = [&](const Effect& e) {
    if (auto* s = std::get_if<Stop>(&e)) seen.push_back(s->reason);
  };
  Runtime* rt = make(&m, options);
  std::string error;
  ASSERT_TRUE(rt->start(&error)) << error;
  EXPECT_EQ(rt->stop_reason(), std::optional<std::string>("fsync failed"));
  EXPECT_EQ(seen, std::vector<std::string>{"fsync failed"});
  uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);  // returns: the runtime closed all it had
  EXPECT_TRUE(m.timers.empty());
  uv_timer_init(&loop_, &tick_);  // for TearDown
}

TEST_F(NetRuntimeTest, DeliverGoesToOnEffectWhichMayFeedTheMachine) {
  TestMachine m;
  m.start_hook = [](TestMachine& t, Nanos) {
    t.out().push(Deliver{1, Op::kGet, Status::kOk, "k", "v", ""});
  };
  Runtime* rt = nullptr;
  int delivered = 0;
  RuntimeOptions options;
  options.on_effect = [&](const Effect& e) {
    if (!std::holds_alternative<Deliver>(e)) return;
    ++delivered;
    // As a client program does: call the machine, then drain (from inside a drain).
    m.out().push(SetTimer{4, Runtime::now()});
    rt->drain();
  };
  rt = make(&m, options);
  std::string error;
  ASSERT_TRUE(rt->start(&error)) << error;
  ASSERT_TRUE(run_until([&] { return !m.timers.empty(); }));
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(m.timers[0].first, 4u);
}

TEST_F(NetRuntimeTest, ListenOnABusyPortFails) {
  TestMachine a, b;
  Runtime* first = make(&a, listening(Listener::kClients));
  std::string error;
  ASSERT_TRUE(first->start(&error)) << error;
  RuntimeOptions options;
  options.listeners.push_back(
      {Listener::kClients, "127.0.0.1:" + std::to_string(first->bound_port(Listener::kClients))});
  EXPECT_FALSE(make(&b, options)->start(&error));
  EXPECT_NE(error.find("EADDRINUSE"), std::string::npos) << error;
}

}  // namespace
}  // namespace kvs::net
