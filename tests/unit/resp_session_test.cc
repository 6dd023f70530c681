// The RESP translator: commands become the native client messages (Hello, then
// Requests with seq 1, 2, 3, ...), the frontend's answers become RESP replies in
// command order, and everything answered locally keeps Redis's wording.
#include "core/resp_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/auth.h"

namespace kvs {
namespace {

const std::string kSessionNonce(64, 'e');  // the frontend's challenge

class RespSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }

  // As the backend runs it: the frontend's challenge arrives (from on_accepted), then
  // the session starts.
  void make(RespOptions options, bool challenge = true) {
    session_ = std::make_unique<RespSession>(7, options);
    RespSession::Output out;
    if (challenge) session_->on_message(Challenge{kSessionNonce}, &out);
    session_->start(&out);
    start_ = out;
  }

  // Feeds bytes; returns the reply bytes and keeps the messages in sent_.
  std::string feed(const std::string& bytes) {
    RespSession::Output out;
    session_->on_bytes(bytes, &out);
    return take(out);
  }

  std::string answer(const Message& m) {
    RespSession::Output out;
    session_->on_message(m, &out);
    return take(out);
  }

  std::string take(RespSession::Output& out) {
    for (auto& m : out.to_frontend) sent_.push_back(m);
    closed_ = closed_ || out.close;
    return out.reply;
  }

  const Request& request(std::size_t i) { return std::get<Request>(sent_.at(i)); }

  std::unique_ptr<RespSession> session_;
  RespSession::Output start_;
  std::vector<Message> sent_;
  bool closed_ = false;
};

TEST_F(RespSessionTest, IntroducesItselfAsAClient) {
  ASSERT_EQ(start_.to_frontend.size(), 1u);
  const auto& hello = std::get<Hello>(start_.to_frontend[0]);
  EXPECT_EQ(hello.role, "client");
  EXPECT_EQ(hello.id, "redis#7");
  EXPECT_EQ(hello.proof, "");
  EXPECT_EQ(hello.version, kProtocolVersion);
  EXPECT_EQ(session_->client_id(), "redis#7");
  EXPECT_EQ(answer(Welcome{"frontend"}), "");
}

TEST_F(RespSessionTest, GetAndSetBecomeRequests) {
  EXPECT_EQ(feed("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n"), "");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(request(0), (Request{1, Op::kPut, "k", "v1", 1}));
  EXPECT_EQ(answer(Response{1, Status::kOk, "", ""}), "+OK\r\n");

  EXPECT_EQ(feed("get k\r\n"), "");
  EXPECT_EQ(request(1), (Request{2, Op::kGet, "k", "", 2}));
  EXPECT_EQ(answer(Response{2, Status::kOk, "v1", ""}), "$2\r\nv1\r\n");
}

TEST_F(RespSessionTest, StatusesMapToReplies) {
  feed("GET a\r\nGET b\r\nGET c\r\nSET d x\r\nSET e y\r\n");
  EXPECT_EQ(answer(Response{1, Status::kNotFound, "", ""}), "$-1\r\n");
  EXPECT_EQ(answer(Response{2, Status::kUnavailable, "", "no storage node available for 5s"}),
            "-UNAVAILABLE no storage node available for 5s\r\n");
  EXPECT_EQ(answer(Response{3, Status::kRejected, "", "key must not be empty"}),
            "-ERR key must not be empty\r\n");
  EXPECT_EQ(answer(Response{4, Status::kUnavailable, "", "gone; the write may still be applied"}),
            "-UNAVAILABLE gone; the write may still be applied\r\n");
  EXPECT_EQ(answer(Response{5, Status::kRejected, "", "value is 9 bytes;\nlimit 8"}),
            "-ERR value is 9 bytes; limit 8\r\n");
}

