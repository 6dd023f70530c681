// Properties of config parsing and checking (src/core/config.h), for the three programs
// (frontend, storage node, client). The contract: any JSON that does not match the
// schema gives an error naming the field, never a crash. Here that is:
//
// 1. WellTypedDocumentsParse: an object holding any subset of a program's fields, each
//    with a value of the right JSON kind, parses; every given field lands in its member
//    and every absent one keeps its default.
// 2. NonObjectIsRefusedAsConfig: a scalar or an array is refused with "config: ...".
// 3. WrongKindIsNamed: one field with a value of the wrong kind (or out of the kind's
//    range: 0, negative, a fraction for an integer) among good ones is refused with
//    "FIELD: ...".
// 4. UnknownFieldIsNamed: one name outside the program's schema among good fields is
//    refused with "NAME: unknown field".
// 5. AnyDocumentGivesConfigOrNamesABadMember: any JSON (nested, keys near or equal to
//    schema names, any number) never throws; the result is a config exactly when every
//    member is a known field of the right kind (then as in 1), else an error naming one of
//    the bad members ("config: " if not an object).
// 6. ValidateNamesAFieldOfItsProgram: validate() of any parsed config never throws, and
//    its error names one of that program's fields.
// 7. SplitAddressMatchesTheOracle: split_address agrees with an independent reading of
//    "host:port" on any string, and host + ":" + port splits back into host and port.
// 8. AnyTextNeverCrashes: any bytes, as src/net/config_file.cc reads a file (json::parse)
//    and then parses and validates it, give a config or a named error.
//
// Documents are compared to the schema below, written out here rather than taken from
// config.cc, so that a field dropped from or misspelled in config.cc's tables, or mapped to
// the wrong member, is a failure and not a silent agreement.
#include "core/config.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "message_gen.h"

namespace rc {

// Counterexamples call JSON values "json", not by nlohmann's whole template name.
template <>
struct ShowType<nlohmann::json> {
  static void showType(std::ostream& os) { os << "json"; }
};

}  // namespace rc

namespace kvs {
namespace {

using json = nlohmann::json;
using testgen::list_up_to;

// j as one line of JSON (any invalid UTF-8 shown as U+FFFD).
std::string show(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// text with every byte outside printable ASCII, and the backslash, as \xHH.
std::string printable(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += ch;
    } else {
      out.append("\\x").append(1, kHex[b >> 4]).append(1, kHex[b & 15]);
    }
  }
  return out;
}

// Whether error names field: "field: problem".
bool names(const std::string& error, std::string_view field) {
  return error.starts_with(std::string(field) + ": ");
}

// ---- the schema, independent of config.cc ---------------------------------------

enum class Kind {
  kString,    // a JSON string
  kSeconds,   // a JSON number > 0, integer or not
  kPositive,  // a JSON integer > 0
  kBool,      // true or false
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kString:
      return "string";
    case Kind::kSeconds:
      return "seconds";
    case Kind::kPositive:
      return "positive integer";
    case Kind::kBool:
      return "bool";
  }
  return "?";
}

// Whether a value as json::parse delivers it (a non-negative integer is always stored as
// unsigned, a negative one as signed, anything with a fraction or exponent as float) is
// one the schema allows for a field of kind k.
bool accepts(Kind k, const json& v) {
  switch (k) {
    case Kind::kString:
      return v.is_string();
    case Kind::kSeconds:
      if (v.is_number_unsigned()) return v.get<std::uint64_t>() > 0;
      if (v.is_number_integer()) return v.get<std::int64_t>() > 0;
      return v.is_number_float() && v.get<double>() > 0;
    case Kind::kPositive:
      return v.is_number_unsigned() && v.get<std::uint64_t>() > 0;
    case Kind::kBool:
      return v.is_boolean();
  }
  return false;
}

// A field: its name, its kind, and the member it sets, read back as JSON.
template <typename C>
struct FieldSpec {
  std::string_view name;
  Kind kind;
  json (*member)(const C&);
};

// The field called "m" sets member C::m.
#define KVS_FIELD(C, m, k)                            \
  {                                                   \
#m, Kind::k, [](const C& c) { return json(c.m); } \
  }

