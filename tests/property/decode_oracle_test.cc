// The wire decoder (decode_message, which collects fields with a SAX parse:
// src/core/message_fields.h) agrees with the decoder it replaced, which parsed every
// message into a nlohmann::json document: the same messages, field for field, and the
// same error text, on valid messages and on their mutations (fields dropped, retyped,
// repeated, reordered or added, at every level; numbers at the edges of u64 and int;
// deep structures around the status body's depth limit; truncated and damaged text).
//
// The oracle below is that decoder's code as it was (git show 4383142:src/core/messages.cc),
// kept verbatim apart from its name, reference_decode: it is the specification of what
// decode_message must accept and how it must refuse.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <climits>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/messages.h"
#include "message_gen.h"

namespace kvs {
namespace {

// ---- the oracle: the DOM decoder of 4383142 ----------------------------------

using json = nlohmann::json;

// Wire names, in the order of Message's alternatives.
constexpr std::array<std::string_view, std::variant_size_v<Message>> kTypeNames = {
    "challenge",  "hello",          "welcome",       "error",
    "request",    "response",       "join",          "join_state",
    "write",      "ping",           "ack",           "read",
    "read_reply", "catchup_fetch",  "catchup_chunk", "catchup_applied",
    "discard",    "status_request", "status_reply"};

// In the order of enum Status.
constexpr std::array<std::string_view, 4> kStatusNames = {"ok", "not_found", "unavailable",
                                                          "rejected"};

// Copying, comparing and printing JSON recurse, so a status body from a peer must not
// be deep enough to overflow the stack of whoever handles it.
constexpr int kMaxBodyDepth = 64;

// Error text may quote peer bytes; keep it short and printable ASCII.
std::string printable(std::string_view text) {
  constexpr std::size_t kMaxChars = 160;
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : text) {
    if (out.size() >= kMaxChars) {
      out += "...";
      break;
    }
    if (ch >= 0x20 && ch < 0x7f) {
      out += static_cast<char>(ch);
    } else {
      out += "\\x";
      out += kHex[ch >> 4];
      out += kHex[ch & 0xf];
    }
  }
  return out;
}

bool set_error(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
  return false;
}

bool within_depth(const json& j, int depth_left) {
  if (!j.is_structured()) return true;
  if (depth_left == 0) return false;
  for (const json& child : j) {
    if (!within_depth(child, depth_left - 1)) return false;
  }
  return true;
}

// Reads the typed fields of one JSON object. Errors read
// "TYPE: field 'PATH' must be ...", where PATH is e.g. "key", "entry.lsn", "entries[2].key".
class Reader {
 public:
  Reader(json& object, std::string_view type, std::string* error, const char* parent = nullptr,
         std::size_t index = kNoIndex)
      : object_(object), type_(type), error_(error), parent_(parent), index_(index) {}

  bool string(const char* name, std::string* out) {
    json* v = find(name, true);
    return v != nullptr && take_string(name, *v, out);
  }

  // Absent means empty.
  bool optional_string(const char* name, std::string* out) {
    json* v = find(name, false);
    return v == nullptr || take_string(name, *v, out);
  }

  bool u64(const char* name, std::uint64_t* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (!v->is_number_unsigned()) return fail(name, "must be an unsigned integer");
    *out = v->get<std::uint64_t>();
    return true;
  }

  bool integer(const char* name, int* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    bool fits = false;
    if (v->is_number_unsigned()) {
      fits = v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT_MAX);
    } else if (v->is_number_integer()) {
      fits = v->get<std::int64_t>() >= INT_MIN && v->get<std::int64_t>() <= INT_MAX;
    }
    if (!fits) return fail(name, "must be an integer");
    *out = v->get<int>();
    return true;
  }

  // Absent means false.
  bool optional_boolean(const char* name, bool* out) {
    return find(name, false) == nullptr || boolean(name, out);
  }

  bool boolean(const char* name, bool* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return fail(name, "must be true or false");
    *out = v->get<bool>();
    return true;
  }

