// The RESP2 request parser (fed whole, byte by byte and in uneven chunks; arrays and
// inline commands; every limit and malformed input) and the reply encoders.
#include "core/resp.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace kvs {
namespace {

using Args = std::vector<std::string>;

// Feeds `input` in pieces of the given sizes (cycled) and collects every command; stops
// at the first error, which goes to *error.
std::vector<Args> parse_all(const std::string& input, std::vector<std::size_t> pieces,
                            std::string* error = nullptr, RespLimits limits = {}) {
  RespParser p(limits);
  std::vector<Args> out;
  std::size_t pos = 0, k = 0;
  while (pos < input.size()) {
    const std::size_t n = std::min(pieces[k++ % pieces.size()], input.size() - pos);
    p.feed(std::string_view(input).substr(pos, n));
    pos += n;
    for (;;) {
      Args args;
      std::string why;
      RespParser::Result r = p.next(&args, &why);
      if (r == RespParser::Result::kNeedMore) break;
      if (r == RespParser::Result::kError) {
        if (error != nullptr) *error = why;
        return out;
      }
      out.push_back(args);
    }
  }
  return out;
}

std::string parse_error(const std::string& input, RespLimits limits = {}) {
  std::string error;
  parse_all(input, {input.size() + 1}, &error, limits);
  return error;
}

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

std::string array(const Args& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += bulk(a);
  return out;
}

TEST(RespParser, ArrayOfBulkStrings) {
  auto cmds = parse_all("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", {1000});
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], (Args{"GET", "k"}));
}

TEST(RespParser, SameCommandsWhateverThePieces) {
  // Binary-safe arguments (CR, LF, NUL, '*', '$' inside), empty arguments, inline
  // commands between arrays, and a long argument.
  const std::vector<Args> want = {
      {"SET", "k1", std::string("a\r\nb\0c", 6)},
      {"GET", ""},
      {"PING"},
      {"SET", "big", std::string(100000, 'x')},
      {"ECHO", "*3\r\n$1"},
      {"set", "quoted key", "line\nbreak"},
  };
  std::string input = array(want[0]) + array(want[1]) + "PING\r\n" + array(want[3]) +
                      array(want[4]) + "set \"quoted key\" \"line\\nbreak\"\n";
  for (std::vector<std::size_t> pieces :
       std::vector<std::vector<std::size_t>>{{1}, {2}, {3, 1, 7}, {4096}, {input.size()}}) {
    std::string error;
    EXPECT_EQ(parse_all(input, pieces, &error), want) << "first piece " << pieces[0];
    EXPECT_EQ(error, "");
  }
}

TEST(RespParser, EmptyRequestsAreSkipped) {
  auto cmds = parse_all("*0\r\n*-1\r\n\r\n   \r\nPING\r\n", {1});
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0], (Args{"PING"}));
}

TEST(RespParser, InlineCommands) {
  auto cmds = parse_all(
      "GET k\r\nset  a   b\n"
      "ECHO \"tab\\there\" 'it\\'s' \"\\x41\\x7a\"\r\n",
      {5});
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[0], (Args{"GET", "k"}));
  EXPECT_EQ(cmds[1], (Args{"set", "a", "b"}));
  EXPECT_EQ(cmds[2], (Args{"ECHO", "tab\there", "it's", "Az"}));
}

