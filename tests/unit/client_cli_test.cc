// The ./client command language and the client history format.
#include "net/client_cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

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

std::string parse_error(std::string_view line) {
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
  EXPECT_EQ(parse_error("get"), "usage: get KEY");
  EXPECT_EQ(parse_error("get a b"), "usage: get KEY");
  EXPECT_EQ(parse_error("put k"), "usage: put KEY VALUE");
  EXPECT_EQ(parse_error("put k   "), "usage: put KEY VALUE");
  EXPECT_EQ(parse_error("frob x"), "unknown command 'frob' (try: help)");
  EXPECT_EQ(parse_error("quit now"), "usage: quit (no arguments)");
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

TEST(HistoryTest, CompletionTypes) {
  using H = net::HistoryWriter;
  EXPECT_EQ(H::completion_type(Op::kGet, Status::kOk), "ok");
  EXPECT_EQ(H::completion_type(Op::kGet, Status::kNotFound), "ok");
  EXPECT_EQ(H::completion_type(Op::kGet, Status::kUnavailable), "fail");
  EXPECT_EQ(H::completion_type(Op::kGet, Status::kRejected), "fail");
  EXPECT_EQ(H::completion_type(Op::kPut, Status::kOk), "ok");
  EXPECT_EQ(H::completion_type(Op::kPut, Status::kRejected), "fail");
  EXPECT_EQ(H::completion_type(Op::kPut, Status::kUnavailable), "info");
}

TEST(HistoryTest, WritesOneJsonLinePerEvent) {
  char path[] = "/tmp/kvs_history_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    std::string error;
    auto h = net::HistoryWriter::open(path, "c1", &error);
    ASSERT_TRUE(h) << error;
    h->invoke(1, Op::kPut, "k", "v", 100);
    h->invoke(2, Op::kGet, "k", std::nullopt, 101);
    h->complete(1, Op::kPut, Status::kUnavailable, "k", "v", 200);
    h->complete(2, Op::kGet, Status::kNotFound, "k", std::nullopt, 201);
    EXPECT_EQ(h->error(), "");
  }
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  unlink(path);
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

TEST(HistoryTest, OpenFailureNamesTheFile) {
  std::string error;
  EXPECT_FALSE(net::HistoryWriter::open("/nonexistent-dir/h.jsonl", "c", &error));
  EXPECT_NE(error.find("/nonexistent-dir/h.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace kvs
