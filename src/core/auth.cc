#include "core/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kvs {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // A zero-length key is valid HMAC; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const void* k = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const auto* d = data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), k, static_cast<int>(key.size()), d, data.size(), out, &len) == nullptr) {
    return {};  // only on allocation failure; an empty result matches no proof
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool secrets_equal(std::string_view given, std::string_view secret) {
  // Any fixed key works: the HMAC only maps both to the same length.
  constexpr std::string_view kKey = "kvs secret comparison";
  return constant_time_equal(hmac_sha256(kKey, given), hmac_sha256(kKey, secret));
}

std::string auth_proof(std::string_view secret, std::string_view nonce, std::string_view role,
                       std::string_view id) {
  std::string data;
  data.reserve(nonce.size() + role.size() + id.size() + 2);
  data.append(nonce).append("\n").append(role).append("\n").append(id);
  return to_hex(hmac_sha256(secret, data));
}

bool proof_matches(std::string_view secret, std::string_view nonce, std::string_view role,
                   std::string_view id, std::string_view proof) {
  return constant_time_equal(auth_proof(secret, nonce, role, id), proof);
}

std::string NonceSource::next() {
  ++counter_;
  char n[8];
  for (int i = 0; i < 8; ++i) n[i] = static_cast<char>((counter_ >> (56 - 8 * i)) & 0xFF);
  return to_hex(
      hmac_sha256(std::string_view(reinterpret_cast<const char*>(seed_.data()), seed_.size()),
                  std::string_view(n, sizeof n)));
}

bool is_loopback_ip(std::string_view ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip == "::1" || ip == "0:0:0:0:0:0:0:1") return true;
  if (ip.starts_with("::ffff:")) ip.remove_prefix(7);  // IPv4-mapped
  // Dotted quad with the first octet 127.
  int parts = 0;
  std::size_t i = 0;
  int first = -1;
  while (i <= ip.size()) {
    std::size_t end = ip.find('.', i);
    if (end == std::string_view::npos) end = ip.size();
    const std::string_view part = ip.substr(i, end - i);
    if (part.empty() || part.size() > 3) return false;
    int value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    if (parts == 0) first = value;
    ++parts;
    i = end + 1;
    if (end == ip.size()) break;
  }
  return parts == 4 && first == 127;
}

}  // namespace kvs
