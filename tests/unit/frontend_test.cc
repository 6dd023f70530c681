// The frontend state machine, driven input by input. Each test reads like a conversation:
// clients and storage nodes say something, the test checks what the frontend answers.
#include "core/frontend.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>

namespace kvs {
namespace {

constexpr ConnId kAlice = kFirstInboundConn + 1;
constexpr ConnId kBob = kFirstInboundConn + 2;
constexpr ConnId kS1 = kFirstInboundConn + 11;
constexpr ConnId kS2 = kFirstInboundConn + 12;
constexpr ConnId kS3 = kFirstInboundConn + 13;
const PeerAddress kLocal{"127.0.0.1:40000", true};

class FrontendTest : public ::testing::Test {
 protected:
  FrontendTest() : fe_(instance_.emplace(config(), SeedKey{1, 2, 3})) {
    fe_.on_start(now_);
    drain();
  }

  // A new frontend process over the state file the last one wrote; every connection of
  // the old one is gone.
  void restart(FrontendConfig c = config()) {
    auto state = read_frontend_state(state_file_, "state");
    ASSERT_TRUE(std::holds_alternative<FrontendState>(state));
    instance_.emplace(c, SeedKey{7, 8, 9}, std::get<FrontendState>(state));
    sent_.clear();
    closed_.clear();
    fe_.on_start(now_);
    drain();
  }

  static FrontendConfig config() {
    FrontendConfig c;
    c.storage_timeout = 1.0;
    c.unavailable_timeout = 3.0;
    c.catchup_chunk_bytes = 100;
    return c;
  }

  // Runs the effects of the last input into per-connection mailboxes. State file writes
  // complete at once unless the test holds them (hold_disk_).
  void drain() {
    while (!fe_.outbox().empty()) {
      for (Effect& e : fe_.outbox().take()) {
        if (auto* s = std::get_if<Send>(&e)) sent_[s->conn].push_back(std::move(s->msg));
        if (auto* c = std::get_if<Close>(&e)) closed_.push_back(c->conn);
        if (auto* p = std::get_if<PauseReading>(&e)) pauses_.push_back(*p);
        if (auto* d = std::get_if<DiskSnapshot>(&e)) {
          state_file_ = encode_snapshot_content(d->content, d->first_log);
          if (hold_disk_) {
            held_writes_.push_back(d->token);
          } else {
            fe_.on_disk_done(d->token, {}, now_);
          }
        }
      }
    }
  }
  void finish_held_writes() {
    for (std::uint64_t token : std::exchange(held_writes_, {})) fe_.on_disk_done(token, {}, now_);
    drain();
  }

  template <typename M>
  std::vector<M> take(ConnId conn) {
    std::vector<M> out;
    auto& box = sent_[conn];
    for (auto it = box.begin(); it != box.end();) {
      if (auto* m = std::get_if<M>(&*it)) {
        out.push_back(std::move(*m));
        it = box.erase(it);
      } else {
        ++it;
      }
    }
    return out;
  }

  void client(ConnId conn, const std::string& id) {
    fe_.on_accepted(conn, Listener::kClients, kLocal, now_);
    fe_.on_message(conn, Hello{"client", kProtocolVersion, id, ""}, now_);
    drain();
    ASSERT_EQ(take<Welcome>(conn).size(), 1u);
  }

  void storage(ConnId conn, const std::string& id, Lsn complete) {
    fe_.on_accepted(conn, Listener::kStorage, kLocal, now_);
    fe_.on_message(conn, Hello{"storage", kProtocolVersion, id, ""}, now_);
    fe_.on_message(conn, Join{complete}, now_);
    drain();
    ASSERT_EQ(take<Welcome>(conn).size(), 1u);
  }

  void put(ConnId conn, std::uint64_t seq, const std::string& k, const std::string& v) {
    fe_.on_message(conn, Request{seq, Op::kPut, k, v, 0}, now_);
    drain();
  }
  void get(ConnId conn, std::uint64_t seq, const std::string& k) {
    fe_.on_message(conn, Request{seq, Op::kGet, k, "", 0}, now_);
    drain();
  }
  void ack(ConnId conn, Lsn complete) {
    fe_.on_message(conn, Ack{complete}, now_);
    drain();
  }
  void advance(Nanos by) {
    // Step in small increments so the tick runs as it would for real.
    const Nanos end = now_ + by;
    while (now_ < end) {
      now_ = std::min(end, now_ + 50 * kMillisecond);
      fe_.on_timer(1, now_);
      drain();
    }
  }
  bool was_closed(ConnId c) const {
    return std::find(closed_.begin(), closed_.end(), c) != closed_.end();
  }

