// Runs the checkers over a history and words the verdict: see check.h.
#include "sim/check.h"

#include <map>

#include "sim/check_linearizable.h"
#include "sim/check_ops.h"
#include "sim/check_session.h"

namespace kvs {

namespace {

// Keeps at most options.max_violations_per_key of each checker for one key.
void keep(CheckReport& report, std::vector<Violation> found, const CheckOptions& options) {
  std::map<std::string, std::size_t> per_checker;
  for (Violation& v : found) {
    if (++per_checker[v.checker] > options.max_violations_per_key) {
      ++report.suppressed;
      continue;
    }
    report.violations.push_back(std::move(v));
  }
}

// "1 key", "2 keys".
std::string count(std::size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

CheckReport check_history(const History& history, const CheckOptions& options) {
  CheckReport report;
  report.time_origin = options.time_origin;
  check::Operations ops = check::pair_operations(history, options);
  report.ops = ops.ops.size();
  report.keys = ops.keys.size();
  report.errors = std::move(ops.errors);
  // A malformed history (unpaired events, repeated values) would make every verdict
  // doubtful, so nothing is judged until it is fixed.
  if (!report.errors.empty()) return report;

  for (const auto& [key, kv] : ops.keys) {
    bool linearizable = false;
    if (options.linearizability) {
      check::KeyLinearizability lin = check::check_linearizable_key(history, ops, key, options);
      linearizable = !lin.undecided && lin.violations.empty();
      if (lin.undecided) {
        report.undecided = true;
        report.undecided_keys.push_back(key);
      }
      keep(report, std::move(lin.violations), options);
    }
    if (!options.sessions) continue;
    std::vector<Violation> session = check::check_sessions_key(history, ops, key, options);
    // The pairwise rules explain the usual anomalies best; when they find none on a
    // linearizable key, the exact search (real time plus issue order) has the last word.
    if (session.empty() && linearizable) {
      check::KeyLinearizability exact = check::check_linearizable_key(
          history, ops, key, options, check::Order::kRealTimeAndSessions);
      if (exact.undecided) {
        report.undecided = true;
        report.undecided_keys.push_back(key);
      }
      session = std::move(exact.violations);
    }
    keep(report, std::move(session), options);
  }
  return report;
}

std::string describe(const CheckReport& report, std::size_t max_violations) {
  std::string out = count(report.ops, "op") + ", " + count(report.keys, "key") + ": ";
  if (!report.errors.empty()) {
    out += "malformed history, not checked (" + count(report.errors.size(), "problem") + ")\n";
    for (const std::string& e : report.errors) out += "  " + e + "\n";
    return out;
  }
  if (report.ok()) return out + "linearizable, session guarantees hold\n";

  std::size_t total = report.violations.size() + report.suppressed;
  out += count(total, "violation");
  if (report.undecided) out += ", " + count(report.undecided_keys.size(), "key") + " undecided";
  out += "\n";
  for (const std::string& key : report.undecided_keys) {
    out += "[undecided] key " + key +
           ": the search (linearizability, or issue order) ran out of budget; neither passed "
           "nor failed\n";
  }
  check::Wording words(report.time_origin);
  std::size_t shown = 0;
  for (const Violation& v : report.violations) {
    if (shown == max_violations) break;
    ++shown;
    out += "[" + v.checker + "] " + v.explanation + "\n";
    for (const HistoryEvent& e : v.witness) {
      out += "    " + words.time(e.time) + " " + e.process + " " +
             std::string(history_type_name(e.type)) + " " +
             (e.f == HistoryEvent::F::kRead ? "read" : "write") + " " + e.key;
      bool read_result = e.f == HistoryEvent::F::kRead && e.type == HistoryEvent::Type::kOk;
      if (e.value || read_result) out += " " + check::Wording::value(e.value);
      out += "\n";
    }
  }
  if (total > shown) out += "(" + count(total - shown, "more violation") + " not shown)\n";
  return out;
}

}  // namespace kvs
