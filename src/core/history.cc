// History events as JSON lines: see history.h.
#include "core/history.h"

#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

namespace kvs {

namespace {

bool fail(std::string* error, std::string what) {
  if (error) *error = std::move(what);
  return false;
}

// A required string field.
bool get_string(const nlohmann::json& j, const char* field, std::string* out, std::string* error) {
  auto it = j.find(field);
  if (it == j.end()) return fail(error, std::string("missing field \"") + field + "\"");
  if (!it->is_string()) {
    return fail(error,
                std::string("field \"") + field + "\": expected a string, got " + it->type_name());
  }
  *out = it->get<std::string>();
  return true;
}

// An optional field: absent or null leaves *out empty; otherwise is_kind must hold (the
// error names `kind`).
template <typename T, typename IsKind>
bool get_optional(const nlohmann::json& j, const char* field, IsKind is_kind, const char* kind,
                  std::optional<T>* out, std::string* error) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return true;
  if (!is_kind(*it)) {
    return fail(error, std::string("field \"") + field + "\": expected " + kind + ", got " +
                           it->type_name());
  }
  *out = it->template get<T>();
  return true;
}

// "read", "write": the one name table of operation kinds.
std::string_view f_name(HistoryEvent::F f) {
  return f == HistoryEvent::F::kRead ? "read" : "write";
}

HistoryEvent::F f_of(Op op) {
  return op == Op::kGet ? HistoryEvent::F::kRead : HistoryEvent::F::kWrite;
}

// The value among `values` whose name is `name`.
template <typename E, typename Name>
bool parse_name(std::string_view name, std::initializer_list<E> values, Name name_of, E* out) {
  for (E v : values) {
    if (name_of(v) == name) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace

HistoryEvent history_invocation(std::string process, Op op, std::string key,
                                std::optional<std::string> value, std::int64_t time,
                                std::optional<std::uint64_t> op_id) {
  if (op == Op::kGet) value.reset();
  return HistoryEvent{std::move(process),
                      HistoryEvent::Type::kInvoke,
                      f_of(op),
                      std::move(key),
                      std::move(value),
                      time,
                      op_id};
}

HistoryEvent::Type history_completion_type(Op op, Status status) {
  using T = HistoryEvent::Type;
  switch (status) {
    case Status::kOk:
    case Status::kNotFound:
      return T::kOk;
    case Status::kRejected:
      return T::kFail;
    case Status::kUnavailable:
      return op == Op::kGet ? T::kFail : T::kInfo;
  }
  return T::kInfo;  // unknown status: claim nothing
}

HistoryEvent history_completion(std::string process, Op op, Status status, std::string key,
                                std::optional<std::string> value, std::int64_t time,
                                std::optional<std::uint64_t> op_id) {
  // A GET's value is only known when it found one; a PUT's completion repeats the value
  // it wrote (the checker matches it with the invocation).
  if (op == Op::kGet && status != Status::kOk) value.reset();
  return HistoryEvent{std::move(process),
                      history_completion_type(op, status),
                      f_of(op),
                      std::move(key),
                      std::move(value),
                      time,
                      op_id};
}

std::string history_event_to_json(const HistoryEvent& e) {
  nlohmann::json j;
  j["process"] = e.process;
  j["type"] = history_type_name(e.type);
  j["f"] = e.f == HistoryEvent::F::kRead ? "read" : "write";
  j["key"] = e.key;
  j["value"] = e.value ? nlohmann::json(*e.value) : nlohmann::json(nullptr);
  j["time"] = e.time;
  if (e.op) j["op"] = *e.op;
  // replace, not throw: a history line must always be written; a replaced byte (invalid
  // UTF-8) stays visible to whoever reads the file.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<HistoryEvent> history_event_from_json(std::string_view line, std::string* error) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& ex) {
    fail(error, std::string("not a JSON object: ") + ex.what());
    return std::nullopt;
  }
  if (!j.is_object()) {
    fail(error, std::string("not a JSON object: got ") + j.type_name());
    return std::nullopt;
  }

  HistoryEvent e;
  if (!get_string(j, "process", &e.process, error)) return std::nullopt;

  std::string type;
  if (!get_string(j, "type", &type, error)) return std::nullopt;
  if (!parse_name(type,
                  {HistoryEvent::Type::kInvoke, HistoryEvent::Type::kOk, HistoryEvent::Type::kFail,
                   HistoryEvent::Type::kInfo},
                  history_type_name, &e.type)) {
    fail(error, "field \"type\": expected invoke, ok, fail or info, got \"" + type + "\"");
    return std::nullopt;
  }

  std::string f;
  if (!get_string(j, "f", &f, error)) return std::nullopt;
  if (!parse_name(f, {HistoryEvent::F::kRead, HistoryEvent::F::kWrite}, f_name, &e.f)) {
    fail(error, "field \"f\": expected read or write, got \"" + f + "\"");
    return std::nullopt;
  }

  if (!get_string(j, "key", &e.key, error)) return std::nullopt;

  // A missing value means the same as null: a read's invocation carries none.
  if (!get_optional(
          j, "value", [](const nlohmann::json& v) { return v.is_string(); }, "a string or null",
          &e.value, error)) {
    return std::nullopt;
  }

  auto it = j.find("time");
  if (it == j.end()) {
    fail(error, "missing field \"time\"");
    return std::nullopt;
  }
  if (it->is_number_unsigned()) {
    auto t = it->get<std::uint64_t>();
    if (t > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(error, "field \"time\": " + std::to_string(t) + " is out of range");
      return std::nullopt;
    }
    e.time = static_cast<std::int64_t>(t);
  } else if (it->is_number_integer()) {
    e.time = it->get<std::int64_t>();
  } else {
    fail(error,
         std::string("field \"time\": expected an integer (nanoseconds), got ") + it->type_name());
    return std::nullopt;
  }

  // "op" (the client's op id, written by ./client --history) is optional.
  if (!get_optional(
          j, "op", [](const nlohmann::json& v) { return v.is_number_unsigned(); },
          "a non-negative integer", &e.op, error)) {
    return std::nullopt;
  }
  return e;
}

std::string_view history_type_name(HistoryEvent::Type t) {
  switch (t) {
    case HistoryEvent::Type::kInvoke:
      return "invoke";
    case HistoryEvent::Type::kOk:
      return "ok";
    case HistoryEvent::Type::kFail:
      return "fail";
    case HistoryEvent::Type::kInfo:
      return "info";
  }
  return "info";  // unreachable; "info" claims nothing if it ever were
}

}  // namespace kvs