const FieldSpec<FrontendConfig> kFrontendSchema[] = {
    KVS_FIELD(FrontendConfig, client_listen, kString),
    KVS_FIELD(FrontendConfig, storage_listen, kString),
    KVS_FIELD(FrontendConfig, resp_listen, kString),
    KVS_FIELD(FrontendConfig, data_dir, kString),
    KVS_FIELD(FrontendConfig, storage_timeout, kSeconds),
    KVS_FIELD(FrontendConfig, unavailable_timeout, kSeconds),
    KVS_FIELD(FrontendConfig, secret, kString),
    KVS_FIELD(FrontendConfig, secret_file, kString),
    KVS_FIELD(FrontendConfig, insecure_no_secret, kBool),
    KVS_FIELD(FrontendConfig, session_idle_timeout, kSeconds),
    KVS_FIELD(FrontendConfig, max_key_bytes, kPositive),
    KVS_FIELD(FrontendConfig, max_value_bytes, kPositive),
    KVS_FIELD(FrontendConfig, max_frame_bytes, kPositive),
    KVS_FIELD(FrontendConfig, catchup_chunk_bytes, kPositive),
    KVS_FIELD(FrontendConfig, max_client_outstanding, kPositive),
    KVS_FIELD(FrontendConfig, max_connections_per_address, kPositive),
    KVS_FIELD(FrontendConfig, max_inflight_writes, kPositive),
    KVS_FIELD(FrontendConfig, max_inflight_write_bytes, kPositive),
    KVS_FIELD(FrontendConfig, max_connection_backlog_bytes, kPositive),
    KVS_FIELD(FrontendConfig, accept_data_loss, kBool),
    KVS_FIELD(FrontendConfig, log_level, kString),
};

const FieldSpec<StorageConfig> kStorageSchema[] = {
    KVS_FIELD(StorageConfig, id, kString),
    KVS_FIELD(StorageConfig, listen, kString),
    KVS_FIELD(StorageConfig, data_dir, kString),
    KVS_FIELD(StorageConfig, frontend, kString),
    KVS_FIELD(StorageConfig, secret, kString),
    KVS_FIELD(StorageConfig, secret_file, kString),
    KVS_FIELD(StorageConfig, insecure_no_secret, kBool),
    KVS_FIELD(StorageConfig, snapshot_bytes, kPositive),
    KVS_FIELD(StorageConfig, max_frame_bytes, kPositive),
    KVS_FIELD(StorageConfig, reconnect_max, kSeconds),
    KVS_FIELD(StorageConfig, log_level, kString),
};

const FieldSpec<ClientConfig> kClientSchema[] = {
    KVS_FIELD(ClientConfig, id, kString),
    KVS_FIELD(ClientConfig, frontend, kString),
    KVS_FIELD(ClientConfig, secret, kString),
    KVS_FIELD(ClientConfig, secret_file, kString),
    KVS_FIELD(ClientConfig, request_timeout, kSeconds),
    KVS_FIELD(ClientConfig, reconnect_max, kSeconds),
    KVS_FIELD(ClientConfig, max_frame_bytes, kPositive),
    KVS_FIELD(ClientConfig, history, kString),
};

#undef KVS_FIELD

// The three programs, each with its schema and its parser.
template <typename C, const auto& kSchema, auto kParse>
struct Program {
  using Config = C;
  static std::span<const FieldSpec<Config>> schema() { return kSchema; }
  static std::optional<Config> parse(const json& j, std::string* error) { return kParse(j, error); }
};
struct Frontend : Program<FrontendConfig, kFrontendSchema, parse_frontend_config> {
  static constexpr const char* kName = "frontend";
};
struct Storage : Program<StorageConfig, kStorageSchema, parse_storage_config> {
  static constexpr const char* kName = "storage";
};
struct Client : Program<ClientConfig, kClientSchema, parse_client_config> {
  static constexpr const char* kName = "client";
};

// Runs body(Program{}) for a generated program (shown by name; shrinks to the frontend).
template <typename Body>
void for_any_program(Body body) {
  const std::string program = *rc::gen::element<std::string>("frontend", "storage", "client");
  RC_TAG(program);
  if (program == Frontend::kName) return body(Frontend{});
  if (program == Storage::kName) return body(Storage{});
  return body(Client{});
}

