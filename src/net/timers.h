// The machine's timers on a uv loop: SetTimer{id, at} arms (or re-arms) one uv_timer_t
// per id, CancelTimer disarms it. Handles of fired or cancelled timers are kept for
// reuse, so machines that use a fresh id per request do not grow the handle count.
#pragma once

#include <uv.h>

#include <functional>
#include <map>
#include <vector>

#include "core/types.h"

namespace kvs::net {

class TimerSet {
 public:
  // fire(id) is called on the loop thread when a timer expires, never before `at`.
  TimerSet(uv_loop_t* loop, std::function<void(TimerId)> fire);
  ~TimerSet();
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  void set(TimerId id, Nanos at);
  void cancel(TimerId id);
  std::size_t armed() const { return armed_.size(); }

  // Closes every handle; the TimerSet must outlive the loop run that follows.
  void close_all();

 private:
  struct Slot {
    TimerSet* owner;
    TimerId id;
    Nanos at;
    uv_timer_t handle;
  };

  void arm(Slot* slot);
  static void on_timeout(uv_timer_t* handle);

  uv_loop_t* loop_;
  std::function<void(TimerId)> fire_;
  std::map<TimerId, Slot*> armed_;
  std::vector<Slot*> spare_;
  bool closed_ = false;
};

}  // namespace kvs::net