  bool op(const char* name, Op* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (v->is_string()) {
      const std::string& s = v->get_ref<const std::string&>();
      if (s == "get" || s == "put") {
        *out = s == "get" ? Op::kGet : Op::kPut;
        return true;
      }
    }
    return fail(name, "must be \"get\" or \"put\"");
  }

  bool status(const char* name, Status* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (v->is_string()) {
      const std::string& s = v->get_ref<const std::string&>();
      for (std::size_t i = 0; i < kStatusNames.size(); i++) {
        if (s == kStatusNames[i]) {
          *out = static_cast<Status>(i);
          return true;
        }
      }
    }
    return fail(name, "must be \"ok\", \"not_found\", \"unavailable\" or \"rejected\"");
  }

  bool entry(const char* name, Entry* out) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (!v->is_object()) return fail(name, "must be an object");
    Reader fields(*v, type_, error_, name);
    return read_entry(fields, out);
  }

  bool entries(const char* name, std::vector<Entry>* out) {
    return objects(name, out, &read_entry);
  }

  bool ranges(const char* name, std::vector<LsnRange>* out) {
    return objects(name, out, [](Reader& fields, LsnRange* range) {
      if (!fields.u64("after", &range->after) || !fields.u64("upto", &range->upto)) return false;
      if (range->upto <= range->after) return fields.fail("upto", "must be above 'after'");
      return true;
    });
  }

  // Absent or null means null.
  bool body(const char* name, json* out) {
    json* v = find(name, false);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_object()) return fail(name, "must be an object");
    if (!within_depth(*v, kMaxBodyDepth)) return fail(name, "is nested too deeply");
    *out = std::move(*v);
    return true;
  }

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  // An array of objects, each read by read_one(fields of the element, element).
  template <typename T, typename ReadOne>
  bool objects(const char* name, std::vector<T>* out, ReadOne read_one) {
    json* v = find(name, true);
    if (v == nullptr) return false;
    if (!v->is_array()) return fail(name, "must be an array");
    out->resize(v->size());
    for (std::size_t i = 0; i < out->size(); i++) {
      json& element = (*v)[i];
      Reader fields(element, type_, error_, name, i);
      if (!element.is_object()) return fields.fail(nullptr, "must be an object");
      if (!read_one(fields, &(*out)[i])) return false;
    }
    return true;
  }

  static bool read_entry(Reader& r, Entry* e) {
    return r.u64("lsn", &e->lsn) && r.string("key", &e->key) &&
           r.optional_string("value", &e->value);
  }

  json* find(const char* name, bool required) {
    auto it = object_.find(name);
    if (it != object_.end()) return &*it;
    if (required) fail(name, "is missing");
    return nullptr;
  }

  bool take_string(const char* name, json& v, std::string* out) {
    if (!v.is_string()) return fail(name, "must be a string");
    *out = std::move(v.get_ref<std::string&>());
    return true;
  }

  // name == nullptr names the object itself (an array element).
  bool fail(const char* name, std::string_view problem) {
    std::string path;
    if (parent_ != nullptr) {
      path = parent_;
      if (index_ != kNoIndex) path += "[" + std::to_string(index_) + "]";
      if (name != nullptr) path += ".";
    }
    if (name != nullptr) path += name;
    std::string text(type_);
    text += ": field '" + path + "' ";
    text += problem;
    return set_error(error_, std::move(text));
  }

  json& object_;
  std::string_view type_;
  std::string* error_;
  const char* parent_;
  std::size_t index_;
};

bool decode_fields(Reader& r, Challenge* m) {
  return r.string("nonce", &m->nonce);
}

bool decode_fields(Reader& r, Hello* m) {
  return r.string("role", &m->role) && r.integer("version", &m->version) &&
         r.optional_string("id", &m->id) && r.optional_string("proof", &m->proof) &&
         r.optional_boolean("resume", &m->resume);
}

bool decode_fields(Reader& r, Welcome* m) {
  return r.optional_string("id", &m->id);
}

