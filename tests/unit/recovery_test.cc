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

const Recovered& ok(const std::variant<Recovered, RecoveryError>& result) {
  if (const auto* e = std::get_if<RecoveryError>(&result)) {
    ADD_FAILURE() << "unexpected recovery error: " << e->describe();
    static const Recovered empty;
    return empty;
  }
  return std::get<Recovered>(result);
}

TEST(RecoveryTest, NothingOnDiskIsAnEmptyReplica) {
  auto result = recover(std::nullopt, "snap", "", "log");
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
  std::string snapshot = encode_snapshot(live.to_records());
  for (const WalRecord& r : after_snapshot) live.apply_record(r);

  auto result =
      recover(snapshot, "data/s1/snapshot", recovery_log_of(after_snapshot), "data/s1/wal");
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
  auto result = recover(std::nullopt, "snap", recovery_log_of(records), "log");
  const Recovered& r = ok(result);
  EXPECT_EQ(r.replica.complete(), 2u);
  EXPECT_EQ(r.replica.read("k", 2)->value, "v2");
  EXPECT_EQ(r.log_records, 3u);
}

TEST(RecoveryTest, TornTailIsReportedAndDropped) {
  std::string intact = recovery_log_of({Entry{1, "k", "v1"}, Entry{2, "k", "v2"}});
  std::string torn = encode_wal_record(Entry{3, "k", "v3"});
  std::string log = intact + torn.substr(0, torn.size() / 2);

  auto result = recover(std::nullopt, "snap", log, "log");
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

  auto result = recover(std::nullopt, "snap", log, "data/s1/wal");
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(result));
  const auto& error = std::get<RecoveryError>(result);
  EXPECT_EQ(error.file, "data/s1/wal");
  EXPECT_EQ(error.offset, first.size());
}

TEST(RecoveryTest, DamagedSnapshotIsAnError) {
  Replica r;
  r.apply(Entry{1, "k", "v"});
  std::string snapshot = encode_snapshot(r.to_records());
  std::string cut = snapshot.substr(0, snapshot.size() - 5);

  auto result = recover(cut, "data/s1/snapshot", "", "data/s1/wal");
  ASSERT_TRUE(std::holds_alternative<RecoveryError>(result));
  EXPECT_EQ(std::get<RecoveryError>(result).file, "data/s1/snapshot");
}

}  // namespace
}  // namespace kvs
