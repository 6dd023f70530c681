// The history checkers (src/sim/check.h) on hand-written and generated histories: valid
// ones must pass, and each kind of anomaly must be caught by the checker meant for it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "core/history.h"
#include "sim/check.h"
#include "sim/check_ops.h"
#include "sim/linearizable_zones.h"

namespace kvs {
namespace {

using Type = HistoryEvent::Type;
using F = HistoryEvent::F;

constexpr std::int64_t kMs = 1'000'000;

// The sanitized debug build (make test-asan) runs the randomized cases too, a tenth of
// them: at -O0 under ASan they would take minutes.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRandomCases = 10;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kRandomCases = 10;
#else
constexpr int kRandomCases = 100;
#endif
#else
constexpr int kRandomCases = 100;
#endif

// Builds histories from operations given as intervals in milliseconds.
class Builder {
 public:
  // A write of `value` by `process`, invoked at `start` ms and completed (`type`) at `end`
  // ms; Type::kInvoke as type leaves it pending.
  Builder& write(const std::string& process, const std::string& key, const std::string& value,
                 std::int64_t start, std::int64_t end, Type type = Type::kOk) {
    add(process, F::kWrite, key, value, start, Type::kInvoke);
    if (type != Type::kInvoke) add(process, F::kWrite, key, value, end, type);
    return *this;
  }
  // A read that returned `value` (nullopt: nothing) if ok.
  Builder& read(const std::string& process, const std::string& key,
                std::optional<std::string> value, std::int64_t start, std::int64_t end,
                Type type = Type::kOk) {
    add(process, F::kRead, key, std::nullopt, start, Type::kInvoke);
    if (type != Type::kInvoke) {
      add(process, F::kRead, key, type == Type::kOk ? value : std::nullopt, end, type);
    }
    return *this;
  }
  const History& history() const { return h_; }

 private:
  void add(const std::string& process, F f, const std::string& key,
           std::optional<std::string> value, std::int64_t ms, Type type) {
    HistoryEvent e;
    e.process = process;
    e.type = type;
    e.f = f;
    e.key = key;
    e.value = std::move(value);
    e.time = ms * kMs;
    h_.push_back(std::move(e));
  }
  History h_;
};

std::set<std::string> checkers(const CheckReport& r) {
  std::set<std::string> out;
  for (const Violation& v : r.violations) out.insert(v.checker);
  return out;
}

void expect_ok(const History& h) {
  CheckReport r = check_history(h);
  EXPECT_TRUE(r.ok()) << describe(r);
}

// The history fails, and `checker` is among the checkers that caught it.
CheckReport expect_caught(const History& h, const std::string& checker) {
  CheckReport r = check_history(h);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.errors.empty()) << describe(r);
  EXPECT_EQ(checkers(r).count(checker), 1u) << "expected " << checker << ":\n" << describe(r);
  return r;
}

// ---- valid histories pass ----

TEST(CheckerGood, EmptyHistory) {
  expect_ok({});
}

TEST(CheckerGood, Sequential) {
  expect_ok(Builder()
                .read("c1", "k", std::nullopt, 0, 5)
                .write("c1", "k", "v1", 10, 20)
                .read("c2", "k", "v1", 30, 40)
                .write("c2", "k", "v2", 50, 60)
                .read("c1", "k", "v2", 70, 80)
                .write("c1", "j", "w1", 90, 100)
                .read("c2", "j", "w1", 110, 120)
                .history());
}

TEST(CheckerGood, ConcurrentWritesEitherOrder) {
  auto base = [] { return Builder().write("c1", "k", "v1", 0, 50).write("c2", "k", "v2", 10, 60); };
  expect_ok(base().read("c3", "k", "v1", 70, 80).read("c3", "k", "v1", 90, 95).history());
  expect_ok(base().read("c3", "k", "v2", 70, 80).read("c1", "k", "v2", 90, 95).history());
  // Reads during the writes may see both orders' intermediate states.
  expect_ok(base().read("c3", "k", "v2", 20, 30).read("c4", "k", "v1", 35, 45).history());
}

TEST(CheckerGood, IndeterminateWriteThatTookEffect) {
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 10)
                .write("c2", "k", "v2", 20, 30, Type::kInfo)
                .read("c3", "k", "v2", 40, 50)
                .read("c1", "k", "v2", 60, 70)
                .history());
  // It may take effect long after its client gave up, even after later writes.
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 10)
                .write("c2", "k", "v2", 20, 30, Type::kInfo)
                .write("c3", "k", "v3", 40, 50)
                .read("c3", "k", "v3", 60, 70)
                .read("c1", "k", "v2", 80, 90)
                .history());
}