template <typename P>
const FieldSpec<typename P::Config>* find_field(std::string_view name) {
  for (const auto& f : P::schema()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// Every field name of every program.
std::vector<std::string> all_field_names() {
  std::vector<std::string> names;
  auto add = [&](auto schema) {
    for (const auto& f : schema) names.emplace_back(f.name);
  };
  add(Frontend::schema());
  add(Storage::schema());
  add(Client::schema());
  return names;
}

// j as the config file reader delivers it: json::parse(text) (src/net/config_file.cc).
// It matters for integers: json(5) built in C++ is signed, json::parse("5") unsigned, and
// the parser takes only unsigned for an integer field: it refuses a C++-built
// json{{"max_key_bytes", 5}}. No file holds that; property 5 checks only that it is named.
json as_file(const json& j) {
  return json::parse(j.dump());
}

// ---- generators --------------------------------------------------------------------

// Member names: schema names of any program, near misses of them, and anything.
rc::Gen<std::string> any_key() {
  const std::vector<std::string> schema = all_field_names();
  return rc::gen::weightedOneOf<std::string>({
      {3, rc::gen::elementOf(schema)},
      {2, rc::gen::mapcat(rc::gen::elementOf(schema),
                          [](const std::string& n) {
                            std::string upper = n;
                            std::string dashed = n;
                            for (char& ch : upper) ch = static_cast<char>(std::toupper(ch));
                            for (char& ch : dashed) ch = ch == '_' ? '-' : ch;
                            return rc::gen::element<std::string>(
                                n + "s", n.substr(1), n.substr(0, n.size() - 1), " " + n, n + " ",
                                upper, dashed, n + std::string(1, '\0'), n + ": unknown field");
                          })},
      {1, rc::gen::element<std::string>("", "config", "Config", ":", ": ", "bugs", "port")},
      {2, testgen::utf8_string(10)},
  });
}

// Any JSON value nested up to depth levels, keys from any_key.
rc::Gen<json> any_json(int depth) {
  if (depth == 0) return testgen::json_scalar();
  const rc::Gen<json> inner = any_json(depth - 1);
  using Members = std::vector<std::pair<std::string, json>>;
  return rc::gen::weightedOneOf<json>({
      {3, testgen::json_scalar()},
      {1, rc::gen::map(list_up_to<std::vector<json>>(4, inner),
                       [](const std::vector<json>& items) { return json(items); })},
      {1, rc::gen::map(list_up_to<Members>(4, rc::gen::pair(any_key(), inner)),
                       [](const Members& members) {
                         json object = json::object();
                         for (const auto& [k, v] : members) object[k] = v;
                         return object;
                       })},
  });
}

// "IP:PORT", usually valid, sometimes equal to another field's default or each other.
rc::Gen<std::string> address() {
  return rc::gen::weightedOneOf<std::string>({
      {2, rc::gen::element<std::string>("127.0.0.1:8000", "127.0.0.1:8001", "127.0.0.1:9101",
                                        "0.0.0.0:0", "localhost", "127.0.0.1:65536")},
      {3, rc::gen::map(rc::gen::pair(rc::gen::element<std::string>("127.0.0.1", "0.0.0.0", "::1"),
                                     rc::gen::inRange(0, 65536)),
                       [](const std::pair<std::string, int>& p) {
                         return p.first + ":" + std::to_string(p.second);
                       })},
  });
}

// A string value: addresses, log levels and plain names are what the checks look for.
rc::Gen<std::string> string_value() {
  return rc::gen::weightedOneOf<std::string>({
      {3, address()},
      {2, rc::gen::element<std::string>("debug", "info", "warn", "error", "INFO")},
      {2, list_up_to<std::string>(6, rc::gen::elementOf(std::string("ab.-_0Z")))},
      {1, testgen::utf8_string(12)},
  });
}

// A string for the field called name: mostly of the shape validate() looks for (the
// names tell), so that cases get past the first checks to the later ones.
rc::Gen<std::string> string_for(std::string_view name) {
  rc::Gen<std::string> shaped = string_value();
  if (name.ends_with("listen") || name == "frontend") shaped = address();
  if (name == "log_level") shaped = rc::gen::element<std::string>("debug", "info", "warn", "error");
  if (name == "id") {
    shaped = rc::gen::weightedOneOf<std::string>({
        {3, rc::gen::element<std::string>("s1", "c1", "node-2", "a.b_C", "..", ".")},
        {1, list_up_to<std::string>(4, rc::gen::elementOf(std::string("ab.-_0Z/ ")))},
    });
  }
  return rc::gen::weightedOneOf<std::string>({{4, shaped}, {1, string_value()}});
}

// A value of kind k within its range, as json::parse would deliver it.
rc::Gen<json> good_value(Kind k, std::string_view name = "") {
  constexpr double kYear = 365.0 * 24 * 3600;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  const auto non_zero = rc::gen::suchThat(testgen::u64(), [](std::uint64_t v) { return v > 0; });
  switch (k) {
    case Kind::kString:
      return rc::gen::map(string_for(name), [](std::string s) { return json(std::move(s)); });
    case Kind::kSeconds:
      return rc::gen::weightedOneOf<json>({
          {4, rc::gen::map(rc::gen::inRange(1, 100000), [](int ms) { return json(ms / 1000.0); })},
          {2,
           rc::gen::map(rc::gen::inRange<std::uint64_t>(1, 100), [](auto s) { return json(s); })},
          {1, rc::gen::map(rc::gen::element(4.9e-324, 1e-9, kYear, kYear * (1 + 1e-15), 1e300,
                                            std::numeric_limits<double>::max()),
                           [](double s) { return json(s); })},
          {1, rc::gen::map(non_zero, [](std::uint64_t s) { return json(s); })},
      });
    case Kind::kPositive:
      return rc::gen::map(
          rc::gen::weightedOneOf<std::uint64_t>({
              {4, rc::gen::inRange<std::uint64_t>(1, 2000)},
              {2, rc::gen::inRange<std::uint64_t>(1, 1ull << 33)},
              {1, rc::gen::element<std::uint64_t>(1, 0xFFFFFFFE, 0xFFFFFFFF, 1ull << 32, kMax)},
              {1, non_zero},
          }),
          [](std::uint64_t v) { return json(v); });
    case Kind::kBool:
      return rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return json(b); });
  }
  return rc::gen::just(json());
}