TEST_F(RespSessionTest, RepliesKeepCommandOrder) {
  // A local PING behind a pending GET waits its turn; out-of-order answers are held.
  EXPECT_EQ(feed("GET a\r\nPING\r\nSET b 1\r\nECHO hi\r\nGET c\r\n"), "");
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(request(1).seq, 2u);
  EXPECT_EQ(request(2).seq, 3u);
  EXPECT_EQ(answer(Response{3, Status::kOk, "cv", ""}), "");
  EXPECT_EQ(answer(Response{2, Status::kOk, "", ""}), "");
  EXPECT_EQ(answer(Response{1, Status::kOk, "av", ""}),
            "$2\r\nav\r\n+PONG\r\n+OK\r\n$2\r\nhi\r\n$2\r\ncv\r\n");
  // Nothing owed: answered at once.
  EXPECT_EQ(feed("PING\r\n"), "+PONG\r\n");
}

TEST_F(RespSessionTest, PipelinedRepliesAlwaysInCommandOrder) {
  // Many pipelined GETs and local ECHOs, answered by the frontend in a random order:
  // the client receives exactly the replies of its commands, in its order.
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    make({});
    sent_.clear();
    std::string input, want, got;
    for (int i = 0; i < 60; ++i) {
      const std::string n = std::to_string(i);
      if (rng() % 2 == 0) {
        input += "GET k" + n + "\r\n";
        want += "$" + std::to_string(n.size() + 1) + "\r\nv" + n + "\r\n";
      } else {
        input += "ECHO e" + n + "\r\n";
        want += "$" + std::to_string(n.size() + 1) + "\r\ne" + n + "\r\n";
      }
    }
    for (std::size_t pos = 0; pos < input.size();) {
      const std::size_t len = 1 + rng() % 20;
      got += feed(input.substr(pos, len));
      pos += len;
    }
    std::vector<Request> requests;
    for (const Message& m : sent_) {
      if (const auto* r = std::get_if<Request>(&m)) requests.push_back(*r);
    }
    std::shuffle(requests.begin(), requests.end(), rng);
    for (const Request& r : requests) {
      got += answer(Response{r.seq, Status::kOk, "v" + r.key.substr(1), ""});
    }
    EXPECT_EQ(got, want);
  }
}

TEST_F(RespSessionTest, DoneBelowTracksTheOldestUnansweredRequest) {
  feed("GET a\r\nGET b\r\n");
  answer(Response{2, Status::kOk, "b", ""});
  feed("GET c\r\n");
  EXPECT_EQ(request(2).done_below, 1u);  // 1 is still unanswered
  answer(Response{1, Status::kOk, "a", ""});
  feed("GET d\r\n");
  EXPECT_EQ(request(3).seq, 4u);
  EXPECT_EQ(request(3).done_below, 3u);
}

TEST_F(RespSessionTest, StrayResponsesAreIgnored) {
  feed("GET a\r\n");
  EXPECT_EQ(answer(Response{9, Status::kOk, "x", ""}), "");
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "$1\r\na\r\n");
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "");
}

TEST_F(RespSessionTest, PingEchoQuit) {
  EXPECT_EQ(feed("PING\r\n"), "+PONG\r\n");
  EXPECT_EQ(feed("PING hello\r\n"), "$5\r\nhello\r\n");
  EXPECT_EQ(feed("ECHO \"a b\"\r\n"), "$3\r\na b\r\n");
  EXPECT_FALSE(closed_);
  EXPECT_EQ(feed("QUIT\r\nPING\r\n"), "+OK\r\n");
  EXPECT_TRUE(closed_);
  EXPECT_FALSE(session_->wants_input());
  EXPECT_EQ(feed("PING\r\n"), "");
}

TEST_F(RespSessionTest, QuitWaitsForEarlierReplies) {
  EXPECT_EQ(feed("GET a\r\nQUIT\r\nGET b\r\n"), "");
  EXPECT_EQ(sent_.size(), 1u);  // nothing after QUIT is executed
  EXPECT_FALSE(closed_);
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "$1\r\na\r\n+OK\r\n");
  EXPECT_TRUE(closed_);
}

