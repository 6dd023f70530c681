// ./kvbench: a load generator for a kvs cluster. Many client sessions on one event loop,
// each keeping --pipeline requests outstanding; reports throughput and latency
// percentiles per operation type (see --help, src/net/bench_*.h).
#include "net/bench_options.h"
#include "net/bench_runner.h"

int main(int argc, char** argv) {
  kvs::bench::BenchOptions options;
  if (auto status = kvs::bench::parse_options(argc, argv, &options)) return *status;
  return kvs::bench::run_bench(options);
}
