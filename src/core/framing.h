// Wire framing: a 4-byte big-endian length, then one JSON message of that length.
// The only framing in the project; both backends and the tests use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/messages.h"

namespace kvs {

constexpr std::size_t kFrameHeaderBytes = 4;
constexpr std::size_t kDefaultMaxFrameBytes = 4 * 1024 * 1024;

// Length prefix + encode_message(m).
std::string encode_frame(const Message& m);

// Splits a byte stream, fed in arbitrary pieces, into messages. After an error the
// decoder stays failed (the connection is beyond repair) and returns the same error.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  void feed(std::string_view bytes);

  enum class Result { kMessage, kNeedMore, kError };
  // kMessage: *out holds the next message. kError: *error says why (a frame longer
  // than the maximum is refused from its header, before anything is allocated).
  Result next(Message* out, std::string* error);

  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::string error_;
};

}  // namespace kvs
