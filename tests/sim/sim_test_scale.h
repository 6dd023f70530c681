// How many seeds a simulator test can afford. In the optimized build a seed costs about
// 0.05 cpu-seconds; unoptimized with AddressSanitizer (`make test-asan`) about 2.5, so
// there the seed-hungry tests run a smaller prefix of the same seeds. The full counts run
// in `make test-fast`.
#pragma once

#include <cstdint>

namespace kvs::sim::testing_scale {

#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
constexpr bool kSlowBuild = true;
#else
constexpr bool kSlowBuild = false;
#endif

constexpr std::uint64_t seeds(std::uint64_t optimized, std::uint64_t slow) {
  return kSlowBuild ? slow : optimized;
}

}  // namespace kvs::sim::testing_scale
