// Shrinks a failing run's fault plan by delta debugging (Zeller's ddmin): the workload
// and network keep their seed-derived streams, only the list of fault events changes,
// and a candidate counts as failing when the run fails the same check again. The
// result is 1-minimal: removing any single remaining event makes the failure go away.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "sim/scenario.h"

namespace kvs::sim {

struct MinimizeResult {
  FaultPlan plan;        // the smallest failing plan found
  RunResult failing;     // the run of that plan
  std::size_t runs = 0;  // simulations it took
};

// base: the options of the failing run (seed, bugs); its plan is `plan`. check: the
// check that must fail again. progress (may be empty) hears one line per improvement.
MinimizeResult minimize_plan(const RunOptions& base, const FaultPlan& plan,
                             const std::string& check,
                             const std::function<void(const std::string&)>& progress);

}  // namespace kvs::sim
