// Drives the storage node's state machine input by input and checks its effects.
#include "core/storage.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/recovery.h"

namespace kvs {
namespace {

constexpr ConnId kFrontend = 1;  // the first outbound connection
constexpr ConnId kProbe = kFirstInboundConn;
constexpr Nanos kStorageT0 = 1000 * kSecond;

template <class T>
std::vector<T> all_of(const std::vector<Effect>& effects) {
  std::vector<T> out;
  for (const Effect& e : effects) {
    if (const auto* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// The messages sent on conn, in order.
std::vector<Message> sent_on(const std::vector<Effect>& effects, ConnId conn) {
  std::vector<Message> out;
  for (const Send& s : all_of<Send>(effects)) {
    if (s.conn == conn) out.push_back(s.msg);
  }
  return out;
}

bool logged(const std::vector<Effect>& effects, const std::string& fragment) {
  for (const LogLine& l : all_of<LogLine>(effects)) {
    if (l.text.find(fragment) != std::string::npos) return true;
  }
  return false;
}

std::string wal(const std::vector<WalRecord>& records) {
  std::string out;
  for (const WalRecord& r : records) out += encode_wal_record(r);
  return out;
}

Entry Ent(Lsn lsn, std::string key, std::string value) {
  return Entry{lsn, std::move(key), std::move(value)};
}

const SeedKey kSeed = {7, 7, 7};
const std::string kStorageNonce(64, 'a');  // the fake frontend's challenge
const PeerAddress kProbePeer{"127.0.0.1:40000", true};

// The hello a node with secret "secret" answers kStorageNonce with.
Hello storage_hello(const std::string& id = "s1") {
  return Hello{"storage", kProtocolVersion, id, auth_proof("secret", kStorageNonce, "storage", id)};
}

class StorageTest : public ::testing::Test {
 protected:
  StorageTest() {
    config_.id = "s1";
    config_.frontend = "127.0.0.1:8001";
    config_.secret = "secret";
    config_.reconnect_max = 0.3;
  }

  // Starts a node and brings its frontend link up (challenge answered: Hello and Join
  // sent).
  void start(Replica recovered = {}, LogPosition log = {}) {
    node_ = std::make_unique<StorageNode>(config_, std::move(recovered), log, kSeed);
    node_->on_start(now_);
    node_->on_connected(kFrontend, now_);
    node_->on_message(kFrontend, Challenge{kStorageNonce}, now_);
    take();
  }

  // Accepts a probe connection; returns the nonce of the challenge it got.
  std::string accept_probe(ConnId conn, const PeerAddress& peer = kProbePeer) {
    node_->on_accepted(conn, Listener::kProbe, peer, now_);
    auto sent = sent_on(take(), conn);
    if (sent.size() != 1 || !std::holds_alternative<Challenge>(sent[0])) {
      ADD_FAILURE() << "no challenge on the probe connection";
      return "";
    }
    return std::get<Challenge>(sent[0]).nonce;
  }

  std::vector<Effect> take() { return node_->outbox().take(); }

  void from_frontend(Message m) { node_->on_message(kFrontend, std::move(m), now_); }
  void write(Lsn lsn, const std::string& key, const std::string& value, Lsn commit = 0) {
    from_frontend(Write{Ent(lsn, key, value), commit});
  }

  // The one disk operation the effects should start.
  DiskAppend only_append(const std::vector<Effect>& effects) {
    auto appends = all_of<DiskAppend>(effects);
    EXPECT_EQ(appends.size(), 1u);
    EXPECT_TRUE(all_of<DiskSnapshot>(effects).empty());
    return appends.empty() ? DiskAppend{0, 0, "", true} : appends[0];
  }

  void disk_ok(std::uint64_t token) { node_->on_disk_done(token, DiskResult{}, now_); }

  StorageConfig config_;
  std::unique_ptr<StorageNode> node_;
  Nanos now_ = kStorageT0;
};

// ---- joining -------------------------------------------------------------------

TEST_F(StorageTest, StartConnectsThenSendsHelloAndJoinWithDurableComplete) {
  Replica recovered;
  for (Lsn l = 1; l <= 5; ++l) recovered.apply(Ent(l, "k" + std::to_string(l), "v"));
  node_ = std::make_unique<StorageNode>(config_, recovered, LogPosition{1, 123}, kSeed);

  node_->on_start(now_);
  auto effects = take();
  auto connects = all_of<Connect>(effects);
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_LT(connects[0].conn, kFirstInboundConn);
  EXPECT_EQ(connects[0].address, "127.0.0.1:8001");
  EXPECT_TRUE(logged(effects, "recovered: 5 keys, complete lsn 5"));

  node_->on_connected(connects[0].conn, now_);
  EXPECT_TRUE(sent_on(take(), connects[0].conn).empty()) << "the frontend speaks first";
  node_->on_message(connects[0].conn, Challenge{kStorageNonce}, now_);
  effects = take();
  EXPECT_EQ(sent_on(effects, connects[0].conn), (std::vector<Message>{storage_hello(), Join{5}}));
  EXPECT_TRUE(logged(effects, "connected to frontend 127.0.0.1:8001, joining with complete=5"));
  EXPECT_EQ(node_->status()["state"], "joining");
}

TEST_F(StorageTest, JoinStatesAreLoggedAndShownInStatus) {
  start();
  from_frontend(Welcome{"frontend"});
  from_frontend(JoinState{"catching_up", "behind by 10 writes"});
  auto effects = take();
  EXPECT_TRUE(logged(effects, "catching up"));
  EXPECT_TRUE(logged(effects, "behind by 10 writes"));
  EXPECT_EQ(node_->status()["state"], "catching_up");

  from_frontend(JoinState{"member", "serving reads at W=10"});
  EXPECT_TRUE(logged(take(), "member: serving reads"));
  EXPECT_EQ(node_->status()["state"], "member");

  from_frontend(JoinState{"waiting", "stale"});
  EXPECT_TRUE(logged(take(), "waiting"));
  EXPECT_EQ(node_->status()["state"], "waiting");
}

// ---- writes and group commit ---------------------------------------------------

TEST_F(StorageTest, WriteIsAckedOnlyAfterItIsDurable) {
  start();
  write(1, "k", "v1");
  auto effects = take();
  DiskAppend append = only_append(effects);
  EXPECT_EQ(append.bytes, wal({Ent(1, "k", "v1")}));
  EXPECT_TRUE(append.sync);
  EXPECT_TRUE(sent_on(effects, kFrontend).empty()) << "no ack before the disk is done";
  EXPECT_EQ(node_->replica().complete(), 0u);

  disk_ok(append.token);
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{Ack{1}}));
  EXPECT_EQ(node_->replica().read("k", 1)->value, "v1");
  EXPECT_EQ(node_->status()["log_bytes"], append.bytes.size());
}

TEST_F(StorageTest, WritesArrivingDuringADiskOpGoOutAsOneAppendAndOneAck) {
  start();
  write(1, "a", "1");
  DiskAppend first = only_append(take());

  write(2, "b", "2");
  write(3, "c", "3");
  write(4, "a", "4");
  EXPECT_TRUE(take().empty()) << "at most one disk operation in flight";
  EXPECT_EQ(node_->status()["pending"], 3);

  disk_ok(first.token);
  auto effects = take();
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{1}}));
  DiskAppend second = only_append(effects);
  EXPECT_EQ(second.bytes, wal({Ent(2, "b", "2"), Ent(3, "c", "3"), Ent(4, "a", "4")}));
  EXPECT_NE(second.token, first.token);

