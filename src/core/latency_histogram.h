// A latency histogram in fixed memory, HdrHistogram-style (log-linear buckets): values
// below 2^kSubBucketBits are counted exactly; above that every power-of-two range is cut
// into 2^kSubBucketBits equal buckets, so a reported value is at most 1/128 (< 0.8%)
// above the value recorded. With the default range (nanoseconds up to 100 s) that is
// about 4,000 counters, whatever the number of samples.
//
// Units are the caller's (kvbench records nanoseconds). Pure: no clock is read here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvs {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  // The largest relative error of percentile() for any recorded value v: the result r
  // satisfies v <= r <= v * (1 + kRelativeError) (exact below 2^kSubBucketBits).
  static constexpr double kRelativeError = 1.0 / (1 << kSubBucketBits);
  static constexpr std::uint64_t kDefaultHighest = 100'000'000'000;  // 100 s in ns

  // Values above `highest` are counted as `highest` (see clamped()); max() still
  // reports the largest value recorded.
  explicit LatencyHistogram(std::uint64_t highest = kDefaultHighest);

  void record(std::uint64_t value, std::uint64_t count = 1);
  // Adds every sample of `other`. Histograms of different ranges merge too: samples
  // above this one's range are clamped.
  void merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  // 0 when empty.
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  // Samples recorded above highest() (counted as highest()).
  std::uint64_t clamped() const { return clamped_; }
  std::uint64_t highest() const { return highest_; }

  // The value at percentile p (0..100): the smallest recorded value v such that at
  // least p% of samples are <= v, within kRelativeError above it; p = 100 gives max()
  // exactly. 0 when empty. p outside 0..100 is clamped.
  std::uint64_t percentile(double p) const;

  // Bucket arithmetic, public for tests: the bucket of a value, and the largest value
  // that falls in a bucket.
  static std::size_t bucket_of(std::uint64_t value);
  static std::uint64_t bucket_highest(std::size_t bucket);

 private:
  std::uint64_t highest_;
  std::vector<std::uint64_t> counts_;  // one per bucket up to bucket_of(highest_)
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t clamped_ = 0;
  double sum_ = 0;  // double: 1e8 samples of 100 s would overflow 64 bits of ns
};

}  // namespace kvs
