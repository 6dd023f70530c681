// Operations: a history's invoke/completion events paired up, indexed per key, and the
// wording the checkers use to name them. Shared by every checker (check.h states the
// pairing rules).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/history.h"
#include "sim/check.h"

namespace kvs::check {

constexpr std::size_t kNoEvent = std::numeric_limits<std::size_t>::max();
constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

struct Operation {
  std::size_t id = 0;  // index in Operations::ops
  std::string process;
  HistoryEvent::F f = HistoryEvent::F::kRead;
  std::string key;
  // write: the value written; read: the value read (only when outcome is kOk).
  std::optional<std::string> value;
  // kOk, kFail or kInfo; kInvoke while never completed (pending at the end).
  HistoryEvent::Type outcome = HistoryEvent::Type::kInvoke;
  std::int64_t invoke_time = 0;
  std::int64_t complete_time = kNever;  // kNever while pending
  std::size_t invoke_event = kNoEvent;  // indexes into the history
  std::size_t complete_event = kNoEvent;
  std::size_t issue = 0;  // position in its process's issue order (all keys)
  int client = 0;         // the process as a small number, for quick comparison
  // A read that returned a value: the write of that value on this key (not failed), or
  // kNoEvent if there is none.
  std::size_t source = kNoEvent;

  bool is_write() const { return f == HistoryEvent::F::kWrite; }
  bool is_read() const { return f == HistoryEvent::F::kRead; }
  // A read that completed ok and returned a value (not "nothing").
  bool read_value() const { return is_read() && ok() && value.has_value(); }
  bool ok() const { return outcome == HistoryEvent::Type::kOk; }
  bool failed() const { return outcome == HistoryEvent::Type::kFail; }
  // A write that may or may not have taken effect (info, or never completed).
  bool indeterminate() const { return !ok() && !failed(); }
  // Real-time precedence: this completed ok strictly before `later` was invoked.
  bool precedes(const Operation& later) const { return ok() && complete_time < later.invoke_time; }
};

// Lookups only (never iterated), so the hash order cannot reach any output.
using ValueIndex = std::unordered_map<std::string, std::size_t>;

struct KeyView {
  std::vector<std::size_t> ops;  // this key's operations, in invoke order
  ValueIndex writer;             // value -> the write (not failed) of it
  ValueIndex failed_writer;      // value -> a failed write of it
};

struct Operations {
  std::vector<Operation> ops;  // in invoke order
  std::map<std::string, KeyView> keys;
  std::vector<std::string> errors;  // why the history is malformed (empty: well formed)
};

// Pairs invocations with completions (FIFO per process, f and key) after a stable sort by
// time, and indexes the result per key. Errors use options.event_name and time_origin.
Operations pair_operations(const History& history, const CheckOptions& options = {});

// How explanations name times, values and operations.
class Wording {
 public:
  explicit Wording(std::int64_t origin) : origin_(origin) {}
  // "t=1.203s": as many decimals as the time needs (ms, us or ns).
  std::string time(std::int64_t t) const;
  // "\"v1\"", or "nothing" for a read of a key never written.
  static std::string value(const std::optional<std::string>& v);
  // "read by c2 (invoked t=1.203s, ok t=1.250s)" / "write of \"v1\" by c1 (...)".
  std::string op(const Operation& o) const;
  // "(invoked t=1.203s, ok t=1.250s)" or "(invoked t=1.2s, info t=2s)" or "(invoked ..., never
  // completed)".
  std::string interval(const Operation& o) const;

 private:
  std::int64_t origin_;
};

// The events (invoke and completion) of the given operations, in history order.
std::vector<HistoryEvent> witness_events(const History& history, const Operations& ops,
                                         std::vector<std::size_t> op_ids);

}  // namespace kvs::check