  Nanos now_ = 1000 * kSecond;
  bool hold_disk_ = false;
  std::vector<std::uint64_t> held_writes_;
  std::string state_file_;  // the last state the frontend wrote
  std::optional<Frontend> instance_;
  Frontend& fe_;  // always *instance_, also across restart()
  std::map<ConnId, std::vector<Message>> sent_;
  std::vector<ConnId> closed_;
  std::vector<PauseReading> pauses_;  // in emission order
};

TEST_F(FrontendTest, PutIsAnsweredOnlyWhenEveryMemberAcked) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  auto w1 = take<Write>(kS1), w2 = take<Write>(kS2);
  ASSERT_EQ(w1.size(), 1u);
  ASSERT_EQ(w2.size(), 1u);
  EXPECT_EQ(w1[0].entry, (Entry{1, "k", "v"}));
  ack(kS1, 1);
  EXPECT_TRUE(take<Response>(kAlice).empty()) << "answered before s2 acked";
  ack(kS2, 1);
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kOk);
  EXPECT_EQ(fe_.commit_watermark(), 1u);
}

TEST_F(FrontendTest, CumulativeAckCommitsManyWritesInFlight) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  for (int i = 1; i <= 5; ++i) put(kAlice, i, "k" + std::to_string(i), "v");
  EXPECT_EQ(take<Write>(kS1).size(), 5u) << "writes must not wait for each other";
  ack(kS1, 5);
  EXPECT_EQ(take<Response>(kAlice).size(), 5u);
}

TEST_F(FrontendTest, GetReadsAtTheWatermarkAfterTheClientsOwnPut) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  get(kAlice, 2, "k");
  EXPECT_TRUE(take<Read>(kS1).empty()) << "GET must wait for the client's earlier PUT";
  ack(kS1, 1);
  auto reads = take<Read>(kS1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].at, 1u);
  fe_.on_message(kS1, ReadReply{reads[0].req, true, "v", 1}, now_);
  drain();
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].seq, 2u);
  EXPECT_EQ(r[1].value, "v");
}

TEST_F(FrontendTest, ALaterPutDoesNotStartBeforeAnEarlierGetSampledTheWatermark) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "a");
  get(kAlice, 2, "k");
  put(kAlice, 3, "k", "b");
  EXPECT_EQ(take<Write>(kS1).size(), 1u) << "PUT 3 overtook GET 2";
  ack(kS1, 1);
  auto reads = take<Read>(kS1);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].at, 1u);
  EXPECT_EQ(take<Write>(kS1).size(), 1u);
}

TEST_F(FrontendTest, RetriedPutIsAnsweredNotAppliedTwice) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  ASSERT_EQ(take<Write>(kS1).size(), 1u);
  ack(kS1, 1);
  ASSERT_EQ(take<Response>(kAlice).size(), 1u);
  // The client reconnects and resends seq 1 (it never saw the answer).
  fe_.on_closed(kAlice, now_);
  client(kBob, "alice");
  put(kBob, 1, "k", "v");
  EXPECT_TRUE(take<Write>(kS1).empty());
  auto r = take<Response>(kBob);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kOk);
}

TEST_F(FrontendTest, ReadIsRetriedOnAnotherMemberWhenOneFails) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  get(kAlice, 1, "k");
  ConnId first = !take<Read>(kS1).empty() ? kS1 : kS2;
  ConnId other = first == kS1 ? kS2 : kS1;
  take<Read>(other);
  fe_.on_closed(first, now_);
  drain();
  auto reads = take<Read>(other);
  ASSERT_EQ(reads.size(), 1u);
  fe_.on_message(other, ReadReply{reads[0].req, false, "", 0}, now_);
  drain();
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kNotFound);
}

TEST_F(FrontendTest, RemovingASlowMemberLetsTheWatermarkAdvance) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  ack(kS1, 1);
  EXPECT_TRUE(take<Response>(kAlice).empty());
  // s1 answers its pings; s2 never answers anything.
  for (int i = 0; i < 6; ++i) {
    advance(250 * kMillisecond);
    if (!take<Ping>(kS1).empty()) ack(kS1, 1);
  }
  EXPECT_TRUE(was_closed(kS2));
  EXPECT_FALSE(was_closed(kS1));
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kOk);
}

