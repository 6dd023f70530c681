#include "core/messages.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace kvs {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// One message of every type, with fields away from their defaults.
std::vector<Message> one_of_each() {
  StatusReply status;
  status.body = {{"role", "storage"}, {"complete", 12}, {"peers", {"a", "b"}}, {"ok", true}};
  return {
      Challenge{std::string(64, 'f')},
      Hello{"storage", 1, "node-1", "0123abcd"},
      Welcome{"frontend"},
      Error{"bad_hello", "wrong token"},
      Request{7, Op::kPut, "key", "value", 5},
      Response{7, Status::kUnavailable, "", "no member alive"},
      Join{kMax},
      JoinState{"catching_up", "donor s2"},
      Write{Entry{42, "k\"\\\n\t", std::string("nul\0inside", 10)}, 40},
      Ping{3},
      Ack{4},
      Read{9, "k", 8},
      ReadReply{9, true, "v", 8},
      CatchupFetch{11, 2, "m", 262144},
      CatchupChunk{11, {Entry{3, "a", "x"}, Entry{5, "b", ""}}, "b", true, 20},
      CatchupApplied{11},
      Discard{{LsnRange{3, 9}, LsnRange{20, 1u << 20}}},
      StatusRequest{},
      status,
  };
}

std::optional<Message> decode(std::string_view text, std::string* error) {
  error->clear();
  return decode_message(text, error);
}

// Expects text to be refused, with an error starting with `prefix`.
void expect_refused(std::string_view text, std::string_view prefix) {
  std::string error;
  EXPECT_FALSE(decode(text, &error).has_value()) << text;
  EXPECT_EQ(error.substr(0, prefix.size()), prefix) << "input: " << text << "\nerror: " << error;
}

TEST(Messages, EveryTypeRoundTrips) {
  std::set<std::size_t> seen;
  for (const Message& m : one_of_each()) {
    seen.insert(m.index());
    const std::string text = encode_message(m);
    std::string error;
    std::optional<Message> back = decode(text, &error);
    ASSERT_TRUE(back.has_value()) << text << ": " << error;
    EXPECT_EQ(*back, m) << text;
    EXPECT_EQ(type_name(*back), type_name(m));
  }
  EXPECT_EQ(seen.size(), std::variant_size_v<Message>);
}

TEST(Messages, DefaultMessagesRoundTrip) {
  for (const Message& m : one_of_each()) {
    Message empty = m;
    std::visit([](auto& x) { x = std::decay_t<decltype(x)>{}; }, empty);
    std::string error;
    std::optional<Message> back = decode(encode_message(empty), &error);
    ASSERT_TRUE(back.has_value()) << error;
    EXPECT_EQ(*back, empty);
  }
}

TEST(Messages, WireNames) {
  const std::vector<std::string_view> expected = {
      "challenge",  "hello",          "welcome",       "error",
      "request",    "response",       "join",          "join_state",
      "write",      "ping",           "ack",           "read",
      "read_reply", "catchup_fetch",  "catchup_chunk", "catchup_applied",
      "discard",    "status_request", "status_reply"};
  std::vector<Message> all = one_of_each();
  ASSERT_EQ(all.size(), expected.size());
  for (std::size_t i = 0; i < all.size(); i++) {
    EXPECT_EQ(type_name(all[i]), expected[i]);
    const std::string prefix = "{\"type\":\"" + std::string(expected[i]) + "\"";
    EXPECT_EQ(encode_message(all[i]).substr(0, prefix.size()), prefix);
  }
}

TEST(Messages, ExactEncoding) {
  EXPECT_EQ(encode_message(Write{Entry{7, "k", "v"}, 3}),
            R"({"type":"write","entry":{"lsn":7,"key":"k","value":"v"},"commit":3})");
  EXPECT_EQ(encode_message(Request{2, Op::kGet, "k", "", 1}),
            R"({"type":"request","seq":2,"op":"get","key":"k","value":"","done_below":1})");
  EXPECT_EQ(encode_message(StatusRequest{}), R"({"type":"status_request"})");
}

