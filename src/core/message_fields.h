// The fields of one wire message, collected from its JSON text by a SAX parse
// (nlohmann::json::sax_parse) instead of a parsed document: the decoders of messages.cc
// read them. Strings are moved out of the parser, numbers keep the kind nlohmann gives them
// (unsigned, signed, float), and only what a decoder can read is kept (unknown fields cost
// nothing):
//  * fields whose names a decoder reads (kFieldNames in message_fields.cc); others are
//    parsed and dropped, at any depth, without recursion;
//  * of the top-level object's fields, objects (entry) and arrays of objects (entries,
//    ranges) one level down; any deeper structure is only a kind;
//  * the top-level "body" field (a status reply's free-form object) as a json document,
//    built by nlohmann's own DOM handler (its depth is the decoder's to check).
// A repeated name keeps its last value, as nlohmann's document did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kvs {

enum class FieldKind : std::uint8_t {
  kNull,
  kBoolean,
  kSigned,  // a negative integer (and -0): nlohmann's number_integer
  kUnsigned,
  kFloat,  // including integers too large for 64 bits
  kString,
  kObject,
  kArray,
};

struct Field;
using FieldList = std::vector<Field>;

struct FieldValue {
  FieldKind kind = FieldKind::kNull;
  bool boolean = false;
  std::uint64_t number = 0;  // kUnsigned, or kSigned as two's complement
  std::string text;          // kString
  // kObject or kArray one level below the top-level object:
  FieldList object;                // its fields
  std::vector<FieldList> objects;  // an array's elements up to the first that is no object
  bool non_object = false;         // ... and such an element follows them
};

struct Field {
  std::uint8_t name = 0;  // index into the known names
  FieldValue value;
};

struct MessageFields {
  FieldKind root = FieldKind::kNull;  // the kind of the whole text's value
  FieldList fields;                   // when root is kObject
  nlohmann::json body;                // the top-level "body" when it is an object or array
};

// Parses text into *out. On invalid JSON (syntax, UTF-8, number overflow, trailing text)
// returns false and sets *error to nlohmann's exception text, "[json.exception...] ...".
bool parse_message_fields(std::string_view text, MessageFields* out, std::string* error);

// The field called name, or nullptr. Every name a decoder asks for must be a known name.
FieldValue* find_field(FieldList& fields, std::string_view name);

}  // namespace kvs