  disk_ok(second.token);
  effects = take();
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{4}}));
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
  EXPECT_EQ(node_->status()["log_bytes"], first.bytes.size() + second.bytes.size());
}

TEST_F(StorageTest, DuplicateWriteIsNotLoggedTwice) {
  start();
  write(1, "k", "v1");
  DiskAppend append = only_append(take());
  write(1, "k", "v1");  // resent while the first copy is in flight
  EXPECT_TRUE(take().empty());

  disk_ok(append.token);
  take();
  write(1, "k", "v1");  // resent after it is durable: answered at once, not logged
  auto effects = take();
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{1}}));
}

TEST_F(StorageTest, WriteAtOrBelowCompleteOnlyNotesTheCommit) {
  Replica recovered;
  for (Lsn l = 1; l <= 5; ++l) recovered.apply(Ent(l, "k", std::to_string(l)));
  start(recovered);
  write(3, "k", "3", /*commit=*/4);
  auto effects = take();
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
  EXPECT_EQ(node_->status()["commit"], 4);
  // The commit watermark prunes: versions of k older than lsn 4 are gone.
  EXPECT_EQ(node_->replica().version_count(), 2u);
}

TEST_F(StorageTest, PingIsAnsweredAtOnceWithTheDurableComplete) {
  start();
  write(1, "k", "v");
  DiskAppend append = only_append(take());
  from_frontend(Ping{0});
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{Ack{0}}));
  disk_ok(append.token);
  take();
  from_frontend(Ping{1});
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{Ack{1}}));
  EXPECT_EQ(node_->status()["commit"], 1);
}

