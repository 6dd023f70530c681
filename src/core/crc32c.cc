// The checksum of every log, snapshot and state-file record. Recovery computes one per
// record, so at a byte a step it was a tenth of recovery time (docs/PERFORMANCE.md); the
// SSE4.2 instruction does 8 bytes a step. Which version runs is decided once, from CPUID.
#include "core/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define KVS_CRC32C_SSE42 1
#endif

namespace kvs {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // bit-reflected Castagnoli

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; i++) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

#ifdef KVS_CRC32C_SSE42
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view data) {
  std::uint64_t crc = 0xFFFFFFFF;
  const char* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // unaligned; the instruction takes little-endian words
    crc = _mm_crc32_u64(crc, word);
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  for (; n > 0; ++p, --n) crc32 = _mm_crc32_u8(crc32, static_cast<unsigned char>(*p));
  return crc32 ^ 0xFFFFFFFF;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c_portable(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (unsigned char byte : data) crc = kTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFF;
}

std::uint32_t crc32c(std::string_view data) {
#ifdef KVS_CRC32C_SSE42
  if (kHaveSse42) return crc32c_sse42(data);
#endif
  return crc32c_portable(data);
}

}  // namespace kvs
