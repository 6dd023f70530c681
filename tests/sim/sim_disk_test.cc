// The simulated disk and storage device: what survives a crash, torn tails, atomic
// snapshot replacement, corruption making a node refuse to start.
#include "sim/sim_disk.h"

#include <gtest/gtest.h>

#include "core/wal.h"
#include "sim/event_queue.h"
#include "sim/sim_storage.h"

namespace kvs::sim {
namespace {

std::string record(Lsn lsn, const std::string& value) {
  return encode_wal_record(Entry{lsn, "k", value});
}

TEST(SimDisk, UnsyncedBytesAreLostOnCrash) {
  SimDisk d;
  Prng rng(1);
  d.append(1, record(1, "a"));
  d.sync(1);
  d.append(1, record(2, "b"));
  EXPECT_EQ(d.log(1), record(1, "a") + record(2, "b"));
  EXPECT_EQ(d.crash(rng, /*torn_ppm=*/0), 0u);
  EXPECT_EQ(d.log(1), record(1, "a"));
  EXPECT_EQ(d.unsynced_bytes(), 0u);
}

TEST(SimDisk, TornCrashKeepsAPrefixOfTheUnsyncedTail) {
  const std::string synced = record(1, "a");
  const std::string tail = record(2, "bbbbbbbbbbbbbbbb");
  bool saw_partial = false;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SimDisk d;
    Prng rng(seed);
    d.append(1, synced);
    d.sync(1);
    d.append(1, tail);
    const std::size_t kept = d.crash(rng, kMillion);
    ASSERT_LE(kept, tail.size());
    ASSERT_EQ(d.durable_log(1), synced + tail.substr(0, kept));
    saw_partial |= kept > 0 && kept < tail.size();
  }
  EXPECT_TRUE(saw_partial);
}

TEST(SimDisk, SnapshotReplacementIsAtomic) {
  SimDisk d;
  Prng rng(1);
  d.write_temp("new");
  EXPECT_FALSE(d.snapshot().has_value());
  d.crash(rng, 0);  // before the rename: the old (absent) snapshot stays
  EXPECT_FALSE(d.snapshot().has_value());
  EXPECT_TRUE(d.has_temp());
  d.rename_temp();
  EXPECT_EQ(d.snapshot(), "new");
  EXPECT_FALSE(d.has_temp());
}

TEST(SimDisk, BitFlipNeedsARecordWithAnIntactSuccessor) {
  Prng rng(4);
  SimDisk one;
  one.append(1, record(1, "a"));
  one.sync(1);
  EXPECT_FALSE(one.flip_bit(rng));  // a damaged last record would pass for a torn write
  SimDisk two;
  two.append(1, record(1, "a") + record(2, "b"));
  two.sync(1);
  const std::string before = two.durable_log(1);
  EXPECT_TRUE(two.flip_bit(rng));
  EXPECT_NE(two.durable_log(1), before);
  EXPECT_EQ(two.durable_log(1).size(), before.size());
}

SimStorage make_storage(EventQueue* q) {
  DiskTiming t;
  t.slow_ppm = 0;
  return SimStorage(q, Prng(1), t);
}

TEST(SimStorage, AppendBecomesDurableOnlyWhenDone) {
  EventQueue q;
  SimStorage s = make_storage(&q);
  std::vector<std::uint64_t> done;
  s.set_done([&](std::uint64_t token, const DiskResult& r) {
    EXPECT_TRUE(r.ok);
    done.push_back(token);
  });
  s.submit(DiskAppend{7, 1, record(1, "a"), true});
  s.submit(DiskAppend{8, 1, record(2, "b"), true});
  while (!q.empty() && done.empty()) q.run_next();
  ASSERT_EQ(done, std::vector<std::uint64_t>{7});
  EXPECT_EQ(s.disk().durable_log(1), record(1, "a"));
  while (!q.empty()) q.run_next();
  EXPECT_EQ(done, (std::vector<std::uint64_t>{7, 8}));
  EXPECT_EQ(s.durable_complete(), 2u);
}

TEST(SimStorage, InjectedFailureReportsAnError) {
  EventQueue q;
  SimStorage s = make_storage(&q);
  std::optional<DiskResult> result;
  s.set_done([&](std::uint64_t, const DiskResult& r) { result = r; });
  s.fail_next();
  s.submit(DiskAppend{1, 1, record(1, "a"), true});
  while (!q.empty()) q.run_next();
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->ok);
  EXPECT_NE(result->error.find("EIO"), std::string::npos);
  EXPECT_EQ(s.disk().durable_log(1), "");  // the fdatasync failed
}

TEST(SimStorage, BootCutsATornTail) {
  EventQueue q;
  SimStorage s = make_storage(&q);
  const std::string good = record(1, "a");
  const std::string torn = record(2, "b").substr(0, 10);
  s.disk().append(1, good + torn);
  s.disk().sync(1);
  SimStorage::Boot boot = s.boot();
  EXPECT_TRUE(boot.refused.empty());
  EXPECT_EQ(boot.torn_bytes_cut, torn.size());
  EXPECT_EQ(boot.log.bytes, good.size());
  EXPECT_EQ(boot.replica.complete(), 1u);
  EXPECT_EQ(s.disk().durable_log(1), good);
}

TEST(SimStorage, CorruptionRefusesToStartAndTheOperatorWipes) {
  EventQueue q;
  SimStorage s = make_storage(&q);
  s.disk().append(1, record(1, "a") + record(2, "b") + record(3, "c"));
  s.disk().sync(1);
  Prng rng(2);
  ASSERT_TRUE(s.disk().flip_bit(rng));
  EXPECT_FALSE(s.durable_complete().has_value());
  SimStorage::Boot boot = s.boot();
  EXPECT_NE(boot.refused.find("wal-000001.log"), std::string::npos);
  EXPECT_EQ(boot.replica.complete(), 0u);  // it rejoins empty
  EXPECT_EQ(s.disk().durable_log(1), "");
}

TEST(SimStorage, CrashMidOperationNeverCompletesIt) {
  EventQueue q;
  SimStorage s = make_storage(&q);
  int completions = 0;
  s.set_done([&](std::uint64_t, const DiskResult&) { ++completions; });
  s.submit(DiskAppend{1, 1, record(1, "a"), true});
  q.run_next();  // the write reached the page cache
  s.crash(0);
  while (!q.empty()) q.run_next();
  EXPECT_EQ(completions, 0);
  EXPECT_EQ(s.disk().durable_log(1), "");
}

}  // namespace
}  // namespace kvs::sim