bool decode_fields(Reader& r, Error* m) {
  return r.string("code", &m->code) && r.optional_string("message", &m->message);
}

bool decode_fields(Reader& r, Request* m) {
  return r.u64("seq", &m->seq) && r.op("op", &m->op) && r.string("key", &m->key) &&
         r.optional_string("value", &m->value) && r.u64("done_below", &m->done_below);
}

bool decode_fields(Reader& r, Response* m) {
  return r.u64("seq", &m->seq) && r.status("status", &m->status) &&
         r.optional_string("value", &m->value) && r.optional_string("detail", &m->detail);
}

bool decode_fields(Reader& r, Join* m) {
  return r.u64("complete", &m->complete);
}

bool decode_fields(Reader& r, JoinState* m) {
  return r.string("state", &m->state) && r.optional_string("detail", &m->detail);
}

bool decode_fields(Reader& r, Write* m) {
  return r.entry("entry", &m->entry) && r.u64("commit", &m->commit);
}

bool decode_fields(Reader& r, Ping* m) {
  return r.u64("commit", &m->commit);
}

bool decode_fields(Reader& r, Ack* m) {
  return r.u64("complete", &m->complete);
}

bool decode_fields(Reader& r, Read* m) {
  return r.u64("req", &m->req) && r.string("key", &m->key) && r.u64("at", &m->at);
}

bool decode_fields(Reader& r, ReadReply* m) {
  return r.u64("req", &m->req) && r.boolean("found", &m->found) &&
         r.optional_string("value", &m->value) && r.u64("lsn", &m->lsn);
}

bool decode_fields(Reader& r, CatchupFetch* m) {
  return r.u64("req", &m->req) && r.u64("after", &m->after) &&
         r.optional_string("cursor", &m->cursor) && r.u64("max_bytes", &m->max_bytes);
}

bool decode_fields(Reader& r, CatchupChunk* m) {
  return r.u64("req", &m->req) && r.entries("entries", &m->entries) &&
         r.optional_string("cursor", &m->cursor) && r.boolean("done", &m->done) &&
         r.u64("upto", &m->upto);
}

bool decode_fields(Reader& r, CatchupApplied* m) {
  return r.u64("req", &m->req);
}

bool decode_fields(Reader& r, Discard* m) {
  return r.ranges("ranges", &m->ranges);
}

bool decode_fields(Reader&, StatusRequest*) {
  return true;
}

bool decode_fields(Reader& r, StatusReply* m) {
  return r.body("body", &m->body);
}

using Decoder = bool (*)(Reader&, Message*);

template <std::size_t... I>
constexpr std::array<Decoder, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {[](Reader& r, Message* m) { return decode_fields(r, &m->emplace<I>()); }...};
}

// kDecoders[i] decodes the fields of alternative i, whose wire name is kTypeNames[i].
constexpr auto kDecoders = make_decoders(std::make_index_sequence<std::variant_size_v<Message>>());

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string_view without_exception_id(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    std::size_t end = what.find("] ");
    if (end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  return what;
}

std::optional<Message> reference_decode(std::string_view text, std::string* error) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    set_error(error, "invalid JSON: " + printable(without_exception_id(e.what())));
    return std::nullopt;
  }
  if (!doc.is_object()) {
    set_error(error, "message must be a JSON object");
    return std::nullopt;
  }
  auto type = doc.find("type");
  if (type == doc.end() || !type->is_string()) {
    set_error(error, type == doc.end() ? "message has no 'type' field"
                                       : "message field 'type' must be a string");
    return std::nullopt;
  }
  const std::string& name = type->get_ref<const std::string&>();
  for (std::size_t i = 0; i < kTypeNames.size(); i++) {
    if (name != kTypeNames[i]) continue;
    Message m;
    Reader reader(doc, kTypeNames[i], error);
    if (!kDecoders[i](reader, &m)) return std::nullopt;
    return m;
  }
  set_error(error, "unknown message type \"" + printable(name) + "\"");
  return std::nullopt;
}