// ---- reads -----------------------------------------------------------------------

TEST_F(StorageTest, ReadAnswersFromDurableDataAtTheWatermark) {
  start();
  write(1, "k", "v1");
  disk_ok(only_append(take()).token);
  take();
  write(2, "k", "v2", /*commit=*/1);
  take();  // lsn 2 is in flight, not durable

  from_frontend(Read{7, "k", 1});
  from_frontend(Read{8, "missing", 1});
  EXPECT_EQ(sent_on(take(), kFrontend),
            (std::vector<Message>{ReadReply{7, true, "v1", 1}, ReadReply{8, false, "", 0}}));
}

TEST_F(StorageTest, ReadAboveWhatTheNodeHoldsIsRefused) {
  start();
  from_frontend(Read{7, "k", 3});
  auto effects = take();
  auto sent = sent_on(effects, kFrontend);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Error>(sent[0]).code, "stale_read");
  ASSERT_EQ(all_of<Close>(effects).size(), 1u);
  EXPECT_EQ(all_of<Close>(effects)[0].conn, kFrontend);
}

// ---- catch-up ------------------------------------------------------------------------

TEST_F(StorageTest, DonorAnswersFetchWithABoundedChunk) {
  Replica recovered;
  recovered.apply(Ent(1, "a", "a1"));
  recovered.apply(Ent(2, "b", "b2"));
  recovered.apply(Ent(3, "c", "c3"));
  start(recovered);
  from_frontend(CatchupFetch{9, 1, "", 1});
  EXPECT_EQ(sent_on(take(), kFrontend),
            (std::vector<Message>{CatchupChunk{9, {Ent(2, "b", "b2")}, "b", false, 0}}));
  from_frontend(CatchupFetch{10, 1, "b", 1});
  EXPECT_EQ(sent_on(take(), kFrontend),
            (std::vector<Message>{CatchupChunk{10, {Ent(3, "c", "c3")}, "c", true, 0}}));
}

TEST_F(StorageTest, CatchupChunkIsConfirmedOnlyOnceDurableAndItsMarkSetsComplete) {
  start();
  from_frontend(JoinState{"catching_up", ""});
  write(6, "k", "k6", /*commit=*/5);  // streamed: above the node's gap
  DiskAppend first = only_append(take());

  from_frontend(CatchupChunk{7, {Ent(3, "k", "k3"), Ent(5, "j", "j5")}, "k", true, 5});
  EXPECT_TRUE(take().empty());

  disk_ok(first.token);
  auto effects = take();
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{0}})) << "gap not filled yet";
  DiskAppend second = only_append(effects);
  EXPECT_EQ(second.bytes, wal({Ent(3, "k", "k3"), Ent(5, "j", "j5"), MarkRecord{5}}));

  disk_ok(second.token);
  effects = take();
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{CatchupApplied{7}, Ack{6}}));
  EXPECT_TRUE(logged(effects, "every write <= 5 is on disk"));
  EXPECT_EQ(node_->replica().complete(), 6u);
  EXPECT_EQ(node_->replica().read("k", 5)->value, "k3");
}

TEST_F(StorageTest, ChunksAndWritesReachTheDiskInArrivalOrder) {
  start();
  write(9, "w", "9", 8);
  DiskAppend first = only_append(take());
  from_frontend(CatchupChunk{1, {Ent(2, "a", "2")}, "a", false, 8});
  write(10, "w", "10", 8);
  from_frontend(CatchupChunk{2, {Ent(8, "b", "8")}, "b", true, 8});
  disk_ok(first.token);
  DiskAppend second = only_append(take());
  EXPECT_EQ(second.bytes,
            wal({Ent(2, "a", "2"), Ent(10, "w", "10"), Ent(8, "b", "8"), MarkRecord{8}}));
  disk_ok(second.token);
  EXPECT_EQ(sent_on(take(), kFrontend),
            (std::vector<Message>{CatchupApplied{1}, CatchupApplied{2}, Ack{10}}));
}

TEST_F(StorageTest, ChunkOfDataAlreadyDurableIsConfirmedAtOnce) {
  Replica recovered;
  recovered.apply(Ent(1, "a", "1"));
  start(recovered);
  from_frontend(CatchupChunk{4, {Ent(1, "a", "1")}, "a", true, 1});
  auto effects = take();
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{CatchupApplied{4}, Ack{1}}));
}