TEST(CheckerGood, IndeterminateWriteThatDidNot) {
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 10)
                .write("c2", "k", "v2", 20, 30, Type::kInfo)
                .read("c3", "k", "v1", 40, 50)
                .write("c4", "k", "v4", 60, 70, Type::kInvoke)  // never completed
                .read("c3", "k", "v1", 80, 90)
                .history());
}

TEST(CheckerGood, ReadOfNeverWrittenKey) {
  expect_ok(Builder()
                .read("c1", "k", std::nullopt, 0, 10)
                .write("c2", "k", "v1", 5, 20)
                .read("c3", "k", std::nullopt, 6, 21)  // concurrent with the write
                .history());
}

TEST(CheckerGood, FailedOperationsHaveNoEffect) {
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 10)
                .write("c2", "k", "v2", 20, 30, Type::kFail)
                .read("c3", "k", std::nullopt, 40, 50, Type::kFail)
                .read("c3", "k", std::nullopt, 55, 58, Type::kInfo)
                .read("c3", "k", std::nullopt, 59, 0, Type::kInvoke)
                .read("c1", "k", "v1", 60, 70)
                .history());
}

TEST(CheckerGood, PipelinedSession) {
  // c1 has three operations in flight; each takes effect in issue order.
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 30)
                .write("c1", "k", "v2", 5, 35)
                .read("c1", "k", "v2", 10, 40)
                .read("c2", "k", "v1", 1, 12)
                .history());
}

TEST(CheckerGood, EqualTimesAreConcurrent) {
  // The read begins at the instant the write completes: either order is possible.
  expect_ok(Builder()
                .write("c1", "k", "v1", 0, 10)
                .write("c2", "k", "v2", 10, 20)
                .read("c3", "k", "v1", 20, 30)
                .history());
}

// ---- anomalies are caught by the right checker ----

TEST(CheckerBad, StaleRead) {
  CheckReport r = expect_caught(Builder()
                                    .write("c1", "k7", "v19", 0, 800)
                                    .write("c3", "k7", "v23", 850, 950)
                                    .read("c2", "k7", "v19", 1203, 1250)
                                    .history(),
                                "linearizability");
  ASSERT_FALSE(r.violations.empty());
  const Violation& v = r.violations.front();
  EXPECT_EQ(v.key, "k7");
  EXPECT_NE(v.explanation.find("stale read"), std::string::npos) << v.explanation;
  EXPECT_NE(v.explanation.find("t=1.203s"), std::string::npos) << v.explanation;
  EXPECT_EQ(v.witness.size(), 6u) << describe(r);
  std::cout << describe(r);
}

TEST(CheckerBad, LostWrite) {
  // v2 completed, yet every later read sees v1.
  expect_caught(Builder()
                    .write("c1", "k", "v1", 0, 10)
                    .write("c2", "k", "v2", 20, 30)
                    .read("c3", "k", "v1", 40, 50)
                    .read("c2", "k", "v1", 60, 70)
                    .read("c1", "k", "v1", 80, 90)
                    .history(),
                "linearizability");
}

