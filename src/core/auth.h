// Cluster authentication: the HMAC-SHA256 helpers of the challenge-response handshake
// (docs/PROTOCOL.md, "Authentication"). Computation only (OpenSSL's libcrypto): no I/O,
// and no randomness of its own — a NonceSource draws from a seed key that the backend
// passes in (getrandom() in src/net, the seeded PRNG in src/sim).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace kvs {

// 32 unpredictable bytes from the backend; the key every nonce is derived from.
using SeedKey = std::array<std::uint8_t, 32>;

// HMAC-SHA256(key, data): 32 raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Lowercase hexadecimal of bytes.
std::string to_hex(std::string_view bytes);

// Equality that takes the same time wherever a and b differ (CRYPTO_memcmp). For
// values of public, fixed length such as proofs; a length mismatch is false at once.
bool constant_time_equal(std::string_view a, std::string_view b);

// Equality of two secrets that reveals neither where they differ nor how long the
// configured one is: both are hashed to 32 bytes first, then compared in constant time.
bool secrets_equal(std::string_view given, std::string_view secret);

// The proof a connecting side puts in its hello:
// hex(HMAC-SHA256(secret, nonce + "\n" + role + "\n" + id)), where nonce is the
// challenge's nonce text exactly as received (64 hex characters).
std::string auth_proof(std::string_view secret, std::string_view nonce, std::string_view role,
                       std::string_view id);

// Whether proof is the right one for this secret, nonce, role and id (constant time).
bool proof_matches(std::string_view secret, std::string_view nonce, std::string_view role,
                   std::string_view id, std::string_view proof);

// Nonces for challenges: nonce_n = hex(HMAC-SHA256(seed, n as 8 bytes big-endian)) for
// n = 1, 2, 3, ... Unpredictable without the seed, and never repeated by one source.
class NonceSource {
 public:
  explicit NonceSource(const SeedKey& seed) : seed_(seed) {}
  std::string next();

 private:
  SeedKey seed_;
  std::uint64_t counter_ = 0;
};

// 127.0.0.0/8 written as a dotted IPv4 address, or ::1 (any spelling of it, optionally
// in brackets). Text only: no name resolution.
bool is_loopback_ip(std::string_view ip);

}  // namespace kvs
