// The ./client program's command language, shared by its one-shot, interactive and
// script modes, kept apart from main() so it can be unit-tested:
//   get KEY          put KEY VALUE (VALUE = the rest of the line, spaces included)
//   status           help           quit | exit
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/client_lib.h"

namespace kvs::cli {

struct Command {
  enum class Kind { kNone, kGet, kPut, kStatus, kHelp, kQuit };
  Kind kind = Kind::kNone;  // kNone: a blank line or a # comment; nothing to do
  std::string key;
  std::string value;
};

// One line typed or read from a script. nullopt with *error (a usage message) if the
// line is not a command.
std::optional<Command> parse_line(std::string_view line, std::string* error);

// The positional arguments of a one-shot invocation: {"get","k"}, {"put","k","v"},
// {"status"}. VALUE is one argument (quote it in the shell).
std::optional<Command> parse_args(const std::vector<std::string>& args, std::string* error);

// One line (no newline) describing a result: ok | "VALUE" (JSON-quoted, so it is
// always one line) | (not found) | error: STATUS: DETAIL
std::string format_result(const Result& r);

// The commands, for --help and the interactive `help`.
std::string_view commands_help();

}  // namespace kvs::cli
