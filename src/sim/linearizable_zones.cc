// Zone conflicts: see linearizable_zones.h.
#include "sim/linearizable_zones.h"

#include <algorithm>
#include <limits>
#include <map>

namespace kvs::check {

namespace {

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();

void widen(Cluster& c, std::int64_t end, std::size_t end_op, std::int64_t start,
           std::size_t start_op) {
  if (end < c.first_end) {
    c.first_end = end;
    c.first_end_op = end_op;
  }
  if (start > c.last_start) {
    c.last_start = start;
    c.last_start_op = start_op;
  }
}

Cluster empty_cluster(std::size_t write) {
  Cluster c;
  c.write = write;
  c.first_end = kNever;
  c.last_start = kMinTime;
  return c;
}

}  // namespace

std::vector<std::size_t> ZoneConflict::ops() const {
  std::vector<std::size_t> out;
  for (const Cluster* c : {&a, &b}) {
    for (std::size_t id : {c->write, c->first_end_op, c->last_start_op}) {
      if (id != kNoEvent) out.push_back(id);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<ZoneConflict> find_zone_conflict(const Operations& all,
                                               const std::vector<std::size_t>& subset) {
  std::map<std::size_t, Cluster> by_write;  // ordered: the first conflict found is stable
  Cluster nothing = empty_cluster(kNoEvent);
  nothing.first_end = kMinTime;  // the initial "write" precedes everything
  bool read_nothing = false;
  for (std::size_t id : subset) {
    const Operation& o = all.ops[id];
    if (!o.is_read() || !o.ok()) continue;
    if (!o.value) {
      read_nothing = true;
      widen(nothing, kNever, kNoEvent, o.invoke_time, id);
      continue;
    }
    auto [it, fresh] = by_write.emplace(o.source, empty_cluster(o.source));
    widen(it->second, o.complete_time, id, o.invoke_time, id);
  }
  for (std::size_t id : subset) {
    const Operation& o = all.ops[id];
    if (!o.is_write() || o.failed()) continue;
    auto it = by_write.find(id);
    if (it == by_write.end()) {
      if (!o.ok()) continue;  // indeterminate and never read: it may never have happened
      it = by_write.emplace(id, empty_cluster(id)).first;
    }
    widen(it->second, o.ok() ? o.complete_time : kNever, id, o.invoke_time, id);
  }

  std::vector<Cluster> clusters;
  if (read_nothing) clusters.push_back(nothing);
  for (const auto& [id, c] : by_write) clusters.push_back(c);
  const std::size_t n = clusters.size();

  // Clusters by first_end; for each prefix of that order, the two largest last_starts,
  // so that "some other cluster A with A.first_end < B.last_start has A.last_start >
  // B.first_end" is a binary search and a look-up.
  std::vector<std::size_t> by_end(n);
  for (std::size_t i = 0; i < n; ++i) by_end[i] = i;
  std::stable_sort(by_end.begin(), by_end.end(), [&](std::size_t x, std::size_t y) {
    return clusters[x].first_end < clusters[y].first_end;
  });
  std::vector<std::int64_t> ends(n);
  std::vector<std::size_t> best(n), second(n);  // of the prefix up to and including i
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = by_end[i];
    ends[i] = clusters[c].first_end;
    std::size_t b1 = i == 0 ? n : best[i - 1], b2 = i == 0 ? n : second[i - 1];
    auto start = [&](std::size_t k) { return k == n ? kMinTime : clusters[k].last_start; };
    if (b1 == n || clusters[c].last_start > start(b1)) {
      b2 = b1;
      b1 = c;
    } else if (b2 == n || clusters[c].last_start > start(b2)) {
      b2 = c;
    }
    best[i] = b1;
    second[i] = b2;
  }
  for (std::size_t b = 0; b < n; ++b) {
    const Cluster& cb = clusters[b];
    // Clusters whose first_end is strictly before cb.last_start form a prefix.
    const auto k = static_cast<std::size_t>(
        std::lower_bound(ends.begin(), ends.end(), cb.last_start) - ends.begin());
    if (k == 0) continue;
    std::size_t a = best[k - 1] == b ? second[k - 1] : best[k - 1];
    if (a != n && clusters[a].last_start > cb.first_end) return ZoneConflict{clusters[a], cb};
  }
  return std::nullopt;
}

std::string describe_conflict(const Operations& all, const std::string& key, const ZoneConflict& c,
                              const Wording& words) {
  // The times are what matters here; describe() lists the operations in full.
  auto who = [&](const Cluster& cl, std::size_t op) {
    return (op == cl.write ? "its write by " : "a read of it by ") + all.ops[op].process;
  };
  auto stretch = [&](const Cluster& cl) {
    if (cl.write == kNoEvent) {
      return "the key held nothing until after " + words.time(cl.last_start) + " (when a read by " +
             all.ops[cl.last_start_op].process + " returning nothing began)";
    }
    std::string v = Wording::value(all.ops[cl.write].value);
    if (cl.first_end < cl.last_start) {
      return v + " was the value from before " + words.time(cl.first_end) + " (when " +
             who(cl, cl.first_end_op) + " completed) until after " + words.time(cl.last_start) +
             " (when " + who(cl, cl.last_start_op) + " began)";
    }
    if (cl.first_end_op == cl.write && cl.last_start_op == cl.write) {
      return v + " was written by " + all.ops[cl.write].process + " at some instant between " +
             words.time(cl.last_start) + " and " + words.time(cl.first_end);
    }
    return v + " was the value at some instant between " + words.time(cl.last_start) + " (when " +
           who(cl, cl.last_start_op) + " began) and " + words.time(cl.first_end) + " (when " +
           who(cl, cl.first_end_op) + " completed)";
  };
  return "key " + key + ": " + stretch(c.a) + ", and " + stretch(c.b) +
         "; each begins before the other ends, so neither write can have come first: not "
         "linearizable";
}

}  // namespace kvs::check
