#include "core/replica.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvs {
namespace {

Entry E(Lsn lsn, std::string key, std::string value) {
  return Entry{lsn, std::move(key), std::move(value)};
}

// Every retained version of key, oldest first.
std::vector<Lsn> versions_of(const Replica& r, const std::string& key) {
  std::vector<Lsn> out;
  for (const WalRecord& rec : r.to_records()) {
    if (const auto* e = std::get_if<Entry>(&rec); e != nullptr && e->key == key) {
      out.push_back(e->lsn);
    }
  }
  return out;
}

Replica replay(const std::vector<WalRecord>& records) {
  Replica r;
  for (const WalRecord& rec : records) r.apply_record(rec);
  return r;
}

TEST(ReplicaTest, InOrderWritesAdvanceComplete) {
  Replica r;
  r.apply(E(1, "a", "1"));
  r.apply(E(2, "b", "2"));
  EXPECT_EQ(r.complete(), 2u);
  EXPECT_EQ(r.max_lsn(), 2u);
  EXPECT_EQ(r.key_count(), 2u);
}

TEST(ReplicaTest, GapHoldsCompleteUntilFilled) {
  Replica r;
  r.apply(E(1, "a", "1"));
  r.apply(E(3, "a", "3"));
  r.apply(E(4, "b", "4"));
  EXPECT_EQ(r.complete(), 1u);
  EXPECT_EQ(r.max_lsn(), 4u);
  EXPECT_TRUE(r.contains(3));
  EXPECT_FALSE(r.contains(2));

  r.apply(E(2, "c", "2"));
  EXPECT_EQ(r.complete(), 4u);
}

TEST(ReplicaTest, MarkJumpsOverGapAndFoldsInLaterWrites) {
  Replica r;
  r.apply(E(6, "a", "6"));
  r.apply(E(7, "a", "7"));
  r.apply(E(9, "a", "9"));
  EXPECT_EQ(r.complete(), 0u);

  // A completed catch-up: everything <= 5 is present now; 6 and 7 follow on.
  r.mark_complete(5);
  EXPECT_EQ(r.complete(), 7u);
  EXPECT_TRUE(r.contains(4));
  EXPECT_FALSE(r.contains(8));

  r.mark_complete(3);  // lower marks change nothing
  EXPECT_EQ(r.complete(), 7u);

  r.mark_complete(8);
  EXPECT_EQ(r.complete(), 9u);
}

TEST(ReplicaTest, ApplyIsIdempotentByLsn) {
  Replica r;
  r.apply(E(1, "a", "first"));
  r.apply(E(3, "a", "three"));
  r.apply(E(1, "a", "again"));
  r.apply(E(3, "a", "again"));
  EXPECT_EQ(r.read("a", 1)->value, "first");
  EXPECT_EQ(r.read("a", 3)->value, "three");
  EXPECT_EQ(r.version_count(), 2u);
}

TEST(ReplicaTest, ApplyBelowCompleteIsIgnored) {
  Replica r;
  r.mark_complete(10);
  r.apply(E(4, "a", "old"));
  r.apply(E(0, "b", "no lsn"));
  EXPECT_EQ(r.key_count(), 0u);
  EXPECT_FALSE(r.read("a", 10).has_value());
}

TEST(ReplicaTest, ReadReturnsNewestVersionAtOrBelowWatermark) {
  Replica r;
  r.apply(E(1, "k", "v1"));
  r.apply(E(2, "other", "x"));
  r.apply(E(3, "k", "v3"));
  r.apply(E(4, "k", "v4"));

  EXPECT_FALSE(r.read("k", 0).has_value());
  EXPECT_EQ(r.read("k", 1), E(1, "k", "v1"));
  EXPECT_EQ(r.read("k", 2), E(1, "k", "v1"));
  EXPECT_EQ(r.read("k", 3), E(3, "k", "v3"));
  EXPECT_EQ(r.read("k", 100), E(4, "k", "v4"));
  EXPECT_FALSE(r.read("missing", 100).has_value());
}

TEST(ReplicaTest, PruneKeepsNewestCommittedVersionAndEveryNewerOne) {
  Replica r;
  for (Lsn l = 1; l <= 5; ++l) r.apply(E(l, "k", "v" + std::to_string(l)));
  r.apply(E(6, "j", "j6"));
  r.apply(E(7, "k", "v7"));

  r.prune(4);
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{4, 5, 7}));
  EXPECT_EQ(versions_of(r, "j"), (std::vector<Lsn>{6}));
  EXPECT_EQ(r.read("k", 4)->value, "v4");
  EXPECT_EQ(r.read("k", 6)->value, "v5");
  EXPECT_EQ(r.version_count(), 4u);

  r.prune(6);
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{5, 7}));
  r.prune(3);  // the watermark never goes back
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{5, 7}));
}

