// The one log level name table (core/effects.h) and the capitalized labels of log lines
// (net/log.h) derived from it.
#include <gtest/gtest.h>

#include "core/effects.h"
#include "net/log.h"

namespace kvs {
namespace {

TEST(LogLevel, NamesRoundTrip) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    EXPECT_EQ(parse_log_level(log_level_name(l)), l) << log_level_name(l);
  }
  EXPECT_EQ(log_level_name(LogLevel::kWarn), "warn");
  EXPECT_EQ(parse_log_level("error"), LogLevel::kError);
  EXPECT_EQ(parse_log_level("WARN"), std::nullopt);
  EXPECT_EQ(parse_log_level("warning"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST(LogLevel, LogLineLabelsHaveOneWidth) {
  EXPECT_EQ(net::level_label(LogLevel::kDebug), "DEBUG");
  EXPECT_EQ(net::level_label(LogLevel::kInfo), "INFO ");
  EXPECT_EQ(net::level_label(LogLevel::kWarn), "WARN ");
  EXPECT_EQ(net::level_label(LogLevel::kError), "ERROR");
}

}  // namespace
}  // namespace kvs