TEST(CheckerBad, ReorderedWritesOfOneClient) {
  // In flight together, so real time allows either order; issue order does not.
  CheckReport r = expect_caught(Builder()
                                    .write("c1", "k", "v1", 0, 30)
                                    .write("c1", "k", "v2", 5, 35)
                                    .read("c2", "k", "v1", 50, 60)
                                    .history(),
                                "monotonic-writes");
  EXPECT_EQ(checkers(r).count("linearizability"), 0u) << describe(r);
  std::cout << describe(r);
  // One after the other: both checkers object.
  r = expect_caught(Builder()
                        .write("c1", "k", "v1", 0, 10)
                        .write("c1", "k", "v2", 20, 30)
                        .read("c2", "k", "v1", 40, 50)
                        .history(),
                    "monotonic-writes");
  EXPECT_EQ(checkers(r).count("linearizability"), 1u) << describe(r);
  // Known to have taken effect through a read, not a completion.
  expect_caught(Builder()
                    .write("c1", "k", "v1", 0, 30)
                    .write("c1", "k", "v2", 5, 100, Type::kInfo)
                    .read("c3", "k", "v2", 10, 20)
                    .read("c2", "k", "v1", 25, 40)
                    .history(),
                "monotonic-writes");
}

TEST(CheckerBad, ReadOfValueNobodyWrote) {
  CheckReport r =
      expect_caught(Builder().write("c1", "k", "v1", 0, 10).read("c2", "k", "zz", 20, 30).history(),
                    "linearizability");
  EXPECT_NE(r.violations.front().explanation.find("no write"), std::string::npos) << describe(r);
  // Written to another key.
  r = expect_caught(Builder().write("c1", "j", "v1", 0, 10).read("c2", "k", "v1", 20, 30).history(),
                    "linearizability");
  EXPECT_NE(r.violations.front().explanation.find("written to key j"), std::string::npos)
      << describe(r);
  // Written by a failed write.
  r = expect_caught(
      Builder().write("c1", "k", "v1", 0, 10, Type::kFail).read("c2", "k", "v1", 20, 30).history(),
      "linearizability");
  EXPECT_NE(r.violations.front().explanation.find("failed"), std::string::npos) << describe(r);
  // Returned before its write was even invoked.
  expect_caught(Builder().read("c2", "k", "v1", 0, 10).write("c1", "k", "v1", 20, 30).history(),
                "linearizability");
}

TEST(CheckerBad, ReadOfNothingAfterCompletedWrite) {
  CheckReport r = expect_caught(
      Builder().write("c1", "k", "v1", 0, 10).read("c2", "k", std::nullopt, 20, 30).history(),
      "linearizability");
  EXPECT_NE(r.violations.front().explanation.find("lost"), std::string::npos) << describe(r);
}

TEST(CheckerBad, ReadYourWrites) {
  // c1's read is issued after its write of v2; real time alone would allow v1.
  CheckReport r = expect_caught(Builder()
                                    .write("c1", "k", "v1", 0, 40)
                                    .write("c1", "k", "v2", 10, 50)
                                    .read("c1", "k", "v1", 20, 60)
                                    .history(),
                                "read-your-writes");
  EXPECT_EQ(checkers(r), std::set<std::string>{"read-your-writes"}) << describe(r);
  r = expect_caught(
      Builder().write("c1", "k", "v1", 0, 40).read("c1", "k", std::nullopt, 10, 50).history(),
      "read-your-writes");
  EXPECT_EQ(checkers(r), std::set<std::string>{"read-your-writes"}) << describe(r);
  // Another client's value that was older than c1's write.
  expect_caught(Builder()
                    .write("c2", "k", "v1", 0, 5)
                    .write("c1", "k", "v2", 10, 40)
                    .read("c1", "k", "v1", 20, 50)
                    .history(),
                "read-your-writes");
}