// Values one step outside kind k: another kind, zero, a sign, a fraction, a quoted form.
std::vector<json> near_misses(Kind k) {
  std::vector<json> v = {nullptr, json::array(), json::object()};
  switch (k) {
    case Kind::kString:
      v.insert(v.end(), {true, 0u, 8000u, -1, 1.5, json::array({"127.0.0.1:8000"}),
                         json{{"ip", "127.0.0.1"}}});
      break;
    case Kind::kSeconds:
      v.insert(v.end(), {0u, 0.0, -0.0, -1, -0.5, -4.9e-324, -1e308,
                         std::numeric_limits<std::int64_t>::min(), "2", "2.0", true, false,
                         json::array({2})});
      break;
    case Kind::kPositive:
      v.insert(v.end(), {0u, -0.0, -1, std::numeric_limits<std::int64_t>::min(), 1.0, 5.0, 1.5,
                         1e19, 18446744073709551616.0, "5", true, false, json::array({5})});
      break;
    case Kind::kBool:
      v.insert(v.end(), {0u, 1u, -1, 0.0, "true", "false", "yes", json::array({true})});
      break;
  }
  return v;
}

// A value the schema refuses for kind k, as json::parse would deliver it.
rc::Gen<json> bad_value(Kind k) {
  return rc::gen::suchThat(rc::gen::map(rc::gen::weightedOneOf<json>({
                                            {2, rc::gen::elementOf(near_misses(k))},
                                            {3, any_json(2)},
                                        }),
                                        as_file),
                           [k](const json& v) { return !accepts(k, v); });
}

// True with probability k/n whatever the test size; shrinks to false.
rc::Gen<bool> chance(int k, int n) {
  return rc::gen::map(rc::gen::resize(rc::kNominalSize, rc::gen::inRange(0, n)),
                      [k, n](int x) { return x >= n - k; });
}

// An object holding each of P's fields with probability 3/4, each with a good value. One
// generated value, so that a counterexample shows as one document; it shrinks toward
// fewer fields.
template <typename P>
rc::Gen<json> well_typed_doc() {
  return rc::gen::exec([] {
    json doc = json::object();
    for (const auto& f : P::schema()) {
      // Every draw is made whatever the outcome, so that shrinking one field does not
      // shift what the later fields draw.
      json value = *good_value(f.kind, f.name);
      if (*chance(3, 4)) doc[std::string(f.name)] = std::move(value);
    }
    return as_file(doc);
  });
}

// A name that is not one of P's fields.
template <typename P>
rc::Gen<std::string> unknown_key() {
  return rc::gen::suchThat(any_key(),
                           [](const std::string& k) { return find_field<P>(k) == nullptr; });
}