TEST(Messages, StatusNames) {
  EXPECT_EQ(status_name(Status::kOk), "ok");
  EXPECT_EQ(status_name(Status::kNotFound), "not_found");
  EXPECT_EQ(status_name(Status::kUnavailable), "unavailable");
  EXPECT_EQ(status_name(Status::kRejected), "rejected");
  for (Status s : {Status::kOk, Status::kNotFound, Status::kUnavailable, Status::kRejected}) {
    std::string error;
    auto back = decode(encode_message(Response{1, s, "", ""}), &error);
    ASSERT_TRUE(back.has_value()) << error;
    EXPECT_EQ(std::get<Response>(*back).status, s);
  }
}

TEST(Messages, UnknownFieldsIgnoredAndOptionalStringsMayBeAbsent) {
  std::string error;
  auto m = decode(R"({"type":"write","future":[1,{"x":null}],"commit":1,)"
                  R"("entry":{"lsn":2,"key":"k","extra":true}})",
                  &error);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(*m, Message(Write{Entry{2, "k", ""}, 1}));

  m = decode(R"({"type":"hello","role":"probe","version":1})", &error);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(*m, Message(Hello{"probe", 1, "", ""}));

  m = decode(R"({"type":"response","seq":3,"status":"not_found"})", &error);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(*m, Message(Response{3, Status::kNotFound, "", ""}));

  m = decode(R"({"type":"status_reply"})", &error);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(*m, Message(StatusReply{}));
}

