// Wing-Gong search with memoization: see linearizable_search.h.
//
// The history is a sorted list of call and return entries. The search walks it: at a call
// it may "lift" that operation (linearize it now: remove its call and return entries) if
// the register allows; at a return entry it must backtrack, since that operation had to
// be linearized before its return. Success is an empty list. A cache of every
// (linearized set, state) reached cuts off paths already explored.
//
// Beyond Porcupine, three exact reductions that unique write values allow keep the
// search near-linear on our histories: a write is not tried while reads of the current
// value are left; reads of the current value and unread writes (when the current value
// has no reads left) are taken at once without trying alternatives (see forced()); and
// every value with no reads left is one state in the cache. The checker tests compare the
// result with a brute-force search on thousands of small histories.
#include "sim/linearizable_search.h"

#include <algorithm>
#include <cstddef>
#include <unordered_set>
#include <utility>

namespace kvs::check {

namespace {

constexpr int kEnd = -1;

struct Entry {
  std::int64_t time;
  bool is_return;
  int op;
};

// A linearized set plus state, compactly: [first, state, later...]. `first` is the return
// rank of the earliest-returning operation not yet linearized (every one that returns
// before it is linearized; nothing invoked after its return can be), `later` the ranks of
// linearized operations that return after it. Hashing stays proportional to concurrency
// rather than to the length of the history.
using CacheKey = std::vector<std::int32_t>;

struct CacheKeyHash {
  std::size_t operator()(const CacheKey& k) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    for (std::int32_t v : k) {
      h ^= static_cast<std::uint32_t>(v);
      h *= 0xff51afd7ed558ccdull;  // multiply-xorshift (MurmurHash3's finalizer constant)
      h ^= h >> 32;
    }
    return static_cast<std::size_t>(h);
  }
};

class Search {
 public:
  explicit Search(const std::vector<LinOp>& ops) : ops_(ops) {}

  LinResult run(std::uint64_t budget, LinSearchStats* stats);

 private:
  void build();
  void lift(int op);
  void unlift(int op);
  CacheKey key(int state) const;
  // Every operation that must take effect before op (its client's previous one) has.
  bool ready(int op) const;
  // An operation to linearize now without trying alternatives, or -1: a read of the
  // current value, or, when no read of the current value is left, a write nobody read.
  // Either can be moved to this point in any linearization that places it later (the
  // register reads the same before and after), so taking it now loses no solution.
  int forced(int state) const;

  const std::vector<LinOp>& ops_;
  std::vector<Entry> entries_;    // sorted; a node of the list is an index here
  std::vector<int> next_, prev_;  // the list; node head_ is the sentinel
  int head_ = 0;
  std::vector<int> call_node_, ret_node_, rank_;  // per op; rank: order of its return
  std::vector<int> max_rank_before_;       // per node: max rank of ops called at earlier nodes
  std::vector<std::uint64_t> linearized_;  // bit per rank
  std::vector<int> reads_left_;            // per value + 1: reads not yet linearized
  std::vector<int> reads_total_;           // per value + 1: reads of it
};

void Search::build() {
  const int n = static_cast<int>(ops_.size());
  entries_.reserve(2 * static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    entries_.push_back({ops_[i].call, false, i});
    entries_.push_back({ops_[i].ret, true, i});
  }
  // At equal times calls come first: such operations overlap (see the header).
  std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.is_return != b.is_return) return !a.is_return;
    return a.op < b.op;
  });
  const int nodes = 2 * n;
  head_ = nodes;
  next_.assign(static_cast<std::size_t>(nodes) + 1, kEnd);
  prev_.assign(static_cast<std::size_t>(nodes) + 1, kEnd);
  call_node_.assign(static_cast<std::size_t>(n), 0);
  ret_node_.assign(static_cast<std::size_t>(n), 0);
  rank_.assign(static_cast<std::size_t>(n), 0);
  max_rank_before_.assign(static_cast<std::size_t>(nodes), -1);
  int last = head_, returns = 0;
  for (int i = 0; i < nodes; ++i) {
    next_[last] = i;
    prev_[i] = last;
    last = i;
    const Entry& e = entries_[i];
    if (e.is_return) {
      ret_node_[e.op] = i;
      rank_[e.op] = returns++;
    } else {
      call_node_[e.op] = i;
    }
  }
  int running = -1;
  for (int i = 0; i < nodes; ++i) {
    max_rank_before_[i] = running;
    const Entry& e = entries_[i];
    if (!e.is_return) running = std::max(running, rank_[e.op]);
  }
  linearized_.assign(static_cast<std::size_t>(n) / 64 + 1, 0);
  int max_value = -1;
  for (const LinOp& o : ops_) max_value = std::max(max_value, o.value);
  reads_left_.assign(static_cast<std::size_t>(max_value) + 2, 0);
  for (const LinOp& o : ops_) {
    if (!o.write) ++reads_left_[o.value + 1];
  }
  reads_total_ = reads_left_;
}

