// The ./client command language and the client history format.
#include "net/client_cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/history.h"
#include "net/history.h"

namespace kvs {
namespace {

using cli::Command;

Command parsed(std::string_view line) {
  std::string error;
  auto c = cli::parse_line(line, &error);
  EXPECT_TRUE(c.has_value()) << line << ": " << error;
  return c.value_or(Command{});
}

std::string cli_parse_error(std::string_view line) {
  std::string error;
  EXPECT_FALSE(cli::parse_line(line, &error).has_value()) << line;
  return error;
}

TEST(ClientCliTest, ParsesLines) {
  Command c = parsed("get k");
  EXPECT_EQ(c.kind, Command::Kind::kGet);
  EXPECT_EQ(c.key, "k");
  c = parsed("  put   k   a value  with spaces ");
  EXPECT_EQ(c.kind, Command::Kind::kPut);
  EXPECT_EQ(c.key, "k");
  EXPECT_EQ(c.value, "a value  with spaces ");
  c = parsed("put k v\r");  // CRLF scripts
  EXPECT_EQ(c.value, "v");
  EXPECT_EQ(parsed("status").kind, Command::Kind::kStatus);
  EXPECT_EQ(parsed("help").kind, Command::Kind::kHelp);
  EXPECT_EQ(parsed("quit").kind, Command::Kind::kQuit);
  EXPECT_EQ(parsed("exit").kind, Command::Kind::kQuit);
  EXPECT_EQ(parsed("").kind, Command::Kind::kNone);
  EXPECT_EQ(parsed("   ").kind, Command::Kind::kNone);
  EXPECT_EQ(parsed("# a comment").kind, Command::Kind::kNone);
}

TEST(ClientCliTest, RejectsBadLines) {
  EXPECT_EQ(cli_parse_error("get"), "usage: get KEY");
  EXPECT_EQ(cli_parse_error("get a b"), "usage: get KEY");
  EXPECT_EQ(cli_parse_error("put k"), "usage: put KEY VALUE");
  EXPECT_EQ(cli_parse_error("put k   "), "usage: put KEY VALUE");
  EXPECT_EQ(cli_parse_error("frob x"), "unknown command 'frob' (try: help)");
  EXPECT_EQ(cli_parse_error("quit now"), "usage: quit (no arguments)");
}

TEST(ClientCliTest, ParsesOneShotArgs) {
  std::string error;
  auto c = cli::parse_args({"put", "k", "v w"}, &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->value, "v w");
  c = cli::parse_args({"get", "k"}, &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, Command::Kind::kGet);
  EXPECT_TRUE(cli::parse_args({"status"}, &error));
  EXPECT_FALSE(cli::parse_args({"put", "k"}, &error));
  EXPECT_FALSE(cli::parse_args({"put", "k", "v", "w"}, &error));
  EXPECT_FALSE(cli::parse_args({"get"}, &error));
  EXPECT_FALSE(cli::parse_args({"help"}, &error));
}

TEST(ClientCliTest, FormatsResults) {
  EXPECT_EQ(cli::format_result(Result{1, Op::kPut, Status::kOk, "k", "v", ""}), "ok");
  EXPECT_EQ(cli::format_result(Result{2, Op::kGet, Status::kOk, "k", "a\"b\nc", ""}),
            "\"a\\\"b\\nc\"");
  EXPECT_EQ(cli::format_result(Result{3, Op::kGet, Status::kNotFound, "k", std::nullopt, ""}),
            "(not found)");
  EXPECT_EQ(cli::format_result(
                Result{4, Op::kGet, Status::kUnavailable, "k", std::nullopt, "no storage node"}),
            "error: unavailable: no storage node");
  EXPECT_EQ(cli::format_result(Result{5, Op::kPut, Status::kUnavailable, "k", "v", "no answer"}),
            "error: unavailable: no answer (the put may still take effect)");
  EXPECT_EQ(cli::format_result(Result{6, Op::kPut, Status::kRejected, "k", "v", "too large"}),
            "error: rejected: too large");
}

// What a HistoryWriter for `process` writes to a fresh file when `write` drives it: the
// file's lines.
std::vector<std::string> written_history(const std::string& process,
                                         const std::function<void(net::HistoryWriter&)>& write) {
  char path[] = "/tmp/kvs_history_test_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  close(fd);
  {
    std::string error;
    auto h = net::HistoryWriter::open(path, process, &error);
    EXPECT_TRUE(h) << error;
    if (h) {
      write(*h);
      EXPECT_EQ(h->error(), "");
    }
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  unlink(path);
  return lines;
}

TEST(HistoryTest, WritesOneJsonLinePerEvent) {
  std::vector<nlohmann::json> lines;
  for (const std::string& line : written_history("c1", [](net::HistoryWriter& h) {
         h.invoke(1, Op::kPut, "k", "v", 100);
         h.invoke(2, Op::kGet, "k", std::nullopt, 101);
         h.complete(1, Op::kPut, Status::kUnavailable, "k", "v", 200);
         h.complete(2, Op::kGet, Status::kNotFound, "k", std::nullopt, 201);
       })) {
    lines.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], (nlohmann::json{{"process", "c1"},
                                      {"op", 1},
                                      {"type", "invoke"},
                                      {"f", "write"},
                                      {"key", "k"},
                                      {"value", "v"},
                                      {"time", 100}}));
  EXPECT_TRUE(lines[1]["value"].is_null());
  EXPECT_EQ(lines[1]["f"], "read");
  EXPECT_EQ(lines[2]["type"], "info");
  EXPECT_EQ(lines[2]["value"], "v");
  EXPECT_EQ(lines[3]["type"], "ok");
  EXPECT_TRUE(lines[3]["value"].is_null());
}

// Whatever the writer writes, the reader kvcheck uses (core/history.h) reads back.
TEST(HistoryTest, WriterToReaderRoundTrip) {
  const std::vector<std::string> lines = written_history("c7", [](net::HistoryWriter& h) {
    h.invoke(1, Op::kPut, "k\"1", "v\n\u00e9", 100);
    h.invoke(2, Op::kGet, "k\"1", std::nullopt, 101);
    h.invoke(3, Op::kGet, "k2", std::nullopt, 102);
    h.complete(2, Op::kGet, Status::kOk, "k\"1", "v\n\u00e9", 200);
    h.complete(1, Op::kPut, Status::kOk, "k\"1", "v\n\u00e9", 201);
    h.complete(3, Op::kGet, Status::kUnavailable, "k2", std::nullopt, 202);
  });
  using T = HistoryEvent::Type;
  using F = HistoryEvent::F;
  const History expected = {
      {"c7", T::kInvoke, F::kWrite, "k\"1", "v\n\u00e9", 100, 1},
      {"c7", T::kInvoke, F::kRead, "k\"1", std::nullopt, 101, 2},
      {"c7", T::kInvoke, F::kRead, "k2", std::nullopt, 102, 3},
      {"c7", T::kOk, F::kRead, "k\"1", "v\n\u00e9", 200, 2},
      {"c7", T::kOk, F::kWrite, "k\"1", "v\n\u00e9", 201, 1},
      {"c7", T::kFail, F::kRead, "k2", std::nullopt, 202, 3},
  };
  History read;
  for (const std::string& line : lines) {
    std::string error;
    auto e = history_event_from_json(line, &error);
    ASSERT_TRUE(e) << line << ": " << error;
    read.push_back(*e);
  }
  EXPECT_EQ(read, expected);
}

TEST(HistoryTest, OpenFailureNamesTheFile) {
  std::string error;
  EXPECT_FALSE(net::HistoryWriter::open("/nonexistent-dir/h.jsonl", "c", &error));
  EXPECT_NE(error.find("/nonexistent-dir/h.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace kvs
