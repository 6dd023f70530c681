// kvsim: the deterministic simulator's runner (docs/SIMULATION.md).
//   kvsim --seed N                 one run; one summary line with hash=<hex>
//   kvsim --seeds A..B --jobs J    a sweep; a table of failures with replay commands
//   kvsim --seed N --trace F       every event as text; --shiviz F a ShiViz log
//   kvsim --seed N --minimize      shrink the failing fault plan (ddmin), write it
//   kvsim --plan F                 replay a saved plan
//   kvsim --bug NAME / --list-bugs planted bugs, to show the checkers catch them
// Exit status: 0 every check passed, 1 a violation, 2 bad arguments.
#include <unistd.h>

#include <cxxopts.hpp>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

#include "core/bugs.h"
#include "sim/minimize.h"
#include "sim/scenario.h"
#include "sim/sweep.h"

namespace {

constexpr int kPassed = 0;
constexpr int kViolation = 1;
constexpr int kBadArguments = 2;

using kvs::sim::RunOptions;
using kvs::sim::RunResult;

int bad(const std::string& why) {
  std::cerr << "kvsim: " << why << " (see kvsim --help)\n";
  return kBadArguments;
}

// "A..B" -> [A, B].
bool parse_range(const std::string& text, std::uint64_t* first, std::uint64_t* last) {
  const std::size_t dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    std::size_t used = 0;
    *first = std::stoull(text.substr(0, dots), &used);
    if (used != dots) return false;
    const std::string rest = text.substr(dots + 2);
    *last = std::stoull(rest, &used);
    return used == rest.size() && *first <= *last;
  } catch (const std::exception&) {
    return false;
  }
}

