// ClientSession driven through its inputs and effects only: no sockets, no sleeps.
#include "core/client.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/auth.h"

namespace kvs {
namespace {

constexpr Nanos kT0 = 1000 * kSecond;  // an arbitrary start, like uv_hrtime()
const std::string kNonce(64, 'c');     // the fake frontend's challenge

ClientConfig test_config() {
  ClientConfig c;
  c.id = "alice";
  c.frontend = "127.0.0.1:8000";
  c.secret = "tok";
  c.request_timeout = 10.0;
  c.reconnect_max = 2.0;
  return c;
}

template <typename T>
std::vector<T> only(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const auto& e : effects) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// The messages sent, in order, as (conn, message).
std::vector<Send> sends(const std::vector<Effect>& effects) {
  return only<Send>(effects);
}

std::vector<Request> requests(const std::vector<Send>& sent) {
  std::vector<Request> out;
  for (const auto& s : sent) {
    if (const auto* r = std::get_if<Request>(&s.msg)) out.push_back(*r);
  }
  return out;
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : session(test_config()) {}

  // Starts the session and completes the handshake; returns the connection id.
  ConnId connect_and_welcome(Nanos now = kT0) {
    session.on_start(now);
    auto connects = only<Connect>(take());
    EXPECT_EQ(connects.size(), 1u);
    ConnId conn = connects.at(0).conn;
    session.on_connected(conn, now);
    session.on_message(conn, Challenge{kNonce}, now);
    session.on_message(conn, Welcome{"frontend"}, now);
    take();
    return conn;
  }

  std::vector<Effect> take() { return session.outbox().take(); }

  ClientSession session;
};

TEST_F(ClientTest, NothingIsSentBeforeTheChallenge) {
  session.get("k", kT0);
  session.on_start(kT0);
  ConnId conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0);
  EXPECT_TRUE(sends(take()).empty()) << "the frontend speaks first";
  // Anything but a challenge first is a broken frontend: refused, then reconnect.
  session.on_message(conn, Welcome{"frontend"}, kT0);
  auto e = take();
  ASSERT_EQ(sends(e).size(), 1u);
  EXPECT_EQ(std::get<Error>(sends(e)[0].msg).code, "expected_challenge");
  EXPECT_EQ(only<Close>(e).size(), 1u);
}

TEST_F(ClientTest, StartConnectsToFrontendWithOutboundId) {
  session.on_start(kT0);
  auto connects = only<Connect>(take());
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(connects[0].address, "127.0.0.1:8000");
  EXPECT_GT(connects[0].conn, 0u);
  EXPECT_LT(connects[0].conn, kFirstInboundConn);
}

TEST_F(ClientTest, HelloThenPipelinedRequests) {
  EXPECT_EQ(session.get("k", kT0), 1u);
  EXPECT_EQ(session.put("k", "v", kT0), 2u);
  session.on_start(kT0);
  ConnId conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0);
  session.on_message(conn, Challenge{kNonce}, kT0);
  auto s = sends(take());
  ASSERT_EQ(s.size(), 3u);
  const auto* hello = std::get_if<Hello>(&s[0].msg);
  ASSERT_NE(hello, nullptr);
  EXPECT_EQ(hello->role, "client");
  EXPECT_EQ(hello->id, "alice");
  EXPECT_EQ(hello->proof, auth_proof("tok", kNonce, "client", "alice"));
  EXPECT_EQ(hello->version, kProtocolVersion);
  EXPECT_EQ(std::get<Request>(s[1].msg), (Request{1, Op::kGet, "k", "", 1}));
  EXPECT_EQ(std::get<Request>(s[2].msg), (Request{2, Op::kPut, "k", "v", 1}));
  for (const auto& x : s) EXPECT_EQ(x.conn, conn);
}

TEST(ClientSessionTest, IncarnationSeparatesSessionsOfOneId) {
  ClientSession session(test_config(), "7f3a");
  session.on_start(kT0);
  ConnId conn = only<Connect>(session.outbox().take()).at(0).conn;
  session.on_connected(conn, kT0);
  session.on_message(conn, Challenge{kNonce}, kT0);
  auto s = sends(session.outbox().take());
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(std::get<Hello>(s[0].msg).id, "alice/7f3a");
}

