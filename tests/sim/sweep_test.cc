// The swarm sweep: 500 seeds, each drawing its own cluster size, workload and fault mix,
// must pass every check. Runs on 2 threads (the CI machine has 2 cores); in the
// optimized build the 500 seeds take about 20 cpu-seconds. Unoptimized with sanitizers
// it runs seeds 1..40 (see sim_test_scale.h). KVS_SIM_SEEDS overrides the count (e.g.
// for a longer local soak).
#include "sim/sweep.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "sim_test_scale.h"

namespace kvs::sim {
namespace {

std::uint64_t seed_count() {
  const char* env = std::getenv("KVS_SIM_SEEDS");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : testing_scale::seeds(500, 40);
}

TEST(Sweep, SwarmSeedsPassEveryCheck) {
  const std::uint64_t n = seed_count();
  auto outcomes = run_sweep(1, n, 2, PlantedBugs{});
  std::string failures;
  std::size_t ops = 0;
  for (const SeedOutcome& o : outcomes) {
    ops += o.ops;
    if (!o.ok)
      failures +=
          o.summary + "\n" + o.report + "replay: kvsim --seed " + std::to_string(o.seed) + "\n";
  }
  EXPECT_TRUE(failures.empty()) << failures;
  EXPECT_GT(ops, n * 100) << "the workload hardly ran";
}

}  // namespace
}  // namespace kvs::sim