TEST_F(StorageTest, ChunkFromALostConnectionIsNotConfirmedOnTheNextOne) {
  start();
  from_frontend(CatchupChunk{4, {Ent(1, "a", "1")}, "a", false, 3});
  DiskAppend append = only_append(take());
  node_->on_closed(kFrontend, now_);
  node_->on_timer(StorageNode::kReconnectTimer, now_ + 50 * kMillisecond);
  ConnId next = all_of<Connect>(take()).at(0).conn;
  node_->on_connected(next, now_);
  node_->on_message(next, Challenge{kStorageNonce}, now_);
  take();

  disk_ok(append.token);
  EXPECT_EQ(sent_on(take(), next), (std::vector<Message>{Ack{1}}));
}

// ---- compaction ------------------------------------------------------------------------

// Past the threshold, appends move to a new log and the durable state (everything in
// the logs before it) is snapshotted beside them: writes keep being acked meanwhile.
TEST_F(StorageTest, PastTheThresholdAppendsMoveToANewLogAndTheStateIsSnapshotted) {
  config_.snapshot_bytes = 100;
  Replica recovered;
  recovered.apply(Ent(1, "a", "1"));
  recovered.apply(Ent(2, "a", "2"));
  start(recovered, LogPosition{1, 150});

  write(3, "b", "3", /*commit=*/2);
  auto effects = take();
  auto snapshots = all_of<DiskSnapshot>(effects);
  ASSERT_EQ(snapshots.size(), 1u);
  // The durable state (a:1 pruned by commit 2), not the batch: that goes to the new log.
  const auto& content = std::get<std::vector<WalRecord>>(snapshots[0].content);
  EXPECT_EQ(content, (std::vector<WalRecord>{Ent(2, "a", "2"), MarkRecord{2}}));
  EXPECT_EQ(snapshots[0].first_log, 2u);
  auto appends = all_of<DiskAppend>(effects);
  ASSERT_EQ(appends.size(), 1u);
  EXPECT_EQ(appends[0].log, 2u);
  EXPECT_EQ(appends[0].bytes, wal({Ent(3, "b", "3")}));

  // The append finishes first: acked while the snapshot is still being written.
  disk_ok(appends[0].token);
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{Ack{3}}));
  EXPECT_EQ(node_->status()["compacting"], true);
  write(4, "c", "4");
  DiskAppend next = only_append(take());
  EXPECT_EQ(next.log, 2u);
  disk_ok(next.token);
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{Ack{4}}));

  disk_ok(snapshots[0].token);
  effects = take();
  EXPECT_TRUE(logged(effects, "compacted: snapshot of 2 records, logs below wal-000002.log"));
  EXPECT_EQ(node_->status()["compacting"], false);
  // What a restart would read: the snapshot, then log 2.
  const std::string snapshot = encode_snapshot_content(snapshots[0].content, 2);
  const std::string log2 = appends[0].bytes + next.bytes;
  auto recovered_again = recover(snapshot, "snapshot", {LogFile{2, "wal-000002.log", log2}});
  ASSERT_TRUE(std::holds_alternative<Recovered>(recovered_again));
  EXPECT_EQ(std::get<Recovered>(recovered_again).replica.to_records(),
            node_->replica().to_records());
  EXPECT_EQ(node_->status()["log_bytes"], log2.size());
}

// The append that takes the log past the threshold starts the compaction when it is
// done: the snapshot holds exactly what was acked.
TEST_F(StorageTest, LogGrowthTriggersTheSnapshot) {
  config_.snapshot_bytes = 60;
  start();
  for (Lsn l = 1; l <= 10; ++l) {
    write(l, "k", std::string(20, 'x'));
    disk_ok(only_append(take()).token);
    auto effects = take();
    EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{l}}));
    if (auto s = all_of<DiskSnapshot>(effects); !s.empty()) {
      const auto& content = std::get<std::vector<WalRecord>>(s[0].content);
      EXPECT_EQ(content, node_->replica().to_records());
      EXPECT_EQ(s[0].first_log, 2u);
      disk_ok(s[0].token);
      EXPECT_TRUE(logged(take(), "compacted"));
      write(l + 1, "k", "next");
      EXPECT_EQ(only_append(take()).log, 2u);
      return;
    }
  }
  FAIL() << "no snapshot after 10 writes past a 60-byte threshold";
}

