// Properties of the history checkers (src/sim/check.h), on histories of a correct store.
//
// The generator plans a run of several clients, each issuing gets and puts one at a time on
// a few keys (so operations collide), with unique write values. Every operation gets an
// interval [invoke, complete] and a linearization point inside it, and the operations are
// applied to a std::map in linearization-point order, so each read returns what the map held
// at its point. Some writes fail (no effect); some are indeterminate (info, or pending at the
// end of the run) and the generator decides whether they took effect, possibly after their
// client gave up, but always before that client's next operation (a session's operations
// take effect in issue order). Such a run is linearizable and keeps every session guarantee
// by construction, so:
//  1. check_history accepts it, whatever the order of the events in the vector.
//  2. One stale read (a read made to return a value overwritten by a write that completed
//     before the read began) is caught by the linearizability checker, on that key only,
//     also by the search alone (zone refutation off).
//  3. One lost write (a read invoked after an acknowledged write completed, that returned
//     it, made to return the value before it) is caught likewise.
//  4. A client's read made to return a value older than its own last completed write
//     (read-your-writes), or older than what its previous read returned (monotonic reads),
//     is caught by that session checker alone (linearizability off).
// Injections are built from the plan, picking among the reads for which the anomaly is a
// certain violation; cases without a candidate are discarded.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/history.h"
#include "sim/check.h"

namespace kvs {
namespace {

using Type = HistoryEvent::Type;
using F = HistoryEvent::F;

constexpr std::int64_t kMs = 1'000'000;  // plan times are in ms, history times in ns
constexpr int kMaxClients = 4;
constexpr int kMaxKeys = 3;
constexpr int kMaxSteps = 40;
constexpr int kNone = -1;

// The raw choices for one operation; plan_run() turns them into a planned operation.
struct Step {
  int client = 0;  // modulo the number of clients
  int key = 0;     // modulo the number of keys
  bool write = false;
  int outcome = 0;   // 0..99, see plan_run()
  int gap = 1;       // ms since the client's previous completion
  int duration = 1;  // ms
  int point = 0;     // linearization point, percent of the interval
  int delay = 0;     // > 0: ms after its client gave up that an indeterminate write took effect
};

// One operation of the run, as planned.
struct PlannedOp {
  int client = 0;
  int key = 0;
  bool write = false;
  Type outcome = Type::kOk;  // kInvoke: pending, never completed
  bool applied = false;      // a write that took effect
  std::int64_t invoke = 0, complete = 0, lin = 0;
  std::optional<std::string> value;  // write: the value; read ok: what it returned
  int overwrote = kNone;             // applied write: the applied write it replaced
};

struct Run {
  std::vector<PlannedOp> ops;  // each client's operations in issue order
  std::uint64_t shuffle_seed = 0;
};

std::string process(int client) {
  return "c" + std::to_string(client);
}
std::string key_name(int key) {
  return "k" + std::to_string(key);
}

void showValue(const Run& run, std::ostream& os) {
  os << "run (times in ms, shuffle seed " << run.shuffle_seed << "):\n";
  for (std::size_t i = 0; i < run.ops.size(); ++i) {
    const PlannedOp& o = run.ops[i];
    os << "  #" << i << " " << process(o.client) << (o.write ? " write " : " read ")
       << key_name(o.key) << " " << (o.value ? "\"" + *o.value + "\"" : "nothing") << " ["
       << o.invoke << ", " << (o.outcome == Type::kInvoke ? "pending" : std::to_string(o.complete))
       << "] " << (o.outcome == Type::kInvoke ? "" : history_type_name(o.outcome)) << " lin "
       << o.lin << (o.write && !o.applied ? " (no effect)" : "") << "\n";
  }
}

// Real-time order: a completed ok strictly before b was invoked.
bool precedes(const PlannedOp& a, const PlannedOp& b) {
  return a.outcome == Type::kOk && a.complete < b.invoke;
}

bool ok_read(const PlannedOp& o) {
  return !o.write && o.outcome == Type::kOk;
}
bool ok_write(const PlannedOp& o) {
  return o.write && o.outcome == Type::kOk;
}

// Plans a run of a correct store from the raw steps (see the top of the file).
Run plan_run(int clients, int keys, const std::vector<Step>& steps) {
  Run run;
  std::vector<std::int64_t> clock(kMaxClients, 0);
  std::vector<bool> stopped(kMaxClients, false);  // a pending operation ends its client
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    PlannedOp o;
    o.client = s.client % clients;
    if (stopped[o.client]) continue;
    o.key = s.key % keys;
    o.write = s.write;
    o.invoke = clock[o.client] + s.gap;
    o.complete = o.invoke + s.duration;
    o.lin = o.invoke + s.duration * s.point / 100;
    clock[o.client] = o.complete;
    if (o.write) {
      o.value = "v" + std::to_string(i);
      o.outcome = s.outcome < 65   ? Type::kOk
                  : s.outcome < 75 ? Type::kFail
                  : s.outcome < 87 ? Type::kInfo
                                   : Type::kInvoke;
      o.applied = o.outcome == Type::kOk || (o.outcome != Type::kFail && s.outcome % 2 == 0);
      // An indeterminate write may take effect after its client gave up, but before the
      // client's next operation (a session's operations take effect in issue order).
      if (o.applied && o.outcome != Type::kOk && s.delay > 0) {
        o.lin = o.complete + s.delay;
        clock[o.client] = o.lin;
      }
    } else {
      o.outcome = s.outcome < 80   ? Type::kOk
                  : s.outcome < 87 ? Type::kFail
                  : s.outcome < 94 ? Type::kInfo
                                   : Type::kInvoke;
    }
    if (o.outcome == Type::kInvoke) stopped[o.client] = true;
    run.ops.push_back(o);
  }
  // Apply in linearization-point order (ties: plan order, also a valid linearization).
  std::vector<int> order(run.ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return run.ops[a].lin < run.ops[b].lin; });
  std::map<int, int> store;  // key -> the applied write it holds
  for (int i : order) {
    PlannedOp& o = run.ops[i];
    auto it = store.find(o.key);
    if (o.write && o.applied) {
      o.overwrote = it == store.end() ? kNone : it->second;
      store[o.key] = i;
    } else if (ok_read(o) && it != store.end()) {
      o.value = run.ops[it->second].value;
    }
  }
  return run;
}

