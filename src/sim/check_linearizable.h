// The "linearizability" checker for one key (guarantee 3 of DESIGN.md section 2).
//
// Rules:
//  * Every read that completed ok must return a value some write of this key wrote, and
//    that write must not have failed, and it must have been invoked no later than the
//    read completed. Otherwise: a violation naming the read (and the key is not searched).
//  * Otherwise the key's operations must be linearizable as a register that starts empty:
//    ok writes take effect inside their interval; info and pending writes at any time
//    after their invocation, or never; failed writes and reads that did not complete ok
//    are left out. Checked by search_linearization (Porcupine's algorithm) after these
//    exact simplifications, each implied by every valid linearization (unique values):
//    - an indeterminate write that no read returned is dropped (it can always be placed
//      last, or removed from a linearization without changing any read);
//    - a write must take effect before every read of its value completes, and a read
//      after its write is invoked, so their intervals are narrowed to that;
//    - a read of nothing precedes every write, so it must take effect before every write
//      completes, and every write after every such read is invoked.
//  * Before searching, a zone conflict (linearizable_zones.h) is looked for: it proves the
//    key non-linearizable in O(n log n) however concurrent the history, and names a
//    handful of operations to start the witness from.
//  * A failure is shrunk to a witness: the shortest prefix (by invocation) that still
//    fails, then operations removed while it still fails (a write goes with its reads),
//    within CheckOptions::witness_searches. The witness really is non-linearizable: any
//    sub-history that keeps each read's write is linearizable if the history is.
//  * If the search budget runs out the key is "undecided": neither passed nor failed.
//
// With Order::kRealTimeAndSessions the same search also keeps each client's operations
// (those that took effect) in issue order: the exact form of the session guarantees for
// one key. check.cc runs it, as checker "session-order", on keys that are linearizable
// and pass the simpler session rules of check_session.h, so a history that only an
// argument across several clients shows to be out of order is caught too.
#pragma once

#include <string>
#include <vector>

#include "sim/check.h"
#include "sim/check_ops.h"

namespace kvs::check {

struct KeyLinearizability {
  std::vector<Violation> violations;
  bool undecided = false;
};

enum class Order { kRealTime, kRealTimeAndSessions };

KeyLinearizability check_linearizable_key(const History& history, const Operations& ops,
                                          const std::string& key, const CheckOptions& options,
                                          Order order = Order::kRealTime);

}  // namespace kvs::check
