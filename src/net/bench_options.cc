// kvbench's command line: see bench_options.h.
#include "net/bench_options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cxxopts.hpp>
#include <iostream>
#include <limits>
#include <sstream>

#include "core/config.h"

namespace kvs::bench {

namespace {

constexpr const char* kDescription =
    "Load generator for a kvs cluster: runs many client sessions against the frontend, each\n"
    "keeping --pipeline requests outstanding, and reports throughput and latency\n"
    "percentiles per operation type.";

constexpr const char* kEpilogue = R"(
The run: connect (a status request checks that the frontend answers), optionally write
every key once (--preload), issue load for --warmup seconds without counting it, then
measure --requests operations (or for --duration seconds). A progress line goes to
stderr about once a second; the report goes to stdout (JSON with --json). Latencies are
from issue to result, in issue order per session (a session's later result waits for its
earlier ones), recorded in a log-linear histogram (under 1% error).

Without --allow-errors the first failed operation stops the load: what is outstanding
completes, the report is printed, and kvbench exits 1. Ctrl-C does the same (exit 130);
a second Ctrl-C stops at once.

Keys are "key0" .. "key<K-1>"; under zipf, key0 is the most popular. Values are unique
per write (session and counter, padded to --value-size), so a --history can be checked
with kvcheck. The history has one process per session, named PREFIX-INDEX.

Exit status:
  0    the run completed without errors (or with some, under --allow-errors)
  1    the frontend was unreachable or refused us, or an operation failed
  2    bad command line
  130  interrupted (SIGINT or SIGTERM); the partial report is printed
)";

// Strict conversions: cxxopts would accept "1.5x" as 1.5.
bool to_u64(const std::string& text, std::uint64_t* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

bool to_double(const std::string& text, double* out) {
  errno = 0;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return !text.empty() && end == text.c_str() + text.size() && errno != ERANGE &&
         std::isfinite(*out);
}

std::string show(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// "90:10" -> 90 (percent of gets).
bool parse_ratio(const std::string& text, double* get_percent) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) return false;
  double gets = 0, puts = 0;
  if (!to_double(text.substr(0, colon), &gets) || !to_double(text.substr(colon + 1), &puts)) {
    return false;
  }
  if (gets < 0 || puts < 0 || gets + puts <= 0) return false;
  *get_percent = 100.0 * gets / (gets + puts);
  return true;
}

}  // namespace