TEST_F(RespSessionTest, ArityErrorsUseRedisWording) {
  EXPECT_EQ(feed("GET\r\n"), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(feed("get a b\r\n"), "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(feed("SET k\r\n"), "-ERR wrong number of arguments for 'set' command\r\n");
  EXPECT_EQ(feed("PING a b\r\n"), "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(feed("ECHO\r\n"), "-ERR wrong number of arguments for 'echo' command\r\n");
  EXPECT_EQ(feed("SELECT\r\n"), "-ERR wrong number of arguments for 'select' command\r\n");
  EXPECT_EQ(feed("CONFIG GET\r\n"), "-ERR wrong number of arguments for 'config|get' command\r\n");
  EXPECT_TRUE(sent_.empty());
  EXPECT_FALSE(closed_);
}

TEST_F(RespSessionTest, UnknownCommandUsesRedisWording) {
  EXPECT_EQ(feed("FLUSHALL\r\n"),
            "-ERR unknown command 'FLUSHALL', with args beginning with: \r\n");
  EXPECT_EQ(feed("*3\r\n$4\r\nHSET\r\n$1\r\nh\r\n$3\r\na\nb\r\n"),
            "-ERR unknown command 'HSET', with args beginning with: 'h' 'a b' \r\n");
  // The excerpt is bounded.
  std::string reply = feed("LPUSH " + std::string(1000, 'x') + " y\r\n");
  EXPECT_LT(reply.size(), 300u);
  EXPECT_EQ(reply.rfind("-ERR unknown command 'LPUSH', with args beginning with: 'xxx", 0), 0u);
}

TEST_F(RespSessionTest, SetOptionsAreRefused) {
  EXPECT_EQ(feed("SET k v EX 10\r\n"),
            "-ERR SET option EX is not supported by kvs (only SET key value)\r\n");
  EXPECT_EQ(feed("SET k v nx\r\n"),
            "-ERR SET option NX is not supported by kvs (only SET key value)\r\n");
  EXPECT_EQ(feed("SET k v whatever\r\n"), "-ERR syntax error\r\n");
  EXPECT_TRUE(sent_.empty());
}

TEST_F(RespSessionTest, KeysAndValuesMustBeUtf8) {
  EXPECT_EQ(feed("SET \"\\xff\" v\r\n"), "-ERR kvs keys must be valid UTF-8 text\r\n");
  EXPECT_EQ(feed("SET k \"\\xc3\"\r\n"), "-ERR kvs values must be valid UTF-8 text\r\n");
  EXPECT_EQ(feed("GET \"\\xed\\xa0\\x80\"\r\n"), "-ERR kvs keys must be valid UTF-8 text\r\n");
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(feed("SET \"\\xc3\\xa9\" \"\\xf0\\x9f\\x98\\x80\"\r\n"), "");
  EXPECT_EQ(request(0).key, "\xc3\xa9");
}

TEST_F(RespSessionTest, ConfigGet) {
  EXPECT_EQ(feed("CONFIG GET save\r\n"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(feed("config get APPENDONLY\r\n"), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(feed("CONFIG GET maxmemory\r\n"), "*0\r\n");
  EXPECT_EQ(feed("CONFIG GET * save\r\n").substr(0, 4), "*6\r\n");  // each once
  EXPECT_EQ(feed("CONFIG GET s?ve\r\n"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
  EXPECT_EQ(feed("CONFIG GET *ON*\r\n"), "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
  EXPECT_EQ(feed("CONFIG GET a*x\r\n"), "*0\r\n");
  // Many stars cost linear time, not exponential.
  EXPECT_EQ(feed("CONFIG GET " + std::string(5000, '*') + "x\r\n"), "*0\r\n");
  EXPECT_EQ(feed("CONFIG SET save x\r\n"),
            "-ERR unknown subcommand 'SET'. kvs supports CONFIG GET only.\r\n");
}

TEST_F(RespSessionTest, StartupCommandsOfRedisTools) {
  EXPECT_EQ(feed("COMMAND\r\n"), "*0\r\n");
  EXPECT_EQ(feed("COMMAND DOCS\r\n"), "*0\r\n");
  EXPECT_EQ(feed("COMMAND COUNT\r\n"), ":0\r\n");
  EXPECT_EQ(feed("CLIENT SETNAME bench\r\n"), "+OK\r\n");
  EXPECT_EQ(feed("CLIENT GETNAME\r\n"), "$5\r\nbench\r\n");
  EXPECT_EQ(feed("CLIENT SETINFO LIB-NAME redis-py\r\n"), "+OK\r\n");
  EXPECT_EQ(feed("CLIENT ID\r\n"), ":7\r\n");
  EXPECT_EQ(feed("CLIENT SETNAME \"a b\"\r\n"),
            "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
  EXPECT_EQ(feed("CLIENT KILL x\r\n").rfind("-ERR unknown subcommand 'KILL'.", 0), 0u);
  EXPECT_EQ(feed("SELECT 0\r\n"), "+OK\r\n");
  EXPECT_EQ(feed("SELECT 1\r\n"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(feed("SELECT -1\r\n"), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(feed("SELECT zero\r\n"), "-ERR value is not an integer or out of range\r\n");
  EXPECT_TRUE(sent_.empty());
}

TEST_F(RespSessionTest, InfoAsksTheFrontend) {
  EXPECT_EQ(feed("GET a\r\nINFO\r\n"), "");
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(sent_[1]));
  nlohmann::json body = {{"commit", 42},
                         {"members", 2},
                         {"clients_connected", 3},
                         {"nodes", {{{"id", "s1"}, {"state", "member"}}}}};
  EXPECT_EQ(answer(StatusReply{body}), "");  // waits for the GET
  std::string reply = answer(Response{1, Status::kNotFound, "", ""});
  ASSERT_EQ(reply.rfind("$-1\r\n$", 0), 0u);
  EXPECT_NE(reply.find("commit_watermark:42\r\n"), std::string::npos);
  EXPECT_NE(reply.find("members:2\r\n"), std::string::npos);
  EXPECT_NE(reply.find("connected_clients:3\r\n"), std::string::npos);
  EXPECT_NE(reply.find("storage_nodes:s1=member\r\n"), std::string::npos);
  EXPECT_NE(reply.find("redis_version:"), std::string::npos);
}

TEST_F(RespSessionTest, ProtocolErrorIsAnsweredInTurnThenCloses) {
  EXPECT_EQ(feed("GET a\r\n*1\r\n$x\r\nPING\r\n"), "");
  EXPECT_FALSE(session_->wants_input());
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}),
            "$1\r\na\r\n-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(closed_);
}

TEST_F(RespSessionTest, LimitsComeFromTheOptions) {
  RespOptions options;
  options.limits.max_bulk_bytes = 4;
  make(options);
  EXPECT_EQ(feed("*2\r\n$4\r\nECHO\r\n$5\r\n"), "-ERR Protocol error: invalid bulk length\r\n");
  EXPECT_TRUE(closed_);
}

TEST_F(RespSessionTest, ReadingPausesAtMaxPending) {
  RespOptions options;
  options.max_pending = 2;
  make(options);
  EXPECT_EQ(feed("GET a\r\nGET b\r\nGET c\r\nPING\r\n"), "");
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_FALSE(session_->wants_input());
  // One reply out: the third command is parsed and sent in the same step.
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "$1\r\na\r\n");
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(request(2).key, "c");
  EXPECT_FALSE(session_->wants_input());  // b, c and the PING behind them are owed
  EXPECT_EQ(answer(Response{2, Status::kOk, "b", ""}), "$1\r\nb\r\n");
  EXPECT_EQ(answer(Response{3, Status::kOk, "c", ""}), "$1\r\nc\r\n+PONG\r\n");
  EXPECT_TRUE(session_->wants_input());
}

TEST_F(RespSessionTest, RefusalByTheFrontendEndsTheConnection) {
  feed("PING\r\nGET a\r\nGET b\r\n");
  answer(Response{2, Status::kOk, "b", ""});
  EXPECT_EQ(answer(Error{"replaced", "a newer connection of client redis#7 took over"}),
            "-ERR a newer connection of client redis#7 took over\r\n");
  EXPECT_TRUE(closed_);
  EXPECT_FALSE(session_->wants_input());
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "");
}

TEST_F(RespSessionTest, AuthWhenNoTokenIsConfigured) {
  EXPECT_EQ(feed("AUTH secret\r\n").rfind("-ERR AUTH <password> called without any password", 0),
            0u);
}

class RespAuthTest : public RespSessionTest {
 protected:
  void SetUp() override {
    RespOptions options;
    options.secret = "secret";
    make(options);
  }
};

TEST_F(RespAuthTest, OnlyAuthAndQuitBeforeAuthenticating) {
  EXPECT_TRUE(start_.to_frontend.empty());
  EXPECT_EQ(feed("GET a\r\n"), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(feed("PING\r\n"), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(feed("INFO\r\n"), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(feed("AUTH someone secret\r\n"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_TRUE(sent_.empty());
}

TEST_F(RespAuthTest, AuthIsCheckedHereAndTheHelloCarriesAProof) {
  EXPECT_EQ(feed("AUTH default secret\r\nGET a\r\n"), "+OK\r\n");
  ASSERT_EQ(sent_.size(), 2u);
  const auto& hello = std::get<Hello>(sent_[0]);
  EXPECT_EQ(hello.id, "redis#7");
  EXPECT_EQ(hello.proof, auth_proof("secret", kSessionNonce, "client", "redis#7"));
  EXPECT_NE(hello.proof.find_first_not_of("0123456789abcdef"), 0u);
  EXPECT_EQ(request(1).seq, 1u);
  EXPECT_EQ(answer(Welcome{"frontend"}), "");
  EXPECT_EQ(answer(Response{1, Status::kOk, "a", ""}), "$1\r\na\r\n");
  // Again: still checked against the secret, and no second hello.
  EXPECT_EQ(feed("AUTH secret\r\n"), "+OK\r\n");
  EXPECT_EQ(feed("AUTH guess\r\n"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(sent_.size(), 2u);
  EXPECT_FALSE(closed_);
}

TEST_F(RespAuthTest, AWrongPasswordGetsWrongpassAndStillNoAccess) {
  // As in Redis: WRONGPASS, the connection stays open, nothing reaches the frontend.
  EXPECT_EQ(feed("AUTH guess\r\n"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(feed("AUTH default secre\r\n"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(feed("AUTH secret-and-more\r\n"),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(feed("GET a\r\n"), "-NOAUTH Authentication required.\r\n");
  EXPECT_TRUE(sent_.empty());
  EXPECT_FALSE(closed_);
  EXPECT_EQ(feed("AUTH secret\r\n"), "+OK\r\n");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Hello>(sent_[0]));
}

TEST_F(RespAuthTest, TheFrontendRefusingTheProofIsWrongpass) {
  EXPECT_EQ(feed("AUTH secret\r\n"), "+OK\r\n");
  EXPECT_EQ(answer(Error{"auth_failed", "authentication failed"}),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_TRUE(closed_);
}

TEST_F(RespSessionTest, CommandsWaitForTheChallengeBeforeTheHello) {
  RespOptions options;
  options.secret = "secret";
  make(options, /*challenge=*/false);
  EXPECT_TRUE(start_.to_frontend.empty());
  EXPECT_EQ(feed("AUTH secret\r\nSET k v\r\n"), "+OK\r\n");
  EXPECT_TRUE(sent_.empty()) << "nothing before the hello, and no hello before the nonce";
  EXPECT_EQ(answer(Challenge{kSessionNonce}), "");
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(std::get<Hello>(sent_[0]).proof,
            auth_proof("secret", kSessionNonce, "client", "redis#7"));
  EXPECT_EQ(request(1), (Request{1, Op::kPut, "k", "v", 1}));
}

TEST_F(RespSessionTest, ProtectedModeRefusalIsDenied) {
  EXPECT_EQ(answer(Error{"protected_mode", "kvs frontend is in protected mode"}),
            "-DENIED kvs frontend is in protected mode\r\n");
  EXPECT_TRUE(closed_);
}

}  // namespace
}  // namespace kvs
