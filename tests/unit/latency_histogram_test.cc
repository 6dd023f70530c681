#include "core/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace kvs {
namespace {

// The exact percentile by the histogram's definition: the smallest sample v with at
// least p% of the samples <= v.
std::uint64_t exact_percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  const double want = p / 100.0 * static_cast<double>(v.size());
  std::size_t rank = 1;
  while (rank < v.size() && static_cast<double>(rank) < want * (1 - 1e-12)) ++rank;
  return v[rank - 1];
}

void expect_close(const LatencyHistogram& h, const std::vector<std::uint64_t>& samples, double p) {
  const std::uint64_t exact = exact_percentile(samples, p);
  const std::uint64_t got = h.percentile(p);
  EXPECT_GE(got, exact) << "p" << p;
  EXPECT_LE(static_cast<double>(got),
            static_cast<double>(exact) * (1 + LatencyHistogram::kRelativeError))
      << "p" << p << " exact " << exact;
}

constexpr double kPercentiles[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};

TEST(LatencyHistogram, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  for (double p : kPercentiles) EXPECT_EQ(h.percentile(p), 0u);
}

TEST(LatencyHistogram, OneSampleIsEveryPercentile) {
  LatencyHistogram h;
  h.record(123'456'789);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), 123'456'789u);
  EXPECT_EQ(h.max(), 123'456'789u);
  EXPECT_DOUBLE_EQ(h.mean(), 123'456'789.0);
  // Reported values never exceed the largest sample, so one sample is exact.
  for (double p : kPercentiles) EXPECT_EQ(h.percentile(p), 123'456'789u) << p;
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  std::vector<std::uint64_t> samples;
  for (std::uint64_t v = 0; v < 256; ++v) {
    h.record(v);
    samples.push_back(v);
  }
  for (double p : kPercentiles) EXPECT_EQ(h.percentile(p), exact_percentile(samples, p)) << p;
}

TEST(LatencyHistogram, BucketsCoverEveryValueWithinTheRelativeError) {
  // Walk bucket boundaries across the whole 64-bit range.
  std::size_t previous = 0;
  for (int bit = 0; bit < 64; ++bit) {
    const std::uint64_t low = std::uint64_t{1} << bit;
    std::vector<std::uint64_t> values = {low, low + 1, low + low / 2, low + (low - 1)};
    std::sort(values.begin(), values.end());
    for (std::uint64_t v : values) {
      if (v == 0) continue;
      const std::size_t b = LatencyHistogram::bucket_of(v);
      EXPECT_GE(b, previous) << v;  // monotonic
      previous = b;
      const std::uint64_t top = LatencyHistogram::bucket_highest(b);
      EXPECT_GE(top, v);
      EXPECT_LE(static_cast<double>(top - v),
                static_cast<double>(v) * LatencyHistogram::kRelativeError)
          << v;
      EXPECT_EQ(LatencyHistogram::bucket_of(top), b) << v;
      if (top != std::numeric_limits<std::uint64_t>::max()) {
        EXPECT_EQ(LatencyHistogram::bucket_of(top + 1), b + 1) << v;  // no gaps
      }
    }
  }
}

TEST(LatencyHistogram, PercentilesWithinRelativeErrorOnRandomData) {
  std::mt19937_64 rng(42);
  // Log-normal latencies around 1 ms spread over 1 µs .. seconds, like a real run.
  std::lognormal_distribution<double> dist(std::log(1e6), 1.5);
  for (int round = 0; round < 5; ++round) {
    LatencyHistogram h;
    std::vector<std::uint64_t> samples;
    const int n = 1000 + round * 20'000;
    for (int i = 0; i < n; ++i) {
      const auto v = static_cast<std::uint64_t>(std::min(dist(rng), 9e10));
      samples.push_back(v);
      h.record(v);
    }
    for (double p : kPercentiles) expect_close(h, samples, p);
    EXPECT_EQ(h.count(), samples.size());
    EXPECT_EQ(h.max(), *std::max_element(samples.begin(), samples.end()));
    EXPECT_EQ(h.min(), *std::min_element(samples.begin(), samples.end()));
    double sum = 0;
    for (auto v : samples) sum += static_cast<double>(v);
    EXPECT_NEAR(h.mean(), sum / n, sum / n * 1e-9);
  }
}