TEST(CheckerBad, MonotonicReads) {
  // c2 wrote v1 then v2; c1 saw v2, then v1. Real time alone allows it.
  CheckReport r = expect_caught(Builder()
                                    .write("c2", "k", "v1", 0, 100)
                                    .write("c2", "k", "v2", 5, 100)
                                    .read("c1", "k", "v2", 10, 30)
                                    .read("c1", "k", "v1", 20, 40)
                                    .history(),
                                "monotonic-reads");
  EXPECT_EQ(checkers(r), std::set<std::string>{"monotonic-reads"}) << describe(r);
  // Back to nothing.
  r = expect_caught(Builder()
                        .write("c2", "k", "v1", 0, 100)
                        .read("c1", "k", "v1", 10, 30)
                        .read("c1", "k", std::nullopt, 20, 40)
                        .history(),
                    "monotonic-reads");
  EXPECT_EQ(checkers(r), std::set<std::string>{"monotonic-reads"}) << describe(r);
}

TEST(CheckerBad, SessionOrder) {
  CheckReport r =
      expect_caught(Builder().read("c1", "k", "v1", 0, 30).write("c1", "k", "v1", 10, 40).history(),
                    "session-order");
  EXPECT_EQ(checkers(r), std::set<std::string>{"session-order"}) << describe(r);
}

TEST(CheckerMalformed, UnpairedAndRepeated) {
  History h = Builder().write("c1", "k", "v1", 0, 10).history();
  h.erase(h.begin());  // the completion has no invocation
  CheckReport r = check_history(h);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("no pending invocation"), std::string::npos) << r.errors[0];

  r = check_history(
      Builder().write("c1", "k", "v1", 0, 10).write("c2", "k", "v1", 20, 30).history());
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("more than once"), std::string::npos) << r.errors[0];
}

TEST(CheckerPairing, FifoPerProcessFunctionAndKey) {
  // Two reads of k by c1 in flight: the first completion belongs to the first invocation.
  // Pairing them the other way round would make the first read return v1 before v1's
  // write was invoked.
  History h;
  auto ev = [&](Type t, F f, std::optional<std::string> v, std::int64_t ms) {
    h.push_back({"c1", t, f, "k", std::move(v), ms * kMs});
  };
  ev(Type::kInvoke, F::kRead, std::nullopt, 0);
  ev(Type::kInvoke, F::kWrite, "v1", 5);
  ev(Type::kInvoke, F::kRead, std::nullopt, 10);
  ev(Type::kOk, F::kRead, std::nullopt, 20);
  ev(Type::kOk, F::kWrite, "v1", 25);
  ev(Type::kOk, F::kRead, "v1", 30);
  expect_ok(h);
  // The history need not be sorted.
  std::reverse(h.begin(), h.end());
  expect_ok(h);
}

// ---- generated histories ----

// splitmix64: the test's own generator, the same on every platform and library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::int64_t below(std::int64_t n) {
    return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(n));
  }
  bool chance(int percent) { return below(100) < percent; }

 private:
  std::uint64_t s_;
};

struct Generated {
  History history;
  // Indexes of the read completions that returned a value, where anomalies are injected.
  std::vector<std::size_t> read_completions;
};

