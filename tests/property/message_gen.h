// RapidCheck generators for the protocol's message set (src/core/messages.h).
//
// rc::Arbitrary is specialized for kvs::Entry, every alternative of kvs::Message and
// kvs::Message itself, so `*rc::gen::arbitrary<kvs::Message>()` or a property argument
// `(const kvs::Message& m)` yields any message. Strings are arbitrary valid UTF-8 (the
// codec's contract: every string in a Message is valid UTF-8): empty, ASCII, quotes,
// backslashes, control characters including NUL, and 2-, 3- and 4-byte characters with
// the boundary code points. Numbers favour the edges (0, 1, 2^32, 2^53, 2^63, max).
// Sizes stay small (strings up to ~40 characters, up to 8 entries per chunk) so that
// properties run fast. showValue prints messages (as protocol_json, independent of the
// codec under test) and JSON values.
//
// The generators are compiled once, in message_gen.cc (the kvs_testgen library every
// property test links): building them is the costliest template work of the property
// tests, and this header only declares them. list_up_to stays a template here.
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/messages.h"

namespace kvs::testgen {

// A container of up to max_len elements (at the largest test size; fewer at small sizes).
// The elements themselves are generated at the full test size.
template <typename Container, typename T>
rc::Gen<Container> list_up_to(int max_len, rc::Gen<T> element) {
  return rc::gen::withSize([=](int size) {
    const int length_size = std::min(max_len, size * max_len / rc::kNominalSize);
    return rc::gen::resize(length_size,
                           rc::gen::container<Container>(rc::gen::resize(size, element)));
  });
}

// Appends code point cp (a Unicode scalar value) as UTF-8.
void append_utf8(std::uint32_t cp, std::string* out);

// A Unicode scalar value (never a surrogate), weighted toward what JSON must escape
// and toward the edges of each UTF-8 length.
rc::Gen<std::uint32_t> code_point();

// A valid UTF-8 string of up to max_chars code points; empty one time in eight.
rc::Gen<std::string> utf8_string(int max_chars = 40);

// Hex text as nonces and proofs are: 64 lowercase hex digits, or any run of them.
rc::Gen<std::string> hex_string();

// Any uint64, often one of the edges.
rc::Gen<std::uint64_t> u64();

// Any int, often one of the edges.
rc::Gen<int> any_int();

// A finite double (JSON has no NaN or infinity), often an awkward one.
rc::Gen<double> finite_double();

// A JSON scalar: null, boolean, signed, unsigned, double or string.
rc::Gen<nlohmann::json> json_scalar();

// An object of up to 5 members whose values come from value.
rc::Gen<nlohmann::json> json_object_of(rc::Gen<nlohmann::json> value);

// Any JSON value nested at most depth levels (arrays and objects of up to 5 items).
rc::Gen<nlohmann::json> json_value(int depth = 3);

// A status body as the codec carries it: null (no body) or an object.
rc::Gen<nlohmann::json> status_body();

}  // namespace kvs::testgen

namespace rc {

template <>
struct Arbitrary<kvs::Entry> {
  static Gen<kvs::Entry> arbitrary();
};

template <>
struct Arbitrary<kvs::Hello> {
  static Gen<kvs::Hello> arbitrary();
};

template <>
struct Arbitrary<kvs::Challenge> {
  static Gen<kvs::Challenge> arbitrary();
};

template <>
struct Arbitrary<kvs::Welcome> {
  static Gen<kvs::Welcome> arbitrary();
};

template <>
struct Arbitrary<kvs::Error> {
  static Gen<kvs::Error> arbitrary();
};

template <>
struct Arbitrary<kvs::Request> {
  static Gen<kvs::Request> arbitrary();
};

template <>
struct Arbitrary<kvs::Response> {
  static Gen<kvs::Response> arbitrary();
};

template <>
struct Arbitrary<kvs::Join> {
  static Gen<kvs::Join> arbitrary();
};

template <>
struct Arbitrary<kvs::JoinState> {
  static Gen<kvs::JoinState> arbitrary();
};

template <>
struct Arbitrary<kvs::Write> {
  static Gen<kvs::Write> arbitrary();
};

template <>
struct Arbitrary<kvs::Ping> {
  static Gen<kvs::Ping> arbitrary();
};

template <>
struct Arbitrary<kvs::Ack> {
  static Gen<kvs::Ack> arbitrary();
};

template <>
struct Arbitrary<kvs::Read> {
  static Gen<kvs::Read> arbitrary();
};

template <>
struct Arbitrary<kvs::ReadReply> {
  static Gen<kvs::ReadReply> arbitrary();
};

template <>
struct Arbitrary<kvs::CatchupFetch> {
  static Gen<kvs::CatchupFetch> arbitrary();
};

template <>
struct Arbitrary<kvs::CatchupChunk> {
  static Gen<kvs::CatchupChunk> arbitrary();
};

template <>
struct Arbitrary<kvs::CatchupApplied> {
  static Gen<kvs::CatchupApplied> arbitrary();
};

template <>
struct Arbitrary<kvs::Discard> {
  static Gen<kvs::Discard> arbitrary();
};

template <>
struct Arbitrary<kvs::StatusRequest> {
  static Gen<kvs::StatusRequest> arbitrary();
};

template <>
struct Arbitrary<kvs::StatusReply> {
  static Gen<kvs::StatusReply> arbitrary();
};

// Any message: each alternative equally likely. A new alternative without an
// Arbitrary specialization fails to compile in message_gen.cc.
template <>
struct Arbitrary<kvs::Message> {
  static Gen<kvs::Message> arbitrary();
};

}  // namespace rc

namespace kvs {
namespace testgen {

// An entry or a message as docs/PROTOCOL.md's table spells it, built with nlohmann::json rather
// than the codec under test: counterexamples print with it, and tests can compare the
// codec's output with it. Keys keep the table's order.
nlohmann::ordered_json protocol_json(const Entry& e);
nlohmann::ordered_json protocol_json(const Message& message);

template <typename T, typename Variant>
struct IsAlternative;
template <typename T, typename... Alternatives>
struct IsAlternative<T, std::variant<Alternatives...>>
    : std::bool_constant<(std::is_same_v<T, Alternatives> || ...)> {};

}  // namespace testgen

// RapidCheck prints counterexamples with showValue (found by argument-dependent lookup),
// as protocol_json: independent of the encoder, so a broken encoder cannot hide the
// difference between two messages.
void showValue(const Message& m, std::ostream& os);

template <typename T, typename = std::enable_if_t<testgen::IsAlternative<T, Message>::value>>
void showValue(const T& m, std::ostream& os) {
  showValue(Message(m), os);
}

void showValue(const Entry& e, std::ostream& os);

}  // namespace kvs

namespace nlohmann {

// RapidCheck would otherwise show a JSON value through one of its implicit conversions
// (to std::string, which throws for anything but a string).
void showValue(const json& j, std::ostream& os);

}  // namespace nlohmann
