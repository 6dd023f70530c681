// kvbench's counters and its final report (text or JSON).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/latency_histogram.h"
#include "core/messages.h"
#include "core/types.h"
#include "net/bench_options.h"

namespace kvs::bench {

// How one operation ended, as kvbench counts it.
enum class Outcome { kOk, kNotFound, kUnavailable, kRejected, kTimeout };

// The client library reports a deadline expiry as kUnavailable with this detail; the
// frontend's own "unavailable" (no storage node) says something else.
Outcome classify(Status status, const std::string& detail);
bool is_error(Outcome o);

struct ErrorCounts {
  std::uint64_t unavailable = 0;
  std::uint64_t rejected = 0;
  std::uint64_t timeout = 0;
  std::uint64_t total() const { return unavailable + rejected + timeout; }
};

// The measured operations of one type (or all): latencies of those that succeeded.
struct OpStats {
  std::uint64_t ops = 0;
  std::uint64_t ok = 0;
  std::uint64_t not_found = 0;  // a GET of a key never written: succeeded
  ErrorCounts errors;
  LatencyHistogram latency;  // nanoseconds, successful operations only

  void add(Outcome outcome, Nanos latency_ns);
  void merge(const OpStats& other);
};

struct Results {
  OpStats get;
  OpStats put;
  double measured_seconds = 0;  // from the end of the warm-up to the last measured result
  std::uint64_t preload_ops = 0;
  std::uint64_t warmup_ops = 0;
  ErrorCounts unmeasured_errors;         // during preload and warm-up
  std::optional<std::uint64_t> members;  // storage members the frontend reported at start
  bool interrupted = false;
  std::string stopped_by_error;  // the first error, when it ended the load early

  std::uint64_t errors_total() const {
    return get.errors.total() + put.errors.total() + unmeasured_errors.total();
  }
};

std::string text_report(const BenchOptions& options, const Results& results);
std::string json_report(const BenchOptions& options, const Results& results);

}  // namespace kvs::bench