// A run of a correct store: operations take effect one at a time in index order (a
// std::map is the store), each at an instant inside its interval; intervals are jittered
// around that instant so that about `concurrency` operations overlap. Every process's
// invocations and completions follow its issue order, as the client library guarantees.
Generated generate(std::uint64_t seed, int ops, int keys, int processes, int concurrency) {
  Rng rng(seed);
  Generated g;
  std::map<std::string, std::string> store;
  std::vector<std::int64_t> last_invoke(static_cast<std::size_t>(processes), -1);
  std::vector<std::int64_t> last_complete(static_cast<std::size_t>(processes), -1);
  std::vector<std::optional<std::size_t>> last_completion(static_cast<std::size_t>(processes));
  const std::int64_t step = 1000, spread = step * concurrency;
  for (int i = 0; i < ops; ++i) {
    const std::int64_t at = (i + 1) * step * 4;
    const auto p = static_cast<std::size_t>(rng.below(processes));
    const std::string process = "c" + std::to_string(p);
    const std::string key = "k" + std::to_string(rng.below(keys));
    const bool write = rng.chance(50);
    const std::int64_t invoke = std::max(at - rng.below(spread * 2), last_invoke[p] + 1);
    std::int64_t complete = std::max(at + rng.below(spread * 2), last_complete[p] + 1);
    last_invoke[p] = invoke;
    HistoryEvent e{process, Type::kInvoke, write ? F::kWrite : F::kRead, key, std::nullopt, invoke};
    HistoryEvent done = e;
    if (write) {
      const std::string value = "v" + std::to_string(i);
      e.value = done.value = value;
      const int roll = static_cast<int>(rng.below(100));
      if (roll < 85) {
        done.type = Type::kOk;
        store[key] = value;
      } else if (roll < 90) {
        // Timed out early, yet applied at `at`.
        done.type = Type::kInfo;
        complete = std::max(invoke + 1, last_complete[p] + 1);
        store[key] = value;
      } else if (roll < 95) {
        done.type = Type::kInfo;  // never applied
      } else {
        done.type = Type::kFail;
      }
    } else if (rng.chance(95)) {
      done.type = Type::kOk;
      auto it = store.find(key);
      if (it != store.end()) done.value = it->second;
    } else {
      done.type = Type::kFail;
    }
    done.time = complete;
    last_complete[p] = complete;
    g.history.push_back(e);
    if (!write && done.type == Type::kOk && done.value) {
      g.read_completions.push_back(g.history.size());
    }
    last_completion[p] = g.history.size();
    g.history.push_back(done);
  }
  // Leave some processes' last operation pending, as when a run stops mid-flight.
  std::vector<std::size_t> drop;
  for (const auto& c : last_completion) {
    if (c && rng.chance(30)) drop.push_back(*c);
  }
  std::sort(drop.rbegin(), drop.rend());
  for (std::size_t i : drop) {
    g.history.erase(g.history.begin() + static_cast<long>(i));
    for (std::size_t& r : g.read_completions) {
      if (r > i) --r;
    }
    g.read_completions.erase(std::remove(g.read_completions.begin(), g.read_completions.end(), i),
                             g.read_completions.end());
  }
  return g;
}

// Makes one read stale: it returns the value of an ok write A although an ok write B, begun
// after A completed, completed before the read began. Returns false if no read qualifies.
bool inject_stale_read(Generated& g, std::uint64_t seed) {
  History& h = g.history;
  // The invocation of each completed event, by pairing on (process, f, key) in order.
  std::map<std::tuple<std::string, F, std::string>, std::vector<std::size_t>> pending;
  std::vector<std::size_t> invoke_of(h.size(), 0);
  for (std::size_t i = 0; i < h.size(); ++i) {
    auto slot = std::make_tuple(h[i].process, h[i].f, h[i].key);
    if (h[i].type == Type::kInvoke) {
      pending[slot].push_back(i);
    } else {
      invoke_of[i] = pending[slot].front();
      pending[slot].erase(pending[slot].begin());
    }
  }
  Rng rng(seed);
  std::size_t start =
      static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(g.read_completions.size()) + 1));
  for (std::size_t n = 0; n < g.read_completions.size(); ++n) {
    std::size_t rc = g.read_completions[(start + n) % g.read_completions.size()];
    const std::int64_t read_start = h[invoke_of[rc]].time;
    // Ok writes of the key completed before the read began, in completion order.
    std::vector<std::size_t> done;
    for (std::size_t i = 0; i < h.size(); ++i) {
      if (h[i].f == F::kWrite && h[i].type == Type::kOk && h[i].key == h[rc].key &&
          h[i].time < read_start) {
        done.push_back(i);
      }
    }
    for (std::size_t a : done) {
      for (std::size_t b : done) {
        if (h[a].time < h[invoke_of[b]].time && h[rc].value != h[a].value) {
          h[rc].value = h[a].value;
          return true;
        }
      }
    }
  }
  return false;
}