TEST_F(ClientTest, OpIdsAreSequentialAndSentAtOnceWhenConnected) {
  ConnId conn = connect_and_welcome();
  EXPECT_EQ(session.put("a", "1", kT0), 1u);
  EXPECT_EQ(session.get("a", kT0), 2u);
  EXPECT_EQ(session.outstanding(), 2u);
  auto s = sends(take());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].conn, conn);
  EXPECT_EQ(std::get<Request>(s[0].msg).seq, 1u);
  EXPECT_EQ(std::get<Request>(s[1].msg).seq, 2u);
}

TEST_F(ClientTest, DeliversInIssueOrderWhenResponsesArriveOutOfOrder) {
  ConnId conn = connect_and_welcome();
  session.put("x", "1", kT0);
  session.get("x", kT0);
  session.get("y", kT0);
  take();

  session.on_message(conn, Response{3, Status::kNotFound, "", ""}, kT0);
  EXPECT_TRUE(only<Deliver>(take()).empty());
  session.on_message(conn, Response{2, Status::kOk, "1", ""}, kT0);
  EXPECT_TRUE(only<Deliver>(take()).empty());
  EXPECT_EQ(session.outstanding(), 3u);

  session.on_message(conn, Response{1, Status::kOk, "", ""}, kT0);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].op_id, 1u);
  EXPECT_EQ(d[0].op, Op::kPut);
  EXPECT_EQ(d[0].status, Status::kOk);
  EXPECT_EQ(d[0].key, "x");
  EXPECT_EQ(d[1].op_id, 2u);
  EXPECT_EQ(d[1].op, Op::kGet);
  EXPECT_EQ(d[1].value, "1");
  EXPECT_EQ(d[2].op_id, 3u);
  EXPECT_EQ(d[2].status, Status::kNotFound);
  EXPECT_EQ(d[2].key, "y");
  EXPECT_EQ(session.outstanding(), 0u);
}

TEST_F(ClientTest, DuplicateResponsesAreIgnored) {
  ConnId conn = connect_and_welcome();
  session.get("k", kT0);
  session.get("k", kT0);
  take();
  session.on_message(conn, Response{2, Status::kOk, "new", ""}, kT0);
  session.on_message(conn, Response{2, Status::kOk, "other", ""}, kT0);
  session.on_message(conn, Response{1, Status::kOk, "old", ""}, kT0);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[1].value, "new");
  // After delivery, a late resend answer changes nothing and keeps the connection.
  session.on_message(conn, Response{1, Status::kOk, "old", ""}, kT0);
  auto after = take();
  EXPECT_TRUE(only<Deliver>(after).empty());
  EXPECT_TRUE(only<Close>(after).empty());
}

TEST_F(ClientTest, ResendAfterReconnectKeepsSeqsAndDoneBelow) {
  ConnId conn = connect_and_welcome();
  session.put("a", "1", kT0);  // 1
  session.put("b", "2", kT0);  // 2
  session.get("a", kT0);       // 3
  session.put("c", "3", kT0);  // 4
  take();
  session.on_message(conn, Response{1, Status::kOk, "", ""}, kT0);
  session.on_message(conn, Response{3, Status::kOk, "1", ""}, kT0);  // answered, not delivered
  EXPECT_EQ(only<Deliver>(take()).size(), 1u);

  session.on_closed(conn, kT0);
  auto timers = only<SetTimer>(take());
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].id, ClientSession::kReconnectTimer);
  session.on_timer(ClientSession::kReconnectTimer, timers[0].at);
  auto connects = only<Connect>(take());
  ASSERT_EQ(connects.size(), 1u);
  ConnId conn2 = connects[0].conn;
  EXPECT_NE(conn2, conn);  // a fresh id per attempt

  session.on_connected(conn2, timers[0].at);

  session.on_message(conn2, Challenge{kNonce}, timers[0].at);
  auto s = sends(take());
  ASSERT_FALSE(s.empty());
  EXPECT_TRUE(std::holds_alternative<Hello>(s[0].msg));
  auto r = requests(s);
  ASSERT_EQ(r.size(), 2u);  // 2 and 4: 1 was delivered, 3 already answered
  EXPECT_EQ(r[0], (Request{2, Op::kPut, "b", "2", 2}));
  EXPECT_EQ(r[1], (Request{4, Op::kPut, "c", "3", 2}));

  // Answers on the new connection complete everything, in order.
  session.on_message(conn2, Welcome{"frontend"}, timers[0].at);
  session.on_message(conn2, Response{4, Status::kOk, "", ""}, timers[0].at);
  session.on_message(conn2, Response{2, Status::kOk, "", ""}, timers[0].at);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].op_id, 2u);
  EXPECT_EQ(d[1].op_id, 3u);
  EXPECT_EQ(d[1].value, "1");
  EXPECT_EQ(d[2].op_id, 4u);
}