// ---- checks ------------------------------------------------------------------------

// c is what doc (all of whose members are good fields of P) must give: each member's
// value in its field, defaults elsewhere.
template <typename P>
void check_fields(const json& doc, const typename P::Config& c) {
  const typename P::Config defaults;
  for (const auto& f : P::schema()) {
    const std::string name(f.name);
    const json got = f.member(c);
    const json want = doc.contains(name) ? doc.at(name) : f.member(defaults);
    // json compares numbers by value across kinds: 3.0 == 3u.
    if (got != want) {
      RC_FAIL(name + ": the config holds " + show(got) + ", not " + show(want));
    }
  }
}

// The weak form of the contract, for any document: a config, or an error naming the
// document ("config: ") or one of its members.
bool config_or_named_error(bool parsed, const json& doc, const std::string& error) {
  if (parsed) return true;
  if (!doc.is_object()) return names(error, "config");
  for (const auto& [k, v] : doc.items()) {
    if (names(error, k)) return true;
  }
  return false;
}

// ---- 1-4: documents of a known shape -------------------------------------------------

template <typename P>
void well_typed_parses() {
  const json doc = *well_typed_doc<P>();
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_LOG() << "error: " << error << "\n";
  RC_ASSERT(c.has_value());
  check_fields<P>(doc, *c);
}

RC_GTEST_PROP(ConfigProperty, WellTypedDocumentsParse, ()) {
  for_any_program([](auto p) { well_typed_parses<decltype(p)>(); });
}

template <typename P>
void non_object_refused() {
  const json doc = *rc::gen::weightedOneOf<json>({
      {2, testgen::json_scalar()},
      {1, rc::gen::map(list_up_to<std::vector<json>>(4, any_json(2)),
                       [](const std::vector<json>& items) { return json(items); })},
      // An array of [name, value] pairs, which nlohmann's json{...} makes an object of.
      {1, rc::gen::just(json::array({json::array({"id", "x"})}))},
  });
  RC_LOG() << "document: " << show(doc) << "\n";
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_ASSERT(!c.has_value());
  RC_ASSERT(names(error, "config"));
}

RC_GTEST_PROP(ConfigProperty, NonObjectIsRefusedAsConfig, ()) {
  for_any_program([](auto p) { non_object_refused<decltype(p)>(); });
}

template <typename P>
void wrong_kind_named() {
  json doc = *well_typed_doc<P>();
  std::vector<std::string> fields;
  for (const auto& f : P::schema()) fields.emplace_back(f.name);
  const auto& f = *find_field<P>(*rc::gen::elementOf(fields));
  RC_TAG(kind_name(f.kind));
  doc[std::string(f.name)] = *bad_value(f.kind);
  doc = as_file(doc);
  RC_LOG() << "document: " << show(doc) << "\n";
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_ASSERT(!c.has_value());
  RC_ASSERT(error.size() > f.name.size() + 2);  // a problem follows the name
  RC_ASSERT(error.substr(0, f.name.size() + 2) == std::string(f.name) + ": ");
}

RC_GTEST_PROP(ConfigProperty, WrongKindIsNamed, ()) {
  for_any_program([](auto p) { wrong_kind_named<decltype(p)>(); });
}

template <typename P>
void unknown_field_named() {
  json doc = *well_typed_doc<P>();
  const std::string name = *unknown_key<P>();
  doc[name] = *rc::gen::oneOf(any_json(1), good_value(Kind::kString));
  doc = as_file(doc);
  RC_LOG() << "document: " << show(doc) << "\n";
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_ASSERT(!c.has_value());
  RC_ASSERT(error == name + ": unknown field");
}

RC_GTEST_PROP(ConfigProperty, UnknownFieldIsNamed, ()) {
  for_any_program([](auto p) { unknown_field_named<decltype(p)>(); });
}

// ---- 5: any document -----------------------------------------------------------------