TEST(CheckerGenerated, CorrectRunsPassAndStaleReadsAreCaught) {
  int injected = 0;
  const int seeds = 3 * kRandomCases;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const int keys = 1 + static_cast<int>(seed % 5);
    Generated g =
        generate(seed, 150, keys, 1 + static_cast<int>(seed % 6), 1 + static_cast<int>(seed % 8));
    CheckReport ok = check_history(g.history);
    ASSERT_TRUE(ok.ok()) << "seed " << seed << ":\n" << describe(ok);
    if (!inject_stale_read(g, seed)) continue;
    ++injected;
    CheckReport bad = check_history(g.history);
    ASSERT_FALSE(bad.ok()) << "seed " << seed << ": the injected stale read was not caught";
    ASSERT_EQ(checkers(bad).count("linearizability"), 1u) << "seed " << seed << ":\n"
                                                          << describe(bad);
    CheckOptions search_only;
    search_only.zone_refutation = false;
    CheckReport searched = check_history(g.history, search_only);
    ASSERT_EQ(checkers(searched).count("linearizability"), 1u) << "seed " << seed;
    // The witness is small: the stale read, its write and the write that overwrote it
    // (plus at most a few operations that pin their order).
    for (const Violation& v : bad.violations) {
      if (v.checker == "linearizability") {
        EXPECT_LE(v.witness.size(), 12u) << describe(bad);
      }
    }
  }
  EXPECT_GE(injected, seeds * 9 / 10);
}

TEST(CheckerGenerated, Deterministic) {
  Generated g = generate(42, 400, 3, 4, 6);
  ASSERT_TRUE(inject_stale_read(g, 42));
  EXPECT_EQ(describe(check_history(g.history)), describe(check_history(g.history)));
}

// ---- the checkers against brute force, on small random histories ----

struct SmallOp {
  std::string process;
  std::size_t issue = 0;
  bool write = false;
  Type outcome = Type::kOk;  // kInvoke: pending
  std::optional<std::string> value;
  std::int64_t start = 0, end = 0;
};

// Is there an order of the operations that took effect in which every read returns the
// latest write, that respects real time, and (if `sessions`) each process's issue order?
// Tries every subset of the indeterminate writes and every order.
bool brute_force_valid(const std::vector<SmallOp>& ops, bool sessions) {
  std::vector<std::size_t> required, optional;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const SmallOp& o = ops[i];
    if (o.write && o.outcome == Type::kOk) required.push_back(i);
    if (o.write && (o.outcome == Type::kInfo || o.outcome == Type::kInvoke)) optional.push_back(i);
    if (!o.write && o.outcome == Type::kOk) required.push_back(i);
  }
  auto must_precede = [&](std::size_t a, std::size_t b) {
    const SmallOp &x = ops[a], &y = ops[b];
    if (x.outcome == Type::kOk && x.end < y.start) return true;
    return sessions && x.process == y.process && x.issue < y.issue;
  };
  for (std::uint64_t mask = 0; mask < (1ull << optional.size()); ++mask) {
    std::vector<std::size_t> chosen = required;
    for (std::size_t j = 0; j < optional.size(); ++j) {
      if (mask & (1ull << j)) chosen.push_back(optional[j]);
    }
    std::vector<bool> used(chosen.size(), false);
    // Depth-first over orders: place any op none of whose predecessors is unplaced.
    std::function<bool(std::size_t, std::optional<std::string>)> place =
        [&](std::size_t placed, std::optional<std::string> state) {
          if (placed == chosen.size()) return true;
          for (std::size_t c = 0; c < chosen.size(); ++c) {
            if (used[c]) continue;
            bool ready = true;
            for (std::size_t d = 0; d < chosen.size() && ready; ++d) {
              if (!used[d] && d != c && must_precede(chosen[d], chosen[c])) ready = false;
            }
            if (!ready) continue;
            const SmallOp& o = ops[chosen[c]];
            if (!o.write && o.value != state) continue;
            used[c] = true;
            bool ok = place(placed + 1, o.write ? o.value : state);
            used[c] = false;
            if (ok) return true;
          }
          return false;
        };
    if (place(0, std::nullopt)) return true;
  }
  return false;
}