TEST_F(ClientTest, MessagesOnOldConnectionAreIgnored) {
  ConnId conn = connect_and_welcome();
  session.get("k", kT0);
  take();
  session.on_closed(conn, kT0);
  take();
  session.on_message(conn, Response{1, Status::kOk, "v", ""}, kT0);
  EXPECT_TRUE(only<Deliver>(take()).empty());
  // A second close of the same connection schedules nothing more.
  session.on_closed(conn, kT0);
  EXPECT_TRUE(only<SetTimer>(take()).empty());
}

TEST_F(ClientTest, BackoffDoublesAndCapsAndResetsOnWelcome) {
  session.on_start(kT0);
  Nanos now = kT0;
  ConnId conn = only<Connect>(take()).at(0).conn;
  std::vector<Nanos> delays;
  for (int i = 0; i < 9; ++i) {
    session.on_closed(conn, now);  // the connect attempt failed
    auto timers = only<SetTimer>(take());
    ASSERT_EQ(timers.size(), 1u);
    delays.push_back(timers[0].at - now);
    now = timers[0].at;
    session.on_timer(ClientSession::kReconnectTimer, now);
    conn = only<Connect>(take()).at(0).conn;
  }
  const std::vector<Nanos> want = {50 * kMillisecond,  100 * kMillisecond, 200 * kMillisecond,
                                   400 * kMillisecond, 800 * kMillisecond, 1600 * kMillisecond,
                                   2 * kSecond,        2 * kSecond,        2 * kSecond};
  EXPECT_EQ(delays, want);

  // Accepted by the frontend: the next loss starts again at 50ms.
  session.on_connected(conn, now);
  session.on_message(conn, Challenge{kNonce}, now);
  session.on_message(conn, Welcome{"frontend"}, now);
  take();
  session.on_closed(conn, now);
  auto timers = only<SetTimer>(take());
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].at - now, 50 * kMillisecond);
}

TEST_F(ClientTest, ErrorFromFrontendLogsClosesAndReconnects) {
  session.on_start(kT0);
  ConnId conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0);
  session.on_message(conn, Challenge{kNonce}, kT0);
  take();
  session.on_message(conn, Error{"bad_hello", "wrong token"}, kT0);
  auto e = take();
  ASSERT_EQ(only<Close>(e).size(), 1u);
  EXPECT_EQ(only<Close>(e)[0].conn, conn);
  auto logs = only<LogLine>(e);
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs[0].text.find("wrong token"), std::string::npos);
  auto timers = only<SetTimer>(e);
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].id, ClientSession::kReconnectTimer);
  // The close we asked for comes back; it must not schedule a second reconnect.
  session.on_closed(conn, kT0);
  EXPECT_TRUE(only<SetTimer>(take()).empty());
}

TEST_F(ClientTest, ARefusalNamesItselfWhenOperationsTimeOut) {
  session.put("k", "v", kT0);
  session.on_start(kT0);
  ConnId conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0);
  session.on_message(conn, Challenge{kNonce}, kT0);
  session.on_message(conn, Error{"auth_failed", "wrong cluster secret"}, kT0);
  take();
  session.on_timer(ClientSession::kDeadlineTimer, kT0 + 10 * kSecond);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, Status::kUnavailable);
  EXPECT_NE(d[0].detail.find("refused this client: auth_failed: wrong cluster secret"),
            std::string::npos)
      << d[0].detail;
}

