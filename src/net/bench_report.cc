// kvbench's counters and report: see bench_report.h.
#include "net/bench_report.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>

namespace kvs::bench {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kTimeoutDetail = "no answer within";

struct Row {
  const char* name;
  const OpStats* stats;
};

// Three decimals are plenty for µs and ops/s, and keep the JSON readable.
double round3(double v) {
  return std::round(v * 1000) / 1000;
}

double throughput(std::uint64_t ops, double seconds) {
  return seconds > 0 ? static_cast<double>(ops) / seconds : 0.0;
}

double micros(std::uint64_t ns) {
  return round3(static_cast<double>(ns) / 1e3);
}

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string millis_cell(std::uint64_t ns) {
  return format(" %9.3f", static_cast<double>(ns) / 1e6);
}

std::string describe_errors(const ErrorCounts& e) {
  if (e.total() == 0) return "none";
  return format(
      "%llu (unavailable %llu, rejected %llu, timeout %llu)",
      static_cast<unsigned long long>(e.total()), static_cast<unsigned long long>(e.unavailable),
      static_cast<unsigned long long>(e.rejected), static_cast<unsigned long long>(e.timeout));
}

Json errors_json(const ErrorCounts& e) {
  return Json{{"total", e.total()},
              {"unavailable", e.unavailable},
              {"rejected", e.rejected},
              {"timeout", e.timeout}};
}

Json op_json(const OpStats& s, double seconds) {
  const LatencyHistogram& h = s.latency;
  return Json{{"ops", s.ops},
              {"throughput_ops_s", round3(throughput(s.ops, seconds))},
              {"ok", s.ok},
              {"not_found", s.not_found},
              {"errors", errors_json(s.errors)},
              {"latency_us",
               {{"count", h.count()},
                {"mean", round3(h.mean() / 1e3)},
                {"min", micros(h.min())},
                {"p50", micros(h.percentile(50))},
                {"p95", micros(h.percentile(95))},
                {"p99", micros(h.percentile(99))},
                {"p99_9", micros(h.percentile(99.9))},
                {"max", micros(h.max())}}}};
}

const char* distribution_name(Distribution d) {
  return d == Distribution::kZipf ? "zipf" : "uniform";
}

}  // namespace

Outcome classify(Status status, const std::string& detail) {
  switch (status) {
    case Status::kOk:
      return Outcome::kOk;
    case Status::kNotFound:
      return Outcome::kNotFound;
    case Status::kRejected:
      return Outcome::kRejected;
    case Status::kUnavailable:
      return std::string_view(detail).starts_with(kTimeoutDetail) ? Outcome::kTimeout
                                                                  : Outcome::kUnavailable;
  }
  return Outcome::kUnavailable;
}

bool is_error(Outcome o) {
  return o != Outcome::kOk && o != Outcome::kNotFound;
}

void OpStats::add(Outcome outcome, Nanos latency_ns) {
  ++ops;
  switch (outcome) {
    case Outcome::kOk:
      ++ok;
      break;
    case Outcome::kNotFound:
      ++not_found;
      break;
    case Outcome::kUnavailable:
      ++errors.unavailable;
      break;
    case Outcome::kRejected:
      ++errors.rejected;
      break;
    case Outcome::kTimeout:
      ++errors.timeout;
      break;
  }
  if (!is_error(outcome))
    latency.record(latency_ns > 0 ? static_cast<std::uint64_t>(latency_ns) : 0);
}

void OpStats::merge(const OpStats& other) {
  ops += other.ops;
  ok += other.ok;
  not_found += other.not_found;
  errors.unavailable += other.errors.unavailable;
  errors.rejected += other.errors.rejected;
  errors.timeout += other.errors.timeout;
  latency.merge(other.latency);
}

