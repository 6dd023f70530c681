// The history checkers: they judge every simulated run and every real chaos run
// (`kvcheck FILE...`) against the guarantees of DESIGN.md section 2.
//
// Reading a history (see history.h for the event format):
//  * Each invoke is paired with a later completion of the same process, f and key, first
//    in first out: the client library delivers a session's results in issue order, so
//    the n-th completion of (process, f, key) belongs to its n-th invocation. An invoke
//    with no completion is pending: a pending write is indeterminate, a pending read is
//    ignored. A completion with no pending invocation makes the history malformed. (So
//    the "op" id of `client --history` lines is not needed; and a restarted client must
//    record under a new process name, as the simulator's incarnations do, or its
//    completions would pair with its previous life's pending invocations.)
//  * Events are ordered by time (stable), so a history need not be sorted. Operation A
//    precedes B in real time iff A completed (ok) strictly before B was invoked; equal
//    times count as concurrent, so a coarse clock never creates a false order.
//  * A session's issue order is the order of its invocations.
//  * Write values are unique per key (the workloads guarantee it), so every value read
//    names exactly one write. A repeated write value makes the history malformed.
//  * ok: took effect. fail: certainly no effect (a failed write is dropped; reading its
//    value is a violation). info or pending: a write may or may not have taken effect;
//    a read that did not complete ok is dropped (it returned nothing to check).
//
// The checkers (each rule is stated where it is implemented):
//  * "linearizability" (check_linearizable.h): per key, a Wing-Gong search with
//    memoization (Porcupine's algorithm, linearizable_search.h) over a register, with a
//    fast certain refutation first (zone conflicts, linearizable_zones.h); also reads of
//    values that no write (of this key, that did not fail) wrote.
//  * "read-your-writes", "monotonic-reads", "monotonic-writes", "session-order"
//    (check_session.h): per client, using issue order; simple rules, each sound given the
//    design's guarantees, that explain the usual anomalies, and then on a key where they
//    find nothing the exact search again with each client's issue order added
//    ("session-order"). They catch what linearizability alone allows for a pipelining
//    client, such as two writes of one client in flight together applied in the wrong
//    order (a retried old PUT applied after a newer one).
//  * A linearizable key whose operations also fit each client's issue order passes every
//    checker; one that does not fails at least one. The tests check this against a
//    brute-force search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/history.h"

namespace kvs {

struct CheckOptions {
  // Search nodes allowed per key before the linearizability check gives up ("undecided").
  // Our histories need a few per operation; the budget only stops pathological cases.
  std::uint64_t search_budget = 5'000'000;
  // Searches spent shrinking one linearizability failure to a small witness.
  std::size_t witness_searches = 200;
  // Violations kept per (checker, key); the rest are only counted (Violation lists can
  // otherwise grow with every later read of a stale value).
  std::size_t max_violations_per_key = 3;
  // Times in explanations are printed relative to this (kvcheck passes the first event's
  // time, since real histories use CLOCK_MONOTONIC). Witness events keep their times.
  std::int64_t time_origin = 0;
  // How errors about a malformed history name its i-th event; unset: "event i". kvcheck
  // names the file and line it came from.
  std::function<std::string(std::size_t)> event_name;
  bool linearizability = true;
  bool sessions = true;
  // Refute linearizability by zone conflicts before searching (check_linearizable.h).
  // Only tests turn it off, to put the search alone to the test.
  bool zone_refutation = true;
};

struct Violation {
  std::string checker;  // "linearizability", "read-your-writes", "monotonic-reads", ...
  std::string key;
  std::string explanation;            // in words, naming the operations and their times
  std::vector<HistoryEvent> witness;  // the events of the operations that show it, by time
};

struct CheckReport {
  std::vector<Violation> violations;
  std::size_t suppressed = 0;       // violations beyond max_violations_per_key
  std::vector<std::string> errors;  // malformed history: the checks could not be run soundly
  std::vector<std::string> undecided_keys;  // linearizability search budget exhausted
  std::size_t ops = 0;                      // operations (invocations)
  std::size_t keys = 0;                     // distinct keys
  bool undecided = false;
  std::int64_t time_origin = 0;  // from CheckOptions, so describe() prints the same times
  bool ok() const { return violations.empty() && errors.empty() && !undecided; }
};

// Runs every enabled checker. Deterministic: the same history gives the same report.
CheckReport check_history(const History& history, const CheckOptions& options = {});

// The report in words: a one-line verdict, then each error, undecided key and violation
// (explanation and witness events), at most max_violations of them.
std::string describe(const CheckReport& report, std::size_t max_violations = 20);

}  // namespace kvs
