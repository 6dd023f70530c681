#include "core/message_fields.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>

namespace kvs {
namespace {

// Every field name a decoder in messages.cc reads. A name missing here would always read as
// absent: the round-trip tests of every message catch that.
constexpr std::array<std::string_view, 32> kFieldNames = {
    "after",     "at",         "body",    "code",   "commit", "complete", "cursor", "detail",
    "done",      "done_below", "entries", "entry",  "found",  "id",       "key",    "lsn",
    "max_bytes", "message",    "nonce",   "op",     "proof",  "ranges",   "req",    "resume",
    "role",      "seq",        "state",   "status", "type",   "upto",     "value",  "version"};

constexpr int kUnknownField = -1;

// Names are looked up for every key of every message: an open-addressing hash table of the
// known names (its slot from the length and the first and last characters) finds one with
// a single string comparison, where a binary search took five (13% of decoding a write).
constexpr std::size_t kSlots = 128;

constexpr std::size_t first_slot(std::string_view name) {
  return (name.size() * 37 + static_cast<unsigned char>(name.front()) * 7 +
          static_cast<unsigned char>(name.back())) %
         kSlots;
}

constexpr std::array<std::int8_t, kSlots> kNameTable = [] {
  std::array<std::int8_t, kSlots> table{};
  table.fill(kUnknownField);
  for (std::size_t i = 0; i < kFieldNames.size(); i++) {
    std::size_t slot = first_slot(kFieldNames[i]);
    while (table[slot] != kUnknownField) slot = (slot + 1) % kSlots;
    table[slot] = static_cast<std::int8_t>(i);
  }
  return table;
}();

constexpr int field_index(std::string_view name) {
  if (name.empty()) return kUnknownField;
  for (std::size_t slot = first_slot(name); kNameTable[slot] != kUnknownField;
       slot = (slot + 1) % kSlots) {
    if (kFieldNames[kNameTable[slot]] == name) return kNameTable[slot];
  }
  return kUnknownField;
}

constexpr int kBodyField = field_index("body");
static_assert([] {
  for (std::size_t i = 0; i < kFieldNames.size(); i++) {
    if (field_index(kFieldNames[i]) != static_cast<int>(i)) return false;
  }
  return field_index("x") == kUnknownField && field_index("types") == kUnknownField;
}());

using json = nlohmann::json;

// The SAX handler. It never stops the parse early (only a parse error does), so invalid
// JSON anywhere in the text is reported as such, before any field is looked at, as when
// the whole text was parsed into a document first.
class FieldCollector final : public nlohmann::json_sax<json> {
 public:
  explicit FieldCollector(MessageFields* out) : out_(out) {}

  const std::string& error() const { return error_; }

  bool null() override {
    if (Where w = scalar(FieldKind::kNull); w.body) body_->null();
    return true;
  }
  bool boolean(bool value) override {
    Where w = scalar(FieldKind::kBoolean);
    if (w.body) body_->boolean(value);
    if (w.value != nullptr) w.value->boolean = value;
    return true;
  }
  bool number_integer(number_integer_t value) override {
    Where w = scalar(FieldKind::kSigned);
    if (w.body) body_->number_integer(value);
    if (w.value != nullptr) w.value->number = static_cast<std::uint64_t>(value);
    return true;
  }
  bool number_unsigned(number_unsigned_t value) override {
    Where w = scalar(FieldKind::kUnsigned);
    if (w.body) body_->number_unsigned(value);
    if (w.value != nullptr) w.value->number = value;
    return true;
  }
  bool number_float(number_float_t value, const string_t& text) override {
    if (Where w = scalar(FieldKind::kFloat); w.body) body_->number_float(value, text);
    return true;
  }
  bool string(string_t& value) override {
    Where w = scalar(FieldKind::kString);
    if (w.body) body_->string(value);
    // Moved out of the lexer's buffer (which it clears before the next token), and then
    // into the message: no copy after the lexer's own.
    if (w.value != nullptr) w.value->text = std::move(value);
    return true;
  }
  bool binary(binary_t&) override { return true; }  // not in JSON text

  bool start_object(std::size_t) override { return start(FieldKind::kObject); }
  bool start_array(std::size_t) override { return start(FieldKind::kArray); }
  bool end_object() override { return end(FieldKind::kObject); }
  bool end_array() override { return end(FieldKind::kArray); }

  bool key(string_t& name) override {
    if (skip_depth_ > 0) return true;
    if (body_) return body_->key(name);
    next_ = nullptr;
    next_name_ = field_index(name);
    if (next_name_ == kUnknownField) return true;
    FieldList& fields = *open_[open_count_ - 1].fields;
    const auto name_index = static_cast<std::uint8_t>(next_name_);
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const Field& f) { return f.name == name_index; });
    if (it != fields.end()) {
      it->value = FieldValue{};  // a repeated name: the last value counts
      next_ = &it->value;
    } else {
      next_ = &fields.emplace_back(Field{name_index, {}}).value;
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = e.what();
    return false;
  }