// One compaction at a time, and it starts only when no append is in flight (else the
// snapshot would miss what that append holds, and the old log would be deleted).
TEST_F(StorageTest, ASecondCompactionWaitsForTheFirst) {
  config_.snapshot_bytes = 10;
  start(Replica{}, LogPosition{1, 11});
  write(1, "k", "v1");
  auto effects = take();
  auto first = all_of<DiskSnapshot>(effects);
  ASSERT_EQ(first.size(), 1u);
  DiskAppend append = all_of<DiskAppend>(effects).at(0);
  write(2, "k", "v2");  // waits: an append is in flight
  EXPECT_TRUE(all_of<DiskAppend>(take()).empty());
  disk_ok(append.token);
  effects = take();
  EXPECT_TRUE(all_of<DiskSnapshot>(effects).empty()) << "the first is still running";
  append = only_append(effects);
  EXPECT_EQ(append.log, 2u);
  disk_ok(first[0].token);  // done while an append is in flight: no new one yet
  EXPECT_TRUE(all_of<DiskSnapshot>(take()).empty());
  disk_ok(append.token);
  effects = take();
  auto second = all_of<DiskSnapshot>(effects);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].first_log, 3u);
  EXPECT_EQ(std::get<std::vector<WalRecord>>(second[0].content),
            (std::vector<WalRecord>{Ent(1, "k", "v1"), Ent(2, "k", "v2"), MarkRecord{2}}));
}

TEST_F(StorageTest, AFailedSnapshotStopsTheNode) {
  config_.snapshot_bytes = 10;
  start(Replica{}, LogPosition{1, 11});
  write(1, "k", "v1");
  auto snapshots = all_of<DiskSnapshot>(take());
  ASSERT_EQ(snapshots.size(), 1u);
  node_->on_disk_done(snapshots[0].token, DiskResult{false, "fsync snapshot.tmp: EIO"}, now_);
  auto effects = take();
  EXPECT_EQ(all_of<Stop>(effects).size(), 1u);
  EXPECT_TRUE(logged(effects, "snapshot failed: fsync snapshot.tmp: EIO"));
}

// ---- failures --------------------------------------------------------------------------

TEST_F(StorageTest, FailedSyncStopsTheNodeWithoutAcking) {
  start();
  write(1, "k", "v");
  DiskAppend append = only_append(take());
  node_->on_disk_done(append.token, DiskResult{false, "fdatasync: EIO"}, now_);
  auto effects = take();
  EXPECT_TRUE(sent_on(effects, kFrontend).empty());
  ASSERT_EQ(all_of<Stop>(effects).size(), 1u);
  EXPECT_NE(all_of<Stop>(effects)[0].reason.find("fdatasync: EIO"), std::string::npos);
  EXPECT_EQ(all_of<LogLine>(effects).at(0).level, LogLevel::kError);

  // Stopped: nothing more happens, whatever arrives.
  write(2, "k", "v2");
  from_frontend(Ping{1});
  node_->on_closed(kFrontend, now_);
  node_->on_timer(StorageNode::kReconnectTimer, now_);
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(node_->replica().complete(), 0u);
}

TEST_F(StorageTest, ReconnectsWithBackoffAndRejoinsWithWhatItHolds) {
  start();
  write(1, "k", "v");
  disk_ok(only_append(take()).token);
  take();

  node_->on_closed(kFrontend, now_);
  auto effects = take();
  EXPECT_TRUE(logged(effects, "frontend connection lost; reconnecting in 50ms"));
  EXPECT_EQ(all_of<SetTimer>(effects).at(0).at, now_ + 50 * kMillisecond);
  EXPECT_EQ(node_->status()["state"], "connecting");

  // Failed attempts back off 50, 100, 200, then the 300ms cap (reconnect_max).
  std::vector<Nanos> delays;
  ConnId last = kFrontend;
  for (int attempt = 0; attempt < 4; ++attempt) {
    node_->on_timer(StorageNode::kReconnectTimer, now_);
    auto connects = all_of<Connect>(take());
    ASSERT_EQ(connects.size(), 1u);
    EXPECT_GT(connects[0].conn, last) << "a fresh id per attempt";
    last = connects[0].conn;
    node_->on_closed(last, now_);
    effects = take();
    EXPECT_TRUE(logged(effects, "cannot reach frontend"));
    delays.push_back(all_of<SetTimer>(effects).at(0).at - now_);
  }
  EXPECT_EQ(delays, (std::vector<Nanos>{100 * kMillisecond, 200 * kMillisecond, 300 * kMillisecond,
                                        300 * kMillisecond}));

  node_->on_timer(StorageNode::kReconnectTimer, now_);
  ConnId conn = all_of<Connect>(take()).at(0).conn;
  node_->on_closed(kFrontend, now_);  // a stale close of an old attempt: ignored
  EXPECT_TRUE(take().empty());
  node_->on_connected(conn, now_);
  node_->on_message(conn, Challenge{kStorageNonce}, now_);
  EXPECT_EQ(sent_on(take(), conn), (std::vector<Message>{storage_hello(), Join{1}}));

  // An accepted hello resets the backoff.
  node_->on_message(conn, Welcome{"frontend"}, now_);
  node_->on_closed(conn, now_);
  EXPECT_EQ(all_of<SetTimer>(take()).at(0).at, now_ + 50 * kMillisecond);
}

