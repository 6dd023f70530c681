// Per-key linearizability: see check_linearizable.h for the rules.
#include "sim/check_linearizable.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>

#include "sim/linearizable_search.h"
#include "sim/linearizable_zones.h"

namespace kvs::check {

namespace {

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();

// Where operation `id` is in the sorted `subset`, or npos.
std::size_t position(const std::vector<std::size_t>& subset, std::size_t id) {
  auto it = std::lower_bound(subset.begin(), subset.end(), id);
  return it != subset.end() && *it == id ? static_cast<std::size_t>(it - subset.begin())
                                         : std::string::npos;
}

// The search problem for `subset` (operation ids of one key, sorted). nullopt when a read's
// write is not in the subset, i.e. that read can never be placed.
std::optional<std::vector<LinOp>> build_problem(const Operations& all,
                                                const std::vector<std::size_t>& subset,
                                                Order order) {
  const std::size_t n = subset.size();
  std::vector<std::size_t> source(n, std::string::npos);  // read -> position of its write
  std::vector<std::int64_t> first_read_done(n, kNever);   // write -> earliest return of a read
  std::vector<bool> is_read_value(n, false);
  std::int64_t last_none_call = kMinTime;  // latest invocation of a read of nothing
  for (std::size_t i = 0; i < n; ++i) {
    const Operation& o = all.ops[subset[i]];
    if (!o.is_read() || !o.ok()) continue;
    if (!o.value) {
      last_none_call = std::max(last_none_call, o.invoke_time);
      continue;
    }
    if (o.source == kNoEvent) return std::nullopt;
    source[i] = position(subset, o.source);
    if (source[i] == std::string::npos) return std::nullopt;
    is_read_value[source[i]] = true;
    first_read_done[source[i]] = std::min(first_read_done[source[i]], o.complete_time);
  }

  std::vector<LinOp> out;
  std::vector<int> index(n, -1);  // position -> LinOp index (a write's is its value id)
  std::int64_t first_write_done = kNever;
  for (std::size_t i = 0; i < n; ++i) {
    const Operation& o = all.ops[subset[i]];
    if (!o.is_write() || o.failed()) continue;
    if (!o.ok() && !is_read_value[i]) continue;  // may never have happened
    LinOp op;
    op.write = true;
    op.call = std::max(o.invoke_time, last_none_call);
    op.ret = std::min(o.ok() ? o.complete_time : kNever, first_read_done[i]);
    op.value = index[i] = static_cast<int>(out.size());
    first_write_done = std::min(first_write_done, op.ret);
    out.push_back(op);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Operation& o = all.ops[subset[i]];
    if (!o.is_read() || !o.ok()) continue;
    LinOp op;
    op.call = o.invoke_time;
    op.ret = o.complete_time;
    if (o.value) {
      op.value = index[source[i]];
      op.call = std::max(op.call, out[static_cast<std::size_t>(op.value)].call);
    } else {
      op.ret = std::min(op.ret, first_write_done);
    }
    index[i] = static_cast<int>(out.size());
    out.push_back(op);
  }
  if (order == Order::kRealTimeAndSessions) {
    // subset is in invocation order, which is each client's issue order.
    std::map<int, int> last;  // client -> its latest operation so far
    for (std::size_t i = 0; i < n; ++i) {
      if (index[i] < 0) continue;  // left out: it took no effect
      auto [prev, fresh] = last.emplace(all.ops[subset[i]].client, index[i]);
      if (!fresh) {
        out[static_cast<std::size_t>(index[i])].after = prev->second;
        prev->second = index[i];
      }
    }
  }
  return out;
}

// Adds to `subset` the write of every value its reads returned, sorted by id.
std::vector<std::size_t> with_writes(const Operations& all, std::vector<std::size_t> subset) {
  std::size_t n = subset.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Operation& o = all.ops[subset[i]];
    if (o.read_value()) subset.push_back(o.source);
  }
  std::sort(subset.begin(), subset.end());
  subset.erase(std::unique(subset.begin(), subset.end()), subset.end());
  return subset;
}

// `subset` without `removed` (both sorted), and without the reads whose write was removed.
std::vector<std::size_t> without(const Operations& all, const std::vector<std::size_t>& subset,
                                 const std::vector<std::size_t>& removed) {
  std::vector<std::size_t> out;
  for (std::size_t id : subset) {
    if (std::binary_search(removed.begin(), removed.end(), id)) continue;
    const Operation& o = all.ops[id];
    if (o.read_value() && std::binary_search(removed.begin(), removed.end(), o.source)) continue;
    out.push_back(id);
  }
  return out;
}

class Shrinker {
 public:
  Shrinker(const Operations& all, const CheckOptions& options, Order order)
      : all_(all), options_(options), order_(order) {}

