// The per-client session checkers (guarantees 1 and 2 of DESIGN.md section 2), per key.
//
// Words: C is a client (a history process), "issued before" is C's issue order. The value
// of write A is OLDER than that of write B when A must take effect first: A completed ok
// before B was invoked, or A and B are writes of one client and A was issued first.
// (Values are unique, so each value read names one write: W(v).)
//
//  * "read-your-writes": let W be the last write of C to X, issued before C's read R of X,
//    that completed ok. R must not return nothing, nor a value older than W's.
//  * "session-order": C's read must not return a value C wrote with a write it issued
//    after that read (a session's operations take effect in issue order).
//  * "monotonic-reads": if C's read R1 of X returned v1 and C's later-issued read R2 of X
//    returned v2, then v2 is not nothing and not older than v1.
//  * "monotonic-writes": C's writes W1 then W2 of X (issue order, neither failed). Once W2
//    certainly took effect -- it completed ok, or a read returning its value completed --
//    no read invoked after that (by any client) returns W1's value.
//
// Soundness: each rule follows from "a session's operations take effect in issue order"
// and "what completed before another operation began took effect before it". So none
// flags a history that keeps the guarantees; together they catch stale reads within a
// session, lost own writes, and one client's writes applied out of order (a retried old
// PUT applied after a newer one), which per-key linearizability alone allows when the two
// writes were in flight together. Reads whose value no write wrote are skipped here: the
// linearizability checker reports them.
//
// The rules are not complete: an argument across several clients can show an order that
// no single pair of operations does. So when they find nothing on a linearizable key,
// check.cc runs the exact search (real time plus each client's issue order, see
// check_linearizable.h), reported as "session-order" with a small witness.
#pragma once

#include <string>
#include <vector>

#include "sim/check.h"
#include "sim/check_ops.h"

namespace kvs::check {

std::vector<Violation> check_sessions_key(const History& history, const Operations& ops,
                                          const std::string& key, const CheckOptions& options);

}  // namespace kvs::check