TEST_F(StorageTest, PendingWritesSurviveALostConnection) {
  start();
  write(1, "k", "v1");
  DiskAppend first = only_append(take());
  write(2, "k", "v2");
  node_->on_closed(kFrontend, now_);
  node_->on_timer(StorageNode::kReconnectTimer, now_);
  ConnId conn = all_of<Connect>(take()).at(0).conn;
  node_->on_connected(conn, now_);
  node_->on_message(conn, Challenge{kStorageNonce}, now_);
  EXPECT_EQ(sent_on(take(), conn).at(1), Message(Join{0})) << "joins with what is durable";

  disk_ok(first.token);
  auto effects = take();
  EXPECT_EQ(sent_on(effects, conn), (std::vector<Message>{Ack{1}}));
  disk_ok(only_append(effects).token);
  EXPECT_EQ(sent_on(take(), conn), (std::vector<Message>{Ack{2}}));
}

TEST_F(StorageTest, FrontendErrorIsLoggedAndTheLinkReopened) {
  start();
  from_frontend(Error{"auth_failed", "wrong cluster secret"});
  auto effects = take();
  EXPECT_TRUE(logged(effects, "wrong cluster secret"));
  EXPECT_EQ(all_of<Close>(effects).at(0).conn, kFrontend);
  node_->on_closed(kFrontend, now_);
  EXPECT_EQ(all_of<SetTimer>(take()).size(), 1u);
}

TEST_F(StorageTest, ProtocolErrorFromTheFrontendClosesAndReconnects) {
  start();
  node_->on_protocol_error(kFrontend, "frame of 9999999 bytes exceeds the maximum", now_);
  auto effects = take();
  EXPECT_EQ(
      sent_on(effects, kFrontend),
      (std::vector<Message>{Error{"bad_frame", "frame of 9999999 bytes exceeds the maximum"}}));
  EXPECT_EQ(all_of<Close>(effects).at(0).conn, kFrontend);
  EXPECT_TRUE(logged(effects, "frontend 127.0.0.1:8001"));

  write(1, "k", "v");  // anything more from the closing link is ignored
  EXPECT_TRUE(take().empty());
  node_->on_closed(kFrontend, now_);
  EXPECT_EQ(all_of<SetTimer>(take()).size(), 1u);
}

TEST_F(StorageTest, UnexpectedMessageFromTheFrontendIsRefused) {
  start();
  from_frontend(Request{1, Op::kGet, "k", "", 0});
  auto effects = take();
  auto sent = sent_on(effects, kFrontend);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Error>(sent[0]).code, "unexpected");
  EXPECT_EQ(all_of<Close>(effects).size(), 1u);
}

// ---- probes ------------------------------------------------------------------------------

TEST_F(StorageTest, ProbeGetsStatusAfterHello) {
  start();
  write(1, "k", "v", 1);
  disk_ok(only_append(take()).token);
  write(2, "j", "v", 1);
  take();

  const std::string nonce = accept_probe(kProbe);
  node_->on_message(
      kProbe, Hello{"probe", kProtocolVersion, "", auth_proof("secret", nonce, "probe", "")}, now_);
  node_->on_message(kProbe, StatusRequest{}, now_);
  auto sent = sent_on(take(), kProbe);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0], Message(Welcome{"s1"}));
  const auto& body = std::get<StatusReply>(sent[1]).body;
  EXPECT_EQ(body["id"], "s1");
  EXPECT_EQ(body["state"], "joining");
  EXPECT_EQ(body["complete"], 1);
  EXPECT_EQ(body["max_lsn"], 1);
  EXPECT_EQ(body["keys"], 1);
  EXPECT_EQ(body["commit"], 1);
  EXPECT_EQ(body["in_flight"], 1);
  EXPECT_EQ(body["pending"], 0);
  EXPECT_GT(body["log_bytes"], 0);
}