// Runs of up to kMaxSteps operations (shrinking removes any of them). Every choice is
// uniform in its range, whatever the test's size (rc::gen::inRange scales with it, which
// would make the early runs all ok writes by one client).
rc::Gen<Run> gen_run() {
  const auto uniform = [](auto gen) { return rc::gen::resize(100, std::move(gen)); };
  const auto step =
      uniform(rc::gen::build<Step>(rc::gen::set(&Step::client, rc::gen::inRange(0, kMaxClients)),
                                   rc::gen::set(&Step::key, rc::gen::inRange(0, kMaxKeys)),
                                   rc::gen::set(&Step::write, rc::gen::arbitrary<bool>()),
                                   rc::gen::set(&Step::outcome, rc::gen::inRange(0, 100)),
                                   rc::gen::set(&Step::gap, rc::gen::inRange(1, 20)),
                                   rc::gen::set(&Step::duration, rc::gen::inRange(1, 40)),
                                   rc::gen::set(&Step::point, rc::gen::inRange(0, 101)),
                                   rc::gen::set(&Step::delay, rc::gen::inRange(-40, 80))));
  return rc::gen::exec([=] {
    const int clients = *uniform(rc::gen::inRange(1, kMaxClients + 1));
    const int keys = *uniform(rc::gen::inRange(1, kMaxKeys + 1));
    const auto steps = *rc::gen::resize(kMaxSteps, rc::gen::container<std::vector<Step>>(step));
    Run run = plan_run(clients, keys, steps);
    run.shuffle_seed = *rc::gen::arbitrary<std::uint64_t>();
    return run;
  });
}

// The run's events, shuffled (the checkers sort by time; no two events of one client share
// a time, so the pairing is unambiguous).
History to_history(const Run& run) {
  History h;
  for (const PlannedOp& o : run.ops) {
    HistoryEvent e{process(o.client), Type::kInvoke, o.write ? F::kWrite : F::kRead,
                   key_name(o.key),   std::nullopt,  o.invoke * kMs};
    if (o.write) e.value = o.value;
    h.push_back(e);
    if (o.outcome == Type::kInvoke) continue;
    e.type = o.outcome;
    e.time = o.complete * kMs;
    e.value = o.write || o.outcome == Type::kOk ? o.value : std::nullopt;
    h.push_back(e);
  }
  std::mt19937_64 rng(run.shuffle_seed);
  for (std::size_t i = h.size(); i > 1; --i) std::swap(h[i - 1], h[rng() % i]);
  return h;
}

