// Fault plans: drawn deterministically, saved and read back exactly.
#include "sim/fault_plan.h"

#include <gtest/gtest.h>

#include "sim/scenario.h"

namespace kvs::sim {
namespace {

TEST(FaultPlan, SecondsRoundTrip) {
  for (Nanos t : {Nanos{0}, Nanos{1}, Nanos{999'999'999}, Nanos{12'345'678'901}}) {
    EXPECT_EQ(parse_seconds(seconds_text(t)), t);
  }
  EXPECT_EQ(parse_seconds("1.5"), 1'500'000'000);
  EXPECT_FALSE(parse_seconds("x").has_value());
  EXPECT_FALSE(parse_seconds("1.0000000001").has_value());
}

TEST(FaultPlan, DrawIsDeterministicAndSorted) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Scenario sc = draw_scenario(seed);
    Prng a = Prng::stream(seed, "faults"), b = Prng::stream(seed, "faults");
    FaultPlan p1 = draw_plan(a, sc.faults, sc.cluster.nodes, sc.cluster.clients, sc.fault_time);
    FaultPlan p2 = draw_plan(b, sc.faults, sc.cluster.nodes, sc.cluster.clients, sc.fault_time);
    ASSERT_EQ(p1, p2);
    for (std::size_t i = 1; i < p1.size(); ++i) ASSERT_LE(p1[i - 1].at, p1[i].at);
    for (const FaultEvent& e : p1) ASSERT_LT(e.at, sc.fault_time);
  }
}

TEST(FaultPlan, FileRoundTrip) {
  Scenario sc = draw_scenario(11);
  Prng rng = Prng::stream(11, "faults");
  PlanFile f{11, "no-retry-dedupe",
             draw_plan(rng, sc.faults, sc.cluster.nodes, sc.cluster.clients, sc.fault_time)};
  std::string error;
  auto back = parse_plan_file(plan_file_text(f), &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(back->seed, 11u);
  EXPECT_EQ(back->bug, "no-retry-dedupe");
  EXPECT_EQ(back->plan, f.plan);
}

TEST(FaultPlan, BadLinesNameTheProblem) {
  std::string error;
  EXPECT_FALSE(parse_plan_file("seed=1\nat=1.0 explode node=1\n", &error).has_value());
  EXPECT_NE(error.find("line 2"), std::string::npos);
  EXPECT_NE(error.find("explode"), std::string::npos);
  EXPECT_FALSE(parse_plan_file("at=x crash node=1\n", &error).has_value());
  EXPECT_NE(error.find("at"), std::string::npos);
}

}  // namespace
}  // namespace kvs::sim
