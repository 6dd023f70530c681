// Same seed, same binary => the same run, byte for byte: the trace hash proves it.
#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "sim/scenario.h"
#include "sim/sweep.h"
#include "sim_test_scale.h"

namespace kvs::sim {
namespace {

std::uint64_t hash_of(std::uint64_t seed, std::ostream* trace = nullptr,
                      std::ostream* shiviz = nullptr) {
  RunOptions o;
  o.seed = seed;
  o.trace = trace;
  o.shiviz = shiviz;
  return run_scenario(o).hash;
}

TEST(Determinism, SameSeedTwiceGivesTheSameHash) {
  for (std::uint64_t seed : {1, 7}) EXPECT_EQ(hash_of(seed), hash_of(seed)) << seed;
}

TEST(Determinism, WritingATraceDoesNotChangeTheRun) {
  std::ostringstream trace, shiviz;
  EXPECT_EQ(hash_of(3, &trace, &shiviz), hash_of(3));
  EXPECT_NE(trace.str().find(" recv "), std::string::npos);
  EXPECT_EQ(shiviz.str().rfind("(?<host>\\S*) (?<clock>{.*})\\n(?<event>.*)\n\n", 0), 0u);
}

TEST(Determinism, DifferentSeedsGiveDifferentHashes) {
  const std::uint64_t n = testing_scale::seeds(30, 8);
  std::set<std::uint64_t> hashes;
  for (std::uint64_t seed = 1; seed <= n; ++seed) hashes.insert(hash_of(seed));
  EXPECT_EQ(hashes.size(), n);
}

TEST(Determinism, ThreadsShareNothing) {
  // A seed run inside a two-thread sweep prints the same summary (and hash) as alone.
  auto outcomes = run_sweep(1, testing_scale::seeds(6, 3), 2, PlantedBugs{});
  for (const SeedOutcome& o : outcomes) {
    RunOptions alone;
    alone.seed = o.seed;
    EXPECT_EQ(o.summary, run_scenario(alone).summary());
  }
}

TEST(Determinism, ReplayingTheDrawnPlanIsTheSameRun) {
  RunOptions o;
  o.seed = 5;
  RunResult drawn = run_scenario(o);
  o.plan = drawn.plan;
  EXPECT_EQ(run_scenario(o).hash, drawn.hash);
}

}  // namespace
}  // namespace kvs::sim