TEST_F(FrontendTest, IdleNodesArePingedAndAnswerKeepsThem) {
  storage(kS1, "s1", 0);
  for (int i = 0; i < 10; ++i) {
    advance(400 * kMillisecond);
    for (auto& p : take<Ping>(kS1)) {
      (void)p;
      ack(kS1, 0);
    }
  }
  EXPECT_FALSE(was_closed(kS1));
  advance(2 * kSecond);  // now it stays silent
  EXPECT_TRUE(was_closed(kS1));
}

TEST_F(FrontendTest, JoinerCatchesUpFromADonorThenBecomesAMember) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "a", "1");
  put(kAlice, 2, "b", "2");
  ack(kS1, 2);
  take<Write>(kS1);
  storage(kS2, "s2", 0);
  auto js = take<JoinState>(kS2);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "catching_up");
  auto fetch = take<CatchupFetch>(kS1);
  ASSERT_EQ(fetch.size(), 1u);
  EXPECT_EQ(fetch[0].after, 0u);
  // A write during catch-up goes to the joiner too, but it is not yet counted.
  put(kAlice, 3, "c", "3");
  EXPECT_EQ(take<Write>(kS2).size(), 1u);
  ack(kS1, 3);
  EXPECT_EQ(take<Response>(kAlice).size(), 3u) << "a joiner must not hold up commits";
  // The donor answers in two chunks; each is relayed and acknowledged.
  fe_.on_message(kS1, CatchupChunk{fetch[0].req, {{1, "a", "1"}}, "a", false, 0}, now_);
  drain();
  auto relay = take<CatchupChunk>(kS2);
  ASSERT_EQ(relay.size(), 1u);
  EXPECT_EQ(relay[0].upto, 2u);
  fe_.on_message(kS2, CatchupApplied{relay[0].req}, now_);
  drain();
  auto fetch2 = take<CatchupFetch>(kS1);
  ASSERT_EQ(fetch2.size(), 1u);
  EXPECT_EQ(fetch2[0].cursor, "a");
  fe_.on_message(kS1, CatchupChunk{fetch2[0].req, {{2, "b", "2"}}, "b", true, 0}, now_);
  drain();
  relay = take<CatchupChunk>(kS2);
  ASSERT_EQ(relay.size(), 1u);
  fe_.on_message(kS2, CatchupApplied{relay[0].req}, now_);
  drain();
  EXPECT_TRUE(take<JoinState>(kS2).empty()) << "member before acking W";
  ack(kS2, 3);
  js = take<JoinState>(kS2);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "member");
  EXPECT_EQ(fe_.status()["members"], 2);
}

TEST_F(FrontendTest, DonorDyingMidCatchupIsReplaced) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "a", "1");
  ack(kS1, 1);
  ack(kS2, 1);
  storage(kS3, "s3", 0);
  ConnId donor = !take<CatchupFetch>(kS1).empty() ? kS1 : kS2;
  ConnId other = donor == kS1 ? kS2 : kS1;
  fe_.on_closed(donor, now_);
  drain();
  auto fetch = take<CatchupFetch>(other);
  ASSERT_EQ(fetch.size(), 1u);
  EXPECT_EQ(fetch[0].cursor, "");
}

TEST_F(FrontendTest, AfterTotalFailureAStaleNodeWaitsForAFreshOne) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v1");
  ack(kS1, 1);
  ack(kS2, 1);
  fe_.on_closed(kS2, now_);  // s2 down at W=1
  put(kAlice, 2, "k", "v2");
  ack(kS1, 2);               // committed on s1 alone
  fe_.on_closed(kS1, now_);  // total failure
  drain();
  take<Response>(kAlice);
  // s2 comes back first, holding only lsn 1 < W=2: it must not serve.
  storage(kS2 + 100, "s2", 1);
  auto js = take<JoinState>(kS2 + 100);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "waiting");
  get(kAlice, 3, "k");
  EXPECT_TRUE(take<Read>(kS2 + 100).empty());
  // s1 returns with everything: it serves, and s2 catches up from it.
  storage(kS1 + 100, "s1", 2);
  auto reads = take<Read>(kS1 + 100);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].at, 2u);
  EXPECT_EQ(take<CatchupFetch>(kS1 + 100).size(), 1u);
}