// Mostly P's fields with mostly good values, some other members; or any JSON at all.
template <typename P>
rc::Gen<json> any_doc() {
  return rc::gen::exec([] {
    if (*chance(1, 5)) return *any_json(3);
    json doc = json::object();
    for (const auto& f : P::schema()) {
      json good = *good_value(f.kind, f.name);
      json any = *any_json(2);
      const bool wild = *chance(1, 5);
      if (*chance(1, 2)) doc[std::string(f.name)] = wild ? std::move(any) : std::move(good);
    }
    const auto extra = *list_up_to<std::vector<std::pair<std::string, json>>>(
        2, rc::gen::pair(any_key(), any_json(2)));
    for (const auto& [k, v] : extra) doc[k] = v;
    return doc;
  });
}

template <typename P>
void any_document() {
  const json raw = *any_doc<P>();
  RC_LOG() << "document: " << show(raw) << "\n";

  // As built in C++ (signed positive integers, for one): no crash, a config or a name.
  std::string error;
  auto c = P::parse(raw, &error);
  RC_LOG() << "error (as built): " << error << "\n";
  RC_ASSERT(config_or_named_error(c.has_value(), raw, error));

  // As read from a file: exactly the schema's verdict.
  const json doc = as_file(raw);
  error.clear();
  c = P::parse(doc, &error);
  RC_LOG() << "error (as read): " << error << "\n";
  if (!doc.is_object()) {
    RC_TAG("not an object");
    RC_ASSERT(!c.has_value());
    RC_ASSERT(names(error, "config"));
    return;
  }
  std::vector<std::string> bad;  // members that are unknown or of the wrong kind
  for (const auto& [k, v] : doc.items()) {
    const auto* f = find_field<P>(k);
    if (f == nullptr || !accepts(f->kind, v)) bad.push_back(k);
  }
  RC_TAG(bad.empty() ? "good" : "bad members");
  if (bad.empty()) {
    RC_ASSERT(c.has_value());
    check_fields<P>(doc, *c);
  } else {
    RC_ASSERT(!c.has_value());
    bool named = false;
    for (const std::string& k : bad) named = named || names(error, k);
    RC_ASSERT(named);
  }
}

RC_GTEST_PROP(ConfigProperty, AnyDocumentGivesConfigOrNamesABadMember, ()) {
  for_any_program([](auto p) { any_document<decltype(p)>(); });
}

// ---- 6: validate ---------------------------------------------------------------------

template <typename P>
void validate_names_field() {
  const json doc = *well_typed_doc<P>();
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_ASSERT(c.has_value());
  if (validate(*c, &error)) {
    RC_TAG("valid");
    return;
  }
  RC_LOG() << "error: " << error << "\n";
  const auto colon = error.find(": ");
  RC_ASSERT(colon != std::string::npos);
  const std::string field = error.substr(0, colon);
  RC_TAG(field);
  if (find_field<P>(field) == nullptr) {
    RC_FAIL("\"" + field + "\" is not a field of the " + P::kName + " config");
  }
}

RC_GTEST_PROP(ConfigProperty, ValidateNamesAFieldOfItsProgram, ()) {
  for_any_program([](auto p) { validate_names_field<decltype(p)>(); });
}

// ---- 7: split_address ----------------------------------------------------------------

// The contract, read differently from config.cc (which splits at the last ':'): some
// ':' has before it a non-empty host with no byte <= ' ', and after it 1 to 5 decimal
// digits worth at most 65535. (At most one ':' can qualify: digits contain none.)
bool oracle_split(const std::string& a, std::string* host, int* port) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != ':') continue;
    const std::string h = a.substr(0, i);
    const std::string digits = a.substr(i + 1);
    bool ok = !h.empty() && !digits.empty() && digits.size() <= 5;
    for (char ch : h) ok = ok && static_cast<unsigned char>(ch) > 0x20;
    for (char ch : digits) ok = ok && ch >= '0' && ch <= '9';
    int value = 0;
    if (ok) std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ok && value <= 65535) {
      *host = h;
      *port = value;
      return true;
    }
  }
  return false;
}

