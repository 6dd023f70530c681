// The simulator's only source of randomness: xoshiro256** seeded through splitmix64,
// with our own range mapping (Lemire's multiply-shift with rejection). The standard
// library's distributions differ between implementations and versions, so none is
// used: the same seed gives the same numbers with any compiler and library.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/types.h"

namespace kvs::sim {

// One step of splitmix64: advances *state and returns the next output.
std::uint64_t splitmix64(std::uint64_t* state);

// 64-bit FNV-1a, used to name PRNG streams and to hash traces.
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ull;
inline std::uint64_t fnv1a(std::string_view bytes, std::uint64_t h = kFnvOffset) {
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

// Probabilities are integers in parts per million, so no floating point decides a run.
using Ppm = std::uint32_t;
constexpr Ppm kMillion = 1'000'000;

class Prng {
 public:
  explicit Prng(std::uint64_t seed);
  // An independent stream for one purpose ("faults", "workload", "network", ...): the
  // draws of one stream never shift because another stream drew more or less.
  static Prng stream(std::uint64_t seed, std::string_view name);

  std::uint64_t next();
  // Uniform in [0, n). REQUIRES: n > 0.
  std::uint64_t below(std::uint64_t n);
  // Uniform in [lo, hi] (inclusive). REQUIRES: lo <= hi.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi);
  Nanos nanos(Nanos lo, Nanos hi) {
    return lo + static_cast<Nanos>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }
  // True with probability ppm / 1e6.
  bool chance(Ppm ppm) { return below(kMillion) < ppm; }
  // One of the n values of a C array, uniformly.
  template <class T, std::size_t N>
  const T& pick(const T (&values)[N]) {
    return values[below(N)];
  }

 private:
  std::uint64_t s_[4];
};

}  // namespace kvs::sim
