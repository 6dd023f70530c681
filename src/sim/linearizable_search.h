// The linearizability search for one key's register: Wing & Gong's algorithm with Lowe's
// memoization, as Porcupine implements it (entries list, lift/unlift, a cache of
// (linearized set, state) already explored). Knows nothing of histories: the caller
// (check_linearizable.h) turns a key's operations into LinOps.
#pragma once

#include <cstdint>
#include <vector>

namespace kvs::check {

// One operation on the register. It may take effect at any instant in [call, ret]; an
// operation whose ret is before another's call takes effect first (equal: either order).
struct LinOp {
  std::int64_t call = 0;
  std::int64_t ret = 0;
  bool write = false;
  // write: the value it writes; read: the value it returned. Values are small ids >= 0;
  // -1 is "nothing" (the key's initial state). Written values must be unique.
  int value = -1;
  // Index (in the same vector, another operation) of an operation that must take effect
  // first: the previous one of the same client, when issue order is checked too. -1: none.
  int after = -1;
};

enum class LinResult { kLinearizable, kNotLinearizable, kUndecided };

struct LinSearchStats {
  std::uint64_t nodes = 0;   // search steps taken
  std::uint64_t cached = 0;  // (linearized set, state) pairs remembered
};

// Is there a total order of `ops` that respects real time and `after`, and in which every
// read returns the latest preceding write's value (or -1 if none)? Gives up after `budget`
// steps.
LinResult search_linearization(const std::vector<LinOp>& ops, std::uint64_t budget,
                               LinSearchStats* stats = nullptr);

}  // namespace kvs::check