  bool fails(const std::vector<std::size_t>& subset) {
    ++searches_;
    auto problem = build_problem(all_, subset, order_);
    if (!problem) return true;
    LinSearchStats stats;
    const std::uint64_t left =
        nodes_ < options_.search_budget ? options_.search_budget - nodes_ : 0;
    LinResult r = search_linearization(*problem, left, &stats);
    nodes_ += stats.nodes;
    // Undecided counts as "does not fail": the witness only keeps what was shown.
    return r == LinResult::kNotLinearizable;
  }
  // Shrinking gets as many search steps in total as one search of the key.
  bool spent() const {
    return searches_ >= options_.witness_searches || nodes_ >= options_.search_budget;
  }

  // `failing` fails; returns a small subset of it that fails too.
  std::vector<std::size_t> shrink(const std::vector<std::size_t>& failing) {
    // Shortest failing prefix: failing is monotone in the prefix length, since a shorter
    // prefix (with its reads' writes) is a sub-history of a longer one.
    std::size_t lo = 1, hi = failing.size();
    auto prefix = [&](std::size_t n) {
      return with_writes(
          all_, std::vector<std::size_t>(failing.begin(), failing.begin() + static_cast<long>(n)));
    };
    while (lo < hi && !spent()) {
      std::size_t mid = lo + (hi - lo) / 2;
      if (fails(prefix(mid))) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    std::vector<std::size_t> cur = prefix(hi);
    // Then remove chunks, halving their size, while the rest still fails.
    for (std::size_t chunk = std::max<std::size_t>(cur.size() / 2, 1); !spent(); chunk /= 2) {
      for (std::size_t start = 0; start < cur.size() && !spent();) {
        std::size_t end = std::min(cur.size(), start + chunk);
        std::vector<std::size_t> removed(cur.begin() + static_cast<long>(start),
                                         cur.begin() + static_cast<long>(end));
        std::vector<std::size_t> rest = without(all_, cur, removed);
        if (!rest.empty() && fails(rest)) {
          cur = std::move(rest);
        } else {
          start = end;
        }
      }
      if (chunk == 1) break;
    }
    return cur;
  }

 private:
  const Operations& all_;
  const CheckOptions& options_;
  const Order order_;
  std::size_t searches_ = 0;
  std::uint64_t nodes_ = 0;
};

// What a (small) witness shows, in words: the common patterns by name, else in general.
std::string diagnose(const Operations& all, const std::string& key,
                     const std::vector<std::size_t>& witness, const Wording& w) {
  auto writer = [&](const Operation& r) -> const Operation& { return all.ops[r.source]; };
  for (std::size_t rid : witness) {
    const Operation& r = all.ops[rid];
    if (!r.is_read() || !r.ok()) continue;
    for (std::size_t other : witness) {
      const Operation& o = all.ops[other];
      if (!r.value && o.is_write() && o.precedes(r)) {
        return "key " + key + ": read by " + r.process + " " + w.interval(r) +
               " returned nothing, but the write of " + w.value(o.value) + " by " + o.process +
               " " + w.interval(o) +
               " completed before that read began: a completed write was lost (or the read was "
               "stale)";
      }
      if (!r.value) continue;
      const Operation& wa = writer(r);
      if (o.is_write() && o.id != wa.id && o.precedes(r) && wa.precedes(o)) {
        return "key " + key + ": read by " + r.process + " " + w.interval(r) + " returned " +
               w.value(r.value) + " (written by " + wa.process + ", completed " +
               w.time(wa.complete_time) + "), but " + w.value(o.value) + " by " + o.process +
               ", written after that " + w.interval(o) +
               ", completed before that read began: stale read";
      }
      if (o.is_read() && o.ok() && o.value && o.precedes(r)) {
        const Operation& wb = writer(o);
        if (wb.id != wa.id && wa.precedes(wb)) {
          return "key " + key + ": read by " + r.process + " " + w.interval(r) + " returned " +
                 w.value(r.value) + " (written by " + wa.process + ", completed " +
                 w.time(wa.complete_time) + "), but a read by " + o.process + " " + w.interval(o) +
                 " had already returned " + w.value(o.value) +
                 ", which was written after that (by " + wb.process + ", invoked " +
                 w.time(wb.invoke_time) + "): stale read, the key went back to an older value";
        }
      }
    }
  }
  if (auto conflict = find_zone_conflict(all, witness)) {
    return describe_conflict(all, key, *conflict, w);
  }
  return "key " + key + ": these " + std::to_string(witness.size()) +
         " operations are not linearizable: no order of them respects real time (an operation "
         "completed before another began comes first) with every read returning the latest "
         "write before it";
}

// Reads whose value cannot be traced to a write that might have produced it.
std::vector<Violation> untraceable_reads(const History& history, const Operations& all,
                                         const KeyView& kv, const std::string& key,
                                         const Wording& w) {
  std::vector<Violation> out;
  for (std::size_t id : kv.ops) {
    const Operation& r = all.ops[id];
    if (!r.read_value()) continue;
    std::string what;
    std::vector<std::size_t> involved{id};
    if (r.source == kNoEvent) {
      what = "key " + key + ": " + w.op(r) + ", a value ";
      if (auto f = kv.failed_writer.find(*r.value); f != kv.failed_writer.end()) {
        what += "only written by a write that failed, " + w.op(all.ops[f->second]) +
                " (a failed write certainly had no effect)";
        involved.push_back(f->second);
      } else {
        what += "that no write of key " + key + " wrote";
        for (const auto& [other, okv] : all.keys) {
          if (other != key && okv.writer.count(*r.value)) {
            what += " (it was written to key " + other + ")";
            break;
          }
        }
      }
    } else if (all.ops[r.source].invoke_time > r.complete_time) {
      const Operation& wr = all.ops[r.source];
      what = "key " + key + ": " + w.op(r) + ", but the write of that value by " + wr.process +
             " was only invoked at " + w.time(wr.invoke_time) + ", after the read completed";
      involved.push_back(r.source);
    } else {
      continue;
    }
    out.push_back({"linearizability", key, what, witness_events(history, all, involved)});
  }
  return out;
}

}  // namespace

KeyLinearizability check_linearizable_key(const History& history, const Operations& ops,
                                          const std::string& key, const CheckOptions& options,
                                          Order order) {
  const KeyView& kv = ops.keys.at(key);
  Wording words(options.time_origin);
  KeyLinearizability result;
  result.violations = untraceable_reads(history, ops, kv, key, words);
  if (!result.violations.empty()) {
    // Reported once, by the real-time check.
    if (order != Order::kRealTime) result.violations.clear();
    return result;
  }

  std::vector<std::size_t> relevant;  // in invocation order
  for (std::size_t id : kv.ops) {
    const Operation& o = ops.ops[id];
    if ((o.is_write() && !o.failed()) || (o.is_read() && o.ok())) relevant.push_back(id);
  }
  // A zone conflict refutes at once, whatever the concurrency, and is a small witness to
  // start shrinking from; otherwise the search decides.
  std::vector<std::size_t> failing = relevant;
  std::optional<ZoneConflict> conflict;
  if (order == Order::kRealTime && options.zone_refutation) {
    conflict = find_zone_conflict(ops, relevant);
  }
  if (conflict) {
    failing = with_writes(ops, conflict->ops());
  } else {
    auto problem = build_problem(ops, relevant, order);
    LinResult verdict = problem ? search_linearization(*problem, options.search_budget)
                                : LinResult::kNotLinearizable;
    if (verdict == LinResult::kLinearizable) return result;
    if (verdict == LinResult::kUndecided) {
      result.undecided = true;
      return result;
    }
  }
  std::vector<std::size_t> witness = Shrinker(ops, options, order).shrink(failing);
  if (order == Order::kRealTime) {
    result.violations.push_back({"linearizability", key, diagnose(ops, key, witness, words),
                                 witness_events(history, ops, witness)});
  } else {
    result.violations.push_back(
        {"session-order", key,
         "key " + key + ": these " + std::to_string(witness.size()) +
             " operations are linearizable, but not in any order that also keeps each "
             "client's operations in the order it issued them (with every read returning the "
             "latest write before it): some client's operations took effect out of issue order",
         witness_events(history, ops, witness)});
  }
  return result;
}

}  // namespace kvs::check