// Found by the frontend model property: a node that joined while its last disk batch
// was still in flight reports the rest in a later ack. That ack must count.
TEST_F(FrontendTest, AWaitingNodeWhoseAckReachesWBecomesAMember) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v1");
  put(kAlice, 2, "k", "v2");
  ack(kS1, 2);
  fe_.on_closed(kS1, now_);  // total failure at W=2
  drain();
  // s1 reconnects before its last batch reached the disk: it joins holding only 1.
  storage(kS1 + 100, "s1", 1);
  auto js = take<JoinState>(kS1 + 100);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "waiting");
  ack(kS1 + 100, 2);  // the batch lands
  js = take<JoinState>(kS1 + 100);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "member");
  get(kAlice, 3, "k");
  auto reads = take<Read>(kS1 + 100);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].at, 2u);
}

TEST_F(FrontendTest, ACatchingUpNodeWhoseAckReachesItsTargetNeedsNoDonor) {
  storage(kS1, "s1", 0);
  storage(kS2, "s2", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v1");
  put(kAlice, 2, "k", "v2");
  ack(kS1, 2);
  ack(kS2, 2);
  fe_.on_closed(kS2, now_);
  drain();
  storage(kS2 + 100, "s2", 1);  // its batch with lsn 2 is still in flight
  auto js = take<JoinState>(kS2 + 100);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "catching_up");
  fe_.on_closed(kS1, now_);  // the donor dies before sending anything
  drain();
  ack(kS2 + 100, 2);  // the batch lands: nothing is missing any more
  js = take<JoinState>(kS2 + 100);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "member");
  EXPECT_EQ(fe_.status()["members"], 1);
}

TEST_F(FrontendTest, WithNoMemberRequestsFailAfterTheUnavailableTimeout) {
  storage(kS1, "s1", 0);
  fe_.on_closed(kS1, now_);  // the cluster had a member, which is gone now
  drain();
  client(kAlice, "alice");
  get(kAlice, 1, "k");
  put(kAlice, 2, "k", "v");
  advance(2 * kSecond);
  EXPECT_TRUE(take<Response>(kAlice).empty()) << "failed before unavailable_timeout";
  advance(2 * kSecond);
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].seq, 1u);
  EXPECT_EQ(r[0].status, Status::kUnavailable);
  EXPECT_EQ(r[1].seq, 2u);
  EXPECT_EQ(r[1].status, Status::kUnavailable);
  EXPECT_NE(r[1].detail.find("may still be applied"), std::string::npos);
  // The PUT stays buffered and reaches the first node that joins.
  storage(kS1 + 100, "s1", 0);
  auto w = take<Write>(kS1 + 100);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].entry.value, "v");
}

TEST_F(FrontendTest, BeforeAnyNodeDefinedTheDataAPutIsNotStartedAndFailsWithoutEffect) {
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  advance(4 * kSecond);
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kUnavailable);
  EXPECT_EQ(r[0].detail.find("may still be applied"), std::string::npos);
  storage(kS1, "s1", 0);
  EXPECT_TRUE(take<Write>(kS1).empty()) << "a PUT answered unavailable without an LSN was applied";
}

TEST_F(FrontendTest, BadHelloIsRefusedAndClosed) {
  fe_.on_accepted(kAlice, Listener::kClients, kLocal, now_);
  fe_.on_message(kAlice, Hello{"storage", kProtocolVersion, "x", ""}, now_);
  drain();
  ASSERT_EQ(take<Error>(kAlice).size(), 1u);
  EXPECT_TRUE(was_closed(kAlice));

  fe_.on_accepted(kBob, Listener::kClients, kLocal, now_);
  fe_.on_message(kBob, Request{1, Op::kGet, "k", "", 0}, now_);
  drain();
  auto e = take<Error>(kBob);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "expected_hello");

  fe_.on_accepted(kS1, Listener::kStorage, kLocal, now_);
  fe_.on_message(kS1, Hello{"storage", 99, "s1", ""}, now_);
  drain();
  e = take<Error>(kS1);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "bad_version");
}

TEST_F(FrontendTest, OversizedKeyOrValueIsRejectedWithoutEffect) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, std::string(2000, 'k'), "v");
  EXPECT_TRUE(take<Write>(kS1).empty());
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kRejected);
  EXPECT_NE(r[0].detail.find("max_key_bytes"), std::string::npos);
  put(kAlice, 2, "k", std::string(FrontendConfig{}.max_value_bytes + 1, 'v'));
  EXPECT_TRUE(take<Write>(kS1).empty());
  r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, Status::kRejected);
  EXPECT_NE(r[0].detail.find("max_value_bytes"), std::string::npos);
}

