#include "core/json_writer.h"

#include <charconv>

namespace kvs {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (Unicode table 3-7), or 0.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = at(i);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;  // overlong
    if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;  // overlong
    if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n || at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; k++) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

void JsonWriter::key(std::string_view name) {
  string(name);
  *out_ += ':';
  first_ = true;
}

void JsonWriter::string(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  separate();
  std::string& out = *out_;
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += "\xEF\xBF\xBD";  // U+FFFD for a byte that starts no valid sequence
        }
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void JsonWriter::u64(std::uint64_t v) {
  separate();
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out_->append(digits, end);
}

void JsonWriter::i64(std::int64_t v) {
  separate();
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
  out_->append(digits, end);
}

void JsonWriter::boolean(bool b) {
  separate();
  *out_ += b ? "true" : "false";
}

void JsonWriter::raw(std::string_view json) {
  separate();
  *out_ += json;
}

}  // namespace kvs