// Coverage of the generated runs.
void classify(const Run& run) {
  bool overlap = false, late = false, dropped = false;
  for (const PlannedOp& a : run.ops) {
    for (const PlannedOp& b : run.ops) {
      overlap |= a.client != b.client && a.invoke <= b.invoke && b.invoke <= a.complete;
    }
    const bool indeterminate = a.write && a.outcome != Type::kOk && a.outcome != Type::kFail;
    late |= indeterminate && a.applied && a.lin > a.complete;
    dropped |= indeterminate && !a.applied;
  }
  RC_CLASSIFY(overlap, "clients overlap");
  RC_CLASSIFY(late, "indeterminate write took effect after its client gave up");
  RC_CLASSIFY(dropped, "indeterminate write had no effect");
}

// The value a read returns instead: nothing, or that of write `source`.
void set_read(Run& run, int read, int source) {
  run.ops[read].value = source == kNone ? std::nullopt : run.ops[source].value;
  RC_LOG() << "injected: #" << read << " returns "
           << (source == kNone ? "nothing" : *run.ops[read].value) << "\n";
}

// Picks one of the candidates (read, value source), first a kind of source uniformly
// (nothing, an ok write, an indeterminate write), then one of that kind; discards the case
// if there is none.
std::pair<int, int> pick(const Run& run, const std::set<std::pair<int, int>>& candidates) {
  RC_PRE(!candidates.empty());
  std::map<int, std::vector<std::pair<int, int>>> by_kind;
  for (const auto& c : candidates) {
    const int kind = c.second == kNone ? 0 : run.ops[c.second].outcome == Type::kOk ? 1 : 2;
    by_kind[kind].push_back(c);
  }
  auto uniform = [](std::size_t n) {
    return *rc::gen::resize(100, rc::gen::inRange<std::size_t>(0, n));
  };
  auto kind = by_kind.begin();
  std::advance(kind, uniform(by_kind.size()));
  return kind->second[uniform(kind->second.size())];
}

// What the injected read returns: "nothing", "ok write" or "indeterminate write", and
// whether the reader wrote it itself.
void tag_injection(const Run& run, int read, int source) {
  if (source == kNone) {
    RC_TAG("returns nothing");
    return;
  }
  const PlannedOp& w = run.ops[source];
  RC_TAG(w.outcome == Type::kOk ? "returns an ok write's value"
                                : "returns an indeterminate write's value",
         w.client == run.ops[read].client ? "the reader's own" : "another client's");
}

// The report rejects the history with `checker` on `key`, and names no other key.
void expect_caught(const CheckReport& r, const std::string& checker, int key) {
  RC_LOG() << describe(r);
  RC_ASSERT(r.errors.empty());
  RC_ASSERT(!r.ok());
  bool found = false;
  for (const Violation& v : r.violations) {
    RC_ASSERT(v.key == key_name(key));
    found |= v.checker == checker;
  }
  RC_ASSERT(found);
}

void expect_linearizability_catches(const Run& run, int key) {
  const History h = to_history(run);
  RC_LOG() << "default options: ";
  expect_caught(check_history(h), "linearizability", key);
  CheckOptions search_only;
  search_only.zone_refutation = false;
  RC_LOG() << "zone_refutation off: ";
  expect_caught(check_history(h, search_only), "linearizability", key);
}

RC_GTEST_PROP(CheckerProperty, CorrectRunsPass, ()) {
  const Run run = *gen_run();
  classify(run);
  const CheckReport r = check_history(to_history(run));
  RC_LOG() << describe(r);
  RC_ASSERT(r.ok());
  RC_ASSERT(r.ops == run.ops.size());
}

RC_GTEST_PROP(CheckerProperty, StaleReadIsCaught, ()) {
  Run run = *gen_run();
  // A read R, a write B that completed before R began, and an older value than B's:
  // nothing, or that of a write A that completed before B began.
  std::set<std::pair<int, int>> candidates;
  const int n = static_cast<int>(run.ops.size());
  for (int r = 0; r < n; ++r) {
    for (int b = 0; b < n; ++b) {
      const PlannedOp &read = run.ops[r], &w = run.ops[b];
      if (!ok_read(read) || !ok_write(w) || w.key != read.key || !precedes(w, read)) continue;
      candidates.insert({r, kNone});
      for (int a = 0; a < n; ++a) {
        if (ok_write(run.ops[a]) && run.ops[a].key == w.key && precedes(run.ops[a], w)) {
          candidates.insert({r, a});
        }
      }
    }
  }
  const auto [read, source] = pick(run, candidates);
  tag_injection(run, read, source);
  set_read(run, read, source);
  expect_linearizability_catches(run, run.ops[read].key);
}

