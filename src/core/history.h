// A history of client operations in the Jepsen style: every invocation and completion,
// per process, with a monotonic time. The simulator records one; `./client --history`
// and kvbench write one (net/history.h does the file I/O); the checkers (src/sim/check.h)
// judge one, and kvcheck reads one back. This is the one place the JSON lines format
// and the mapping from an operation's outcome to an event are spelled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"

namespace kvs {

struct HistoryEvent {
  enum class Type { kInvoke, kOk, kFail, kInfo };  // fail: certainly no effect; info: unknown
  enum class F { kRead, kWrite };
  std::string process;  // client id
  Type type = Type::kInvoke;
  F f = F::kRead;
  std::string key;
  std::optional<std::string> value;  // write: the value; read ok: what was read (nullopt: none)
  std::int64_t time = 0;             // nanoseconds, monotonic
  // The client's op id (its seq), so an invoke and its completion pair up even with many
  // operations outstanding. client --history writes it; the simulator leaves it out. The
  // checkers do not use it: they pair completions with invocations in issue order.
  std::optional<std::uint64_t> op = std::nullopt;
  bool operator==(const HistoryEvent&) const = default;
};

using History = std::vector<HistoryEvent>;

// The event of issuing an operation: a PUT carries the value it writes, a GET none.
HistoryEvent history_invocation(std::string process, Op op, std::string key,
                                std::optional<std::string> value, std::int64_t time,
                                std::optional<std::uint64_t> op_id = std::nullopt);

// "ok": it took effect (a GET found or not found, a PUT acknowledged). "fail": it
// certainly did not (a failed GET has no effect; a rejected PUT was never applied).
// "info": it may have (a PUT that is unavailable or timed out is indeterminate).
HistoryEvent::Type history_completion_type(Op op, Status status);

// The event of an operation finishing with status. value: what a GET read (kept only
// when the GET found it) or what a PUT wrote (repeated: the checker matches it with the
// invocation).
HistoryEvent history_completion(std::string process, Op op, Status status, std::string key,
                                std::optional<std::string> value, std::int64_t time,
                                std::optional<std::uint64_t> op_id = std::nullopt);

// One JSON object per line, keys sorted: {"f":"read|write","key","op" (only when set),
// "process","time","type":"invoke|ok|fail|info","value" (string or null)}. Without the
// trailing newline.
std::string history_event_to_json(const HistoryEvent& e);
// "invoke", "ok", "fail", "info": the one name table of event types.
std::string_view history_type_name(HistoryEvent::Type t);
// Parses one line; nullopt and *error (naming the field) on a bad line. A missing
// "value" means null; a missing "op" means none.
std::optional<HistoryEvent> history_event_from_json(std::string_view line, std::string* error);

}  // namespace kvs
