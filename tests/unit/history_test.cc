// The one history format (src/core/history.h): JSON lines both ways, and the events an
// operation's invocation and completion become. net/history.h writes it to files
// (client_cli_test.cc round-trips a written file through the reader).
#include "core/history.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace kvs {
namespace {

using Type = HistoryEvent::Type;
using F = HistoryEvent::F;

TEST(HistoryCompletion, Types) {
  EXPECT_EQ(history_completion_type(Op::kGet, Status::kOk), Type::kOk);
  EXPECT_EQ(history_completion_type(Op::kGet, Status::kNotFound), Type::kOk);
  EXPECT_EQ(history_completion_type(Op::kGet, Status::kUnavailable), Type::kFail);
  EXPECT_EQ(history_completion_type(Op::kGet, Status::kRejected), Type::kFail);
  EXPECT_EQ(history_completion_type(Op::kPut, Status::kOk), Type::kOk);
  EXPECT_EQ(history_completion_type(Op::kPut, Status::kRejected), Type::kFail);
  EXPECT_EQ(history_completion_type(Op::kPut, Status::kUnavailable), Type::kInfo);
}

TEST(HistoryCompletion, Values) {
  // An invocation: a PUT carries its value, a GET none.
  EXPECT_EQ(history_invocation("c1", Op::kPut, "k", "v", 5, 3),
            (HistoryEvent{"c1", Type::kInvoke, F::kWrite, "k", "v", 5, 3}));
  EXPECT_EQ(history_invocation("c1", Op::kGet, "k", "ignored", 5),
            (HistoryEvent{"c1", Type::kInvoke, F::kRead, "k", std::nullopt, 5}));
  // A completion: a GET keeps what it read only when it found it; a PUT repeats its value.
  EXPECT_EQ(history_completion("c1", Op::kGet, Status::kOk, "k", "v", 6),
            (HistoryEvent{"c1", Type::kOk, F::kRead, "k", "v", 6}));
  EXPECT_EQ(history_completion("c1", Op::kGet, Status::kNotFound, "k", "", 6),
            (HistoryEvent{"c1", Type::kOk, F::kRead, "k", std::nullopt, 6}));
  EXPECT_EQ(history_completion("c1", Op::kGet, Status::kUnavailable, "k", "", 6),
            (HistoryEvent{"c1", Type::kFail, F::kRead, "k", std::nullopt, 6}));
  EXPECT_EQ(history_completion("c1", Op::kPut, Status::kUnavailable, "k", "v", 6, 9),
            (HistoryEvent{"c1", Type::kInfo, F::kWrite, "k", "v", 6, 9}));
}

TEST(HistoryJson, ExactLine) {
  // The on-disk format, byte for byte: keys sorted, "op" only when set.
  EXPECT_EQ(
      history_event_to_json({"c1", Type::kInvoke, F::kWrite, "k", "v", 100, 1}),
      R"({"f":"write","key":"k","op":1,"process":"c1","time":100,"type":"invoke","value":"v"})");
  EXPECT_EQ(history_event_to_json({"c1", Type::kFail, F::kRead, "k", std::nullopt, 7}),
            R"({"f":"read","key":"k","process":"c1","time":7,"type":"fail","value":null})");
}

TEST(HistoryJson, RoundTrips) {
  HistoryEvent e{"c1", Type::kOk, F::kRead, "k\"1", std::string("v\n\u00e9"), 123456789012};
  std::string error;
  auto back = history_event_from_json(history_event_to_json(e), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, e);
  e.value.reset();
  e.type = Type::kInfo;
  e.f = F::kWrite;
  back = history_event_from_json(history_event_to_json(e), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, e);
  e.op = 18446744073709551615u;
  back = history_event_from_json(history_event_to_json(e), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(*back, e);
}

TEST(HistoryJson, ReadsTheClientFormat) {
  std::string error;
  auto e = history_event_from_json(
      R"({"f":"write","key":"a","op":7,"process":"c2","time":5,"type":"invoke","value":"x"})",
      &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->process, "c2");
  EXPECT_EQ(e->op, 7u);
  EXPECT_EQ(e->f, F::kWrite);
  EXPECT_EQ(e->value, "x");
  EXPECT_EQ(e->time, 5);
  // value may be left out (a read's invocation).
  e = history_event_from_json(R"({"f":"read","key":"a","process":"c2","time":5,"type":"invoke"})",
                              &error);
  ASSERT_TRUE(e) << error;
  EXPECT_FALSE(e->value);
  EXPECT_FALSE(e->op);
}

TEST(HistoryJson, ErrorsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"f":"read","key":"a","time":5,"type":"ok"})", "\"process\""},
      {R"({"f":"read","key":"a","process":1,"time":5,"type":"ok"})", "\"process\""},
      {R"({"f":"read","key":"a","process":"c","time":5,"type":"done"})", "\"type\""},
      {R"({"f":"cas","key":"a","process":"c","time":5,"type":"ok"})", "\"f\""},
      {R"({"f":"read","process":"c","time":5,"type":"ok"})", "\"key\""},
      {R"({"f":"read","key":"a","process":"c","time":5,"type":"ok","value":3})", "\"value\""},
      {R"({"f":"read","key":"a","process":"c","time":"5","type":"ok"})", "\"time\""},
      {R"({"f":"read","key":"a","process":"c","time":1.5,"type":"ok"})", "\"time\""},
      {R"({"f":"read","key":"a","process":"c","type":"ok"})", "\"time\""},
      {R"({"f":"read","key":"a","process":"c","time":18446744073709551615,"type":"ok"})",
       "\"time\""},
      {R"({"f":"read","key":"a","process":"c","time":5,"type":"ok","op":"x"})", "\"op\""},
      {R"({"f":"read","key":"a","process":"c","time":5,"type":"ok","op":-1})", "\"op\""},
      {R"({"f":"read",)", "JSON"},
      {R"([1,2])", "JSON object"},
      {"", "JSON"},
  };
  for (const auto& [line, field] : cases) {
    std::string error;
    EXPECT_FALSE(history_event_from_json(line, &error)) << line;
    EXPECT_NE(error.find(field), std::string::npos) << line << " -> " << error;
  }
  // A null error pointer is allowed, and nothing throws.
  EXPECT_FALSE(history_event_from_json("{", nullptr));
}

}  // namespace
}  // namespace kvs