RC_GTEST_PROP(CheckerProperty, LostWriteIsCaught, ()) {
  Run run = *gen_run();
  // An ok write W and a read R of its value invoked after W completed; R is made to return
  // the value W overwrote: nothing, or that of a write that completed before W began.
  std::set<std::pair<int, int>> candidates;
  const int n = static_cast<int>(run.ops.size());
  for (int r = 0; r < n; ++r) {
    for (int w = 0; w < n; ++w) {
      const PlannedOp &read = run.ops[r], &write = run.ops[w];
      if (!ok_read(read) || !ok_write(write) || read.value != write.value) continue;
      if (!precedes(write, read)) continue;
      if (write.overwrote == kNone || precedes(run.ops[write.overwrote], write)) {
        candidates.insert({r, write.overwrote});
      }
    }
  }
  const auto [read, source] = pick(run, candidates);
  tag_injection(run, read, source);
  set_read(run, read, source);
  expect_linearizability_catches(run, run.ops[read].key);
}

// Session checkers alone (linearizability off).
CheckReport check_sessions_only(const Run& run) {
  CheckOptions options;
  options.linearizability = false;
  return check_history(to_history(run), options);
}

// The value of write a is older than that of write b: a completed before b began, or both
// are one client's and a was issued first (neither failed).
bool older(const Run& run, int a, int b) {
  const PlannedOp &x = run.ops[a], &y = run.ops[b];
  if (!x.write || x.key != y.key || x.outcome == Type::kFail || a == b) return false;
  return precedes(x, y) || (x.client == y.client && a < b);
}

RC_GTEST_PROP(CheckerProperty, ReadYourWritesViolationIsCaught, ()) {
  Run run = *gen_run();
  // A read R by C after C's last ok write W of the key, made to return nothing or a value
  // older than W's.
  std::set<std::pair<int, int>> candidates;
  const int n = static_cast<int>(run.ops.size());
  for (int r = 0; r < n; ++r) {
    if (!ok_read(run.ops[r])) continue;
    int own = kNone;
    for (int w = 0; w < r; ++w) {
      const PlannedOp& o = run.ops[w];
      if (ok_write(o) && o.client == run.ops[r].client && o.key == run.ops[r].key) own = w;
    }
    if (own == kNone) continue;
    candidates.insert({r, kNone});
    for (int a = 0; a < n; ++a) {
      if (older(run, a, own)) candidates.insert({r, a});
    }
  }
  const auto [read, source] = pick(run, candidates);
  // An own indeterminate write's value may even be linearizable: the session rules catch it.
  tag_injection(run, read, source);
  set_read(run, read, source);
  expect_caught(check_sessions_only(run), "read-your-writes", run.ops[read].key);
  RC_ASSERT(!check_history(to_history(run)).ok());
}

RC_GTEST_PROP(CheckerProperty, MonotonicReadsViolationIsCaught, ()) {
  Run run = *gen_run();
  // C's read R1 returned the value of write W1; C's later read R2 of the key is made to
  // return nothing or a value older than W1's.
  std::set<std::pair<int, int>> candidates;
  const int n = static_cast<int>(run.ops.size());
  for (int r1 = 0; r1 < n; ++r1) {
    const PlannedOp& first = run.ops[r1];
    if (!ok_read(first) || !first.value) continue;
    int w1 = 0;
    while (run.ops[w1].value != first.value || !run.ops[w1].write) ++w1;
    for (int r2 = r1 + 1; r2 < n; ++r2) {
      const PlannedOp& second = run.ops[r2];
      if (!ok_read(second) || second.client != first.client || second.key != first.key) continue;
      candidates.insert({r2, kNone});
      for (int a = 0; a < n; ++a) {
        if (older(run, a, w1)) candidates.insert({r2, a});
      }
    }
  }
  const auto [read, source] = pick(run, candidates);
  tag_injection(run, read, source);
  set_read(run, read, source);
  expect_caught(check_sessions_only(run), "monotonic-reads", run.ops[read].key);
  RC_ASSERT(!check_history(to_history(run)).ok());
}

}  // namespace
}  // namespace kvs
