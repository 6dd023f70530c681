// The log level name table: see effects.h.
#include "core/effects.h"

#include <array>

namespace kvs {
namespace {

constexpr std::array<std::pair<LogLevel, std::string_view>, 4> kLevelNames = {{
    {LogLevel::kDebug, "debug"},
    {LogLevel::kInfo, "info"},
    {LogLevel::kWarn, "warn"},
    {LogLevel::kError, "error"},
}};

}  // namespace

std::string_view log_level_name(LogLevel level) {
  for (const auto& [l, name] : kLevelNames) {
    if (l == level) return name;
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (const auto& [l, n] : kLevelNames) {
    if (n == name) return l;
  }
  return std::nullopt;
}

}  // namespace kvs