TEST(RespParser, InlineQuoteErrors) {
  EXPECT_EQ(parse_error("GET \"k\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(parse_error("GET 'k\r\n"), "Protocol error: unbalanced quotes in request");
  EXPECT_EQ(parse_error("GET \"k\"x\r\n"), "Protocol error: unbalanced quotes in request");
}

TEST(RespParser, SplitInlineArgs) {
  Args args;
  ASSERT_TRUE(split_inline_args("  a\t\"b c\"  ''  ", &args));
  EXPECT_EQ(args, (Args{"a", "b c", ""}));
  ASSERT_TRUE(split_inline_args("", &args));
  EXPECT_TRUE(args.empty());
}

TEST(RespParser, MalformedArrays) {
  EXPECT_EQ(parse_error("*x\r\n"), "Protocol error: invalid multibulk length");
  EXPECT_EQ(parse_error("*1\r\n:5\r\n"), "Protocol error: expected '$', got ':'");
  EXPECT_EQ(parse_error("*1\r\n$x\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(parse_error("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
  EXPECT_EQ(parse_error("*1\r\n$3\r\nabcXY"),
            "Protocol error: expected CRLF after a bulk string of 3 bytes");
  EXPECT_EQ(parse_error("*1\n"), "Protocol error: expected CRLF after '*N'");
  EXPECT_EQ(parse_error("*1\r\n$1\n"), "Protocol error: expected CRLF after '$N'");
  EXPECT_EQ(parse_error("*1\r\n\r\n"), "Protocol error: expected '$', got end of line");
  EXPECT_EQ(parse_error("*99999999999999999999\r\n"), "Protocol error: invalid multibulk length");
}

TEST(RespParser, StaysFailedAfterAnError) {
  RespParser p;
  p.feed("*x\r\nPING\r\n");
  Args args;
  std::string error;
  EXPECT_EQ(p.next(&args, &error), RespParser::Result::kError);
  p.feed("PING\r\n");
  error.clear();
  EXPECT_EQ(p.next(&args, &error), RespParser::Result::kError);
  EXPECT_EQ(error, "Protocol error: invalid multibulk length");
  EXPECT_EQ(p.buffered_bytes(), 0u);
}

TEST(RespParser, ArgumentCountLimit) {
  RespLimits limits;
  limits.max_args = 3;
  EXPECT_EQ(parse_all(array({"a", "b", "c"}), {1}, nullptr, limits).size(), 1u);
  EXPECT_EQ(parse_error(array({"a", "b", "c", "d"}), limits),
            "Protocol error: invalid multibulk length");
  // Refused from the header alone: no argument is waited for.
  EXPECT_EQ(parse_error("*1000000000\r\n"), "Protocol error: invalid multibulk length");
}

TEST(RespParser, BulkLengthLimitIsCheckedFromTheHeader) {
  RespLimits limits;
  limits.max_bulk_bytes = 10;
  EXPECT_EQ(parse_all(array({std::string(10, 'x')}), {1}, nullptr, limits).size(), 1u);
  EXPECT_EQ(parse_error("*1\r\n$11\r\n", limits), "Protocol error: invalid bulk length");
  // A claimed 1 TB argument costs nothing: refused before anything is allocated.
  EXPECT_EQ(parse_error("*1\r\n$1000000000000\r\n"), "Protocol error: invalid bulk length");
}

TEST(RespParser, RequestSizeLimit) {
  RespLimits limits;
  limits.max_bulk_bytes = 10;
  limits.max_request_bytes = 15;
  EXPECT_EQ(
      parse_all(array({std::string(10, 'x'), std::string(5, 'y')}), {3}, nullptr, limits).size(),
      1u);
  EXPECT_EQ(parse_error(array({std::string(10, 'x'), std::string(6, 'y')}), limits),
            "Protocol error: request larger than 15 bytes");
  // The budget is per request, not per connection.
  const std::string two = array({std::string(10, 'x')}) + array({std::string(10, 'x')});
  EXPECT_EQ(parse_all(two, {7}, nullptr, limits).size(), 2u);
}

TEST(RespParser, InlineLengthLimit) {
  RespLimits limits;
  limits.max_inline_bytes = 16;
  EXPECT_EQ(parse_all("ECHO 0123456789\r\n", {1}, nullptr, limits).size(), 1u);  // 15 + \r
  // Complete but too long, and too long with no end in sight: both refused.
  EXPECT_EQ(parse_error("ECHO 0123456789abcdef\r\n", limits),
            "Protocol error: too big inline request");
  std::string error;
  parse_all(std::string(1000, 'a'), {1}, &error, limits);
  EXPECT_EQ(error, "Protocol error: too big inline request");
}

TEST(RespParser, HeaderLinesAreBoundedToo) {
  RespLimits limits;
  limits.max_inline_bytes = 16;
  std::string error;
  parse_all("*" + std::string(100, '1'), {1}, &error, limits);
  EXPECT_EQ(error, "Protocol error: too big mbulk count string");
  error.clear();
  parse_all("*1\r\n$" + std::string(100, '1'), {1}, &error, limits);
  EXPECT_EQ(error, "Protocol error: too big bulk count string");
}

TEST(RespParser, BufferHoldsOnlyWhatIsUnparsed) {
  RespParser p;
  std::string input;
  for (int i = 0; i < 1000; ++i) input += array({"SET", "k" + std::to_string(i), "v"});
  p.feed(input);
  Args args;
  std::string error;
  int n = 0;
  while (p.next(&args, &error) == RespParser::Result::kCommand) ++n;
  EXPECT_EQ(n, 1000);
  EXPECT_EQ(p.buffered_bytes(), 0u);
  p.feed("*2\r\n$3\r\nGET");
  EXPECT_EQ(p.next(&args, &error), RespParser::Result::kNeedMore);
  EXPECT_EQ(p.buffered_bytes(), 3u);
}

TEST(RespParser, GarbageInAnyPiecesIsBounded) {
  // Random mixes of valid and broken fragments: the parser either yields non-empty
  // commands or fails once, and never holds more than a request's worth of bytes.
  RespLimits limits;
  limits.max_args = 8;
  limits.max_bulk_bytes = 64;
  limits.max_request_bytes = 128;
  limits.max_inline_bytes = 32;
  const std::vector<std::string> fragments = {
      "*2\r\n", "$3\r\nGET\r\n", "$1\r\nk\r\n", "PING\r\n", "*",      "$",    "\r\n", "\n", "\"",
      "'",      "*-1\r\n",       "$99\r\n",     "x",        "*9\r\n", "\\x4", " "};
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    RespParser p(limits);
    bool failed = false;
    for (int step = 0; step < 50 && !failed; ++step) {
      std::string piece;
      const int n = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < n; ++i) piece += fragments[rng() % fragments.size()];
      if (rng() % 8 == 0) piece += static_cast<char>(rng() % 256);
      p.feed(piece);
      for (;;) {
        Args args;
        std::string error;
        RespParser::Result r = p.next(&args, &error);
        if (r == RespParser::Result::kNeedMore) break;
        if (r == RespParser::Result::kError) {
          EXPECT_EQ(error.rfind("Protocol error: ", 0), 0u);
          failed = true;
          break;
        }
        ASSERT_FALSE(args.empty());
        ASSERT_LE(args.size(), limits.max_args);
      }
      ASSERT_LE(p.buffered_bytes(), limits.max_request_bytes + 4 * 8 * 6 + piece.size());
    }
  }
}

TEST(RespEncode, Replies) {
  std::string out;
  append_simple(&out, "OK");
  append_error(&out, "ERR bad\r\nthing");
  append_bulk(&out, std::string("a\0b", 3));
  append_bulk(&out, "");
  append_null(&out);
  append_integer(&out, -42);
  append_array_header(&out, 2);
  using namespace std::string_literals;
  EXPECT_EQ(out, "+OK\r\n-ERR bad  thing\r\n$3\r\na\0b\r\n$0\r\n\r\n$-1\r\n:-42\r\n*2\r\n"s);
}

}  // namespace
}  // namespace kvs
