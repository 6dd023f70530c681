// A RESP listener of the libuv backend, on real sockets: the machine sees an ordinary
// client connection (Hello, then Requests), replies reach the socket in command order,
// reading pauses at max_pending and resumes, and QUIT closes after the replies owed.
// Every wait is a condition with a deadline.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "net/runtime.h"
#include "uv_test_loop.h"

namespace kvs::net {
namespace {

constexpr TimerId kAnswerTimer = 1;

// Holds every Request and answers them all (value "v-" + key) 1 ms later, so that
// replies are owed while the client keeps pipelining.
class HoldingMachine : public Machine {
 public:
  std::vector<std::pair<ConnId, Listener>> accepted;
  std::vector<Message> messages;
  std::vector<ConnId> closed;
  std::size_t most_held = 0;

  void on_start(Nanos) override {}
  void on_accepted(ConnId conn, Listener listener, const PeerAddress&, Nanos) override {
    accepted.emplace_back(conn, listener);
    outbox_.send(conn, Challenge{std::string(64, '0')});  // as the frontend does
  }
  void on_connected(ConnId, Nanos) override {}
  void on_closed(ConnId conn, Nanos) override { closed.push_back(conn); }
  void on_protocol_error(ConnId, const std::string&, Nanos) override {}
  void on_message(ConnId conn, Message msg, Nanos now) override {
    messages.push_back(msg);
    if (std::holds_alternative<Hello>(msg)) outbox_.send(conn, Welcome{"test"});
    if (auto* r = std::get_if<Request>(&msg)) {
      if (held_.empty()) outbox_.push(SetTimer{kAnswerTimer, now + kMillisecond});
      held_.emplace_back(conn, *r);
      most_held = std::max(most_held, held_.size());
    }
  }
  void on_timer(TimerId, Nanos) override {
    for (auto& [conn, r] : held_) {
      outbox_.send(conn, Response{r.seq, Status::kOk, "v-" + r.key, ""});
    }
    held_.clear();
  }

 private:
  std::vector<std::pair<ConnId, Request>> held_;
};

class NetRespTest : public UvTestLoop {
 protected:
  void TearDown() override {
    if (runtime_) runtime_->shutdown();
    if (fd_ >= 0) close(fd_);
    UvTestLoop::TearDown();
  }

  void start(std::size_t max_pending) {
    RuntimeOptions options;
    options.listeners = {{Listener::kClients, "127.0.0.1:0"},
                         {Listener::kClients, "127.0.0.1:0", Wire::kResp}};
    options.resp.max_pending = max_pending;
    options.min_level = LogLevel::kError;
    runtime_ = std::make_unique<Runtime>(&loop_, &machine_, options);
    std::string error;
    ASSERT_TRUE(runtime_->start(&error)) << error;
    const int port = runtime_->bound_port(Listener::kClients, Wire::kResp);
    ASSERT_GT(port, 0);
    ASSERT_NE(port, runtime_->bound_port(Listener::kClients));

    fd_ = connect_loopback(port);
    ASSERT_GE(fd_, 0);
    fcntl(fd_, F_SETFL, O_NONBLOCK);
  }

  // Runs the loop, collecting what the server sends, until `done` or the deadline.
  bool run_until(const std::function<bool()>& done) {
    return UvTestLoop::run_until(
        [&] {
          drain();
          return done();
        },
        10 * kSecond);
  }

  // Reads whatever the server has sent so far (the socket is non-blocking).
  void drain() {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n > 0) {
        received_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) eof_ = true;
      break;
    }
  }

  void send_all(const std::string& bytes) {
    std::size_t sent = 0;
    ASSERT_TRUE(run_until([&] {
      ssize_t n = write(fd_, bytes.data() + sent, bytes.size() - sent);
      if (n > 0) sent += static_cast<std::size_t>(n);
      return sent == bytes.size();
    }));
  }

  HoldingMachine machine_;
  std::unique_ptr<Runtime> runtime_;
  int fd_ = -1;
  std::string received_;
  bool eof_ = false;
};

TEST_F(NetRespTest, PipelinedCommandsPauseAtMaxPendingAndAllAnswersArriveInOrder) {
  start(/*max_pending=*/4);
  std::string input, want;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "k" + std::to_string(i);
    input += "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    want += "$" + std::to_string(key.size() + 2) + "\r\nv-" + key + "\r\n";
    if (i % 10 == 0) {
      input += "PING\r\n";
      want += "+PONG\r\n";
    }
  }
  send_all(input);
  ASSERT_TRUE(run_until([&] { return received_.size() >= want.size(); })) << received_;
  EXPECT_EQ(received_, want);

  // The machine saw one ordinary client connection.
  ASSERT_EQ(machine_.accepted.size(), 1u);
  EXPECT_EQ(machine_.accepted[0].second, Listener::kClients);
  ASSERT_EQ(machine_.messages.size(), 301u);
  EXPECT_EQ(std::get<Hello>(machine_.messages[0]).role, "client");
  for (std::size_t i = 1; i < machine_.messages.size(); ++i) {
    EXPECT_EQ(std::get<Request>(machine_.messages[i]).seq, i);
  }
  // Never more owed than max_pending: the connection stopped reading in between.
  EXPECT_LE(machine_.most_held, 4u);
  EXPECT_GE(machine_.most_held, 2u);
}

TEST_F(NetRespTest, QuitClosesAfterTheRepliesOwed) {
  start(/*max_pending=*/1024);
  send_all("GET a\r\nQUIT\r\nGET b\r\n");
  ASSERT_TRUE(run_until([&] { return eof_; }));
  EXPECT_EQ(received_, "$3\r\nv-a\r\n+OK\r\n");
  ASSERT_TRUE(run_until([&] { return machine_.closed.size() == 1; }));
  EXPECT_EQ(machine_.messages.size(), 2u);  // Hello and the first GET only
}

}  // namespace
}  // namespace kvs::net
