// kvcheck FILE...: checks recorded histories (JSON lines, as `client --history` and the
// simulator write them) for per-key linearizability and per-client session guarantees.
// The files are merged (each may hold a different client) and ordered by time.
// Exit status: 0 every check passed, 1 a violation (or an undecided key), 2 bad input.
#include <algorithm>
#include <cxxopts.hpp>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "core/history.h"
#include "sim/check.h"

namespace {

constexpr int kOk = 0;
constexpr int kViolation = 1;
constexpr int kBadInput = 2;

// Where an event came from, for errors.
struct Origin {
  std::size_t file;
  std::size_t line;
};

// Appends the file's events to *history (and where each came from to *origins); false
// (with the reason printed) on a bad line.
bool read_file(const std::string& path, std::size_t file, kvs::History* history,
               std::vector<Origin>* origins) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "kvcheck: cannot open " << path << "\n";
    return false;
  }
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    std::string error;
    auto event = kvs::history_event_from_json(line, &error);
    if (!event) {
      std::cerr << "kvcheck: " << path << ":" << number << ": " << error << "\n";
      return false;
    }
    history->push_back(std::move(*event));
    origins->push_back({file, number});
  }
  if (in.bad()) {
    std::cerr << "kvcheck: error reading " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("kvcheck",
                           "Checks kvs histories (JSON lines) for per-key linearizability and "
                           "per-client session guarantees.\nExit status: 0 ok, 1 violation or "
                           "undecided, 2 bad input.");
  options.positional_help("FILE...");
  // clang-format off
  options.add_options()
    ("h,help", "print this help")
    ("budget", "linearizability search steps allowed per key before it is undecided",
     cxxopts::value<std::uint64_t>()->default_value("5000000"))
    ("show", "print at most this many violations",
     cxxopts::value<std::size_t>()->default_value("20"))
    ("files", "history files", cxxopts::value<std::vector<std::string>>());
  // clang-format on
  options.parse_positional({"files"});

  std::vector<std::string> files;
  kvs::CheckOptions check;
  std::size_t show = 0;
  try {
    auto args = options.parse(argc, argv);
    if (args.count("help")) {
      std::cout << options.help() << "\n";
      return kOk;
    }
    if (args.count("files")) files = args["files"].as<std::vector<std::string>>();
    check.search_budget = args["budget"].as<std::uint64_t>();
    show = args["show"].as<std::size_t>();
  } catch (const std::exception& e) {
    std::cerr << "kvcheck: " << e.what() << "\n" << options.help() << "\n";
    return kBadInput;
  }
  if (files.empty()) {
    std::cerr << "kvcheck: no history files given\n" << options.help() << "\n";
    return kBadInput;
  }

  kvs::History read;
  std::vector<Origin> read_origins;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (!read_file(files[i], i, &read, &read_origins)) return kBadInput;
  }
  // Stable: events of one file at the same instant keep their order (an invoke before
  // its completion).
  std::vector<std::size_t> order(read.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return read[a].time < read[b].time; });
  kvs::History history;
  std::vector<Origin> origins;
  for (std::size_t i : order) {
    history.push_back(std::move(read[i]));
    origins.push_back(read_origins[i]);
  }
  check.event_name = [&](std::size_t i) {
    return files[origins[i].file] + ":" + std::to_string(origins[i].line);
  };
  // Real histories carry CLOCK_MONOTONIC times (since boot); explanations are easier to
  // read relative to the first event.
  if (!history.empty()) check.time_origin = history.front().time;

  kvs::CheckReport report = kvs::check_history(history, check);
  std::cout << "kvcheck: " << files.size() << " file" << (files.size() == 1 ? "" : "s") << ", "
            << kvs::describe(report, show);
  if (!report.ok() && !history.empty()) {
    std::cout << "(times are relative to the first event, monotonic " << history.front().time
              << " ns)\n";
  }
  if (!report.errors.empty()) return kBadInput;
  return report.ok() ? kOk : kViolation;
}
