// Virtual time and the one queue of pending events, ordered by (time, insertion
// sequence): two events at the same instant run in the order they were scheduled, so
// nothing but the schedule itself decides the order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "core/types.h"

namespace kvs::sim {

class EventQueue {
 public:
  using Fn = std::function<void()>;

  Nanos now() const { return now_; }
  // Runs fn at time `at` (never in the past: an earlier time means now).
  void at(Nanos at, Fn fn) {
    heap_.push_back(Item{std::max(at, now_), next_seq_++, std::move(fn)});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
  }
  void after(Nanos delay, Fn fn) { at(now_ + delay, std::move(fn)); }

  bool empty() const { return heap_.empty(); }
  Nanos next_time() const { return heap_.front().at; }
  // Pops the earliest event, advances the clock to it and runs it.
  // REQUIRES: !empty().
  void run_next() {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Item item = std::move(heap_.back());
    heap_.pop_back();
    now_ = item.at;
    ++executed_;
    item.fn();
  }
  std::uint64_t executed() const { return executed_; }

 private:
  struct Item {
    Nanos at;
    std::uint64_t seq;
    Fn fn;
  };
  // std heap functions build a max-heap; "later" as "less" puts the earliest on top.
  struct Later {
    bool operator()(const Item& a, const Item& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  std::vector<Item> heap_;
  Nanos now_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t executed_ = 0;
};

}  // namespace kvs::sim
