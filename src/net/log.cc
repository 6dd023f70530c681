#include "net/log.h"

#include <unistd.h>
#include <uv.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace kvs::net {

std::string level_label(LogLevel level) {
  std::string label(log_level_name(level));
  for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (label.size() < 5) label.resize(5, ' ');
  return label;
}

void write_log_line(LogLevel level, std::string_view name, std::string_view text) {
  uv_timeval64_t tv{};
  uv_gettimeofday(&tv);
  std::time_t secs = static_cast<std::time_t>(tv.tv_sec);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03dZ", static_cast<int>(tv.tv_usec / 1000) % 1000);
  std::string line;
  line.reserve(48 + name.size() + text.size());
  line += date;
  line += millis;
  line += ' ';
  line += level_label(level);
  line += ' ';
  line += name;
  if (!name.empty()) line += ": ";
  line += text;
  line += '\n';
  // One write(2) per line; a short write to a terminal or pipe is retried.
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(STDERR_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace kvs::net
