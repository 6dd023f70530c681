// Command parsing and result formatting of ./client: see client_cli.h.
#include "net/client_cli.h"

#include <nlohmann/json.hpp>

namespace kvs::cli {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

// Splits off the first whitespace-separated word of *rest.
std::string_view next_word(std::string_view* rest) {
  std::size_t i = 0;
  while (i < rest->size() && is_space((*rest)[i])) ++i;
  std::size_t j = i;
  while (j < rest->size() && !is_space((*rest)[j])) ++j;
  std::string_view word = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return word;
}

bool only_space(std::string_view s) {
  for (char c : s) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::optional<Command> usage(std::string* error, std::string text) {
  *error = std::move(text);
  return std::nullopt;
}

}  // namespace

std::optional<Command> parse_line(std::string_view line, std::string* error) {
  // Scripts written on Windows end lines with \r\n; the \r is not part of a value.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string_view rest = line;
  const std::string_view verb = next_word(&rest);
  if (verb.empty() || verb.front() == '#') return Command{};
  if (verb == "get") {
    const std::string_view key = next_word(&rest);
    if (key.empty() || !only_space(rest)) return usage(error, "usage: get KEY");
    return Command{Command::Kind::kGet, std::string(key), {}};
  }
  if (verb == "put") {
    const std::string_view key = next_word(&rest);
    // The value is everything after the whitespace that follows the key, so it may
    // hold spaces; trailing spaces are kept (they may be meant).
    std::size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    if (key.empty() || i == rest.size()) return usage(error, "usage: put KEY VALUE");
    return Command{Command::Kind::kPut, std::string(key), std::string(rest.substr(i))};
  }
  Command::Kind kind;
  if (verb == "status") {
    kind = Command::Kind::kStatus;
  } else if (verb == "help") {
    kind = Command::Kind::kHelp;
  } else if (verb == "quit" || verb == "exit") {
    kind = Command::Kind::kQuit;
  } else {
    return usage(error, "unknown command '" + std::string(verb) + "' (try: help)");
  }
  if (!only_space(rest)) return usage(error, "usage: " + std::string(verb) + " (no arguments)");
  return Command{kind, {}, {}};
}

std::optional<Command> parse_args(const std::vector<std::string>& args, std::string* error) {
  if (args.empty()) return usage(error, "no command given");
  const std::string& verb = args[0];
  if (verb == "get") {
    if (args.size() != 2 || args[1].empty()) return usage(error, "usage: client get KEY");
    return Command{Command::Kind::kGet, args[1], {}};
  }
  if (verb == "put") {
    if (args.size() != 3 || args[1].empty()) {
      return usage(error, "usage: client put KEY VALUE (quote a VALUE that has spaces)");
    }
    return Command{Command::Kind::kPut, args[1], args[2]};
  }
  if (verb == "status") {
    if (args.size() != 1) return usage(error, "usage: client status");
    return Command{Command::Kind::kStatus, {}, {}};
  }
  return usage(error, "unknown command '" + verb + "' (commands: get, put, status)");
}

std::string format_result(const Result& r) {
  switch (r.status) {
    case Status::kOk:
      if (r.op == Op::kPut) return "ok";
      // JSON quoting escapes newlines and control bytes: one result, one line.
      return nlohmann::json(r.value.value_or(""))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    case Status::kNotFound:
      return "(not found)";
    case Status::kUnavailable:
    case Status::kRejected:
      break;
  }
  std::string line = "error: " + std::string(status_name(r.status));
  if (!r.detail.empty()) line += ": " + r.detail;
  if (r.op == Op::kPut && r.status == Status::kUnavailable) {
    line += " (the put may still take effect)";
  }
  return line;
}

std::string_view commands_help() {
  return R"(Commands (one-shot as arguments, or one per line interactively / from stdin):
  get KEY          print the value of KEY
  put KEY VALUE    set KEY to VALUE (on a line, VALUE is the rest of it, spaces included)
  status           print the frontend's status as JSON
  help             this list (interactive and script only)
  quit, exit       leave (interactive and script only)
Lines that are empty or start with # are ignored.
)";
}

}  // namespace kvs::cli