TEST_F(FrontendTest, InvalidRequestIsRejectedAtOnceEvenBehindAWaitingGet) {
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");  // no storage node: the PUT and the GET behind it wait
  get(kAlice, 2, "k");
  put(kAlice, 3, "", "v");
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 3u);
  EXPECT_EQ(r[0].status, Status::kRejected);
  advance(4 * kSecond);  // past unavailable_timeout: the two waiting ones fail
  r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, Status::kUnavailable);
  EXPECT_EQ(r[1].status, Status::kUnavailable);
}

TEST_F(FrontendTest, ASessionHoldsAtMostMaxClientOutstandingRequests) {
  const std::uint64_t limit = FrontendConfig{}.max_client_outstanding;
  client(kAlice, "alice");
  for (std::uint64_t seq = 1; seq <= limit; ++seq) put(kAlice, seq, "k", "v");  // all wait
  EXPECT_FALSE(was_closed(kAlice));
  put(kAlice, limit + 1, "k", "v");
  auto errors = take<Error>(kAlice);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "too_many_requests");
  EXPECT_NE(errors[0].message.find("max_client_outstanding"), std::string::npos);
  EXPECT_TRUE(was_closed(kAlice));
  fe_.on_closed(kAlice, now_);
  // The refused request was not recorded: once the others are answered and confirmed
  // (done_below), its resend is served like any new request.
  storage(kS1, "s1", 0);
  ack(kS1, limit);
  client(kBob, "alice");
  fe_.on_message(kBob, Request{limit + 1, Op::kPut, "k", "v2", limit + 1}, now_);
  drain();
  auto writes = take<Write>(kS1);
  ASSERT_FALSE(writes.empty());
  EXPECT_EQ(writes.back().entry, (Entry{limit + 1, "k", "v2"}));
}

// ---- bounded memory: PUTs in flight ------------------------------------------------

class FrontendBackpressureTest : public FrontendTest {
 protected:
  FrontendBackpressureTest() {
    FrontendConfig c = config();
    c.max_inflight_writes = 2;
    c.max_inflight_write_bytes = 20;
    instance_.emplace(c, SeedKey{1, 2, 3});
    sent_.clear();
    fe_.on_start(now_);
    drain();
    storage(kS1, "s1", 0);
  }
  std::vector<Lsn> written() {
    std::vector<Lsn> lsns;
    for (const Write& w : take<Write>(kS1)) lsns.push_back(w.entry.lsn);
    return lsns;
  }
  std::vector<std::pair<ConnId, bool>> pauses() {
    std::vector<std::pair<ConnId, bool>> out;
    for (const PauseReading& p : std::exchange(pauses_, {})) out.emplace_back(p.conn, p.paused);
    return out;
  }
  using Pauses = std::vector<std::pair<ConnId, bool>>;
};

TEST_F(FrontendBackpressureTest, AtMaxInflightWritesTheNextPutWaitsUnreadAndStartsOnCommit) {
  client(kAlice, "alice");
  put(kAlice, 1, "k", "a");
  put(kAlice, 2, "k", "b");
  EXPECT_EQ(written(), (std::vector<Lsn>{1, 2}));
  EXPECT_TRUE(pauses().empty());
  put(kAlice, 3, "k", "c");  // a third in flight would pass the bound
  EXPECT_TRUE(written().empty());
  EXPECT_EQ(pauses(), (Pauses{{kAlice, true}}));  // its connection is not read meanwhile
  EXPECT_EQ(fe_.status()["sessions_waiting_for_room"], 1);
  ack(kS1, 1);  // one committed: room for one
  EXPECT_EQ(written(), (std::vector<Lsn>{3}));
  EXPECT_EQ(pauses(), (Pauses{{kAlice, false}}));
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 1u);
  ack(kS1, 3);
  EXPECT_EQ(take<Response>(kAlice).size(), 2u);
  EXPECT_EQ(fe_.status()["uncommitted"], 0);
  EXPECT_EQ(fe_.status()["inflight_write_bytes"], 0);
}

TEST_F(FrontendBackpressureTest, TheByteBoundCountsKeysAndValuesButOnePutAlwaysFits) {
  client(kAlice, "alice");
  put(kAlice, 1, "k", std::string(30, 'x'));  // over the 20-byte bound alone: it still starts
  EXPECT_EQ(written(), (std::vector<Lsn>{1}));
  put(kAlice, 2, "k", "y");
  EXPECT_TRUE(written().empty());
  EXPECT_EQ(pauses(), (Pauses{{kAlice, true}}));
  ack(kS1, 1);
  EXPECT_EQ(written(), (std::vector<Lsn>{2}));
  put(kAlice, 3, "k", std::string(16, 'z'));  // 2 + 17 bytes fit in 20
  EXPECT_EQ(written(), (std::vector<Lsn>{3}));
  put(kAlice, 4, "k", "w");  // 2 + 17 + 2 do not
  EXPECT_TRUE(written().empty());
  EXPECT_EQ(fe_.status()["inflight_write_bytes"], 19);
}