TEST_F(ClientTest, BadMessagesCloseAndReconnect) {
  ConnId conn = connect_and_welcome();
  session.on_message(conn, Ping{5}, kT0);
  auto e = take();
  EXPECT_EQ(only<Close>(e).size(), 1u);
  EXPECT_EQ(only<SetTimer>(e).size(), 1u);

  session.on_timer(ClientSession::kReconnectTimer, kT0 + kSecond);
  conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0 + kSecond);
  session.on_message(conn, Challenge{kNonce}, kT0 + kSecond);
  session.on_message(conn, Welcome{"frontend"}, kT0 + kSecond);
  take();
  session.on_message(conn, Response{7, Status::kOk, "", ""}, kT0 + kSecond);  // never issued
  e = take();
  EXPECT_EQ(only<Close>(e).size(), 1u);
  EXPECT_TRUE(only<Deliver>(e).empty());

  session.on_timer(ClientSession::kReconnectTimer, kT0 + 2 * kSecond);
  conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0 + 2 * kSecond);
  session.on_message(conn, Challenge{kNonce}, kT0 + 2 * kSecond);
  take();
  session.on_protocol_error(conn, "frame too large", kT0 + 2 * kSecond);
  e = take();
  EXPECT_EQ(only<Close>(e).size(), 1u);
  EXPECT_EQ(only<SetTimer>(e).size(), 1u);
}

TEST_F(ClientTest, TimeoutDeliversUnavailableInOrder) {
  session.on_start(kT0);
  take();
  session.put("k", "v", kT0);            // 1, deadline kT0+10s
  session.get("k", kT0 + 3 * kSecond);   // 2, deadline kT0+13s
  auto timers = only<SetTimer>(take());  // one timer, for the earliest deadline
  ASSERT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers[0].id, ClientSession::kDeadlineTimer);
  EXPECT_EQ(timers[0].at, kT0 + 10 * kSecond);

  session.on_timer(ClientSession::kDeadlineTimer, kT0 + 10 * kSecond);
  auto e = take();
  auto d = only<Deliver>(e);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].op_id, 1u);
  EXPECT_EQ(d[0].op, Op::kPut);
  EXPECT_EQ(d[0].status, Status::kUnavailable);
  EXPECT_EQ(d[0].detail, "no answer within 10s (frontend unreachable?)");
  auto rearm = only<SetTimer>(e);
  ASSERT_EQ(rearm.size(), 1u);
  EXPECT_EQ(rearm[0].at, kT0 + 13 * kSecond);

  session.on_timer(ClientSession::kDeadlineTimer, kT0 + 13 * kSecond);
  e = take();
  d = only<Deliver>(e);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].op_id, 2u);
  EXPECT_EQ(d[0].status, Status::kUnavailable);
  EXPECT_TRUE(only<SetTimer>(e).empty());  // nothing left to time
  EXPECT_EQ(session.outstanding(), 0u);
}

TEST_F(ClientTest, AnsweredLaterOpWaitsForEarlierTimeout) {
  ConnId conn = connect_and_welcome();
  session.put("a", "1", kT0);
  session.get("b", kT0 + kSecond);
  take();
  session.on_message(conn, Response{2, Status::kOk, "vb", ""}, kT0 + 2 * kSecond);
  EXPECT_TRUE(only<Deliver>(take()).empty());
  session.on_timer(ClientSession::kDeadlineTimer, kT0 + 10 * kSecond);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].status, Status::kUnavailable);
  EXPECT_EQ(d[0].detail, "no answer within 10s (the frontend is connected but silent)");
  EXPECT_EQ(d[1].status, Status::kOk);
  EXPECT_EQ(d[1].value, "vb");
  // The late answer to the timed-out op is a duplicate now.
  session.on_message(conn, Response{1, Status::kOk, "", ""}, kT0 + 11 * kSecond);
  auto e = take();
  EXPECT_TRUE(only<Deliver>(e).empty());
  EXPECT_TRUE(only<Close>(e).empty());
}

TEST_F(ClientTest, SpuriousDeadlineTimerDeliversNothing) {
  ConnId conn = connect_and_welcome();
  session.get("a", kT0);
  session.get("b", kT0 + 5 * kSecond);
  take();
  session.on_message(conn, Response{1, Status::kNotFound, "", ""}, kT0 + kSecond);
  take();
  // Armed for op 1's deadline, which was answered: firing re-arms for op 2.
  session.on_timer(ClientSession::kDeadlineTimer, kT0 + 10 * kSecond);
  auto e = take();
  EXPECT_TRUE(only<Deliver>(e).empty());
  auto t = only<SetTimer>(e);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].at, kT0 + 15 * kSecond);
}