// Dancing links: lifts and unlifts happen in LIFO order, so the removed nodes' own
// prev/next still point where they must be put back.
void Search::lift(int op) {
  for (int node : {call_node_[op], ret_node_[op]}) {
    int p = prev_[node], nx = next_[node];
    next_[p] = nx;
    if (nx != kEnd) prev_[nx] = p;
  }
  const int r = rank_[op];
  linearized_[r / 64] |= 1ull << (r % 64);
  const LinOp& o = ops_[op];
  if (!o.write) --reads_left_[o.value + 1];
}

void Search::unlift(int op) {
  for (int node : {ret_node_[op], call_node_[op]}) {
    int p = prev_[node], nx = next_[node];
    next_[p] = node;
    if (nx != kEnd) prev_[nx] = node;
  }
  const int r = rank_[op];
  linearized_[r / 64] &= ~(1ull << (r % 64));
  const LinOp& o = ops_[op];
  if (!o.write) ++reads_left_[o.value + 1];
}

CacheKey Search::key(int state) const {
  int node = next_[head_];
  while (!entries_[node].is_return) {
    node = next_[node];
  }
  const int first = rank_[entries_[node].op];
  const int last = max_rank_before_[node];
  // A value with no read left ("dead") can never be read again, so every dead value (and
  // "nothing" once no read of nothing is left) leads to the same futures: one cache state.
  CacheKey k{first, reads_left_[state + 1] == 0 ? -2 : state};
  for (int r = first + 1; r <= last;) {
    std::uint64_t word = linearized_[r / 64] >> (r % 64);
    if (word == 0) {
      r = (r / 64 + 1) * 64;
      continue;
    }
    r += __builtin_ctzll(word);
    if (r <= last) k.push_back(r);
    ++r;
  }
  return k;
}

bool Search::ready(int op) const {
  const int after = ops_[op].after;
  if (after < 0) return true;
  const int r = rank_[after];
  return (linearized_[r / 64] >> (r % 64)) & 1;
}

int Search::forced(int state) const {
  const bool dead = reads_left_[state + 1] == 0;
  for (int node = next_[head_]; !entries_[node].is_return; node = next_[node]) {
    const int op = entries_[node].op;
    const LinOp& o = ops_[op];
    if (!ready(op)) continue;
    if (o.write ? dead && reads_total_[o.value + 1] == 0 : o.value == state) return op;
  }
  return -1;
}

LinResult Search::run(std::uint64_t budget, LinSearchStats* stats) {
  if (ops_.empty()) return LinResult::kLinearizable;
  for (const LinOp& o : ops_) {
    if (o.call > o.ret) return LinResult::kNotLinearizable;
  }
  build();

  struct Step {
    int op;
    int before;   // the state before it
    bool forced;  // a dominant move: its alternatives need no trying
  };
  std::unordered_set<CacheKey, CacheKeyHash> cache;
  std::vector<Step> stack;
  int state = -1;
  // Undoes choices up to and including the latest free one; then the search goes on with
  // the alternatives after it. False when there is none left: not linearizable.
  int node = kEnd;
  auto backtrack = [&] {
    while (!stack.empty()) {
      Step top = stack.back();
      stack.pop_back();
      state = top.before;
      unlift(top.op);
      if (!top.forced) {
        node = next_[call_node_[top.op]];
        return true;
      }
    }
    return false;
  };
  // Linearizes op now; false (and undone) if that configuration was explored before.
  auto try_lift = [&](int op, bool forced) {
    const LinOp& o = ops_[op];
    const int new_state = o.write ? o.value : state;
    lift(op);
    if (next_[head_] == kEnd) return true;  // all linearized
    if (!cache.insert(key(new_state)).second) {
      unlift(op);
      return false;
    }
    stack.push_back({op, state, forced});
    state = new_state;
    node = next_[head_];
    return true;
  };

  std::uint64_t nodes = 0;
  LinResult result = LinResult::kLinearizable;
  node = next_[head_];
  bool arrived = true;  // at a configuration not yet looked at
  while (next_[head_] != kEnd) {
    if (++nodes > budget) {
      result = LinResult::kUndecided;
      break;
    }
    if (arrived) {
      arrived = false;
      if (int op = forced(state); op >= 0) {
        if (try_lift(op, true)) {
          arrived = true;
        } else if (!backtrack()) {
          result = LinResult::kNotLinearizable;
          break;
        }
        continue;
      }
    }
    const Entry& e = entries_[node];
    if (e.is_return) {
      // This operation should have been linearized by now: undo the latest choice.
      if (!backtrack()) {
        result = LinResult::kNotLinearizable;
        break;
      }
      continue;
    }
    const LinOp& o = ops_[e.op];
    // Unique values: once the register holds v, a write before every read of v is
    // linearized would leave those reads unplaceable forever, so it is not tried.
    bool allowed = (o.write ? reads_left_[state + 1] == 0 : o.value == state) && ready(e.op);
    if (allowed && try_lift(e.op, false)) {
      arrived = true;
    } else {
      node = next_[node];
    }
  }
  if (stats) {
    stats->nodes = nodes;
    stats->cached = cache.size();
  }
  return result;
}

}  // namespace

LinResult search_linearization(const std::vector<LinOp>& ops, std::uint64_t budget,
                               LinSearchStats* stats) {
  return Search(ops).run(budget, stats);
}

}  // namespace kvs::check