TEST_F(FrontendBackpressureTest, WaitingSessionsGetRoomFirstComeFirstServed) {
  client(kAlice, "alice");
  client(kBob, "bob");
  put(kAlice, 1, "a", "1");
  put(kAlice, 2, "a", "2");
  put(kAlice, 3, "a", "3");  // waits
  put(kBob, 1, "b", "1");    // waits behind alice
  EXPECT_EQ(written(), (std::vector<Lsn>{1, 2}));
  EXPECT_EQ(pauses(), (Pauses{{kAlice, true}, {kBob, true}}));
  ack(kS1, 1);  // room for one: alice's, bob still waits unread
  ASSERT_EQ(take<Write>(kS1).size(), 1u);
  EXPECT_EQ(pauses(), (Pauses{{kAlice, false}}));
  ack(kS1, 3);  // room for two: bob's PUT starts, and a newcomer is not held back
  auto w = take<Write>(kS1);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].entry.key, "b");
  EXPECT_EQ(pauses(), (Pauses{{kBob, false}}));
  put(kAlice, 4, "a", "4");
  EXPECT_EQ(take<Write>(kS1).size(), 1u);
  EXPECT_TRUE(pauses().empty());
}

TEST_F(FrontendBackpressureTest, AWaitingSessionsNewConnectionIsPausedAndAFailedPutResumesIt) {
  client(kAlice, "alice");
  put(kAlice, 1, "k", "a");
  put(kAlice, 2, "k", "b");
  put(kAlice, 3, "k", "c");
  EXPECT_EQ(pauses(), (Pauses{{kAlice, true}}));
  fe_.on_closed(kAlice, now_);
  client(kBob, "alice");  // the same session on a new connection: still waiting
  EXPECT_EQ(pauses(), (Pauses{{kBob, true}}));
  // The only member leaves: after unavailable_timeout the waiting PUT fails (without
  // effect, it never got an LSN) and the session no longer waits.
  fe_.on_closed(kS1, now_);
  drain();
  advance(4 * kSecond);
  auto r = take<Response>(kBob);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[2].seq, 3u);
  EXPECT_EQ(r[2].status, Status::kUnavailable);
  EXPECT_EQ(r[2].detail.find("may still be applied"), std::string::npos);
  EXPECT_EQ(pauses(), (Pauses{{kBob, false}}));
  EXPECT_EQ(fe_.status()["sessions_waiting_for_room"], 0);
}

TEST_F(FrontendTest, ADisconnectedIdleSessionIsForgottenAndItsReturnIsToldSessionLost) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  put(kAlice, 1, "k", "v");
  ack(kS1, 1);
  ASSERT_EQ(take<Response>(kAlice).size(), 1u);
  ASSERT_EQ(take<Write>(kS1).size(), 1u);
  fe_.on_closed(kAlice, now_);
  const Nanos idle = seconds_to_nanos(FrontendConfig{}.session_idle_timeout);
  advance(idle - kSecond);
  EXPECT_EQ(fe_.status()["clients"], 1u) << "forgotten too early";
  advance(2 * kSecond);
  EXPECT_EQ(fe_.status()["clients"], 0u);
  EXPECT_EQ(fe_.status()["sessions_expired"], 1u);
  // Back with a request it may have sent before: the frontend cannot tell, so it says so.
  client(kBob, "alice");
  fe_.on_message(kBob, Request{2, Op::kPut, "k", "v2", 2}, now_);
  drain();
  auto errors = take<Error>(kBob);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "session_lost");
  EXPECT_TRUE(was_closed(kBob));
  EXPECT_EQ(fe_.status()["next_lsn"], 2u) << "a possibly resent PUT was executed";
}