TEST_F(StorageTest, ProbeWithWrongProofRoleOrVersionIsRefused) {
  start();
  // Each made from the connection's nonce: wrong secret, wrong role, wrong version, none.
  const std::vector<std::pair<std::function<Message(const std::string&)>, std::string>> bad = {
      {[](const std::string& n) {
         return Hello{"probe", kProtocolVersion, "", auth_proof("wrong", n, "probe", "")};
       },
       "auth_failed"},
      {[](const std::string& n) {
         return Hello{"client", kProtocolVersion, "", auth_proof("secret", n, "client", "")};
       },
       "bad_hello"},
      {[](const std::string& n) {
         return Hello{"probe", kProtocolVersion + 1, "", auth_proof("secret", n, "probe", "")};
       },
       "bad_hello"},
      {[](const std::string&) { return StatusRequest{}; }, "bad_hello"},  // not a hello at all
  };
  ConnId conn = kProbe;
  for (const auto& [make, code] : bad) {
    const std::string nonce = accept_probe(++conn);
    const Message m = make(nonce);
    node_->on_message(conn, m, now_);
    node_->on_message(conn, StatusRequest{}, now_);  // ignored: the link is closing
    auto effects = take();
    auto sent = sent_on(effects, conn);
    ASSERT_EQ(sent.size(), 1u) << type_name(m);
    EXPECT_EQ(std::get<Error>(sent[0]).code, code);
    EXPECT_EQ(all_of<Close>(effects).at(0).conn, conn);
  }
}

TEST_F(StorageTest, ProtocolErrorOnAProbeIsAnsweredAndClosed) {
  start();
  accept_probe(kProbe);
  node_->on_protocol_error(kProbe, "invalid JSON at byte 3", now_);
  auto effects = take();
  EXPECT_EQ(sent_on(effects, kProbe),
            (std::vector<Message>{Error{"bad_frame", "invalid JSON at byte 3"}}));
  EXPECT_EQ(all_of<Close>(effects).at(0).conn, kProbe);
  EXPECT_TRUE(logged(effects, "probe connection"));
  node_->on_closed(kProbe, now_);
  EXPECT_TRUE(take().empty()) << "a probe closing is no reason to reconnect";
}

TEST_F(StorageTest, UnexpectedMessageOnAProbeIsRefused) {
  start();
  const std::string nonce = accept_probe(kProbe);
  node_->on_message(
      kProbe, Hello{"probe", kProtocolVersion, "", auth_proof("secret", nonce, "probe", "")}, now_);
  take();
  node_->on_message(kProbe, Write{Ent(1, "k", "v"), 0}, now_);
  auto effects = take();
  EXPECT_EQ(std::get<Error>(sent_on(effects, kProbe).at(0)).code, "unexpected");
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
}

TEST_F(StorageTest, ProbeNoncesDifferAndAReplayedProofIsRefused) {
  start();
  const std::string n1 = accept_probe(kProbe);
  const std::string n2 = accept_probe(kProbe + 1);
  EXPECT_EQ(n1.size(), 64u);
  EXPECT_NE(n1, n2);
  // The proof that was right for the first connection's nonce, replayed on the second.
  node_->on_message(kProbe + 1,
                    Hello{"probe", kProtocolVersion, "", auth_proof("secret", n1, "probe", "")},
                    now_);
  auto sent = sent_on(take(), kProbe + 1);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Error>(sent[0]).code, "auth_failed");
}

TEST_F(StorageTest, ProtectedModeProbePortTakesLoopbackOnly) {
  config_.secret = "";
  start();
  node_->on_accepted(kProbe, Listener::kProbe, PeerAddress{"192.0.2.7:5000", false}, now_);
  auto effects = take();
  auto sent = sent_on(effects, kProbe);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Error>(sent[0]).code, "protected_mode");
  EXPECT_EQ(all_of<Close>(effects).at(0).conn, kProbe);

  // Loopback gets a challenge; without a secret any proof will do.
  const std::string nonce = accept_probe(kProbe + 1);
  node_->on_message(kProbe + 1, Hello{"probe", kProtocolVersion, "", ""}, now_);
  EXPECT_EQ(sent_on(take(), kProbe + 1), (std::vector<Message>{Welcome{"s1"}}));

  // --insecure-no-secret lets the network in.
  config_.insecure_no_secret = true;
  start();
  node_->on_accepted(kProbe + 2, Listener::kProbe, PeerAddress{"192.0.2.7:5001", false}, now_);
  sent = sent_on(take(), kProbe + 2);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Challenge>(sent[0]));
}

