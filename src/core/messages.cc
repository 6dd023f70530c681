// The JSON codec of the message set. One encode_fields/decode_fields pair per message,
// in the order of docs/PROTOCOL.md. Encoding writes JSON directly (JsonWriter). Decoding
// builds no JSON document: a SAX parse collects the fields a decoder can read, strings
// moved straight out of the parser (message_fields.h; docs/ARCHITECTURE.md, decision 13),
// and decode_fields checks every field before the message is returned, moving the strings
// on into the message. Only a status reply's free-form body is a document.
#include "core/messages.h"

#include <array>
#include <climits>
#include <utility>

#include "core/json_writer.h"
#include "core/message_fields.h"

namespace kvs {
namespace {

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
// message (for the status body) is null for the objects inside the top-level one.
class Reader {
 public:
  Reader(FieldList& object, std::string_view type, std::string* error,
         MessageFields* message = nullptr, const char* parent = nullptr,
         std::size_t index = kNoIndex)
      : object_(object),
        message_(message),
        type_(type),
        error_(error),
        parent_(parent),
        index_(index) {}

  bool string(const char* name, std::string* out) {
    FieldValue* v = find(name, true);
    return v != nullptr && take_string(name, *v, out);
  }

  // Absent means empty.
  bool optional_string(const char* name, std::string* out) {
    FieldValue* v = find(name, false);
    return v == nullptr || take_string(name, *v, out);
  }

  bool u64(const char* name, std::uint64_t* out) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind != FieldKind::kUnsigned) return fail(name, "must be an unsigned integer");
    *out = v->number;
    return true;
  }

  bool integer(const char* name, int* out) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    const auto value = static_cast<std::int64_t>(v->number);
    bool fits = false;
    if (v->kind == FieldKind::kUnsigned) {
      fits = v->number <= static_cast<std::uint64_t>(INT_MAX);
    } else if (v->kind == FieldKind::kSigned) {
      fits = value >= INT_MIN && value <= INT_MAX;
    }
    if (!fits) return fail(name, "must be an integer");
    *out = static_cast<int>(value);
    return true;
  }

  // Absent means false.
  bool optional_boolean(const char* name, bool* out) {
    return find(name, false) == nullptr || boolean(name, out);
  }

  bool boolean(const char* name, bool* out) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind != FieldKind::kBoolean) return fail(name, "must be true or false");
    *out = v->boolean;
    return true;
  }

  bool op(const char* name, Op* out) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind == FieldKind::kString) {
      const std::string& s = v->text;
      if (s == "get" || s == "put") {
        *out = s == "get" ? Op::kGet : Op::kPut;
        return true;
      }
    }
    return fail(name, "must be \"get\" or \"put\"");
  }

  bool status(const char* name, Status* out) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind == FieldKind::kString) {
      const std::string& s = v->text;
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
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind != FieldKind::kObject) return fail(name, "must be an object");
    Reader fields(v->object, type_, error_, nullptr, name);
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
    FieldValue* v = find(name, false);
    if (v == nullptr || v->kind == FieldKind::kNull) return true;
    if (v->kind != FieldKind::kObject) return fail(name, "must be an object");
    if (!within_depth(message_->body, kMaxBodyDepth)) return fail(name, "is nested too deeply");
    *out = std::move(message_->body);
    return true;
  }

 private:
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);

  // An array of objects, each read by read_one(fields of the element, element). The
  // array holds its elements up to the first that is not an object.
  template <typename T, typename ReadOne>
  bool objects(const char* name, std::vector<T>* out, ReadOne read_one) {
    FieldValue* v = find(name, true);
    if (v == nullptr) return false;
    if (v->kind != FieldKind::kArray) return fail(name, "must be an array");
    out->resize(v->objects.size());
    for (std::size_t i = 0; i < out->size(); i++) {
      Reader fields(v->objects[i], type_, error_, nullptr, name, i);
      if (!read_one(fields, &(*out)[i])) return false;
    }
    if (v->non_object) {
      return Reader(object_, type_, error_, nullptr, name, out->size())
          .fail(nullptr, "must be an object");
    }
    return true;
  }

  static bool read_entry(Reader& r, Entry* e) {
    return r.u64("lsn", &e->lsn) && r.string("key", &e->key) &&
           r.optional_string("value", &e->value);
  }

  FieldValue* find(const char* name, bool required) {
    FieldValue* v = find_field(object_, name);
    if (v == nullptr && required) fail(name, "is missing");
    return v;
  }

  bool take_string(const char* name, FieldValue& v, std::string* out) {
    if (v.kind != FieldKind::kString) return fail(name, "must be a string");
    *out = std::move(v.text);
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

  FieldList& object_;
  MessageFields* message_;
  std::string_view type_;
  std::string* error_;
  const char* parent_;
  std::size_t index_;
};