// ---- end of the oracle ------------------------------------------------------

// ---- mutated messages -------------------------------------------------------

// Field names of the protocol, at any level: a mutation may move one where it means
// something else (a "body" in an entry, an "entry" in an element of "entries").
const std::vector<std::string> kNames = {
    "type",   "role",      "version", "id",         "proof",      "nonce",  "code",   "message",
    "seq",    "op",        "key",     "value",      "done_below", "status", "detail", "complete",
    "state",  "entry",     "commit",  "lsn",        "req",        "found",  "at",     "after",
    "cursor", "max_bytes", "entries", "done",       "upto",       "ranges", "body",   "resume",
    "x",      "Type",      "typ",     "type\\u0000"};

// JSON text a field might wrongly hold: numbers at the edges of int, int64 and uint64
// (and past them), other kinds, the enum words, objects and arrays shaped like the
// protocol's, and structures nested around the status body's depth limit.
std::string deep_text(int depth, bool arrays) {
  std::string text;
  for (int i = 0; i < depth; i++) text += arrays ? "[" : "{\"a\":";
  text += "1";
  for (int i = 0; i < depth; i++) text += arrays ? "]" : "}";
  return text;
}

rc::Gen<std::string> value_text() {
  // clang-format off
  static const std::vector<std::string> kValues = {
      "0", "1", "-0", "-1", "0.0", "1.5", "-1.5", "1e3", "1E-2", "2147483647", "2147483648",
      "-2147483648", "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808",
      "-9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "1e999", "true", "false", "null", "\"\"", "\"get\"", "\"put\"",
      "\"ok\"", "\"not_found\"", "\"unavailable\"", "\"rejected\"", "\"write\"", "\"x\"",
      "\"\\u00e9\"", "{}", "[]", "[{}]", "[1]", "[null]", "{\"lsn\":1,\"key\":\"k\"}",
      "{\"lsn\":1,\"key\":\"k\",\"value\":\"v\",\"lsn\":2}", "[{\"lsn\":1,\"key\":\"k\"},5]",
      "[{\"lsn\":1,\"key\":\"k\"},{\"lsn\":\"1\",\"key\":\"k\"}]", "[{\"after\":1,\"upto\":2}]",
      "[{\"after\":2,\"upto\":2}]", "[{\"after\":1,\"upto\":2},[]]", "{\"a\":{\"b\":[1,{}]}}"};
  // clang-format on
  return rc::gen::weightedOneOf<std::string>({
      {6, rc::gen::elementOf(kValues)},
      {3, rc::gen::map(testgen::json_value(3), [](const json& j) { return j.dump(); })},
      {1, rc::gen::map(rc::gen::arbitrary<Message>(), encode_message)},
      {1, rc::gen::apply(deep_text, rc::gen::inRange(60, 70), rc::gen::arbitrary<bool>())},
  });
}

std::string quoted(const std::string& name) {
  return name.find('\\') != std::string::npos ? "\"" + name + "\"" : json(name).dump();
}

