#include "sim/trace.h"

#include <algorithm>

namespace kvs::sim {
namespace {

// "12.000345678": seconds with nanosecond digits, so text traces sort and diff well.
std::string time_text(Nanos t) {
  std::string frac = std::to_string(t % kSecond);
  return std::to_string(t / kSecond) + "." + std::string(9 - frac.size(), '0') + frac;
}

void json_string(std::ostream& out, std::string_view s) {
  out << '"';
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out << '\\' << c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out << ' ';
    } else {
      out << c;
    }
  }
  out << '"';
}

}  // namespace

Trace::Trace(std::vector<std::string> names, std::ostream* text, std::ostream* shiviz)
    : names_(std::move(names)), text_(text), shiviz_(shiviz) {
  if (shiviz_ != nullptr) {
    clocks_.assign(names_.size(), VectorClock(names_.size(), 0));
    // The parser regex ShiViz asks for on its first line, then a blank line.
    *shiviz_ << "(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n";
  }
}

void Trace::event(Nanos now, int proc, std::string_view kind, std::string_view detail,
                  std::string_view more) {
  // Canonical text: "<time> <proc> <kind> <detail>[ <more>]", hashed field by field.
  std::uint64_t h = hash_;
  for (int shift = 0; shift < 64; shift += 8) h = (h ^ ((now >> shift) & 0xff)) * kFnvPrime;
  h = (h ^ static_cast<std::uint8_t>(proc + 1)) * kFnvPrime;
  h = fnv1a(kind, h);
  h = (h ^ ' ') * kFnvPrime;
  h = fnv1a(detail, h);
  if (!more.empty()) {
    h = (h ^ ' ') * kFnvPrime;
    h = fnv1a(more, h);
  }
  hash_ = (h ^ '\n') * kFnvPrime;
  ++events_;
  if (text_ == nullptr && shiviz_ == nullptr) return;

  const std::string& name = proc >= 0 ? names_[proc] : sim_name_;
  if (text_ != nullptr) {
    *text_ << time_text(now) << ' ' << name << ' ' << kind << ' ' << detail;
    if (!more.empty()) *text_ << ' ' << more;
    *text_ << '\n';
  }
  if (shiviz_ != nullptr && proc >= 0) {
    VectorClock& vc = clocks_[proc];
    ++vc[proc];
    *shiviz_ << name << " {";
    bool first = true;
    for (std::size_t i = 0; i < vc.size(); ++i) {
      if (vc[i] == 0) continue;
      *shiviz_ << (first ? "" : ", ");
      json_string(*shiviz_, names_[i]);
      *shiviz_ << ": " << vc[i];
      first = false;
    }
    *shiviz_ << "}\n" << time_text(now) << ' ' << kind << ' ' << detail;
    if (!more.empty()) *shiviz_ << ' ' << more;
    *shiviz_ << '\n';
  }
}

VectorClock Trace::stamp(int proc) const {
  if (shiviz_ == nullptr || proc < 0) return {};
  return clocks_[proc];
}

void Trace::merge(int proc, const VectorClock& clock) {
  if (shiviz_ == nullptr || proc < 0 || clock.empty()) return;
  VectorClock& vc = clocks_[proc];
  for (std::size_t i = 0; i < vc.size(); ++i) vc[i] = std::max(vc[i], clock[i]);
}

std::string Trace::hex(std::uint64_t h) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = kHex[h & 0xf];
  return out;
}

}  // namespace kvs::sim