TEST(ReplicaTest, PruneHeardBeforeWritesAppliesAsTheyArrive) {
  Replica r;
  r.prune(10);
  r.apply(E(1, "k", "v1"));
  r.apply(E(2, "k", "v2"));
  r.apply(E(3, "k", "v3"));
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{3}));
  r.apply(E(11, "k", "v11"));
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{3, 11}));
}

// Above a gap nothing is pruned: to_records() must keep every lsn beyond complete()
// so that a recovered replica arrives at the same complete() once the gap fills.
TEST(ReplicaTest, PruneStopsAtComplete) {
  Replica r;
  r.apply(E(1, "k", "v1"));
  r.apply(E(2, "k", "v2"));
  r.apply(E(5, "k", "v5"));
  r.apply(E(6, "k", "v6"));
  r.prune(6);
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{2, 5, 6}));

  Replica recovered = replay(r.to_records());
  recovered.apply(E(3, "x", "3"));
  recovered.apply(E(4, "x", "4"));
  EXPECT_EQ(recovered.complete(), 6u);

  r.apply(E(3, "x", "3"));
  r.apply(E(4, "x", "4"));
  EXPECT_EQ(r.complete(), 6u);
  EXPECT_EQ(versions_of(r, "k"), (std::vector<Lsn>{6}));
}

TEST(ReplicaTest, ChunkAfterWalksKeysInOrderWithNewerVersionsOnly) {
  Replica r;
  r.apply(E(1, "b", "b1"));
  r.apply(E(2, "a", "a2"));
  r.apply(E(3, "c", "c3"));
  r.apply(E(4, "b", "b4"));
  r.apply(E(5, "d", "d5"));

  CatchupChunk all = r.chunk_after(1, "", 1 << 20);
  EXPECT_EQ(all.entries, (std::vector<Entry>{E(2, "a", "a2"), E(4, "b", "b4"), E(3, "c", "c3"),
                                             E(5, "d", "d5")}));
  EXPECT_EQ(all.cursor, "d");
  EXPECT_TRUE(all.done);

  // Keys with nothing newer than `after` are skipped but still covered by the cursor.
  CatchupChunk late = r.chunk_after(4, "", 1 << 20);
  EXPECT_EQ(late.entries, (std::vector<Entry>{E(5, "d", "d5")}));
  EXPECT_EQ(late.cursor, "d");
  EXPECT_TRUE(late.done);
}

TEST(ReplicaTest, ChunkAfterStopsAtMaxBytesButAlwaysMakesProgress) {
  Replica r;
  r.apply(E(1, "a", "xxxx"));  // 5 bytes with its key
  r.apply(E(2, "b", "xxxx"));
  r.apply(E(3, "b", "yyyy"));  // b: 10 bytes in all
  r.apply(E(4, "c", "xxxx"));

  CatchupChunk first = r.chunk_after(0, "", 0);
  EXPECT_EQ(first.entries, (std::vector<Entry>{E(1, "a", "xxxx")}));
  EXPECT_EQ(first.cursor, "a");
  EXPECT_FALSE(first.done);

  // A key's versions are never split across chunks.
  CatchupChunk second = r.chunk_after(0, "a", 6);
  EXPECT_EQ(second.entries, (std::vector<Entry>{E(2, "b", "xxxx"), E(3, "b", "yyyy")}));
  EXPECT_EQ(second.cursor, "b");
  EXPECT_FALSE(second.done);

  CatchupChunk both = r.chunk_after(0, "", 6);
  EXPECT_EQ(both.cursor, "b");
  EXPECT_EQ(both.entries.size(), 3u);

  CatchupChunk last = r.chunk_after(0, "b", 100);
  EXPECT_EQ(last.entries, (std::vector<Entry>{E(4, "c", "xxxx")}));
  EXPECT_TRUE(last.done);

  CatchupChunk past_end = r.chunk_after(0, "c", 100);
  EXPECT_TRUE(past_end.entries.empty());
  EXPECT_EQ(past_end.cursor, "c");
  EXPECT_TRUE(past_end.done);
}