TEST_F(FrontendTest, AResumingClientTheFrontendDoesNotKnowIsToldSessionLostAtHello) {
  // Even a resend of seq 1 must not run again: the Hello says the session is not new.
  fe_.on_accepted(kAlice, Listener::kClients, kLocal, now_);
  fe_.on_message(kAlice, Hello{"client", kProtocolVersion, "alice", "", /*resume=*/true}, now_);
  fe_.on_message(kAlice, Request{1, Op::kPut, "k", "v", 1}, now_);
  drain();
  auto errors = take<Error>(kAlice);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "session_lost");
  EXPECT_TRUE(was_closed(kAlice));
  EXPECT_EQ(fe_.status()["next_lsn"], 1u);
  // A known session resumes as before.
  client(kBob, "bob");
  put(kBob, 1, "k", "v");
  fe_.on_closed(kBob, now_);
  fe_.on_accepted(kS3, Listener::kClients, kLocal, now_);
  fe_.on_message(kS3, Hello{"client", kProtocolVersion, "bob", "", /*resume=*/true}, now_);
  drain();
  EXPECT_EQ(take<Welcome>(kS3).size(), 1u);
}

TEST_F(FrontendTest, ConnectedOrBusySessionsAreKept) {
  client(kAlice, "alice");  // connected, idle
  client(kBob, "bob");
  get(kBob, 1, "k");  // no storage node: waits, then fails unavailable
  fe_.on_closed(kBob, now_);
  advance(seconds_to_nanos(FrontendConfig{}.session_idle_timeout) + 2 * kSecond);
  // bob's GET failed after unavailable_timeout; his idle time counts from his disconnect,
  // so he is gone; alice, connected, stays.
  EXPECT_EQ(fe_.status()["clients"], 1u);
  EXPECT_EQ(fe_.status()["clients_connected"], 1u);
}

TEST(FrontendLimits, ConnectionsFromOneAddressAreCappedOnAllPortsTogether) {
  FrontendConfig c;
  c.secret = "s";  // network peers allowed
  c.max_connections_per_address = 2;
  Frontend fe(c, SeedKey{4, 5, 6});
  fe.on_start(0);
  fe.outbox().take();
  const auto refused = [&](ConnId conn) {
    for (const Effect& e : fe.outbox().take()) {
      const auto* s = std::get_if<Send>(&e);
      if (s != nullptr && s->conn == conn && std::holds_alternative<Error>(s->msg)) {
        return std::get<Error>(s->msg).code;
      }
    }
    return std::string();
  };
  fe.on_accepted(kAlice, Listener::kClients, PeerAddress{"10.0.0.1:1001", false}, 0);
  EXPECT_EQ(refused(kAlice), "");
  fe.on_accepted(kS1, Listener::kStorage, PeerAddress{"10.0.0.1:1002", false}, 0);
  EXPECT_EQ(refused(kS1), "");
  fe.on_accepted(kBob, Listener::kClients, PeerAddress{"10.0.0.1:1003", false}, 0);
  EXPECT_EQ(refused(kBob), "too_many_connections");
  fe.on_accepted(kS2, Listener::kClients, PeerAddress{"10.0.0.2:1004", false}, 0);
  EXPECT_EQ(refused(kS2), "") << "another address has its own count";
  fe.on_closed(kBob, 0);
  fe.on_closed(kAlice, 0);
  fe.on_accepted(kS3, Listener::kClients, PeerAddress{"10.0.0.1:1005", false}, 0);
  EXPECT_EQ(refused(kS3), "") << "a closed connection frees its place";
}

TEST_F(FrontendTest, ProtocolErrorClosesOnlyThatConnection) {
  storage(kS1, "s1", 0);
  client(kAlice, "alice");
  client(kBob, "bob");
  fe_.on_protocol_error(kBob, "frame of 99999999 bytes exceeds the limit", now_);
  drain();
  EXPECT_TRUE(was_closed(kBob));
  put(kAlice, 1, "k", "v");
  ack(kS1, 1);
  EXPECT_EQ(take<Response>(kAlice).size(), 1u);
}

}  // namespace
}  // namespace kvs