// Writes v as JSON text, mutating each object and array on the way with some chance:
// members or elements dropped, repeated (with the same or another value, before or
// after), given another value, added, or reordered.
std::string write_mutated(const json& v) {
  if (!v.is_structured()) return v.dump();
  std::vector<std::pair<std::string, std::string>> items;  // (quoted name or "", value)
  for (const auto& [name, item] : v.items()) {
    items.emplace_back(v.is_object() ? quoted(name) : "", write_mutated(item));
  }
  const int mutations = *rc::gen::weightedOneOf<int>(
      {{3, rc::gen::just(0)}, {3, rc::gen::just(1)}, {1, rc::gen::inRange(2, 5)}});
  for (int i = 0; i < mutations; i++) {
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, items.size() + 1);
    const bool some = at < items.size();
    switch (*rc::gen::inRange(0, 6)) {
      case 0:  // drop
        if (some) items.erase(items.begin() + static_cast<std::ptrdiff_t>(at));
        break;
      case 1:  // repeat with the same value, just before or just after
        if (some) items.insert(items.begin() + static_cast<std::ptrdiff_t>(at), items[at]);
        break;
      case 2:  // repeat with another value, anywhere
        if (some) {
          auto copy = std::make_pair(items[at].first, *value_text());
          items.insert(items.begin() + *rc::gen::inRange<std::ptrdiff_t>(
                                           0, static_cast<std::ptrdiff_t>(items.size()) + 1),
                       copy);
        }
        break;
      case 3:  // another value
        if (some) items[at].second = *value_text();
        break;
      case 4:  // a new member or element
        items.insert(items.begin() + static_cast<std::ptrdiff_t>(at),
                     {v.is_object() ? quoted(*rc::gen::elementOf(kNames)) : "", *value_text()});
        break;
      default:  // reorder: swap two
        if (some) std::swap(items[at], items[*rc::gen::inRange<std::size_t>(0, items.size())]);
        break;
    }
  }
  std::string text = v.is_object() ? "{" : "[";
  for (std::size_t i = 0; i < items.size(); i++) {
    if (i > 0) text += ",";
    if (v.is_object()) text += items[i].first + ":";
    text += items[i].second;
  }
  return text + (v.is_object() ? "}" : "]");
}

// A message's text after write_mutated, and now and then cut short or with a byte
// changed; or some other top-level value.
std::string mutated_message_text() {
  const Message m = *rc::gen::arbitrary<Message>();
  std::string text = *rc::gen::weightedOneOf<std::string>({
      {12, rc::gen::just(write_mutated(json::parse(encode_message(m))))},
      {1, value_text()},
      {1, rc::gen::just(write_mutated(json::array({json::parse(encode_message(m))})))},
  });
  switch (*rc::gen::weightedOneOf<int>(
      {{8, rc::gen::just(0)}, {1, rc::gen::just(1)}, {1, rc::gen::just(2)}})) {
    case 1:  // cut short
      text.resize(*rc::gen::inRange<std::size_t>(0, text.size() + 1));
      break;
    case 2:  // one byte changed, perhaps to one that is not UTF-8
      if (!text.empty()) {
        text[*rc::gen::inRange<std::size_t>(0, text.size())] =
            *rc::gen::elementOf(std::vector<char>{'"', '{', '}', '[', ']', ',', ':', '\\', '0', '-',
                                                  ' ', 'x', '\xff', '\xc3', '\x01'});
      }
      break;
    default:
      break;
  }
  return text;
}

// decode_message and the oracle agree on text: both give equal messages, or both refuse
// it with the same error.
void expect_agreement(const std::string& text) {
  std::string error = "(unset)";
  std::string expected_error = "(unset)";
  const std::optional<Message> got = decode_message(text, &error);
  const std::optional<Message> expected = reference_decode(text, &expected_error);
  RC_LOG() << "text: " << text << "\nerror: " << error << "\nexpected: " << expected_error << "\n";
  RC_ASSERT(got.has_value() == expected.has_value());
  if (got) {
    RC_TAG(std::string(type_name(*got)));
    RC_ASSERT(*got == *expected);
  } else {
    RC_TAG(expected_error.substr(0, expected_error.find_first_of(":'\"")));
    RC_ASSERT(error == expected_error);
  }
  RC_ASSERT(decode_message(text, nullptr).has_value() == got.has_value());
}

RC_GTEST_PROP(DecodeOracle, AgreesOnMutatedMessages, ()) {
  expect_agreement(mutated_message_text());
}

RC_GTEST_PROP(DecodeOracle, AgreesOnEveryMessage, (const Message& m)) {
  const std::string text = encode_message(m);
  expect_agreement(text);
  // And on every prefix (each is invalid JSON, somewhere).
  expect_agreement(text.substr(0, *rc::gen::inRange<std::size_t>(0, text.size())));
}

}  // namespace
}  // namespace kvs