std::string replay_command(std::uint64_t seed, const std::string& bug, bool intense) {
  return "kvsim --seed " + std::to_string(seed) + (bug.empty() ? "" : " --bug " + bug) +
         (intense ? " --intense" : "");
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

int sweep(std::uint64_t first, std::uint64_t last, int jobs, const kvs::PlantedBugs& bugs,
          const std::string& bug, bool intense, bool verbose, bool bench) {
  kvs::sim::SweepProgress progress;
  const std::size_t total = last - first + 1;
  // On a terminal one line redrawn in place; in a log, a line per tenth of the sweep.
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::size_t shown = 0;
  auto draw = [&] {
    const std::size_t done = progress.done.load();
    if (!tty && done < total && done * 10 / total == shown * 10 / total) return;
    shown = done;
    std::cerr << (tty ? "\r" : "") << "[" << done << "/" << total
              << "] failures=" << progress.failed.load() << " ops=" << progress.ops.load()
              << (tty ? "" : "\n") << std::flush;
  };
  auto outcomes = kvs::sim::run_sweep(first, last, jobs, bugs, intense, &progress, draw);
  draw();
  if (tty) std::cerr << "\n";
  std::size_t failed = 0;
  double cpu = 0;
  std::size_t ops = 0;
  std::uint64_t events = 0;
  for (const auto& o : outcomes) {
    cpu += o.cpu_seconds;
    ops += o.ops;
    events += o.events;
    if (verbose) std::cout << o.summary << "\n";
  }
  for (const auto& o : outcomes) {
    if (o.ok) continue;
    if (failed++ == 0) {
      std::cout << "\nFAILURES\n"
                << std::left << std::setw(12) << "seed" << std::setw(22) << "check"
                << "replay\n";
    }
    std::cout << std::left << std::setw(12) << o.seed << std::setw(22) << o.first_check
              << replay_command(o.seed, bug, intense) << "\n";
  }
  std::cout << (failed == 0
                    ? "all " + std::to_string(total) + " seeds passed"
                    : std::to_string(failed) + " of " + std::to_string(total) + " seeds failed")
            << " (" << ops << " client ops in " << std::fixed << std::setprecision(1) << cpu
            << " cpu-seconds)\n";
  if (bench && cpu > 0) {
    // Thread CPU time, not wall time: the numbers hold on a shared machine too.
    std::cout << std::setprecision(0) << "simulated client ops per cpu-second: " << ops / cpu
              << "\nseeds per cpu-minute: " << total / cpu * 60
              << "\nevents per cpu-second: " << static_cast<double>(events) / cpu
              << std::setprecision(1) << "\nmean client ops per seed: "
              << static_cast<double>(ops) / static_cast<double>(total) << "\n";
  }
  return failed == 0 ? kPassed : kViolation;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options(
      "kvsim",
      "Deterministic simulation of a kvs cluster: seeded faults, history checkers.\n"
      "Exit status: 0 every check passed, 1 a violation, 2 bad arguments.");
  // clang-format off
  options.add_options()
    ("h,help", "print this help")
    ("seed", "run one scenario with this seed", cxxopts::value<std::uint64_t>())
    ("seeds", "sweep the seeds A..B (inclusive)", cxxopts::value<std::string>())
    ("jobs", "threads for a sweep", cxxopts::value<int>()->default_value("1"))
    ("trace", "write every event of the run to FILE", cxxopts::value<std::string>())
    ("shiviz", "write a ShiViz log (vector clocks) of the run to FILE",
     cxxopts::value<std::string>())
    ("history", "write the run's history (JSON lines, for kvcheck) to FILE",
     cxxopts::value<std::string>())
    ("minimize", "shrink the failing run's fault plan and write it (see --plan-out)")
    ("plan-out", "where --minimize writes the plan (default kvsim-SEED.plan)",
     cxxopts::value<std::string>())
    ("plan", "replay the fault plan saved in FILE (its seed and bug unless given)",
     cxxopts::value<std::string>())
    ("print-plan", "print the run's fault plan")
    ("bug", "plant the named bug (see --list-bugs)", cxxopts::value<std::string>())
    ("intense", "every fault kind on, each every 0.5 s on average (bug hunting)")
    ("list-bugs", "list the planted bugs")
    ("v,verbose", "sweep: print every seed's summary line")
    ("bench", "sweep: also print simulator throughput (ops and seeds per cpu-second)");
  // clang-format on
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (args.count("help")) {
    std::cout << options.help() << "\n";
    return kPassed;
  }
  if (!args.unmatched().empty()) return bad("unexpected argument '" + args.unmatched()[0] + "'");
  if (args.count("list-bugs")) {
    for (const auto& b : kvs::kPlantedBugs) {
      std::cout << std::left << std::setw(30) << b.name << b.description << "\n";
    }
    return kPassed;
  }

  RunOptions run;
  std::string bug;
  std::optional<kvs::sim::PlanFile> plan_file;
  if (args.count("plan")) {
    std::ifstream in(args["plan"].as<std::string>());
    if (!in) return bad("cannot read plan file " + args["plan"].as<std::string>());
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    plan_file = kvs::sim::parse_plan_file(text.str(), &error);
    if (!plan_file) return bad(args["plan"].as<std::string>() + ": " + error);
    run.seed = plan_file->seed;
    bug = plan_file->bug;
    run.plan = plan_file->plan;
  }
  if (args.count("bug")) bug = args["bug"].as<std::string>();
  run.intense = args.count("intense") > 0;
  if (!bug.empty() && !kvs::plant_bug(bug, &run.bugs)) {
    return bad("no planted bug named '" + bug + "'");
  }

  if (args.count("seeds")) {
    std::uint64_t first = 0, last = 0;
    if (!parse_range(args["seeds"].as<std::string>(), &first, &last)) {
      return bad("--seeds wants A..B with A <= B");
    }
    if (args.count("seed") || args.count("plan") || args.count("minimize") || args.count("trace") ||
        args.count("shiviz")) {
      return bad("--seeds runs a sweep; --seed/--plan/--minimize/--trace/--shiviz are for one run");
    }
    const int jobs = args["jobs"].as<int>();
    if (jobs < 1 || jobs > 256) return bad("--jobs wants 1..256");
    return sweep(first, last, jobs, run.bugs, bug, run.intense, args.count("verbose") > 0,
                 args.count("bench") > 0);
  }
  if (args.count("seed")) {
    run.seed = args["seed"].as<std::uint64_t>();
  } else if (!plan_file) {
    return bad("give --seed N, --seeds A..B or --plan FILE");
  }

  std::ofstream trace, shiviz;
  if (args.count("trace")) {
    trace.open(args["trace"].as<std::string>());
    if (!trace) return bad("cannot write " + args["trace"].as<std::string>());
    run.trace = &trace;
  }
  if (args.count("shiviz")) {
    shiviz.open(args["shiviz"].as<std::string>());
    if (!shiviz) return bad("cannot write " + args["shiviz"].as<std::string>());
    run.shiviz = &shiviz;
  }

  RunResult result = kvs::sim::run_scenario(run);
  std::cout << result.summary() << (bug.empty() ? "" : " bug=" + bug) << "\n";
  if (args.count("print-plan")) {
    for (const auto& e : result.plan) std::cout << "  " << kvs::sim::event_to_text(e) << "\n";
  }
  if (args.count("history")) {
    std::string text;
    for (const auto& e : result.history) text += kvs::history_event_to_json(e) + "\n";
    if (!write_file(args["history"].as<std::string>(), text)) {
      return bad("cannot write " + args["history"].as<std::string>());
    }
  }
  if (result.ok()) return kPassed;

  std::cout << result.report();
  std::cout << "replay: "
            << (plan_file ? "kvsim --plan " + args["plan"].as<std::string>()
                          : replay_command(run.seed, bug, run.intense))
            << " --trace trace.txt --shiviz run.shiviz\n";
  if (!args.count("minimize")) return kViolation;

  std::cout << "minimizing the fault plan (" << result.plan.size() << " events) for check '"
            << result.first_check() << "'...\n";
  RunOptions base = run;
  base.trace = nullptr;
  base.shiviz = nullptr;
  auto shrunk =
      kvs::sim::minimize_plan(base, result.plan, result.first_check(), [](const std::string& line) {
        std::cout << "  " << line << "\n" << std::flush;
      });
  const std::string out = args.count("plan-out") ? args["plan-out"].as<std::string>()
                                                 : "kvsim-" + std::to_string(run.seed) + ".plan";
  kvs::sim::PlanFile saved{run.seed, bug, shrunk.plan};
  if (!write_file(out, kvs::sim::plan_file_text(saved))) return bad("cannot write " + out);
  std::cout << "smallest failing plan (" << shrunk.plan.size() << " of " << result.plan.size()
            << " events, " << shrunk.runs << " runs):\n";
  for (const auto& e : shrunk.plan) std::cout << "  " << kvs::sim::event_to_text(e) << "\n";
  std::cout << shrunk.failing.summary() << "\n" << shrunk.failing.report();
  std::cout << "written to " << out << "; replay: kvsim --plan " << out
            << " --trace trace.txt --shiviz run.shiviz\n";
  return kViolation;
}