TEST(LatencyHistogram, UniformDataOverTheWholeRange) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> dist(0, LatencyHistogram::kDefaultHighest);
  LatencyHistogram h;
  std::vector<std::uint64_t> samples;
  for (int i = 0; i < 50'000; ++i) {
    samples.push_back(dist(rng));
    h.record(samples.back());
  }
  for (double p : kPercentiles) expect_close(h, samples, p);
}

TEST(LatencyHistogram, RecordWithCountEqualsRepeatedRecords) {
  LatencyHistogram a, b;
  a.record(5000, 3);
  for (int i = 0; i < 3; ++i) b.record(5000);
  a.record(7, 0);  // a zero count records nothing
  EXPECT_EQ(a.count(), b.count());
  EXPECT_EQ(a.min(), b.min());
  EXPECT_EQ(a.percentile(50), b.percentile(50));
  EXPECT_DOUBLE_EQ(a.mean(), b.mean());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> dist(1.0 / 2e5);
  LatencyHistogram parts[3], all;
  std::vector<std::uint64_t> samples;
  for (int i = 0; i < 30'000; ++i) {
    const auto v = static_cast<std::uint64_t>(dist(rng));
    parts[i % 3].record(v);
    all.record(v);
    samples.push_back(v);
  }
  LatencyHistogram merged;
  for (const auto& part : parts) merged.merge(part);
  merged.merge(LatencyHistogram());  // merging an empty one changes nothing
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_NEAR(merged.mean(), all.mean(), all.mean() * 1e-12);
  for (double p : kPercentiles) {
    EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
    expect_close(merged, samples, p);
  }
}

TEST(LatencyHistogram, MergeIntoEmptyKeepsMin) {
  LatencyHistogram a, b;
  b.record(900);
  b.record(1200);
  a.merge(b);
  EXPECT_EQ(a.min(), 900u);
  EXPECT_EQ(a.max(), 1200u);
}

TEST(LatencyHistogram, HugeValuesAreClampedButMaxIsExact) {
  LatencyHistogram h(1'000'000);  // 1 ms range
  h.record(10);
  h.record(5'000'000);
  h.record(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.clamped(), 2u);
  EXPECT_EQ(h.max(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.percentile(100), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(h.percentile(10), 10u);
  // A clamped sample reads back as the top of the range (within its bucket).
  EXPECT_GE(h.percentile(50), 1'000'000u);
  EXPECT_LE(h.percentile(50),
            LatencyHistogram::bucket_highest(LatencyHistogram::bucket_of(1'000'000)));
  EXPECT_GT(h.mean(), 1e18);  // the sum does not wrap around
}

TEST(LatencyHistogram, MergeOfAWiderRangeClamps) {
  LatencyHistogram narrow(1000), wide(1'000'000'000);
  wide.record(100);  // exact: below 256
  wide.record(50'000'000);
  narrow.record(2000);  // clamped already
  narrow.merge(wide);
  EXPECT_EQ(narrow.count(), 3u);
  EXPECT_EQ(narrow.clamped(), 2u);
  EXPECT_EQ(narrow.max(), 50'000'000u);
  EXPECT_EQ(narrow.percentile(10), 100u);

  LatencyHistogram wide2(1'000'000'000), narrow2(1000);
  narrow2.record(5000);  // clamped in narrow2, in range for wide2
  wide2.merge(narrow2);
  EXPECT_EQ(wide2.clamped(), 1u);
  EXPECT_EQ(wide2.count(), 1u);
}

TEST(LatencyHistogram, OutOfRangePercentilesClamp) {
  LatencyHistogram h;
  h.record(100);
  h.record(200);
  EXPECT_EQ(h.percentile(-5), 100u);
  EXPECT_EQ(h.percentile(250), 200u);
  EXPECT_EQ(h.percentile(std::nan("")), 200u);
}

TEST(LatencyHistogram, ResetEmptiesIt) {
  LatencyHistogram h;
  h.record(1'000'000, 10);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  h.record(42);
  EXPECT_EQ(h.min(), 42u);
}

TEST(LatencyHistogram, MemoryIsFixed) {
  // The default range needs a few thousand counters, however many samples arrive.
  EXPECT_LT(LatencyHistogram::bucket_of(LatencyHistogram::kDefaultHighest), 4200u);
}

}  // namespace
}  // namespace kvs