std::string text_report(const BenchOptions& o, const Results& r) {
  OpStats all;
  all.merge(r.get);
  all.merge(r.put);
  const double secs = r.measured_seconds;
  std::string out;
  out += format("kvbench: %llu operations in %.3f s: %.1f ops/s%s\n",
                static_cast<unsigned long long>(all.ops), secs, throughput(all.ops, secs),
                r.interrupted                ? " (interrupted)"
                : r.stopped_by_error.empty() ? ""
                                             : " (stopped)");
  std::string members =
      r.members ? format(" (%llu members)", static_cast<unsigned long long>(*r.members)) : "";
  out += format("  %llu sessions x pipeline %llu against %s%s; %g%% gets; %llu keys, %s",
                static_cast<unsigned long long>(o.sessions),
                static_cast<unsigned long long>(o.pipeline), o.frontend.c_str(), members.c_str(),
                o.workload.get_percent, static_cast<unsigned long long>(o.workload.keys),
                distribution_name(o.workload.distribution));
  if (o.workload.distribution == Distribution::kZipf) {
    out += format(" (theta %g)", o.workload.zipf_theta);
  }
  out += format("; %llu-byte values; seed %llu\n",
                static_cast<unsigned long long>(o.workload.value_size),
                static_cast<unsigned long long>(o.seed));
  if (r.preload_ops || r.warmup_ops) {
    out += format("  not counted: %llu preload and %llu warm-up operations\n",
                  static_cast<unsigned long long>(r.preload_ops),
                  static_cast<unsigned long long>(r.warmup_ops));
  }
  out +=
      "\n  latency (ms)      ops      ops/s      mean       p50       p95       p99     p99.9"
      "       max\n";
  for (Row row : {Row{"get", &r.get}, Row{"put", &r.put}, Row{"all", &all}}) {
    const OpStats& s = *row.stats;
    out += format("  %-8s %11llu %10.1f", row.name, static_cast<unsigned long long>(s.ops),
                  throughput(s.ops, secs));
    const LatencyHistogram& h = s.latency;
    if (h.count() == 0) {
      out += "         -         -         -         -         -         -\n";
      continue;
    }
    out += format(" %9.3f", h.mean() / 1e6);
    for (double p : {50.0, 95.0, 99.0, 99.9}) out += millis_cell(h.percentile(p));
    out += millis_cell(h.max()) + "\n";
  }
  out += "\n";
  if (all.not_found) {
    out += format("  %llu GETs found no value (the key was never written; see --preload)\n",
                  static_cast<unsigned long long>(all.not_found));
  }
  out += "  errors: " + describe_errors(all.errors) + "\n";
  if (r.unmeasured_errors.total()) {
    out += "  errors during preload and warm-up: " + describe_errors(r.unmeasured_errors) + "\n";
  }
  if (!r.stopped_by_error.empty()) {
    out += "  stopped at the first error: " + r.stopped_by_error + "\n";
  }
  return out;
}

std::string json_report(const BenchOptions& o, const Results& r) {
  OpStats all;
  all.merge(r.get);
  all.merge(r.put);
  const double secs = r.measured_seconds;
  Json config{
      {"frontend", o.frontend},  {"sessions", o.sessions},
      {"pipeline", o.pipeline},  {"get_percent", o.workload.get_percent},
      {"keys", o.workload.keys}, {"distribution", distribution_name(o.workload.distribution)}};
  if (o.workload.distribution == Distribution::kZipf) config["zipf_theta"] = o.workload.zipf_theta;
  config["value_size"] = o.workload.value_size;
  if (o.duration) {
    config["duration_s"] = *o.duration;
  } else {
    config["requests"] = o.requests;
  }
  config["warmup_s"] = o.warmup;
  config["preload"] = o.preload;
  config["seed"] = o.seed;
  config["request_timeout_s"] = o.request_timeout;

  Json j;
  j["config"] = std::move(config);
  j["members"] = r.members ? Json(*r.members) : Json(nullptr);
  j["elapsed_s"] = round3(secs * 1000) / 1000;  // to the microsecond
  j["ops"] = all.ops;
  j["throughput_ops_s"] = round3(throughput(all.ops, secs));
  j["errors"] = errors_json(all.errors);
  j["operations"] = Json{
      {"all", op_json(all, secs)}, {"get", op_json(r.get, secs)}, {"put", op_json(r.put, secs)}};
  j["preload_ops"] = r.preload_ops;
  j["warmup_ops"] = r.warmup_ops;
  j["unmeasured_errors"] = errors_json(r.unmeasured_errors);
  j["interrupted"] = r.interrupted;
  j["stopped_by_error"] = r.stopped_by_error.empty() ? Json(nullptr) : Json(r.stopped_by_error);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace kvs::bench