std::optional<int> parse_options(int argc, const char* const* argv, BenchOptions* out) {
  auto bad = [](const std::string& what) {
    std::cerr << "kvbench: bad command line: " << what << " (see kvbench --help)\n";
    return kExitUsage;
  };
  const BenchOptions d;
  auto text = [] { return cxxopts::value<std::string>(); };
  cxxopts::Options options("kvbench", kDescription);
  options.set_width(100);
  // clang-format off
  options.add_options("Target")
    ("frontend", "the frontend's client address (default: " + d.frontend + ")", text(), "IP:PORT")
    ("secret", "cluster secret, if the frontend has one (default: none)", text(), "TEXT")
    ("request-timeout", "seconds before an unanswered operation fails as a timeout (default: 10)",
     text(), "SECONDS");
  options.add_options("Load")
    ("sessions", "concurrent client sessions, all on one event loop (default: 50)", text(), "N")
    ("pipeline", "requests each session keeps outstanding (default: 1)", text(), "P")
    ("get-percent", "percent of operations that are GETs, the rest PUTs (default: 50)", text(),
     "PCT")
    ("ratio", "GET:PUT ratio instead of --get-percent, e.g. 95:5", text(), "GETS:PUTS")
    ("keys", "size of the key space (default: 100000)", text(), "K")
    ("distribution", "key popularity: uniform or zipf (default: uniform)", text(),
     "uniform|zipf")
    ("zipf-theta", "zipf exponent; larger is more skewed (default: 0.99)", text(), "THETA")
    ("value-size", "bytes per PUT value (default: 100)", text(), "B")
    ("seed", "seed of the operation and key choices (default: 1)", text(), "N");
  options.add_options("Run")
    ("requests", "operations to measure, after the warm-up (default: 100000 unless --duration)",
     text(), "N")
    ("duration", "measure for this many seconds instead of --requests", text(), "SECONDS")
    ("warmup", "seconds of load before measuring, not counted (default: 1)", text(), "SECONDS")
    ("preload", "write every key once before the warm-up, so that GETs find values")
    ("allow-errors", "keep going after failed operations and exit 0 anyway")
    ("json", "print the final report as JSON on stdout")
    ("history", "append a Jepsen-style history of every operation to FILE (for kvcheck)",
     text(), "FILE")
    ("id-prefix", "session ids and history process names are PREFIX-0, PREFIX-1, ... "
     "(default: bench)", text(), "PREFIX")
    ("quiet", "no progress lines on stderr")
    ("h,help", "print this help and exit");
  // clang-format on

  cxxopts::ParseResult r;
  try {
    r = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    return bad(e.what());
  }
  if (r.count("help")) {
    std::cout << options.help({"Target", "Load", "Run"}) << kEpilogue << std::flush;
    return kExitOk;
  }
  if (!r.unmatched().empty()) return bad("unexpected argument \"" + r.unmatched().front() + "\"");

  BenchOptions o;
  std::string error;
  auto u64 = [&](const char* flag, std::uint64_t* v, std::uint64_t lo, std::uint64_t hi) {
    if (!r.count(flag)) return true;
    const std::string s = r[flag].as<std::string>();
    if (!to_u64(s, v) || *v < lo || *v > hi) {
      error = std::string("--") + flag + ": \"" + s + "\" is not a whole number in " +
              std::to_string(lo) + ".." + std::to_string(hi);
      return false;
    }
    return true;
  };
  auto real = [&](const char* flag, double* v, double lo, double hi, bool lo_open) {
    if (!r.count(flag)) return true;
    const std::string s = r[flag].as<std::string>();
    if (!to_double(s, v) || *v < lo || (lo_open && *v == lo) || *v > hi) {
      error = std::string("--") + flag + ": \"" + s + "\" is not a number " +
              (lo_open ? "above " : "from ") + show(lo) + " to " + show(hi);
      return false;
    }
    return true;
  };
  constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
  // The client's frames are 4 MiB at most; keep room for the key and framing.
  constexpr std::uint64_t kMaxValue = 4 * 1024 * 1024 - 64 * 1024;
  if (!u64("sessions", &o.sessions, 1, 10000) || !u64("pipeline", &o.pipeline, 1, 10000) ||
      !u64("keys", &o.workload.keys, 1, std::uint64_t{1} << 40) ||
      !u64("value-size", &o.workload.value_size, 0, kMaxValue) ||
      !u64("requests", &o.requests, 1, kMaxU64) || !u64("seed", &o.seed, 0, kMaxU64) ||
      !real("get-percent", &o.workload.get_percent, 0, 100, false) ||
      !real("zipf-theta", &o.workload.zipf_theta, 0, 100, true) ||
      !real("warmup", &o.warmup, 0, 86400, false) ||
      !real("request-timeout", &o.request_timeout, 0, 86400, true)) {
    return bad(error);
  }
  if (r.count("duration")) {
    double seconds = 0;
    if (!real("duration", &seconds, 0, 1e7, true)) return bad(error);
    if (r.count("requests")) return bad("give --requests or --duration, not both");
    o.duration = seconds;
  }
  if (r.count("ratio")) {
    if (r.count("get-percent")) return bad("give --ratio or --get-percent, not both");
    const std::string s = r["ratio"].as<std::string>();
    if (!parse_ratio(s, &o.workload.get_percent)) {
      return bad("--ratio: \"" + s + "\" is not GETS:PUTS with non-negative numbers, e.g. 90:10");
    }
  }
  if (r.count("distribution")) {
    const std::string s = r["distribution"].as<std::string>();
    if (s == "uniform") {
      o.workload.distribution = Distribution::kUniform;
    } else if (s == "zipf") {
      o.workload.distribution = Distribution::kZipf;
    } else {
      return bad("--distribution: \"" + s + "\" is not uniform or zipf");
    }
  }
  if (r.count("zipf-theta") && o.workload.distribution != Distribution::kZipf) {
    return bad("--zipf-theta only applies with --distribution zipf");
  }
  if (r.count("frontend")) o.frontend = r["frontend"].as<std::string>();
  std::string ip;
  int port = 0;
  if (!split_address(o.frontend, &ip, &port) || port == 0) {
    return bad("--frontend: \"" + o.frontend + "\" is not IP:PORT (e.g. 127.0.0.1:8000)");
  }
  if (r.count("secret")) o.secret = r["secret"].as<std::string>();
  if (r.count("history")) o.history = r["history"].as<std::string>();
  if (r.count("id-prefix")) o.id_prefix = r["id-prefix"].as<std::string>();
  if (o.id_prefix.empty()) return bad("--id-prefix: must not be empty");
  // as<bool>, not count(): "--json=false" must mean false.
  o.preload = r["preload"].as<bool>();
  o.json = r["json"].as<bool>();
  o.quiet = r["quiet"].as<bool>();
  o.allow_errors = r["allow-errors"].as<bool>();
  if (!o.history.empty() && o.workload.value_size < Workload::kMinUniqueValueSize &&
      o.workload.get_percent < 100) {
    std::cerr << "kvbench: warning: --value-size " << o.workload.value_size << " is below "
              << Workload::kMinUniqueValueSize
              << ": values may repeat, and a checker may not tell writes apart\n";
  }
  *out = std::move(o);
  return std::nullopt;
}

}  // namespace kvs::bench
