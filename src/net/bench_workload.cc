// ZipfSampler and Workload: see bench_workload.h.
#include "net/bench_workload.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kvs::bench {

namespace {

// log1p(x) / x and expm1(x) / x, with their series near 0 where the quotients lose
// precision (theta close to 1 makes the argument tiny).
double log1p_over_x(double x) {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

double expm1_over_x(double x) {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

// Uniform in [0, 1) with 53 random bits.
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace

ZipfSampler::ZipfSampler(std::uint64_t n, double theta)
    : n_(std::max<std::uint64_t>(n, 1)), theta_(theta) {
  h_integral_x1_ = h_integral(1.5) - 1;
  h_integral_n_ = h_integral(static_cast<double>(n_) + 0.5);
  s_ = 2 - h_integral_inverse(h_integral(2.5) - h(2));
}

// h(x) = x^-theta, the unnormalized density; H is an antiderivative of it.
double ZipfSampler::h(double x) const {
  return std::exp(-theta_ * std::log(x));
}

double ZipfSampler::h_integral(double x) const {
  const double log_x = std::log(x);
  return expm1_over_x((1 - theta_) * log_x) * log_x;
}

double ZipfSampler::h_integral_inverse(double x) const {
  double t = x * (1 - theta_);
  if (t < -1) t = -1;  // rounding can push it just past the domain of log1p
  return std::exp(log1p_over_x(t) * x);
}

std::uint64_t ZipfSampler::operator()(std::mt19937_64& rng) const {
  // Draw u uniformly under the hat function's integral, invert it to x, round to the
  // nearest rank k, and accept k unless u fell in the part of the hat above the true
  // bar of k (rare: the expected number of rounds is below 1.1 for any theta).
  for (;;) {
    const double u = h_integral_n_ + unit(rng) * (h_integral_x1_ - h_integral_n_);
    const double x = h_integral_inverse(u);
    double k = std::floor(x + 0.5);
    k = std::clamp(k, 1.0, static_cast<double>(n_));
    if (k - x <= s_ || u >= h_integral(k + 0.5) - h(k)) return static_cast<std::uint64_t>(k);
  }
}

Workload::Workload(const WorkloadOptions& options, std::uint64_t seed, std::uint64_t session)
    : options_(options),
      session_(session),
      // seed_seq mixes both numbers, so neighbouring sessions get unrelated streams.
      rng_([&] {
        std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                          static_cast<std::uint32_t>(session),
                          static_cast<std::uint32_t>(session >> 32)};
        return std::mt19937_64(seq);
      }()),
      uniform_(0, std::max<std::uint64_t>(options.keys, 1) - 1),
      zipf_(options.keys, options.zipf_theta > 0 ? options.zipf_theta : 1.0) {}

bool Workload::next_is_get() {
  if (options_.get_percent <= 0) return false;
  if (options_.get_percent >= 100) return true;
  return percent_(rng_) < options_.get_percent;
}

std::uint64_t Workload::next_key_index() {
  if (options_.distribution == Distribution::kZipf) return zipf_(rng_) - 1;
  return uniform_(rng_);
}

std::string Workload::next_value() {
  // "SESSION:COUNT" in hex, then padding: unique per (session, write).
  char tag[40];
  const int n =
      std::snprintf(tag, sizeof tag, "%llx:%llx:", static_cast<unsigned long long>(session_),
                    static_cast<unsigned long long>(values_made_++));
  std::string value(tag, static_cast<std::size_t>(n));
  value.resize(options_.value_size, 'x');
  return value;
}

std::string Workload::key_name(std::uint64_t index) {
  return "key" + std::to_string(index);
}

}  // namespace kvs::bench