TEST(ReplicaTest, ChunksFollowedByMarkRebuildTheDonorState) {
  Replica donor;
  for (Lsn l = 1; l <= 40; ++l) {
    donor.apply(E(l, "key" + std::to_string(l % 7), std::string(l % 5, 'v')));
  }
  donor.prune(30);

  Replica joiner;
  for (Lsn l = 1; l <= 10; ++l) {
    joiner.apply(E(l, "key" + std::to_string(l % 7), std::string(l % 5, 'v')));
  }
  std::string cursor;
  int chunks = 0;
  for (bool done = false; !done; ++chunks) {
    CatchupChunk c = donor.chunk_after(joiner.complete(), cursor, 8);
    for (const Entry& e : c.entries) joiner.apply(e);
    cursor = c.cursor;
    done = c.done;
  }
  joiner.mark_complete(40);
  EXPECT_GT(chunks, 2);
  EXPECT_EQ(joiner.complete(), 40u);
  for (int k = 0; k < 7; ++k) {
    std::string key = "key" + std::to_string(k);
    for (Lsn at = 30; at <= 40; ++at) EXPECT_EQ(joiner.read(key, at), donor.read(key, at));
  }
}

TEST(ReplicaTest, ToRecordsReplaysToTheSameState) {
  Replica r;
  for (Lsn l = 1; l <= 20; ++l) r.apply(E(l, "k" + std::to_string(l % 3), std::to_string(l)));
  r.apply(E(25, "late", "25"));  // above a gap
  r.prune(15);

  std::vector<WalRecord> records = r.to_records();
  EXPECT_EQ(records.back(), WalRecord(MarkRecord{20}));

  Replica copy = replay(records);
  EXPECT_EQ(copy.complete(), r.complete());
  EXPECT_EQ(copy.max_lsn(), r.max_lsn());
  EXPECT_EQ(copy.key_count(), r.key_count());
  EXPECT_EQ(copy.to_records(), records);
  EXPECT_TRUE(copy.contains(25));
  EXPECT_FALSE(copy.contains(24));
}

}  // namespace
}  // namespace kvs

namespace kvs {
namespace {

TEST(ReplicaDiscard, DropsVersionsInTheRangeAndCompletesThroughItsEnd) {
  Replica r = replay({E(1, "a", "a1"), E(2, "b", "b2"), E(3, "a", "a3"), E(5, "c", "c5")});
  ASSERT_EQ(r.complete(), 3u);
  ASSERT_TRUE(r.affected_by(LsnRange{2, 10}));
  ASSERT_TRUE(r.can_discard(LsnRange{2, 10}));
  r.discard(LsnRange{2, 10});
  EXPECT_EQ(r.read("a", 10)->value, "a1");
  EXPECT_EQ(r.read("b", 10)->value, "b2");
  EXPECT_FALSE(r.read("c", 10).has_value());
  EXPECT_EQ(r.complete(), 10u);
  EXPECT_EQ(r.max_lsn(), 10u);
  EXPECT_EQ(r.version_count(), 2u);
  EXPECT_FALSE(r.affected_by(LsnRange{2, 10}));
  // A replayed old write of the range changes nothing: the range counts as held.
  r.apply(E(4, "a", "stale"));
  EXPECT_EQ(r.read("a", 10)->value, "a1");
}

TEST(ReplicaDiscard, BelowTheRangeAGapStaysAGap) {
  Replica r = replay({E(1, "a", "a1"), E(7, "a", "a7")});
  r.discard(LsnRange{5, 10});
  EXPECT_EQ(r.complete(), 1u) << "LSNs 2..5 are still missing";
  EXPECT_EQ(versions_of(r, "a"), (std::vector<Lsn>{1}));
}

TEST(ReplicaDiscard, SurvivesRecoveryAsALogRecord) {
  const std::vector<WalRecord> log = {E(1, "a", "a1"), E(3, "a", "a3"),
                                      DiscardRecord{LsnRange{1, 9}}, E(10, "a", "a10")};
  Replica r = replay(log);
  EXPECT_EQ(versions_of(r, "a"), (std::vector<Lsn>{1, 10}));
  EXPECT_EQ(r.complete(), 10u);
  EXPECT_EQ(versions_of(replay(r.to_records()), "a"), (std::vector<Lsn>{1, 10}));
}

TEST(ReplicaDiscard, ARangeBelowThePruneBoundCannotBeDiscarded) {
  Replica r = replay({E(1, "a", "a1"), E(2, "b", "b2"), E(3, "a", "a3")});
  r.prune(3);
  EXPECT_FALSE(r.can_discard(LsnRange{2, 9}));
  EXPECT_TRUE(r.can_discard(LsnRange{3, 9}));
}

}  // namespace
}  // namespace kvs