// Random small histories of one key: each process issues in order, may pipeline, and has
// its completions delivered in issue order.
std::vector<SmallOp> random_small(Rng& rng) {
  const int processes = 1 + static_cast<int>(rng.below(3));
  const int n = 3 + static_cast<int>(rng.below(5));
  std::vector<SmallOp> ops;
  std::vector<std::int64_t> last_start(static_cast<std::size_t>(processes), 0);
  std::vector<std::int64_t> last_end(static_cast<std::size_t>(processes), 0);
  std::vector<std::size_t> issued(static_cast<std::size_t>(processes), 0);
  int writes = 0;
  for (int i = 0; i < n; ++i) {
    const auto p = static_cast<std::size_t>(rng.below(processes));
    SmallOp o;
    o.process = "c" + std::to_string(p);
    o.issue = issued[p]++;
    o.write = rng.chance(50);
    o.start = last_start[p] + 1 + rng.below(20);
    o.end = std::max(o.start, last_end[p]) + rng.below(30);
    last_start[p] = o.start;
    last_end[p] = o.end;
    const int roll = static_cast<int>(rng.below(100));
    o.outcome = roll < 75   ? Type::kOk
                : roll < 85 ? Type::kInfo
                : roll < 93 ? Type::kFail
                            : Type::kInvoke;
    if (o.write) o.value = "v" + std::to_string(writes++);
    ops.push_back(o);
  }
  // Results are delivered in issue order: after a pending operation nothing completes.
  std::set<std::string> stuck;
  for (SmallOp& o : ops) {
    if (stuck.count(o.process)) o.outcome = Type::kInvoke;
    if (o.outcome == Type::kInvoke) stuck.insert(o.process);
  }
  // Reads return nothing, or what some write (of any outcome) wrote.
  for (SmallOp& o : ops) {
    if (o.write || o.outcome != Type::kOk || writes == 0 || rng.chance(20)) continue;
    o.value = "v" + std::to_string(rng.below(writes));
  }
  return ops;
}

History small_history(const std::vector<SmallOp>& ops) {
  Builder b;
  for (const SmallOp& o : ops) {
    if (o.write) {
      b.write(o.process, "k", *o.value, o.start, o.end, o.outcome);
    } else {
      b.read(o.process, "k", o.value, o.start, o.end, o.outcome);
    }
  }
  return b.history();
}

