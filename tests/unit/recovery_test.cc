#include "core/recovery.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvs {
namespace {

std::string recovery_log_of(const std::vector<WalRecord>& records) {
  std::string out;
  for (const WalRecord& r : records) out += encode_wal_record(r);
  return out;
}

// One log file, number 1 (what a node that never compacted has).
std::vector<LogFile> one_log(std::string_view bytes, std::string name = "log") {
  return {LogFile{1, std::move(name), bytes}};
}

const Recovered& ok(const std::variant<Recovered, RecoveryError>& result) {
  if (const auto* e = std::get_if<RecoveryError>(&result)) {
    ADD_FAILURE() << "unexpected recovery error: " << e->describe();
    static const Recovered empty;
    return empty;
  }
  return std::get<Recovered>(result);
}

TEST(RecoveryTest, NothingOnDiskIsAnEmptyReplica) {
  auto result = recover(std::nullopt, "snap", {});
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 0u);
  EXPECT_EQ(r.replica.key_count(), 0u);
  EXPECT_EQ(r.log_valid_bytes, 0u);
  EXPECT_EQ(r.log_dropped_bytes, 0u);
  EXPECT_EQ(r.log_records, 0u);
  EXPECT_EQ(r.snapshot_records, 0u);
}

// The replica recovered from a snapshot plus the log written after it equals one that
// applied the same records live: gaps, a catch-up mark and pruning included.
TEST(RecoveryTest, SnapshotPlusLogEqualsApplyingTheRecords) {
  std::vector<WalRecord> before_snapshot = {
      Entry{1, "a", "a1"}, Entry{2, "b", "b2"},
      Entry{3, "a", "a3"}, Entry{7, "c", "c7"},  // streamed while catching up: a gap below it
      Entry{5, "b", "b5"}, MarkRecord{6},
  };
  std::vector<WalRecord> after_snapshot = {
      Entry{8, "a", "a8"},
      Entry{10, "d", "d10"},
      Entry{9, "b", "b9"},
      Entry{12, "a", "a12"},
  };

  Replica live;
  for (const WalRecord& r : before_snapshot) live.apply_record(r);
  live.prune(5);
  std::string snapshot = encode_snapshot(live.to_records(), 4);
  for (const WalRecord& r : after_snapshot) live.apply_record(r);

  const std::string log = recovery_log_of(after_snapshot);
  auto result = recover(snapshot, "data/s1/snapshot", {LogFile{4, "data/s1/wal-000004.log", log}});
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 10u);
  EXPECT_EQ(r.replica.complete(), live.complete());
  EXPECT_EQ(r.replica.max_lsn(), live.max_lsn());
  EXPECT_EQ(r.replica.key_count(), live.key_count());
  EXPECT_EQ(r.snapshot_records, live.to_records().size() - after_snapshot.size());
  EXPECT_EQ(r.log_records, after_snapshot.size());
  EXPECT_EQ(r.log_valid_bytes, recovery_log_of(after_snapshot).size());
  for (const char* key : {"a", "b", "c", "d", "e"}) {
    for (Lsn at = 5; at <= 12; ++at) {
      EXPECT_EQ(r.replica.read(key, at), live.read(key, at)) << key << " at " << at;
    }
  }
  EXPECT_TRUE(r.replica.contains(12));
  EXPECT_FALSE(r.replica.contains(11));
}

TEST(RecoveryTest, LogAloneReplaysInOrder) {
  std::vector<WalRecord> records = {Entry{1, "k", "v1"}, Entry{2, "k", "v2"}, Entry{2, "k", "dup"}};
  auto result = recover(std::nullopt, "snap", one_log(recovery_log_of(records)));
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 2u);
  EXPECT_EQ(r.replica.read("k", 2)->value, "v2");
  EXPECT_EQ(r.log_records, 3u);
}

TEST(RecoveryTest, TornTailIsReportedAndDropped) {
  std::string intact = recovery_log_of({Entry{1, "k", "v1"}, Entry{2, "k", "v2"}});
  std::string torn = encode_wal_record(Entry{3, "k", "v3"});
  std::string log = intact + torn.substr(0, torn.size() / 2);

  auto result = recover(std::nullopt, "snap", one_log(log));
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 2u);
  EXPECT_EQ(r.log_valid_bytes, intact.size());
  EXPECT_EQ(r.log_dropped_bytes, torn.size() / 2);
  EXPECT_EQ(r.log_records, 2u);
}

TEST(RecoveryTest, CorruptionBeforeTheTailIsAnErrorNamingFileAndOffset) {
  std::string first = encode_wal_record(Entry{1, "k", "v1"});
  std::string second = encode_wal_record(Entry{2, "k", "v2"});
  std::string log = first + second;
  log[first.size() + 12] ^= 0x01;  // inside the second record's payload
  log += encode_wal_record(Entry{3, "k", "v3"});

  auto result = recover(std::nullopt, "snap", one_log(log, "data/s1/wal"));
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(result));
  const auto& error = std::get<RecoveryError>(result);
  EXPECT_EQ(error.file, "data/s1/wal");
  EXPECT_EQ(error.offset, first.size());
}

