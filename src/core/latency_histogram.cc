// LatencyHistogram: see latency_histogram.h.
#include "core/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kvs {

namespace {

constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << LatencyHistogram::kSubBucketBits;

}  // namespace

std::size_t LatencyHistogram::bucket_of(std::uint64_t value) {
  // Values below 2 * kSubBuckets have a bucket each. Above, a value whose highest bit is
  // p keeps its top kSubBucketBits + 1 bits: shift = p - kSubBucketBits, and the bucket
  // is shift * kSubBuckets + (value >> shift), which continues the exact range.
  if (value < 2 * kSubBuckets) return static_cast<std::size_t>(value);
  const int p = std::bit_width(value) - 1;
  const int shift = p - kSubBucketBits;
  return static_cast<std::size_t>(shift * kSubBuckets + (value >> shift));
}

std::uint64_t LatencyHistogram::bucket_highest(std::size_t bucket) {
  if (bucket < 2 * kSubBuckets) return bucket;
  const std::uint64_t shift = bucket / kSubBuckets - 1;
  const std::uint64_t mantissa = bucket - shift * kSubBuckets;  // in [kSubBuckets, 2 kSubBuckets)
  return (mantissa << shift) + ((std::uint64_t{1} << shift) - 1);
}

LatencyHistogram::LatencyHistogram(std::uint64_t highest)
    : highest_(std::max<std::uint64_t>(highest, 1)), counts_(bucket_of(highest_) + 1, 0) {}

void LatencyHistogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  std::size_t bucket;
  if (value > highest_) {
    clamped_ += count;
    bucket = counts_.size() - 1;
  } else {
    bucket = bucket_of(value);
  }
  counts_[bucket] += count;
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = std::max(max_, value);
  count_ += count;
  sum_ += static_cast<double>(value) * static_cast<double>(count);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  std::uint64_t beyond = 0;  // other's samples above this histogram's last bucket
  for (std::size_t i = 0; i < other.counts_.size(); ++i) {
    if (i < counts_.size()) {
      counts_[i] += other.counts_[i];
    } else {
      beyond += other.counts_[i];
    }
  }
  counts_.back() += beyond;
  // Other's clamped samples sit in its last bucket: already in `beyond` when that
  // bucket lies past ours.
  clamped_ += other.counts_.size() > counts_.size() ? beyond : other.clamped_;
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = min_ = max_ = clamped_ = 0;
  sum_ = 0;
}

std::uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p < 100)) return max_;  // also NaN
  p = std::max(p, 0.0);
  // The rank of the sample wanted, 1-based. The tiny shrink keeps rounding noise
  // (99.9 * 1000 / 100 = 999.0000000000001) from skipping to the next sample.
  const double exact = p / 100.0 * static_cast<double>(count_);
  std::uint64_t rank = static_cast<std::uint64_t>(std::ceil(exact * (1 - 1e-12)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_highest(i), max_);
  }
  return max_;  // unreachable: the counts add up to count_
}

}  // namespace kvs