TEST(CheckerBruteForce, AgreesOnSmallHistories) {
  Rng rng(2024);
  int linearizable = 0, valid_count = 0, by_rules = 0, by_search = 0;
  const int histories = 200 * kRandomCases;
  for (int i = 0; i < histories; ++i) {
    std::vector<SmallOp> ops = random_small(rng);
    History h = small_history(ops);
    CheckReport r = check_history(h);
    ASSERT_TRUE(r.errors.empty()) << describe(r);
    ASSERT_FALSE(r.undecided);
    const bool lin = brute_force_valid(ops, false);
    const bool valid = brute_force_valid(ops, true);
    linearizable += lin;
    valid_count += valid;
    // Linearizability is decided exactly, and so is the whole verdict: the session rules
    // never flag a valid history, and the exact search catches what they miss.
    ASSERT_EQ(lin, checkers(r).count("linearizability") == 0) << describe(r);
    ASSERT_EQ(valid, r.ok()) << describe(r);
    // The search alone, without the zone refutation, decides the same.
    CheckOptions search_only;
    search_only.zone_refutation = false;
    CheckReport s = check_history(h, search_only);
    ASSERT_EQ(lin, checkers(s).count("linearizability") == 0) << describe(s);
    ASSERT_EQ(valid, s.ok()) << describe(s);
    // And so do zone conflicts alone (Gibbons & Korach), once every read follows its write.
    check::Operations paired = check::pair_operations(h);
    std::vector<std::size_t> relevant;
    bool traceable = true;
    for (const check::Operation& o : paired.ops) {
      if (o.read_value() &&
          (o.source == check::kNoEvent || paired.ops[o.source].invoke_time > o.complete_time)) {
        traceable = false;
      }
      if ((o.is_write() && !o.failed()) || (o.is_read() && o.ok())) relevant.push_back(o.id);
    }
    if (traceable) {
      ASSERT_EQ(lin, !check::find_zone_conflict(paired, relevant).has_value()) << describe(r);
    }
    if (lin && !valid) {
      bool exact = !r.violations.empty() &&
                   r.violations.front().explanation.find("not in any order") != std::string::npos;
      (exact ? by_search : by_rules) += 1;
    }
  }
  std::cout << histories << " small histories: " << linearizable << " linearizable, " << valid_count
            << " also in issue order; of the others, " << by_rules
            << " caught by the session rules, " << by_search << " only by the exact search\n";
}

// ---- robustness: arbitrary event sequences ----

TEST(CheckerRobustness, ArbitraryEventsNeverCrash) {
  // Unpaired completions, writes without values, repeated values, extreme times: the
  // checker must report (errors or violations), never crash or loop.
  Rng rng(77);
  const std::int64_t times[] = {
      std::numeric_limits<std::int64_t>::min(), -5, 0, 1, 2, 3, 7, 1'000'000'000,
      std::numeric_limits<std::int64_t>::max()};
  const Type types[] = {Type::kInvoke, Type::kInvoke, Type::kOk, Type::kFail, Type::kInfo};
  for (int i = 0; i < 20 * kRandomCases; ++i) {
    History h;
    const int n = static_cast<int>(rng.below(30));
    for (int j = 0; j < n; ++j) {
      HistoryEvent e;
      e.process = "c" + std::to_string(rng.below(3));
      e.type = types[rng.below(5)];
      e.f = rng.chance(50) ? F::kRead : F::kWrite;
      e.key = "k" + std::to_string(rng.below(2));
      if (rng.chance(70)) e.value = "v" + std::to_string(rng.below(6));
      e.time = times[rng.below(9)];
      h.push_back(e);
    }
    CheckOptions options;
    options.time_origin = times[rng.below(9)];
    CheckReport r = check_history(h, options);
    EXPECT_FALSE(describe(r).empty());
    if (r.errors.empty()) {
      EXPECT_EQ(describe(r), describe(check_history(h, options)));
    }
  }
}

double seconds_to_check(const History& h, CheckReport* report) {
  auto t0 = std::chrono::steady_clock::now();
  *report = check_history(h);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(CheckerSpeed, FiveThousandOps) {
  CheckReport r;
  Generated g = generate(7, 5000, 50, 8, 8);
  double s = seconds_to_check(g.history, &r);
  EXPECT_TRUE(r.ok()) << describe(r);
  std::cout << "5000 ops, 50 keys, concurrency 8: " << s * 1000 << " ms\n";

  g = generate(8, 5000, 1, 8, 8);
  s = seconds_to_check(g.history, &r);
  EXPECT_TRUE(r.ok()) << describe(r);
  std::cout << "5000 ops, 1 key, concurrency 8: " << s * 1000 << " ms\n";

  ASSERT_TRUE(inject_stale_read(g, 8));
  s = seconds_to_check(g.history, &r);
  EXPECT_FALSE(r.ok());
  std::cout << "5000 ops, 1 key, one stale read (search + witness): " << s * 1000 << " ms\n"
            << describe(r, 1);
}

}  // namespace
}  // namespace kvs
