#include "core/framing.h"

#include <cstdint>
#include <utility>

namespace kvs {
namespace {

// A connection that once carried a large frame should not keep its buffer forever.
constexpr std::size_t kRetainedBufferBytes = 64 * 1024;

}  // namespace

std::string encode_frame(const Message& m) {
  const std::string body = encode_message(m);
  const auto length = static_cast<std::uint32_t>(body.size());
  std::string frame;
  frame.reserve(kFrameHeaderBytes + body.size());
  frame.push_back(static_cast<char>(length >> 24));
  frame.push_back(static_cast<char>(length >> 16));
  frame.push_back(static_cast<char>(length >> 8));
  frame.push_back(static_cast<char>(length));
  frame += body;
  return frame;
}

void FrameDecoder::feed(std::string_view bytes) {
  if (!error_.empty()) return;  // the stream is beyond repair; keep nothing
  if (consumed_ == buffer_.size()) {
    if (buffer_.capacity() > kRetainedBufferBytes) {
      std::string().swap(buffer_);
    } else {
      buffer_.clear();
    }
    consumed_ = 0;
  } else if (consumed_ * 2 >= buffer_.size()) {
    // Moving the live bytes costs no more than the bytes consumed since the last move,
    // so compaction stays linear in the stream length.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

FrameDecoder::Result FrameDecoder::next(Message* out, std::string* error) {
  if (!error_.empty()) {
    if (error != nullptr) *error = error_;
    return Result::kError;
  }
  auto fail = [&](std::string why) {
    error_ = std::move(why);
    std::string().swap(buffer_);
    consumed_ = 0;
    if (error != nullptr) *error = error_;
    return Result::kError;
  };

  const std::size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return Result::kNeedMore;
  const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  const std::size_t length = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) |
                             (std::size_t{header[2]} << 8) | std::size_t{header[3]};
  if (length == 0) return fail("empty frame");
  if (length > max_frame_bytes_) {
    return fail("frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                std::to_string(max_frame_bytes_));
  }
  if (available - kFrameHeaderBytes < length) return Result::kNeedMore;

  std::string_view body(buffer_.data() + consumed_ + kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  std::string why;
  std::optional<Message> message = decode_message(body, &why);
  if (!message) return fail("bad message: " + why);
  *out = std::move(*message);
  return Result::kMessage;
}

}  // namespace kvs
