// kvbench's run: N client sessions (core ClientSession + net::Runtime each) on one uv
// loop, each refilled to --pipeline outstanding requests as its results arrive.
#pragma once

#include "net/bench_options.h"

namespace kvs::bench {

// Runs the whole benchmark: checks that the frontend answers, preloads, warms up,
// measures, prints progress on stderr and the report on stdout. Returns the exit
// status (see kExit* in bench_options.h).
int run_bench(const BenchOptions& options);

}  // namespace kvs::bench