void encode_entry(JsonWriter& w, const Entry& e) {
  w.begin_object();
  w.u64("lsn", e.lsn);
  w.string("key", e.key);
  w.string("value", e.value);
  w.end_object();
}

// ---- the message table ----------------------------------------------------

void encode_fields(JsonWriter& w, const Challenge& m) {
  w.string("nonce", m.nonce);
}
bool decode_fields(Reader& r, Challenge* m) {
  return r.string("nonce", &m->nonce);
}

void encode_fields(JsonWriter& w, const Hello& m) {
  w.string("role", m.role);
  w.i64("version", m.version);
  w.string("id", m.id);
  w.string("proof", m.proof);
  w.boolean("resume", m.resume);
}
bool decode_fields(Reader& r, Hello* m) {
  return r.string("role", &m->role) && r.integer("version", &m->version) &&
         r.optional_string("id", &m->id) && r.optional_string("proof", &m->proof) &&
         r.optional_boolean("resume", &m->resume);
}

void encode_fields(JsonWriter& w, const Welcome& m) {
  w.string("id", m.id);
}
bool decode_fields(Reader& r, Welcome* m) {
  return r.optional_string("id", &m->id);
}

void encode_fields(JsonWriter& w, const Error& m) {
  w.string("code", m.code);
  w.string("message", m.message);
}
bool decode_fields(Reader& r, Error* m) {
  return r.string("code", &m->code) && r.optional_string("message", &m->message);
}

void encode_fields(JsonWriter& w, const Request& m) {
  w.u64("seq", m.seq);
  w.string("op", m.op == Op::kGet ? "get" : "put");
  w.string("key", m.key);
  w.string("value", m.value);
  w.u64("done_below", m.done_below);
}
bool decode_fields(Reader& r, Request* m) {
  return r.u64("seq", &m->seq) && r.op("op", &m->op) && r.string("key", &m->key) &&
         r.optional_string("value", &m->value) && r.u64("done_below", &m->done_below);
}

void encode_fields(JsonWriter& w, const Response& m) {
  w.u64("seq", m.seq);
  w.string("status", status_name(m.status));
  w.string("value", m.value);
  w.string("detail", m.detail);
}
bool decode_fields(Reader& r, Response* m) {
  return r.u64("seq", &m->seq) && r.status("status", &m->status) &&
         r.optional_string("value", &m->value) && r.optional_string("detail", &m->detail);
}

void encode_fields(JsonWriter& w, const Join& m) {
  w.u64("complete", m.complete);
}
bool decode_fields(Reader& r, Join* m) {
  return r.u64("complete", &m->complete);
}

void encode_fields(JsonWriter& w, const JoinState& m) {
  w.string("state", m.state);
  w.string("detail", m.detail);
}
bool decode_fields(Reader& r, JoinState* m) {
  return r.string("state", &m->state) && r.optional_string("detail", &m->detail);
}

void encode_fields(JsonWriter& w, const Write& m) {
  w.key("entry");
  encode_entry(w, m.entry);
  w.u64("commit", m.commit);
}
bool decode_fields(Reader& r, Write* m) {
  return r.entry("entry", &m->entry) && r.u64("commit", &m->commit);
}

void encode_fields(JsonWriter& w, const Ping& m) {
  w.u64("commit", m.commit);
}
bool decode_fields(Reader& r, Ping* m) {
  return r.u64("commit", &m->commit);
}

void encode_fields(JsonWriter& w, const Ack& m) {
  w.u64("complete", m.complete);
}
bool decode_fields(Reader& r, Ack* m) {
  return r.u64("complete", &m->complete);
}

void encode_fields(JsonWriter& w, const Read& m) {
  w.u64("req", m.req);
  w.string("key", m.key);
  w.u64("at", m.at);
}
bool decode_fields(Reader& r, Read* m) {
  return r.u64("req", &m->req) && r.string("key", &m->key) && r.u64("at", &m->at);
}

