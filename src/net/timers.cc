#include "net/timers.h"

#include "net/runtime.h"

namespace kvs::net {

TimerSet::TimerSet(uv_loop_t* loop, std::function<void(TimerId)> fire)
    : loop_(loop), fire_(std::move(fire)) {}

TimerSet::~TimerSet() {
  // Slots are freed by their close callbacks (close_all); a TimerSet that was never
  // closed has only handles the loop still owns, which cannot be freed safely here.
}

void TimerSet::set(TimerId id, Nanos at) {
  if (closed_) return;
  Slot* slot;
  auto it = armed_.find(id);
  if (it != armed_.end()) {
    slot = it->second;
  } else if (!spare_.empty()) {
    slot = spare_.back();
    spare_.pop_back();
  } else {
    slot = new Slot{this, id, at, {}};
    uv_timer_init(loop_, &slot->handle);
    slot->handle.data = slot;
  }
  slot->id = id;
  slot->at = at;
  armed_[id] = slot;
  arm(slot);
}

void TimerSet::cancel(TimerId id) {
  auto it = armed_.find(id);
  if (it == armed_.end()) return;
  uv_timer_stop(&it->second->handle);
  spare_.push_back(it->second);
  armed_.erase(it);
}

void TimerSet::arm(Slot* slot) {
  // uv timers count whole milliseconds of the loop's cached clock, which may lag the
  // real one; round up, and on_timeout re-arms if it still fires early.
  uv_update_time(loop_);
  Nanos left = slot->at - Runtime::now();
  std::uint64_t ms =
      left <= 0 ? 0 : static_cast<std::uint64_t>((left + kMillisecond - 1) / kMillisecond);
  uv_timer_start(&slot->handle, &TimerSet::on_timeout, ms, 0);
}

void TimerSet::on_timeout(uv_timer_t* handle) {
  Slot* slot = static_cast<Slot*>(handle->data);
  TimerSet* self = slot->owner;
  if (self->closed_) return;
  if (Runtime::now() < slot->at) {
    self->arm(slot);
    return;
  }
  TimerId id = slot->id;
  self->armed_.erase(id);
  self->spare_.push_back(slot);
  self->fire_(id);
}

void TimerSet::close_all() {
  if (closed_) return;
  closed_ = true;
  auto close = [](Slot* slot) {
    uv_close(reinterpret_cast<uv_handle_t*>(&slot->handle),
             [](uv_handle_t* h) { delete static_cast<Slot*>(h->data); });
  };
  for (auto& [id, slot] : armed_) close(slot);
  for (Slot* slot : spare_) close(slot);
  armed_.clear();
  spare_.clear();
}

}  // namespace kvs::net
