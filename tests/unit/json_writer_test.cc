#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace kvs {
namespace {

using ojson = nlohmann::ordered_json;

std::string written(std::string_view s) {
  std::string out;
  JsonWriter(&out).string(s);
  return out;
}

std::string nlohmann_dump(std::string_view s) {
  return ojson(std::string(s)).dump(-1, ' ', false, ojson::error_handler_t::replace);
}

void append_utf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

TEST(JsonWriter, EveryAsciiByteEscapesLikeNlohmann) {
  for (int c = 0; c < 0x80; c++) {
    const std::string s = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(written(s), nlohmann_dump(s)) << "byte " << c;
  }
}

TEST(JsonWriter, RandomValidUtf8MatchesNlohmann) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; round++) {
    std::string s;
    const int length = static_cast<int>(rng() % 20);
    for (int i = 0; i < length; i++) {
      char32_t cp;
      switch (rng() % 4) {
        case 0:
          cp = rng() % 0x80;
          break;
        case 1:
          cp = 0x80 + rng() % (0x800 - 0x80);
          break;
        case 2:
          cp = 0x800 + rng() % (0x10000 - 0x800);
          break;
        default:
          cp = 0x10000 + rng() % (0x110000 - 0x10000);
          break;
      }
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // surrogates are not characters
      append_utf8(&s, cp);
    }
    ASSERT_EQ(written(s), nlohmann_dump(s));
  }
}

TEST(JsonWriter, BoundaryCodePoints) {
  for (char32_t cp :
       {0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    std::string s;
    append_utf8(&s, cp);
    EXPECT_EQ(written(s), "\"" + s + "\"") << std::hex << static_cast<std::uint32_t>(cp);
  }
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  const std::vector<std::string> bad = {"\xff",
                                        "\x80",
                                        "a\xc3",
                                        "\xc0\xaf",
                                        "\xe0\x80\xaf",
                                        "\xed\xa0\x80",
                                        "\xf4\x90\x80\x80",
                                        "\xf8\x88\x80\x80\x80",
                                        "\xe2\x82",
                                        "ok\xe2\x82\xacok\xfe",
                                        std::string("\xc3\0", 2)};
  for (const std::string& s : bad) {
    const std::string out = written(s);
    ojson parsed;
    ASSERT_NO_THROW(parsed = ojson::parse(out)) << out;
    const std::string& text = parsed.get_ref<const std::string&>();
    EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos) << out;
    // Valid characters around the damage survive.
    if (s.starts_with("ok")) {
      EXPECT_EQ(text, "ok\xe2\x82\xacok\xEF\xBF\xBD");
    }
  }
}

TEST(JsonWriter, StructureAndNumbersMatchNlohmann) {
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  w.string("s", "x");
  w.u64("max", std::numeric_limits<std::uint64_t>::max());
  w.i64("min", std::numeric_limits<std::int64_t>::min());
  w.u64("zero", 0);
  w.boolean("t", true);
  w.boolean("f", false);
  w.key("empty");
  w.begin_array();
  w.end_array();
  w.key("list");
  w.begin_array();
  w.begin_object();
  w.end_object();
  w.begin_object();
  w.u64("a", 1);
  w.end_object();
  w.string("y");
  w.end_array();
  w.key("raw");
  w.raw(R"({"k":[1,2]})");
  w.end_object();

  ojson expected;
  expected["s"] = "x";
  expected["max"] = std::numeric_limits<std::uint64_t>::max();
  expected["min"] = std::numeric_limits<std::int64_t>::min();
  expected["zero"] = 0u;
  expected["t"] = true;
  expected["f"] = false;
  expected["empty"] = ojson::array();
  expected["list"] = ojson::array({ojson::object(), {{"a", 1}}, "y"});
  expected["raw"] = {{"k", {1, 2}}};
  EXPECT_EQ(out, expected.dump());
}

}  // namespace
}  // namespace kvs
