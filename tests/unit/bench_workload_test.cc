#include "net/bench_workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace kvs::bench {
namespace {

// Draws many ranks and compares each rank's frequency with the exact Zipf probability
// 1/k^theta / H(n, theta), allowing 5 standard deviations of sampling noise.
void expect_zipf(std::uint64_t n, double theta) {
  ZipfSampler zipf(n, theta);
  std::mt19937_64 rng(1234);
  constexpr int kDraws = 400'000;
  std::vector<double> counts(n + 1, 0);
  for (int i = 0; i < kDraws; ++i) {
    const std::uint64_t k = zipf(rng);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, n);
    counts[k] += 1;
  }
  double norm = 0;
  for (std::uint64_t k = 1; k <= n; ++k) norm += std::pow(static_cast<double>(k), -theta);
  for (std::uint64_t k = 1; k <= n; ++k) {
    const double p = std::pow(static_cast<double>(k), -theta) / norm;
    const double sigma = std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(counts[k] / kDraws, p, 5 * sigma + 1e-6)
        << "n=" << n << " theta=" << theta << " rank " << k;
  }
}

TEST(ZipfSampler, MatchesTheExactDistribution) {
  expect_zipf(50, 0.99);
  expect_zipf(50, 0.5);
  expect_zipf(20, 1.0);  // the series branch of the helpers
  expect_zipf(10, 2.5);
  expect_zipf(1000, 0.99);
}

TEST(ZipfSampler, OneElementAlwaysDrawsIt) {
  ZipfSampler zipf(1, 0.99);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(zipf(rng), 1u);
}

TEST(ZipfSampler, HugeKeySpacesStayInRange) {
  ZipfSampler zipf(std::uint64_t{1} << 40, 0.99);
  std::mt19937_64 rng(5);
  std::uint64_t ones = 0;
  for (int i = 0; i < 100'000; ++i) {
    const std::uint64_t k = zipf(rng);
    ASSERT_GE(k, 1u);
    ASSERT_LE(k, std::uint64_t{1} << 40);
    ones += k == 1;
  }
  EXPECT_GT(ones, 1000u);  // rank 1 keeps a few percent of all draws
}

TEST(Workload, SameSeedAndSessionRepeatTheStream) {
  WorkloadOptions o;
  o.distribution = Distribution::kZipf;
  Workload a(o, 7, 3), b(o, 7, 3), c(o, 7, 4);
  int same_as_other_session = 0;
  for (int i = 0; i < 1000; ++i) {
    const bool get = a.next_is_get();
    EXPECT_EQ(get, b.next_is_get());
    c.next_is_get();
    const std::uint64_t k = a.next_key_index();
    EXPECT_EQ(k, b.next_key_index());
    EXPECT_LT(k, o.keys);
    same_as_other_session += k == c.next_key_index();
  }
  EXPECT_LT(same_as_other_session, 200);  // sessions draw different streams
}

TEST(Workload, GetPercentIsHonoured) {
  for (double pct : {0.0, 30.0, 100.0}) {
    WorkloadOptions o;
    o.get_percent = pct;
    Workload w(o, 1, 0);
    int gets = 0;
    for (int i = 0; i < 100'000; ++i) gets += w.next_is_get();
    EXPECT_NEAR(gets / 1000.0, pct, 0.6) << pct;
  }
}

TEST(Workload, UniformKeysCoverTheSpace) {
  WorkloadOptions o;
  o.keys = 10;
  Workload w(o, 1, 0);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(w.next_key_index());
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(*seen.rbegin(), 9u);
}

TEST(Workload, ValuesHaveTheSizeAndAreUnique) {
  WorkloadOptions o;
  o.value_size = 100;
  Workload a(o, 1, 0), b(o, 1, 1);
  std::set<std::string> values;
  for (int i = 0; i < 1000; ++i) {
    for (Workload* w : {&a, &b}) {
      const std::string v = w->next_value();
      EXPECT_EQ(v.size(), 100u);
      EXPECT_TRUE(values.insert(v).second) << v;
    }
  }
  o.value_size = 0;
  EXPECT_EQ(Workload(o, 1, 0).next_value(), "");
  EXPECT_EQ(Workload::key_name(42), "key42");
}

}  // namespace
}  // namespace kvs::bench