namespace kvs {
namespace {

// s1 and s2 hold k=v1 (acknowledged); s1 alone also holds LSN 2 (k=v2, never
// acknowledged) when the frontend dies.
class FrontendRestartTest : public FrontendTest {
 protected:
  FrontendRestartTest() {
    storage(kS1, "s1", 0);
    storage(kS2, "s2", 0);
    client(kAlice, "alice");
    put(kAlice, 1, "k", "v1");
    ack(kS1, 1);
    ack(kS2, 1);
    put(kAlice, 2, "k", "v2");
    ack(kS1, 2);
    EXPECT_EQ(fe_.commit_watermark(), 1u);
    EXPECT_EQ(take<Response>(kAlice).size(), 1u);  // seq 1 only
  }
};

TEST_F(FrontendRestartTest, TheStateFileNamesTheMembersAndReservesLsnsAhead) {
  auto state = std::get<FrontendState>(read_frontend_state(state_file_, "state"));
  EXPECT_EQ(state.members, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_GE(state.reserved, 2u);
  EXPECT_TRUE(state.discarded.empty());
}

TEST_F(FrontendRestartTest, ANodeOutsideTheLastMembersWaitsAndRequestsWaitWithIt) {
  restart();
  storage(kS3, "s3", 0);
  auto js = take<JoinState>(kS3);
  ASSERT_EQ(js.size(), 1u);
  EXPECT_EQ(js[0].state, "waiting");
  EXPECT_TRUE(take<Discard>(kS3).empty());
  client(kBob, "bob");
  get(kBob, 1, "k");
  put(kBob, 2, "j", "x");
  EXPECT_TRUE(take<Read>(kS3).empty());
  EXPECT_TRUE(take<Write>(kS3).empty());
  EXPECT_EQ(fe_.status()["ready"], false);
}

TEST_F(FrontendRestartTest, ALastMemberDefinesTheDataAndTheUnacknowledgedTailIsDiscarded) {
  const Lsn reserved = std::get<FrontendState>(read_frontend_state(state_file_, "s")).reserved;
  restart();
  client(kBob, "bob");
  get(kBob, 1, "k");
  storage(kS2, "s2", 1);  // holds v1 only
  auto discard = take<Discard>(kS2);
  ASSERT_EQ(discard.size(), 1u);
  EXPECT_EQ(discard[0].ranges, (std::vector<LsnRange>{{1, reserved}}));
  EXPECT_EQ(fe_.commit_watermark(), reserved);
  // The discard is recorded before any node hears of it.
  auto state = std::get<FrontendState>(read_frontend_state(state_file_, "state"));
  EXPECT_EQ(state.discarded, (std::vector<LsnRange>{{1, reserved}}));
  EXPECT_GT(state.reserved, reserved);

  fe_.on_message(kS2, Join{reserved}, now_);  // discarded: holds everything <= reserved
  drain();
  auto js = take<JoinState>(kS2);
  ASSERT_FALSE(js.empty());
  EXPECT_EQ(js.back().state, "member");
  auto reads = take<Read>(kS2);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].at, reserved);
  fe_.on_message(kS2, ReadReply{reads[0].req, true, "v1", 1}, now_);
  drain();
  auto r = take<Response>(kBob);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].value, "v1");

  // s1 held LSN 2 (k=v2): it must discard it too, then it is complete.
  storage(kS1, "s1", 2);
  ASSERT_EQ(take<Discard>(kS1).size(), 1u);
  fe_.on_message(kS1, Join{reserved}, now_);
  drain();
  EXPECT_EQ(take<JoinState>(kS1).back().state, "member");

  put(kBob, 2, "k", "v3");
  auto w = take<Write>(kS1);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].entry.lsn, reserved + 1) << "an LSN an earlier run handed out was reused";
}

TEST_F(FrontendRestartTest, NothingIsAcknowledgedUntilTheShrunkMemberSetIsRecorded) {
  hold_disk_ = true;
  fe_.on_closed(kS2, now_);  // s2 leaves: the state file still names it
  drain();
  ASSERT_EQ(held_writes_.size(), 1u);
  ack(kS1, 2);
  EXPECT_TRUE(take<Response>(kAlice).empty()) << "acknowledged before {s1} was recorded";
  finish_held_writes();
  auto r = take<Response>(kAlice);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].seq, 2u);
  EXPECT_EQ(std::get<FrontendState>(read_frontend_state(state_file_, "s")).members,
            (std::vector<std::string>{"s1"}));
}

TEST_F(FrontendRestartTest, AcceptDataLossLetsAnyNodeDefineTheData) {
  FrontendConfig c = config();
  c.accept_data_loss = true;
  restart(c);
  storage(kS3, "s3", 0);
  ASSERT_EQ(take<Discard>(kS3).size(), 1u);
  EXPECT_EQ(fe_.status()["ready"], true);
}

TEST_F(FrontendRestartTest, ResumingClientsAreToldTheirSessionWasLost) {
  restart();
  fe_.on_accepted(kAlice, Listener::kClients, kLocal, now_);
  fe_.on_message(kAlice, Hello{"client", kProtocolVersion, "alice", "", true}, now_);
  drain();
  auto e = take<Error>(kAlice);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].code, "session_lost");
}

}  // namespace
}  // namespace kvs
