// Log lines of the real programs: "2026-11-25T13:40:01.123Z INFO  storage s1: text"
// on stderr. Wall-clock time is fine here (src/net); machines never see it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/effects.h"

namespace kvs::net {

// The fixed-width name used in log lines: "DEBUG", "INFO ", "WARN ", "ERROR" (the
// level's name, log_level_name in core/effects.h, in capitals). parse_log_level is
// in core/effects.h too.
std::string level_label(LogLevel level);

// Formats one line (with a trailing newline) and writes it to stderr in one call,
// so lines of concurrent processes sharing a terminal do not interleave mid-line.
void write_log_line(LogLevel level, std::string_view name, std::string_view text);

}  // namespace kvs::net