TEST_F(StorageTest, MessageBeforeTheChallengeIsRefused) {
  node_ = std::make_unique<StorageNode>(config_, Replica{}, LogPosition{}, kSeed);
  node_->on_start(now_);
  node_->on_connected(kFrontend, now_);
  take();
  from_frontend(Write{Ent(1, "k", "v"), 0});
  auto effects = take();
  auto sent = sent_on(effects, kFrontend);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(std::get<Error>(sent[0]).code, "expected_challenge");
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
}

// ---- planted bugs (kvsim --bug): each switch really changes behaviour ----------------

TEST_F(StorageTest, PlantedAckBeforeFsyncAcksAtOnce) {
  config_.bugs.ack_before_fsync = true;
  start();
  write(1, "k", "v");
  auto effects = take();
  EXPECT_EQ(all_of<DiskAppend>(effects).size(), 1u);
  EXPECT_EQ(sent_on(effects, kFrontend), (std::vector<Message>{Ack{1}}));
}

TEST_F(StorageTest, PlantedReadIgnoresWatermarkReturnsTheNewestVersion) {
  config_.bugs.read_ignores_watermark = true;
  Replica recovered;
  recovered.apply(Ent(1, "k", "v1"));
  recovered.apply(Ent(2, "k", "v2"));
  start(recovered);
  from_frontend(Read{7, "k", 1});
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{ReadReply{7, true, "v2", 2}}));
}

TEST_F(StorageTest, PlantedRejoinServesBeforeCatchupAnswersStaleReads) {
  config_.bugs.rejoin_serves_before_catchup = true;
  start();
  from_frontend(Read{7, "k", 3});
  EXPECT_EQ(sent_on(take(), kFrontend), (std::vector<Message>{ReadReply{7, false, "", 0}}));
}

}  // namespace
}  // namespace kvs

namespace kvs {
namespace {

// After a frontend restart: a node holding k@3 (never committed) above k@1 drops it,
// durably, and only then joins again, now complete up to the range's end.
TEST_F(StorageTest, DiscardIsLoggedThenTheNodeJoinsAgainWithoutThoseVersions) {
  Replica r;
  r.apply(Ent(1, "k", "old"));
  r.apply(Ent(3, "k", "never-acked"));
  start(std::move(r));
  from_frontend(Discard{{LsnRange{1, 100}}});
  auto effects = take();
  EXPECT_TRUE(sent_on(effects, kFrontend).empty()) << "joined before the discard was durable";
  DiskAppend append = only_append(effects);
  EXPECT_EQ(append.bytes, wal({DiscardRecord{LsnRange{1, 100}}}));
  disk_ok(append.token);
  auto sent = sent_on(take(), kFrontend);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0], Message(Join{100}));
  EXPECT_EQ(node_->replica().read("k", 100)->value, "old");
}

TEST_F(StorageTest, DiscardOfNothingHeldJoinsAgainAtOnceWithoutADiskWrite) {
  Replica r;
  r.apply(Ent(1, "k", "v"));
  start(std::move(r));
  from_frontend(Discard{{LsnRange{5, 100}}});
  auto effects = take();
  EXPECT_TRUE(all_of<DiskAppend>(effects).empty());
  auto sent = sent_on(effects, kFrontend);
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent[0], Message(Join{1}));
}

// A write still on its way to the disk when the frontend died is discarded after it.
TEST_F(StorageTest, DiscardFollowsAWriteStillInFlight) {
  start();
  write(1, "k", "in-flight");
  DiskAppend first = only_append(take());
  from_frontend(Discard{{LsnRange{0, 50}}});
  EXPECT_TRUE(all_of<DiskAppend>(take()).empty()) << "one disk operation at a time";
  disk_ok(first.token);
  DiskAppend second = only_append(take());
  EXPECT_EQ(second.bytes, wal({DiscardRecord{LsnRange{0, 50}}}));
  disk_ok(second.token);
  EXPECT_FALSE(node_->replica().read("k", 50).has_value());
  EXPECT_EQ(node_->replica().complete(), 50u);
}

}  // namespace
}  // namespace kvs