TEST(Messages, UnicodeRoundTrips) {
  const Message m = Request{1, Op::kPut, "clé ключ 鍵", "😀 \u00e9", 0};
  std::string error;
  auto back = decode(encode_message(m), &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(*back, m);
}

TEST(Messages, EncodingInvalidUtf8ReplacesInsteadOfThrowing) {
  std::string text;
  EXPECT_NO_THROW(text = encode_message(Request{1, Op::kPut, "a\xff", "b", 0}));
  std::string error;
  auto back = decode(text, &error);
  ASSERT_TRUE(back.has_value()) << error;
  EXPECT_EQ(std::get<Request>(*back).key, "a\xEF\xBF\xBD");
}

TEST(Messages, EveryTruncationIsRefused) {
  const std::string text = encode_message(Write{Entry{1, "key", "value"}, 0});
  for (std::size_t n = 0; n < text.size(); n++) {
    expect_refused(text.substr(0, n), "invalid JSON: ");
  }
}

TEST(Messages, InvalidUtf8IsRefusedWithPrintableError) {
  std::string error;
  const std::string text = "{\"type\":\"read\",\"req\":1,\"key\":\"a\xff\xfe\",\"at\":0}";
  EXPECT_FALSE(decode(text, &error).has_value());
  EXPECT_EQ(error.rfind("invalid JSON: ", 0), 0u) << error;
  for (unsigned char ch : error) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << error;
  // Overlong encodings and lone surrogates are invalid UTF-8 too.
  expect_refused("{\"type\":\"read\",\"req\":1,\"key\":\"\xc0\xaf\",\"at\":0}", "invalid JSON: ");
  expect_refused("{\"type\":\"read\",\"req\":1,\"key\":\"\xed\xa0\x80\",\"at\":0}",
                 "invalid JSON: ");
}

TEST(Messages, LongBadInputGivesShortError) {
  std::string error;
  const std::string text = "{\"type\":\"read\",\"key\":\"" + std::string(100000, 'a') + "\xff\"}";
  EXPECT_FALSE(decode(text, &error).has_value());
  EXPECT_LT(error.size(), 400u);
}

TEST(Messages, NotAnObject) {
  expect_refused("[1,2]", "message must be a JSON object");
  expect_refused("42", "message must be a JSON object");
  expect_refused("\"hello\"", "message must be a JSON object");
  expect_refused("null", "message must be a JSON object");
  expect_refused("", "invalid JSON: ");
  expect_refused("{} trailing", "invalid JSON: ");
}

TEST(Messages, MissingOrUnknownType) {
  expect_refused(R"({"commit":1})", "message has no 'type' field");
  expect_refused(R"({"type":7})", "message field 'type' must be a string");
  expect_refused(R"({"type":"launch_missiles"})", "unknown message type \"launch_missiles\"");
  expect_refused(R"({"type":"Write"})", "unknown message type");
}

TEST(Messages, ExactFieldErrors) {
  std::string error;
  EXPECT_FALSE(decode(R"({"type":"write","entry":{"lsn":-1,"key":"k"},"commit":0})", &error));
  EXPECT_EQ(error, "write: field 'entry.lsn' must be an unsigned integer");
  EXPECT_FALSE(decode(R"({"type":"write","entry":{"lsn":1},"commit":0})", &error));
  EXPECT_EQ(error, "write: field 'entry.key' is missing");
  EXPECT_FALSE(decode(R"({"type":"ack"})", &error));
  EXPECT_EQ(error, "ack: field 'complete' is missing");
  EXPECT_FALSE(decode(R"({"type":"catchup_chunk","req":1,"entries":[{"lsn":1,"key":"a"},)"
                      R"({"lsn":2,"key":3}],"done":false,"upto":0})",
                      &error));
  EXPECT_EQ(error, "catchup_chunk: field 'entries[1].key' must be a string");
  EXPECT_FALSE(
      decode(R"({"type":"catchup_chunk","req":1,"entries":[5],"done":false,"upto":0})", &error));
  EXPECT_EQ(error, "catchup_chunk: field 'entries[0]' must be an object");
}

TEST(Messages, WrongFieldTypes) {
  expect_refused(R"({"type":"write","entry":{"lsn":"1","key":"k"},"commit":0})",
                 "write: field 'entry.lsn'");
  expect_refused(R"({"type":"write","entry":{"lsn":1.5,"key":"k"},"commit":0})",
                 "write: field 'entry.lsn'");
  expect_refused(R"({"type":"write","entry":{"lsn":18446744073709551616,"key":"k"},"commit":0})",
                 "write: field 'entry.lsn'");
  expect_refused(R"({"type":"write","entry":[1,"k"],"commit":0})", "write: field 'entry'");
  expect_refused(R"({"type":"write","entry":{"lsn":1,"key":"k","value":7},"commit":0})",
                 "write: field 'entry.value' must be a string");
  expect_refused(R"({"type":"read","req":1,"key":null,"at":0})",
                 "read: field 'key' must be a string");
  expect_refused(R"({"type":"read_reply","req":1,"found":1,"lsn":0})",
                 "read_reply: field 'found' must be true or false");
  expect_refused(R"({"type":"request","seq":1,"op":"delete","key":"k","done_below":0})",
                 "request: field 'op'");
  expect_refused(R"({"type":"request","seq":1,"op":"GET","key":"k","done_below":0})",
                 "request: field 'op'");
  expect_refused(R"({"type":"response","seq":1,"status":"fine"})", "response: field 'status'");
  expect_refused(R"({"type":"hello","role":"client","version":"1"})",
                 "hello: field 'version' must be an integer");
  expect_refused(R"({"type":"hello","role":"client","version":4294967296})",
                 "hello: field 'version' must be an integer");
  expect_refused(R"({"type":"catchup_chunk","req":1,"entries":{},"done":true,"upto":0})",
                 "catchup_chunk: field 'entries' must be an array");
  expect_refused(R"({"type":"status_reply","body":[1]})",
                 "status_reply: field 'body' must be an object");
  expect_refused(R"({"type":"error","code":"x","message":false})",
                 "error: field 'message' must be a string");
}

TEST(Messages, MissingRequiredFields) {
  expect_refused(R"({"type":"hello","version":1})", "hello: field 'role' is missing");
  expect_refused(R"({"type":"hello","role":"client"})", "hello: field 'version' is missing");
  expect_refused(R"({"type":"request","seq":1,"key":"k","done_below":0})",
                 "request: field 'op' is missing");
  expect_refused(R"({"type":"write","commit":1})", "write: field 'entry' is missing");
  expect_refused(R"({"type":"catchup_fetch","req":1,"after":0})",
                 "catchup_fetch: field 'max_bytes' is missing");
}

TEST(Messages, NegativeVersionIsAnInteger) {
  std::string error;
  auto m = decode(R"({"type":"hello","role":"client","version":-3})", &error);
  ASSERT_TRUE(m.has_value()) << error;
  EXPECT_EQ(std::get<Hello>(*m).version, -3);
}

TEST(Messages, DeepStatusBodyIsRefused) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  expect_refused(R"({"type":"status_reply","body":{"x":)" + deep + "}}",
                 "status_reply: field 'body' is nested too deeply");
  // Deep unknown fields are parsed without recursion and then dropped.
  const std::string very_deep = std::string(100000, '[') + std::string(100000, ']');
  std::string error;
  EXPECT_TRUE(decode(R"({"type":"ping","commit":1,"x":)" + very_deep + "}", &error)) << error;
}

}  // namespace
}  // namespace kvs
