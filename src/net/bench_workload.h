// kvbench's workload: which operation, which key, which value. Deterministic for a seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace kvs::bench {

// Draws ranks 1..n with P(k) proportional to 1 / k^theta (theta > 0), exactly, in O(1)
// per draw and O(1) setup: the rejection-inversion method of Hörmann and Derflinger,
// "Rejection-inversion to generate variates from monotone discrete distributions"
// (ACM TOMACS, 1996), as in Apache Commons RNG's RejectionInversionZipfSampler.
class ZipfSampler {
 public:
  ZipfSampler(std::uint64_t n, double theta);
  std::uint64_t operator()(std::mt19937_64& rng) const;

 private:
  double h(double x) const;
  double h_integral(double x) const;
  double h_integral_inverse(double x) const;

  std::uint64_t n_;
  double theta_;
  double h_integral_x1_;
  double h_integral_n_;
  double s_;
};

enum class Distribution { kUniform, kZipf };

struct WorkloadOptions {
  std::uint64_t keys = 100000;
  Distribution distribution = Distribution::kUniform;
  double zipf_theta = 0.99;
  double get_percent = 50;
  std::uint64_t value_size = 100;
};

// One session's stream of operations. Each session has its own generator (seeded from
// the run's seed and the session index), so runs with one seed issue the same
// operations per session whatever the timing.
class Workload {
 public:
  Workload(const WorkloadOptions& options, std::uint64_t seed, std::uint64_t session);

  bool next_is_get();
  // A key index in [0, keys): under zipf, index 0 is the most popular.
  std::uint64_t next_key_index();
  // A value of exactly value_size bytes, different for every call in the run as long
  // as value_size leaves room for the tag (kMinUniqueValueSize bytes); a checker
  // needs distinct values to tell writes apart.
  std::string next_value();

  static constexpr std::uint64_t kMinUniqueValueSize = 16;
  static std::string key_name(std::uint64_t index);

 private:
  WorkloadOptions options_;
  std::uint64_t session_;
  std::uint64_t values_made_ = 0;
  std::mt19937_64 rng_;
  std::uniform_int_distribution<std::uint64_t> uniform_;
  ZipfSampler zipf_;
  std::uniform_real_distribution<double> percent_{0.0, 100.0};
};

}  // namespace kvs::bench
