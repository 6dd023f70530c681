// A fast, certain refutation of per-key linearizability, and the words for it: the
// "zones" of Gibbons & Korach (Testing shared memories, SIAM J. Comput. 1997), which need
// what our workloads guarantee: every read names the one write of its value.
//
// A value's cluster is its write and the reads that returned it (the initial "nothing"
// is a cluster of its own, written before everything). In any linearization the value is
// current from its write until its cluster's last read, and no other write falls in that
// stretch. Let first_end be the earliest completion in the cluster and last_start its
// latest invocation: the stretch starts no later than first_end and ends no earlier than
// last_start. So two clusters A and B with A.first_end < B.last_start and
// B.first_end < A.last_start cannot be ordered either way: the key is not linearizable.
// (Gibbons & Korach show that such a pair exists whenever a history whose reads all
// follow their writes is not linearizable; the checker still decides by search and uses
// a conflict only to refute quickly and to explain.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/check_ops.h"

namespace kvs::check {

struct Cluster {
  std::size_t write = kNoEvent;  // the write (operation id); kNoEvent: the initial nothing
  std::int64_t first_end = 0;
  std::size_t first_end_op = kNoEvent;  // kNoEvent: the initial write, before everything
  std::int64_t last_start = 0;
  std::size_t last_start_op = kNoEvent;
};

struct ZoneConflict {
  Cluster a, b;
  // The operations that show it (the writes and the operations at the zone ends).
  std::vector<std::size_t> ops() const;
};

// Looks for two conflicting clusters among `subset` (operation ids of one key, sorted):
// writes that did not fail (an indeterminate one only if read) and reads that completed
// ok, each read's write being in the subset. nullopt if there is none.
std::optional<ZoneConflict> find_zone_conflict(const Operations& all,
                                               const std::vector<std::size_t>& subset);

// The conflict in words, naming the operations and times.
std::string describe_conflict(const Operations& all, const std::string& key, const ZoneConflict& c,
                              const Wording& words);

}  // namespace kvs::check
