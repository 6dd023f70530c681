#include "sim/minimize.h"

#include <algorithm>

namespace kvs::sim {
namespace {

bool fails_with(const RunResult& r, const std::string& check) {
  return std::any_of(r.failures.begin(), r.failures.end(),
                     [&](const Failure& f) { return f.check == check; });
}

}  // namespace

MinimizeResult minimize_plan(const RunOptions& base, const FaultPlan& plan,
                             const std::string& check,
                             const std::function<void(const std::string&)>& progress) {
  MinimizeResult out;
  auto attempt = [&](const FaultPlan& candidate) {
    RunOptions o = base;
    o.plan = candidate;
    o.trace = nullptr;
    o.shiviz = nullptr;
    ++out.runs;
    RunResult r = run_scenario(o);
    if (!fails_with(r, check)) return false;
    out.plan = candidate;
    out.failing = std::move(r);
    if (progress) {
      progress("still fails with " + std::to_string(candidate.size()) + " fault events (run " +
               std::to_string(out.runs) + ")");
    }
    return true;
  };

  out.plan = plan;
  if (!attempt(plan)) return out;  // not reproducible: nothing to shrink
  if (attempt({})) return out;     // fails without any fault

  FaultPlan current = plan;
  std::size_t n = 2;
  while (current.size() >= 2) {
    // Split into n chunks of nearly equal size, in time order.
    std::vector<FaultPlan> chunks(n);
    for (std::size_t i = 0; i < current.size(); ++i)
      chunks[i * n / current.size()].push_back(current[i]);
    bool reduced = false;
    for (const FaultPlan& chunk : chunks) {
      if (!chunk.empty() && chunk.size() < current.size() && attempt(chunk)) {
        current = chunk;
        n = 2;
        reduced = true;
        break;
      }
    }
    if (!reduced && n > 2) {
      for (std::size_t skip = 0; skip < n && !reduced; ++skip) {
        FaultPlan complement;
        for (std::size_t i = 0; i < n; ++i) {
          if (i != skip) complement.insert(complement.end(), chunks[i].begin(), chunks[i].end());
        }
        if (complement.size() < current.size() && attempt(complement)) {
          current = complement;
          n = std::max<std::size_t>(n - 1, 2);
          reduced = true;
        }
      }
    }
    if (reduced) continue;
    if (n >= current.size()) break;
    n = std::min(n * 2, current.size());
  }
  // attempt() recorded the last failing candidate, which is `current`.
  return out;
}

}  // namespace kvs::sim