TEST_F(ClientTest, DoneBelowAdvancesWithDelivery) {
  ConnId conn = connect_and_welcome();
  session.put("a", "1", kT0);
  session.on_message(conn, Response{1, Status::kOk, "", ""}, kT0);
  take();
  session.put("a", "2", kT0);
  auto r = requests(sends(take()));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 2u);
  EXPECT_EQ(r[0].done_below, 2u);
}

TEST_F(ClientTest, RejectedAndUnavailableCarryDetail) {
  ConnId conn = connect_and_welcome();
  session.put("k", std::string(10, 'x'), kT0);
  take();
  session.on_message(conn, Response{1, Status::kRejected, "", "value too large"}, kT0);
  auto d = only<Deliver>(take());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].status, Status::kRejected);
  EXPECT_EQ(d[0].detail, "value too large");
}

TEST_F(ClientTest, SessionLostFailsWhatIsPendingAndStartsANewSession) {
  ConnId conn = connect_and_welcome();
  EXPECT_EQ(session.put("k", "v1", kT0), 1u);
  EXPECT_EQ(session.get("k", kT0), 2u);
  take();
  session.on_message(conn, Error{"session_lost", "no record of session alice"}, kT0);
  auto e = take();
  auto delivered = only<Deliver>(e);
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(delivered[0].op_id, 1u);
  EXPECT_EQ(delivered[0].status, Status::kUnavailable) << "a put is indeterminate";
  EXPECT_NE(delivered[0].detail.find("session lost"), std::string::npos);
  EXPECT_EQ(delivered[1].op_id, 2u);
  EXPECT_EQ(only<Close>(e).size(), 1u);
  EXPECT_EQ(session.outstanding(), 0u);
  // The next operation belongs to a new session: a new Hello id, seqs from 1 again,
  // while op ids keep growing.
  EXPECT_EQ(session.put("k", "v2", kT0), 3u);
  session.on_timer(ClientSession::kReconnectTimer, kT0 + kSecond);
  ConnId conn2 = only<Connect>(take()).at(0).conn;
  session.on_connected(conn2, kT0 + kSecond);
  session.on_message(conn2, Challenge{kNonce}, kT0 + kSecond);
  auto s = sends(take());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(std::get<Hello>(s[0].msg).id, "alice#2");
  EXPECT_EQ(std::get<Request>(s[1].msg), (Request{1, Op::kPut, "k", "v2", 1}));
  session.on_message(conn2, Welcome{"frontend"}, kT0 + kSecond);
  session.on_message(conn2, Response{1, Status::kOk, "", ""}, kT0 + kSecond);
  delivered = only<Deliver>(take());
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].op_id, 3u);
  EXPECT_EQ(delivered[0].status, Status::kOk);
}

TEST_F(ClientTest, StatusRequestIsAnswered) {
  session.request_status(kT0);
  session.on_start(kT0);
  ConnId conn = only<Connect>(take()).at(0).conn;
  session.on_connected(conn, kT0);
  session.on_message(conn, Challenge{kNonce}, kT0);
  auto s = sends(take());
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<StatusRequest>(s[1].msg));
  EXPECT_FALSE(session.take_status().has_value());
  session.on_message(conn, Welcome{"frontend"}, kT0);
  session.on_message(conn, StatusReply{nlohmann::json{{"members", 2}}}, kT0);
  auto st = session.take_status();
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(st->ok);
  EXPECT_EQ(st->body["members"], 2);
  EXPECT_FALSE(session.take_status().has_value());  // once
}

TEST_F(ClientTest, StatusRequestTimesOut) {
  session.on_start(kT0);
  take();
  session.request_status(kT0);
  auto t = only<SetTimer>(take());
  ASSERT_EQ(t.size(), 1u);
  session.on_timer(ClientSession::kDeadlineTimer, t[0].at);
  auto st = session.take_status();
  ASSERT_TRUE(st.has_value());
  EXPECT_FALSE(st->ok);
  EXPECT_NE(st->detail.find("no answer"), std::string::npos);
}

}  // namespace
}  // namespace kvs
