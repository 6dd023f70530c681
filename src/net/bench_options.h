// kvbench's command line: flags, defaults, --help and validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "net/bench_workload.h"

namespace kvs::bench {

struct BenchOptions {
  std::string frontend = "127.0.0.1:8000";
  std::uint64_t sessions = 50;
  std::uint64_t pipeline = 1;
  WorkloadOptions workload;
  // Exactly one of the two bounds the measured phase: a number of operations, or a
  // time (after which nothing new is issued and what is outstanding completes).
  std::uint64_t requests = 100000;
  std::optional<double> duration;  // seconds
  double warmup = 1.0;             // seconds
  bool preload = false;
  bool json = false;
  bool quiet = false;
  bool allow_errors = false;
  std::string history;
  std::uint64_t seed = 1;
  std::string secret;
  double request_timeout = 10.0;
  std::string id_prefix = "bench";
};

// Exit statuses, documented in --help.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // unreachable, refused, or errors without --allow-errors
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

// Parses argv into *options. Returns nullopt when the program should run; otherwise
// the status to exit with after a message was printed (0 after --help, kExitUsage for
// a bad command line, with a message naming the flag).
std::optional<int> parse_options(int argc, const char* const* argv, BenchOptions* options);

}  // namespace kvs::bench
