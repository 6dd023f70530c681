// Writes compact JSON straight into a string. The encoders of messages and log records
// know their fields, so building an nlohmann DOM first would only cost allocations
// (it more than doubled encode time). Output is byte for byte what nlohmann's
// dump() writes; invalid UTF-8 becomes U+FFFD, so writing never fails.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kvs {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }

  // An object member's name; the next call writes its value.
  void key(std::string_view name);

  void string(std::string_view s);
  void u64(std::uint64_t v);
  void i64(std::int64_t v);
  void boolean(bool b);
  // A value that is already JSON text.
  void raw(std::string_view json);

  // An object member: key(name), then the value.
  void string(std::string_view name, std::string_view s) {
    key(name);
    string(s);
  }
  void u64(std::string_view name, std::uint64_t v) {
    key(name);
    u64(v);
  }
  void i64(std::string_view name, std::int64_t v) {
    key(name);
    i64(v);
  }
  void boolean(std::string_view name, bool b) {
    key(name);
    boolean(b);
  }

 private:
  void separate() {
    if (!first_) *out_ += ',';
    first_ = false;
  }
  void open(char bracket) {
    separate();
    *out_ += bracket;
    first_ = true;
  }
  void close(char bracket) {
    *out_ += bracket;
    first_ = false;
  }

  std::string* out_;
  bool first_ = true;  // no comma before the next value
};

}  // namespace kvs
