#include "sim/prng.h"

namespace kvs::sim {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

std::uint64_t splitmix64(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// xoshiro256** must not start from all zeros; splitmix64 never yields four zeros.
Prng::Prng(std::uint64_t seed) {
  for (std::uint64_t& s : s_) s = splitmix64(&seed);
}

Prng Prng::stream(std::uint64_t seed, std::string_view name) {
  std::uint64_t mix = seed ^ fnv1a(name);
  return Prng(splitmix64(&mix));
}

std::uint64_t Prng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

// Lemire, "Fast Random Integer Generation in an Interval" (2019): the high word of
// x * n is uniform once the low words that would bias it are rejected.
std::uint64_t Prng::below(std::uint64_t n) {
  unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

std::uint64_t Prng::range(std::uint64_t lo, std::uint64_t hi) {
  if (hi - lo == ~0ull) return next();
  return lo + below(hi - lo + 1);
}

}  // namespace kvs::sim
