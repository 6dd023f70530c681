#include "sim/sweep.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <thread>

namespace kvs::sim {
namespace {

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

std::vector<SeedOutcome> run_sweep(std::uint64_t first, std::uint64_t last, int jobs,
                                   const PlantedBugs& bugs, bool intense, SweepProgress* progress,
                                   const std::function<void()>& on_tick) {
  const std::size_t count = last >= first ? static_cast<std::size_t>(last - first + 1) : 0;
  std::vector<SeedOutcome> outcomes(count);
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= count) return;
      RunOptions o;
      o.seed = first + i;
      o.bugs = bugs;
      o.intense = intense;
      // Wall time is measured for the benchmark only; it never reaches a simulation.
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = thread_cpu_seconds();
      RunResult r = run_scenario(o);
      const double cpu = thread_cpu_seconds() - cpu_start;
      const auto stop = std::chrono::steady_clock::now();
      SeedOutcome& out = outcomes[i];
      out.seed = o.seed;
      out.ok = r.ok();
      out.summary = r.summary();
      if (!r.ok()) out.report = r.report();
      out.first_check = r.first_check();
      out.ops = r.ops_completed;
      out.wall_seconds = std::chrono::duration<double>(stop - start).count();
      out.cpu_seconds = cpu;
      out.events = r.events;
      if (progress != nullptr) {
        progress->ops += r.ops_completed;
        if (!r.ok()) ++progress->failed;
        ++progress->done;
      }
      ++finished;
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < std::max(jobs, 1); ++j) threads.emplace_back(worker);
  while (finished.load() < count) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (on_tick) on_tick();
  }
  for (std::thread& t : threads) t.join();
  return outcomes;
}

}  // namespace kvs::sim
