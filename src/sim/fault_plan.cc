#include "sim/fault_plan.h"

#include <algorithm>
#include <map>
#include <sstream>

namespace kvs::sim {
namespace {

constexpr const char* kNames[kFaultKinds] = {
    "crash", "total-failure", "disk-fail",    "bit-flip", "partition",
    "slow",  "reset",         "client-crash", "flaky",    "frontend-crash"};
// Short names for the one-line summary.
constexpr const char* kShort[kFaultKinds] = {"crash", "total", "diskfail", "bitflip", "part",
                                             "slow",  "reset", "ccrash",   "flaky",   "fcrash"};

bool parse_u64(const std::string& s, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

const char* fault_kind_name(FaultKind k) {
  return kNames[static_cast<int>(k)];
}

std::string seconds_text(Nanos t) {
  std::string frac = std::to_string(t % kSecond);
  return std::to_string(t / kSecond) + "." + std::string(9 - frac.size(), '0') + frac;
}

std::optional<Nanos> parse_seconds(const std::string& s) {
  const std::size_t dot = s.find('.');
  std::uint64_t whole = 0, frac = 0;
  if (!parse_u64(s.substr(0, dot), &whole)) return std::nullopt;
  if (dot != std::string::npos) {
    std::string digits = s.substr(dot + 1);
    if (digits.empty() || digits.size() > 9) return std::nullopt;
    digits.append(9 - digits.size(), '0');
    if (!parse_u64(digits, &frac)) return std::nullopt;
  }
  if (whole > 1'000'000'000ull) return std::nullopt;
  return static_cast<Nanos>(whole) * kSecond + static_cast<Nanos>(frac);
}

std::string FaultMix::describe() const {
  std::string out;
  for (int k = 0; k < kFaultKinds; ++k) {
    if (mean_gap[k] == 0) continue;
    // The mean gap in tenths of a second: "crash/4.0s" is a crash every 4 s on average.
    const Nanos tenths = mean_gap[k] / (kSecond / 10);
    out += (out.empty() ? "" : ",") + std::string(kShort[k]) + "/" + std::to_string(tenths / 10) +
           "." + std::to_string(tenths % 10) + "s";
  }
  return out.empty() ? "none" : out;
}

FaultPlan draw_plan(Prng& rng, const FaultMix& mix, int nodes, int clients, Nanos until) {
  FaultPlan plan;
  for (int k = 0; k < kFaultKinds; ++k) {
    const Nanos gap = mix.mean_gap[k];
    if (gap == 0) continue;
    const auto kind = static_cast<FaultKind>(k);
    // Gaps uniform in [0, 2 * mean]: simple, integer, and mean as stated.
    for (Nanos t = rng.nanos(0, 2 * gap); t < until; t += rng.nanos(0, 2 * gap)) {
      FaultEvent e;
      e.at = t;
      e.kind = kind;
      switch (kind) {
        case FaultKind::kCrash:
        case FaultKind::kTotalFailure:
        case FaultKind::kBitFlip:
        case FaultKind::kDiskFail:
          e.target = static_cast<int>(rng.below(static_cast<std::uint64_t>(nodes)));
          e.duration = rng.nanos(mix.down_min, mix.down_max);
          e.notify = !rng.chance(mix.silent_ppm);
          e.torn = rng.chance(mix.torn_ppm);
          if (kind == FaultKind::kTotalFailure) e.target = 0;
          break;
        case FaultKind::kPartition:
        case FaultKind::kSlow:
        case FaultKind::kReset:
        case FaultKind::kFlaky:
          e.client = clients > 0 && rng.chance(kMillion / 2);
          e.target =
              static_cast<int>(rng.below(static_cast<std::uint64_t>(e.client ? clients : nodes)));
          e.duration = rng.nanos(mix.partition_max / 10, mix.partition_max);
          e.notify = rng.chance(mix.stall_ppm);
          if (kind == FaultKind::kSlow) e.extra = rng.nanos(mix.slow_extra_min, mix.slow_extra_max);
          if (kind == FaultKind::kReset) e.duration = 0;
          break;
        case FaultKind::kFrontendCrash:
          e.duration = rng.nanos(mix.down_min, mix.down_max);
          break;
        case FaultKind::kClientCrash:
          e.client = true;
          e.target = static_cast<int>(rng.below(static_cast<std::uint64_t>(std::max(clients, 1))));
          e.duration = rng.nanos(mix.down_min, mix.down_max);
          break;
      }
      plan.push_back(e);
    }
  }
  std::stable_sort(plan.begin(), plan.end(),
                   [](const FaultEvent& a, const FaultEvent& b) { return a.at < b.at; });
  return plan;
}

std::string event_to_text(const FaultEvent& e) {
  std::string out = "at=" + seconds_text(e.at) + " " + fault_kind_name(e.kind);
  if (e.kind == FaultKind::kTotalFailure || e.kind == FaultKind::kFrontendCrash) {
    out += " target=all";
  } else {
    out += std::string(e.client ? " client=" : " node=") + std::to_string(e.target);
  }
  out += " dur=" + seconds_text(e.duration) + " notify=" + (e.notify ? "1" : "0") +
         " torn=" + (e.torn ? "1" : "0") + " extra=" + seconds_text(e.extra);
  return out;
}

std::optional<FaultEvent> event_from_text(const std::string& line, std::string* error) {
  std::istringstream in(line);
  std::string word;
  FaultEvent e;
  std::map<std::string, std::string> fields;
  bool have_kind = false;
  while (in >> word) {
    const std::size_t eq = word.find('=');
    if (eq == std::string::npos) {
      bool known = false;
      for (int k = 0; k < kFaultKinds; ++k) {
        if (word == kNames[k]) {
          e.kind = static_cast<FaultKind>(k);
          known = true;
        }
      }
      if (!known || have_kind) {
        *error = "unknown fault kind '" + word + "'";
        return std::nullopt;
      }
      have_kind = true;
      continue;
    }
    fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  if (!have_kind) {
    *error = "no fault kind";
    return std::nullopt;
  }
  auto time_field = [&](const char* name, Nanos* out) {
    auto it = fields.find(name);
    if (it == fields.end()) return true;
    auto t = parse_seconds(it->second);
    if (!t) *error = std::string("field ") + name + ": not a time in seconds";
    if (t) *out = *t;
    return t.has_value();
  };
  auto flag_field = [&](const char* name, bool* out) {
    auto it = fields.find(name);
    if (it == fields.end()) return true;
    if (it->second != "0" && it->second != "1") {
      *error = std::string("field ") + name + ": must be 0 or 1";
      return false;
    }
    *out = it->second == "1";
    return true;
  };
  if (!time_field("at", &e.at) || !time_field("dur", &e.duration) ||
      !time_field("extra", &e.extra) || !flag_field("notify", &e.notify) ||
      !flag_field("torn", &e.torn)) {
    return std::nullopt;
  }
  for (const char* who : {"node", "client"}) {
    auto it = fields.find(who);
    if (it == fields.end()) continue;
    std::uint64_t v = 0;
    if (!parse_u64(it->second, &v) || v > 64) {
      *error = std::string("field ") + who + ": must be a small index";
      return std::nullopt;
    }
    e.target = static_cast<int>(v);
    e.client = std::string(who) == "client";
  }
  return e;
}

std::string plan_file_text(const PlanFile& f) {
  std::string out = "# kvsim fault plan: replay with `kvsim --plan FILE`\n";
  out += "seed=" + std::to_string(f.seed) + "\n";
  if (!f.bug.empty()) out += "bug=" + f.bug + "\n";
  for (const FaultEvent& e : f.plan) out += event_to_text(e) + "\n";
  return out;
}

std::optional<PlanFile> parse_plan_file(const std::string& text, std::string* error) {
  PlanFile f;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("seed=", 0) == 0) {
      if (!parse_u64(line.substr(5), &f.seed)) {
        *error = "line " + std::to_string(number) + ": bad seed";
        return std::nullopt;
      }
      continue;
    }
    if (line.rfind("bug=", 0) == 0) {
      f.bug = line.substr(4);
      continue;
    }
    std::string why;
    auto e = event_from_text(line, &why);
    if (!e) {
      *error = "line " + std::to_string(number) + ": " + why;
      return std::nullopt;
    }
    f.plan.push_back(*e);
  }
  return f;
}

}  // namespace kvs::sim
