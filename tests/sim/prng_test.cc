// The simulator's PRNG: reproducible, in range, and its streams independent.
#include "sim/prng.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace kvs::sim {
namespace {

TEST(Prng, SameSeedSameSequence) {
  Prng a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Prng, SplitmixMatchesTheReference) {
  std::uint64_t s = 0;
  EXPECT_EQ(splitmix64(&s), 0xe220a8397b1dcdafull);  // Vigna's splitmix64 from state 0
}

TEST(Prng, BelowStaysInRangeAndCoversIt) {
  Prng p(7);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = p.below(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(p.below(1), 0u);
}

TEST(Prng, BelowIsRoughlyUniform) {
  Prng p(9);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 30000; ++i) ++counts[p.below(3)];
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
}

TEST(Prng, RangeAndChance) {
  Prng p(3);
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t v = p.range(5, 8);
    ASSERT_GE(v, 5u);
    ASSERT_LE(v, 8u);
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(p.chance(0));
    EXPECT_TRUE(p.chance(kMillion));
  }
}

TEST(Prng, StreamsAreIndependentAndReproducible) {
  Prng a = Prng::stream(5, "faults"), b = Prng::stream(5, "network");
  Prng a2 = Prng::stream(5, "faults");
  EXPECT_NE(a.next(), b.next());
  Prng a3 = Prng::stream(5, "faults");
  a3.next();
  EXPECT_EQ(a2.next(), Prng::stream(5, "faults").next());
  EXPECT_NE(Prng::stream(5, "faults").next(), Prng::stream(6, "faults").next());
}

}  // namespace
}  // namespace kvs::sim
