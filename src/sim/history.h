// A history of client operations in the Jepsen style: every invocation and completion,
// per process, with a monotonic time. The simulator records one; `./client --history`
// writes one as JSON lines; the checkers (src/sim/check.h) judge one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  bool operator==(const HistoryEvent&) const = default;
};

using History = std::vector<HistoryEvent>;

// One JSON object per line: {"process","type":"invoke|ok|fail|info","f":"read|write",
// "key","value" (string or null),"time"}. The same format client --history writes.
std::string history_event_to_json(const HistoryEvent& e);
// "invoke", "ok", "fail", "info": the one name table of event types.
std::string_view history_type_name(HistoryEvent::Type t);
// Parses one line; nullopt and *error (naming the field) on a bad line.
std::optional<HistoryEvent> history_event_from_json(std::string_view line, std::string* error);

}  // namespace kvs
