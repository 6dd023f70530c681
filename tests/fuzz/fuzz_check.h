// Shared by the fuzz targets (tests/fuzz/fuzz_*.cc): the invariant check, and how the
// first input byte chooses the pieces a stream is fed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

// A violated invariant aborts with a short message: libFuzzer saves the input as a
// crash, and the replay tests fail on it.
#define FUZZ_CHECK(cond, what)                                                                    \
  do {                                                                                            \
    if (!(cond)) {                                                                                \
      std::fprintf(stderr, "fuzz invariant violated: %s\n  check: %s\n  at %s:%d\n", what, #cond, \
                   __FILE__, __LINE__);                                                           \
      std::abort();                                                                               \
    }                                                                                             \
  } while (0)

namespace kvs::fuzz {

// Cuts `bytes` into consecutive pieces (some may be empty) chosen by `seed` and calls
// piece(std::string_view) for each, in order. seed % 4: 0 one byte at a time; 1 pieces of
// 0..7 bytes; 2 pieces of 1..97 bytes; 3 two pieces, cut at a seed-chosen byte.
// The first two input bytes steer a target (how to cut the stream, which options); the
// rest is the stream. nullopt: too short to steer.
struct Steered {
  std::uint8_t seed;
  std::uint8_t options;
  std::string_view stream;
};
inline std::optional<Steered> steer(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return std::nullopt;
  return Steered{data[0], data[1],
                 std::string_view(reinterpret_cast<const char*>(data) + 2, size - 2)};
}

template <typename Piece>
void for_each_piece(std::uint8_t seed, std::string_view bytes, Piece piece) {
  std::uint32_t state = 2654435761u * (seed + 1u);
  auto draw = [&state](std::uint32_t n) {
    state = state * 1664525u + 1013904223u;
    return (state >> 8) % n;
  };
  std::size_t pos = 0;
  if (seed % 4 == 3) {
    const std::size_t cut = bytes.empty() ? 0 : (seed / 4u * 7919u) % (bytes.size() + 1);
    piece(bytes.substr(0, cut));
    piece(bytes.substr(cut));
    return;
  }
  while (pos < bytes.size()) {
    std::size_t n = 1;
    if (seed % 4 == 1) n = draw(8);
    if (seed % 4 == 2) n = 1 + draw(97);
    n = n < bytes.size() - pos ? n : bytes.size() - pos;
    piece(bytes.substr(pos, n));
    pos += n;
  }
}

}  // namespace kvs::fuzz