TEST(RecoveryTest, DamagedSnapshotIsAnError) {
  Replica r;
  r.apply(Entry{1, "k", "v"});
  std::string snapshot = encode_snapshot(r.to_records(), 2);
  std::string cut = snapshot.substr(0, snapshot.size() - 5);

  auto result = recover(cut, "data/s1/snapshot", {});
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(result));
  EXPECT_EQ(std::get<RecoveryError>(result).file, "data/s1/snapshot");
}

// A compaction that ended before deleting the logs its snapshot holds: they are
// reported for deletion, not replayed (replaying them could resurrect versions that a
// later discard in the snapshot's history removed).
TEST(RecoveryTest, LogsBelowTheSnapshotsFirstLogAreStale) {
  Replica state;
  state.apply(Entry{1, "k", "v1"});
  const std::string snapshot = encode_snapshot(state.to_records(), 3);
  const std::string stale = recovery_log_of({Entry{1, "k", "v1"}, DiscardRecord{{0, 1}}});
  const std::string live = recovery_log_of({Entry{2, "k", "v2"}});
  auto result = recover(snapshot, "snap",
                        {LogFile{3, "wal-000003.log", live}, LogFile{2, "wal-000002.log", stale},
                         LogFile{1, "wal-000001.log", stale}});
  const Recovered& r = ok(result);
  EXPECT_EQ(r.stale_logs, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(r.log_records, 1u);
  EXPECT_EQ(r.replica.read("k", 1)->value, "v1");  // the discard was not replayed again
  EXPECT_EQ(r.replica.read("k", 2)->value, "v2");
  EXPECT_EQ(r.position.number, 3u);
  EXPECT_EQ(r.position.bytes, live.size());
}

TEST(RecoveryTest, LogsReplayInNumberOrderAndTheNewestIsAppendedTo) {
  const std::string one = recovery_log_of({Entry{1, "k", "v1"}});
  const std::string two = recovery_log_of({Entry{2, "k", "v2"}, Entry{3, "k", "v3"}});
  auto result = recover(std::nullopt, "snap",
                        {LogFile{2, "wal-000002.log", two}, LogFile{1, "wal-000001.log", one}});
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 3u);
  EXPECT_EQ(r.position.number, 2u);
  EXPECT_EQ(r.position.bytes, one.size() + two.size());
  EXPECT_EQ(r.log_valid_bytes, two.size());
}

TEST(RecoveryTest, NoLogYetMeansAppendingToTheSnapshotsFirstLog) {
  const std::string snapshot = encode_snapshot({Entry{1, "k", "v"}}, 5);
  auto result = recover(snapshot, "snap", {});
  const Recovered& r = ok(result);
  EXPECT_EQ(r.position.number, 5u);
  EXPECT_EQ(r.position.bytes, 0u);
}

TEST(RecoveryTest, AMissingLogIsAnError) {
  const std::string log = recovery_log_of({Entry{1, "k", "v1"}});
  auto gap = recover(std::nullopt, "snap",
                     {LogFile{1, "wal-000001.log", log}, LogFile{3, "wal-000003.log", log}});
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(gap));
  EXPECT_NE(std::get<RecoveryError>(gap).reason.find("wal-000002.log is missing"),
            std::string::npos)
      << std::get<RecoveryError>(gap).describe();
  // No snapshot, and the logs do not start at 1: the snapshot was lost.
  auto lost = recover(std::nullopt, "snap", {LogFile{2, "wal-000002.log", log}});
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(lost));
  EXPECT_EQ(std::get<RecoveryError>(lost).file, "wal-000002.log");
}

TEST(RecoveryTest, ATornTailIsAllowedOnlyInTheNewestLog) {
  const std::string intact = recovery_log_of({Entry{1, "k", "v1"}});
  const std::string torn = intact + encode_wal_record(Entry{2, "k", "v2"}).substr(0, 9);
  const std::string next = recovery_log_of({Entry{3, "k", "v3"}});
  auto result = recover(std::nullopt, "snap",
                        {LogFile{1, "wal-000001.log", torn}, LogFile{2, "wal-000002.log", next}});
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(result));
  EXPECT_EQ(std::get<RecoveryError>(result).file, "wal-000001.log");
  EXPECT_EQ(std::get<RecoveryError>(result).offset, intact.size());
}

// Logs are preallocated: zeros after the last record are unused space, not damage.
TEST(RecoveryTest, PreallocatedZerosEndALogCleanly) {
  const std::string intact = recovery_log_of({Entry{1, "k", "v1"}, Entry{2, "k", "v2"}});
  const std::string log = intact + std::string(4096, '\0');
  auto result = recover(std::nullopt, "snap", one_log(log));
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 2u);
  EXPECT_EQ(r.log_valid_bytes, intact.size());
  EXPECT_EQ(r.log_dropped_bytes, 0u);
  EXPECT_EQ(r.position.bytes, intact.size());
  // A torn record in front of the zeros is still a torn tail.
  const std::string torn = intact + "0badc0de {\"t\":\"pu" + std::string(100, '\0');
  auto torn_result = recover(std::nullopt, "snap", one_log(torn));
  const Recovered& t = ok(torn_result);
  EXPECT_EQ(t.log_valid_bytes, intact.size());
  EXPECT_EQ(t.log_dropped_bytes, torn.size() - intact.size());
}

}  // namespace
}  // namespace kvs