void encode_fields(JsonWriter& w, const ReadReply& m) {
  w.u64("req", m.req);
  w.boolean("found", m.found);
  w.string("value", m.value);
  w.u64("lsn", m.lsn);
}
bool decode_fields(Reader& r, ReadReply* m) {
  return r.u64("req", &m->req) && r.boolean("found", &m->found) &&
         r.optional_string("value", &m->value) && r.u64("lsn", &m->lsn);
}

void encode_fields(JsonWriter& w, const CatchupFetch& m) {
  w.u64("req", m.req);
  w.u64("after", m.after);
  w.string("cursor", m.cursor);
  w.u64("max_bytes", m.max_bytes);
}
bool decode_fields(Reader& r, CatchupFetch* m) {
  return r.u64("req", &m->req) && r.u64("after", &m->after) &&
         r.optional_string("cursor", &m->cursor) && r.u64("max_bytes", &m->max_bytes);
}

void encode_fields(JsonWriter& w, const CatchupChunk& m) {
  w.u64("req", m.req);
  w.key("entries");
  w.begin_array();
  for (const Entry& e : m.entries) encode_entry(w, e);
  w.end_array();
  w.string("cursor", m.cursor);
  w.boolean("done", m.done);
  w.u64("upto", m.upto);
}
bool decode_fields(Reader& r, CatchupChunk* m) {
  return r.u64("req", &m->req) && r.entries("entries", &m->entries) &&
         r.optional_string("cursor", &m->cursor) && r.boolean("done", &m->done) &&
         r.u64("upto", &m->upto);
}

void encode_fields(JsonWriter& w, const CatchupApplied& m) {
  w.u64("req", m.req);
}
bool decode_fields(Reader& r, CatchupApplied* m) {
  return r.u64("req", &m->req);
}

void encode_fields(JsonWriter& w, const Discard& m) {
  w.key("ranges");
  encode_ranges(w, m.ranges);
}
bool decode_fields(Reader& r, Discard* m) {
  return r.ranges("ranges", &m->ranges);
}

void encode_fields(JsonWriter&, const StatusRequest&) {}
bool decode_fields(Reader&, StatusRequest*) {
  return true;
}

void encode_fields(JsonWriter& w, const StatusReply& m) {
  w.key("body");
  w.raw(m.body.dump(-1, ' ', false, json::error_handler_t::replace));
}
bool decode_fields(Reader& r, StatusReply* m) {
  return r.body("body", &m->body);
}

// ---------------------------------------------------------------------------

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

}  // namespace

std::string_view type_name(const Message& m) {
  return kTypeNames[m.index()];
}

std::string_view status_name(Status s) {
  auto i = static_cast<std::size_t>(s);
  return i < kStatusNames.size() ? kStatusNames[i] : "invalid_status";
}

void encode_ranges(JsonWriter& w, const std::vector<LsnRange>& ranges) {
  w.begin_array();
  for (const LsnRange& range : ranges) {
    w.begin_object();
    w.u64("after", range.after);
    w.u64("upto", range.upto);
    w.end_object();
  }
  w.end_array();
}

std::string encode_message(const Message& m) {
  std::string out;
  JsonWriter w(&out);
  w.begin_object();
  w.string("type", type_name(m));
  std::visit([&w](const auto& message) { encode_fields(w, message); }, m);
  w.end_object();
  return out;
}

std::optional<Message> decode_message(std::string_view text, std::string* error) {
  MessageFields doc;
  std::string parse_error;
  if (!parse_message_fields(text, &doc, &parse_error)) {
    set_error(error, "invalid JSON: " + printable(without_exception_id(parse_error)));
    return std::nullopt;
  }
  if (doc.root != FieldKind::kObject) {
    set_error(error, "message must be a JSON object");
    return std::nullopt;
  }
  const FieldValue* type = find_field(doc.fields, "type");
  if (type == nullptr || type->kind != FieldKind::kString) {
    set_error(error, type == nullptr ? "message has no 'type' field"
                                     : "message field 'type' must be a string");
    return std::nullopt;
  }
  const std::string& name = type->text;
  for (std::size_t i = 0; i < kTypeNames.size(); i++) {
    if (name != kTypeNames[i]) continue;
    Message m;
    Reader reader(doc.fields, kTypeNames[i], error, &doc);
    if (!kDecoders[i](reader, &m)) return std::nullopt;
    return m;
  }
  set_error(error, "unknown message type \"" + printable(name) + "\"");
  return std::nullopt;
}

}  // namespace kvs
