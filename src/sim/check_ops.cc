// Pairing a history into operations, and the words for them: see check_ops.h.
#include "sim/check_ops.h"

#include <algorithm>
#include <deque>
#include <numeric>
#include <tuple>

namespace kvs::check {

namespace {

std::string_view f_name(HistoryEvent::F f) {
  return f == HistoryEvent::F::kRead ? "read" : "write";
}

// Indexes into the history in time order; ties keep history order (an invoke recorded
// before its own completion at the same instant stays first).
std::vector<std::size_t> time_order(const History& h) {
  std::vector<std::size_t> order(h.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return h[a].time < h[b].time; });
  return order;
}

}  // namespace

Operations pair_operations(const History& history, const CheckOptions& options) {
  Operations out;
  Wording words(options.time_origin);
  // Pending invocations per (process, f, key), oldest first. Interned names keep this
  // fast; the maps are only looked up, never iterated.
  std::unordered_map<std::string, int> clients, keys;
  std::unordered_map<std::uint64_t, std::deque<std::size_t>> pending;
  std::vector<std::size_t> issued;  // per client: invocations so far
  std::vector<KeyView*> views;      // per key id
  auto intern = [](std::unordered_map<std::string, int>& ids, const std::string& name) {
    auto it = ids.find(name);  // find first: emplace would allocate a node every time
    return it != ids.end() ? it->second
                           : ids.emplace(name, static_cast<int>(ids.size())).first->second;
  };
  auto bad = [&](std::size_t i, const std::string& what) {
    const HistoryEvent& e = history[i];
    std::string name = options.event_name ? options.event_name(i) : "event " + std::to_string(i);
    out.errors.push_back(name + " (" + e.process + " " + std::string(history_type_name(e.type)) +
                         " " + std::string(f_name(e.f)) + " key " + e.key + " at " +
                         words.time(e.time) + "): " + what);
  };

  for (std::size_t i : time_order(history)) {
    const HistoryEvent& e = history[i];
    const int client = intern(clients, e.process);
    const int key = intern(keys, e.key);
    if (static_cast<std::size_t>(client) == issued.size()) issued.push_back(0);
    if (static_cast<std::size_t>(key) == views.size()) views.push_back(&out.keys[e.key]);
    const std::uint64_t slot = (static_cast<std::uint64_t>(client) << 33) |
                               (static_cast<std::uint64_t>(key) << 1) |
                               (e.f == HistoryEvent::F::kWrite ? 1 : 0);
    if (e.type == HistoryEvent::Type::kInvoke) {
      Operation o;
      o.id = out.ops.size();
      o.process = e.process;
      o.client = client;
      o.f = e.f;
      o.key = e.key;
      if (e.f == HistoryEvent::F::kWrite) {
        if (!e.value) {
          bad(i, "a write without a value");
          continue;
        }
        o.value = e.value;
      }
      o.invoke_time = e.time;
      o.invoke_event = i;
      o.issue = issued[static_cast<std::size_t>(client)]++;
      pending[slot].push_back(o.id);
      views[static_cast<std::size_t>(key)]->ops.push_back(o.id);
      out.ops.push_back(std::move(o));
      continue;
    }
    auto it = pending.find(slot);
    if (it == pending.end() || it->second.empty()) {
      bad(i, "a completion with no pending invocation of the same process, f and key");
      continue;
    }
    Operation& o = out.ops[it->second.front()];
    it->second.pop_front();
    o.outcome = e.type;
    o.complete_time = e.time;
    o.complete_event = i;
    if (o.is_read()) {
      if (e.type == HistoryEvent::Type::kOk) o.value = e.value;
    } else if (e.value && e.value != o.value) {
      // A write's completion repeats its value; a different one means the pairing (or
      // the recording) is wrong, and every conclusion drawn from it would be too.
      bad(i, "completes a write of " + Wording::value(e.value) + " but the oldest pending one " +
                 "writes " + Wording::value(o.value));
    }
  }

  for (auto& [key, kv] : out.keys) {
    for (std::size_t id : kv.ops) {
      const Operation& o = out.ops[id];
      if (!o.is_write()) continue;
      std::optional<std::size_t> earlier;
      for (auto* index : {&kv.writer, &kv.failed_writer}) {
        if (auto at = index->find(*o.value); at != index->end()) earlier = at->second;
      }
      if (earlier) {
        out.errors.push_back("key " + key + ": value " + Wording::value(o.value) +
                             " is written more than once (" + words.op(out.ops[*earlier]) + ", " +
                             words.op(o) +
                             "); the checkers need unique write values to trace each read");
        continue;
      }
      (o.failed() ? kv.failed_writer : kv.writer).emplace(*o.value, id);
    }
    for (std::size_t id : kv.ops) {
      Operation& o = out.ops[id];
      if (!o.read_value()) continue;
      if (auto w = kv.writer.find(*o.value); w != kv.writer.end()) o.source = w->second;
    }
  }
  return out;
}

std::string Wording::time(std::int64_t t) const {
  // The magnitude in unsigned arithmetic: t - origin may not fit in an int64_t, though
  // it always fits in a uint64_t.
  const bool negative = t < origin_;
  const std::uint64_t mag =
      negative ? static_cast<std::uint64_t>(origin_) - static_cast<std::uint64_t>(t)
               : static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(origin_);
  const std::uint64_t secs = mag / 1'000'000'000, frac = mag % 1'000'000'000;
  const int digits = frac % 1'000'000 == 0 ? 3 : frac % 1'000 == 0 ? 6 : 9;
  std::string f = std::to_string(frac);
  f.insert(0, 9 - f.size(), '0');
  f.resize(static_cast<std::size_t>(digits));
  return std::string("t=") + (negative ? "-" : "") + std::to_string(secs) + "." + f + "s";
}

std::string Wording::value(const std::optional<std::string>& v) {
  if (!v) return "nothing";
  return "\"" + *v + "\"";
}

std::string Wording::interval(const Operation& o) const {
  std::string s = "(invoked " + time(o.invoke_time);
  if (o.complete_event == kNoEvent) return s + ", never completed)";
  return s + ", " + std::string(history_type_name(o.outcome)) + " " + time(o.complete_time) + ")";
}

std::string Wording::op(const Operation& o) const {
  if (o.is_write()) return "write of " + value(o.value) + " by " + o.process + " " + interval(o);
  std::string s = "read by " + o.process + " " + interval(o);
  if (o.ok()) s += " returning " + value(o.value);
  return s;
}

std::vector<HistoryEvent> witness_events(const History& history, const Operations& ops,
                                         std::vector<std::size_t> op_ids) {
  std::vector<std::size_t> events;
  std::sort(op_ids.begin(), op_ids.end());
  op_ids.erase(std::unique(op_ids.begin(), op_ids.end()), op_ids.end());
  for (std::size_t id : op_ids) {
    events.push_back(ops.ops[id].invoke_event);
    if (ops.ops[id].complete_event != kNoEvent) events.push_back(ops.ops[id].complete_event);
  }
  std::sort(events.begin(), events.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(history[a].time, a) < std::tie(history[b].time, b);
  });
  std::vector<HistoryEvent> out;
  out.reserve(events.size());
  for (std::size_t i : events) out.push_back(history[i]);
  return out;
}

}  // namespace kvs::check