 private:
  // A container being filled: an object's fields, or an array's elements.
  struct Open {
    FieldList* fields = nullptr;
    FieldValue* array = nullptr;
  };

  // Where a value goes: into a kept field (value), into the body document (body), or
  // nowhere.
  struct Where {
    FieldValue* value = nullptr;
    bool body = false;
  };

  Where scalar(FieldKind kind) {
    if (skip_depth_ > 0) return {};
    if (body_) return {nullptr, true};
    FieldValue* value = place(kind);
    if (value != nullptr) value->kind = kind;
    return {value, false};
  }

  // The field that takes the value about to start, or nullptr. An array keeps its
  // elements up to the first that is no object, where its reader stops.
  FieldValue* place(FieldKind kind) {
    if (open_count_ == 0) {
      out_->root = kind;
      return nullptr;
    }
    const Open& top = open_[open_count_ - 1];
    if (top.fields != nullptr) return std::exchange(next_, nullptr);
    if (!top.array->non_object && kind != FieldKind::kObject) top.array->non_object = true;
    return nullptr;
  }

  bool start(FieldKind kind) {
    if (skip_depth_ > 0) {
      skip_depth_++;
      return true;
    }
    if (body_) {
      body_depth_++;
      return kind == FieldKind::kObject ? body_->start_object(static_cast<std::size_t>(-1))
                                        : body_->start_array(static_cast<std::size_t>(-1));
    }
    const bool is_body = open_count_ == 1 && next_name_ == kBodyField && next_ != nullptr;
    const bool root = open_count_ == 0;
    if (root && kind == FieldKind::kObject) {
      out_->root = kind;
      out_->fields.reserve(8);  // room for any message's fields
      open_[open_count_++] = {&out_->fields, nullptr};
      return true;
    }
    // An element of a kept array: kept if it is an object and no other came before.
    if (!root && open_[open_count_ - 1].array != nullptr) {
      FieldValue& array = *open_[open_count_ - 1].array;
      if (kind == FieldKind::kObject && !array.non_object) {
        FieldList& element = array.objects.emplace_back();
        element.reserve(3);  // an entry's or a range's fields
        open_[open_count_++] = {&element, nullptr};
        return true;
      }
      array.non_object = true;
      skip_depth_ = 1;
      return true;
    }
    FieldValue* value = place(kind);
    if (value != nullptr) value->kind = kind;
    if (value != nullptr && is_body) {
      out_->body = json();
      body_.emplace(out_->body);
      body_depth_ = 0;
      return start(kind);
    }
    if (value != nullptr && open_count_ == 1) {  // a field of the top-level object
      if (kind == FieldKind::kObject) value->object.reserve(3);
      open_[open_count_++] =
          kind == FieldKind::kObject ? Open{&value->object, nullptr} : Open{nullptr, value};
      return true;
    }
    skip_depth_ = 1;
    return true;
  }

  bool end(FieldKind kind) {
    if (skip_depth_ > 0) {
      skip_depth_--;
      return true;
    }
    if (body_) {
      if (kind == FieldKind::kObject) {
        body_->end_object();
      } else {
        body_->end_array();
      }
      if (--body_depth_ == 0) body_.reset();
      return true;
    }
    open_count_--;
    return true;
  }

  MessageFields* out_;
  std::string error_;
  // Containers being filled, outermost first: the top-level object, one of its fields'
  // object or array, an element object of that array.
  std::array<Open, 3> open_{};
  int open_count_ = 0;
  FieldValue* next_ = nullptr;  // the field whose value comes next (after a key)
  int next_name_ = kUnknownField;
  std::size_t skip_depth_ = 0;  // > 0: inside a structure no decoder reads
  // The body, built whole: its depth is checked when it is read (a repeated name inside
  // it can replace a part too deep by one that is not, so no part can be dropped early).
  std::optional<nlohmann::detail::json_sax_dom_parser<json>> body_;
  std::size_t body_depth_ = 0;
};

}  // namespace

bool parse_message_fields(std::string_view text, MessageFields* out, std::string* error) {
  FieldCollector collector(out);
  if (json::sax_parse(text.begin(), text.end(), &collector)) return true;
  *error = collector.error();
  return false;
}

FieldValue* find_field(FieldList& fields, std::string_view name) {
  const int index = field_index(name);
  for (Field& f : fields) {
    if (f.name == index) return &f.value;
  }
  return nullptr;
}

}  // namespace kvs