// Hosts and ports near every edge: empty, colons, spaces and control bytes, bytes
// above 0x7F; no digits, leading zeros, 5 and 6 digits, 65535 and 65536, signs.
rc::Gen<std::string> any_address() {
  const auto host = list_up_to<std::string>(
      6, rc::gen::weightedOneOf<char>({
             {4, rc::gen::elementOf(std::string("a1.:-["))},
             {1, rc::gen::element<char>(' ', '\t', '\0', '\x21', '\x7f', '\x80', '\xff')},
         }));
  const auto port = rc::gen::weightedOneOf<std::string>({
      {2, rc::gen::map(rc::gen::inRange(0, 100000), [](int p) { return std::to_string(p); })},
      {2, rc::gen::element<std::string>("", "0", "65535", "65536", "99999", "00000", "000000",
                                        "065535", "00080", "+80", "-1", " 80", "80 ", "8o")},
      {1, list_up_to<std::string>(7, rc::gen::elementOf(std::string("0123456789")))},
  });
  return rc::gen::weightedOneOf<std::string>({
      {5, rc::gen::map(
              rc::gen::tuple(host, rc::gen::element<std::string>(":", ":", ":", "", "::"), port),
              [](const std::tuple<std::string, std::string, std::string>& t) {
                return std::get<0>(t) + std::get<1>(t) + std::get<2>(t);
              })},
      {1, rc::gen::arbitrary<std::string>()},
  });
}

RC_GTEST_PROP(ConfigProperty, SplitAddressMatchesTheOracle, ()) {
  const std::string address = *any_address();
  std::string want_host;
  int want_port = -1;
  const bool want = oracle_split(address, &want_host, &want_port);
  std::string host;
  int port = -1;
  const bool got = split_address(address, &host, &port);
  RC_TAG(want ? "valid" : "invalid");
  RC_ASSERT(got == want);
  if (!got) return;
  RC_ASSERT(host == want_host);
  RC_ASSERT(port == want_port);

  // The parts put back together (without leading zeros) split into the same parts.
  std::string host2;
  int port2 = -1;
  RC_ASSERT(split_address(host + ":" + std::to_string(port), &host2, &port2));
  RC_ASSERT(host2 == host);
  RC_ASSERT(port2 == port);
}

// ---- 8: any text ---------------------------------------------------------------------

// Text near a config file: a document's JSON with a few bytes replaced, inserted or
// removed; tricky literals; or any bytes.
rc::Gen<std::string> any_text() {
  using Edit = std::tuple<int, std::size_t, char>;  // what, where (scaled), byte
  const auto doc_text = rc::gen::exec([] {
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        return (*well_typed_doc<Frontend>()).dump();
      case 1:
        return (*well_typed_doc<Storage>()).dump();
      default:
        return (*well_typed_doc<Client>()).dump();
    }
  });
  const auto edit = rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::arbitrary<std::size_t>(),
                                   rc::gen::elementOf(std::string("{}[]\":,0-.e \\\x80")));
  const auto edited =
      rc::gen::map(rc::gen::pair(doc_text, list_up_to<std::vector<Edit>>(3, edit)),
                   [](std::pair<std::string, std::vector<Edit>> p) {
                     std::string& text = p.first;
                     for (const auto& [what, where, byte] : p.second) {
                       const std::size_t at = text.empty() ? 0 : where % text.size();
                       if (what == 0 && !text.empty()) text[at] = byte;
                       if (what == 1)
                         text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), byte);
                       if (what == 2 && !text.empty()) text.erase(at, 1);
                     }
                     return text;
                   });
  return rc::gen::weightedOneOf<std::string>({
      {4, edited},
      {1, rc::gen::element<std::string>(
              "", "{", "[]", "null", "-0", "1e999", "{\"id\":}", "{\"id\":\"a\",\"id\":7}",
              "{\"max_frame_bytes\":18446744073709551616}", "{\"max_frame_bytes\":1e3}",
              "{\"storage_timeout\":-1e-400}", "\xef\xbb\xbf{}", "{\"\xff\":1}",
              "{\"log_level\":\"\\ud800\"}")},
      {2, rc::gen::arbitrary<std::string>()},
  });
}

template <typename P>
void check_text(const json& doc) {
  std::string error;
  const auto c = P::parse(doc, &error);
  RC_LOG() << P::kName << ": " << (c.has_value() ? "parsed" : printable(error)) << "\n";
  RC_ASSERT(config_or_named_error(c.has_value(), doc, error));
  if (c.has_value()) validate(*c, &error);
}

RC_GTEST_PROP(ConfigProperty, AnyTextNeverCrashes, ()) {
  const std::string text = *any_text();
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  RC_TAG(doc.is_discarded() ? "invalid JSON" : doc.is_object() ? "object" : "other JSON");
  RC_LOG() << "text: " << printable(text) << "\n";
  check_text<Frontend>(doc);
  check_text<Storage>(doc);
  check_text<Client>(doc);
}

}  // namespace
}  // namespace kvs
