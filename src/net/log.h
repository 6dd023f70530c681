// Log lines of the real programs: "2026-11-25T13:40:01.123Z INFO  storage s1: text"
// on stderr. Wall-clock time is fine here (src/net); machines never see it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/effects.h"

namespace kvs::net {

// "debug", "info", "warn", "error" -> the level; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name);

// The fixed-width name used in log lines: "DEBUG", "INFO ", "WARN ", "ERROR".
std::string_view level_label(LogLevel level);

// Formats one line (with a trailing newline) and writes it to stderr in one call,
// so lines of concurrent processes sharing a terminal do not interleave mid-line.
void write_log_line(LogLevel level, std::string_view name, std::string_view text);

}  // namespace kvs::net
