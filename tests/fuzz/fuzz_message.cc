// Fuzz target: decode_message / encode_message (src/core/messages.h) on any text.
// Invariants:
//  * decoding never throws; it gives a message or a non-empty, short, printable error;
//  * a decoded message re-encodes (without throwing) to text that decodes to an equal
//    message, and that text is a fixed point: encoding the re-decoded message gives
//    the same bytes;
//  * the encoding is a JSON object whose "type" is the message's type_name.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/messages.h"
#include "fuzz_check.h"

namespace {

bool short_printable(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  for (char ch : s) {
    if (ch < 0x20 || ch > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<kvs::Message> m = kvs::decode_message(text, &error);
  if (!m) {
    FUZZ_CHECK(short_printable(error), "a refused message has a short printable error");
    return 0;
  }
  const std::string encoded = kvs::encode_message(*m);
  const std::string type_field = "{\"type\":\"" + std::string(kvs::type_name(*m)) + "\"";
  FUZZ_CHECK(encoded.rfind(type_field, 0) == 0, "the encoding starts with its type field");
  std::string error2;
  const std::optional<kvs::Message> again = kvs::decode_message(encoded, &error2);
  FUZZ_CHECK(again.has_value(), "a re-encoded message decodes");
  FUZZ_CHECK(*again == *m, "a re-encoded message decodes to an equal message");
  FUZZ_CHECK(kvs::encode_message(*again) == encoded, "encoding is a fixed point");
  return 0;
}
