// Runs many seeds on several threads. Every simulation is built from scratch inside its
// thread and shares nothing with the others (no global state in src/core or src/sim),
// so each seed's result is exactly what `kvsim --seed N` gives alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace kvs::sim {

// What a sweep keeps of each run (not the history: thousands of runs).
struct SeedOutcome {
  std::uint64_t seed = 0;
  bool ok = true;
  std::string summary;  // RunResult::summary()
  std::string report;   // RunResult::report() when failed
  std::string first_check;
  std::size_t ops = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // of the thread that ran it (the machine may be shared)
  std::uint64_t events = 0;
};

struct SweepProgress {
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
  std::atomic<std::size_t> ops{0};
};

// Runs seeds [first, last] with `jobs` threads; outcomes are in seed order. progress
// (optional) is updated as runs finish; on_tick (optional) is called by the calling
// thread about every 200 ms while it waits, to draw a progress line.
std::vector<SeedOutcome> run_sweep(std::uint64_t first, std::uint64_t last, int jobs,
                                   const PlantedBugs& bugs, bool intense = false,
                                   SweepProgress* progress = nullptr,
                                   const std::function<void()>& on_tick = {});

}  // namespace kvs::sim
