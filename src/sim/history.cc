// History events as JSON lines: see history.h.
#include "sim/history.h"

#include <limits>
#include <nlohmann/json.hpp>

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

}  // namespace

std::string history_event_to_json(const HistoryEvent& e) {
  nlohmann::json j;
  j["process"] = e.process;
  j["type"] = history_type_name(e.type);
  j["f"] = e.f == HistoryEvent::F::kRead ? "read" : "write";
  j["key"] = e.key;
  j["value"] = e.value ? nlohmann::json(*e.value) : nlohmann::json(nullptr);
  j["time"] = e.time;
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
  if (type == "invoke") {
    e.type = HistoryEvent::Type::kInvoke;
  } else if (type == "ok") {
    e.type = HistoryEvent::Type::kOk;
  } else if (type == "fail") {
    e.type = HistoryEvent::Type::kFail;
  } else if (type == "info") {
    e.type = HistoryEvent::Type::kInfo;
  } else {
    fail(error, "field \"type\": expected invoke, ok, fail or info, got \"" + type + "\"");
    return std::nullopt;
  }

  std::string f;
  if (!get_string(j, "f", &f, error)) return std::nullopt;
  if (f == "read") {
    e.f = HistoryEvent::F::kRead;
  } else if (f == "write") {
    e.f = HistoryEvent::F::kWrite;
  } else {
    fail(error, "field \"f\": expected read or write, got \"" + f + "\"");
    return std::nullopt;
  }

  if (!get_string(j, "key", &e.key, error)) return std::nullopt;

  // A missing value means the same as null: a read's invocation carries none.
  if (auto it = j.find("value"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) {
      fail(error,
           std::string("field \"value\": expected a string or null, got ") + it->type_name());
      return std::nullopt;
    }
    e.value = it->get<std::string>();
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

  // "op" (the client's op id, written by ./client --history) is optional and not part of
  // HistoryEvent: the checkers pair completions with invocations in issue order (see
  // check.h). It is still validated so that a corrupt line is not silently accepted.
  if (auto op = j.find("op"); op != j.end() && !op->is_null() && !op->is_number_integer()) {
    fail(error, std::string("field \"op\": expected an integer, got ") + op->type_name());
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
