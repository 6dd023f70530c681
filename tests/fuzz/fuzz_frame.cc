// Fuzz target: FrameDecoder (src/core/framing.h) on any byte stream.
// Input: byte 0 chooses how the stream is cut into pieces (fuzz_check.h), byte 1 the
// frame size limit and whether the reader drains after each piece or takes at most
// one message; the rest is the stream.
// Invariants:
//  * however the stream is cut, the decoder yields the same messages in the same order
//    and ends the same way: the same error, or waiting with the same bytes buffered;
//  * an error is non-empty and sticky: next() repeats it, later bytes are dropped;
//  * every message frame costs at least 5 bytes of the stream;
//  * every decoded message re-frames (encode_frame) to one frame that decodes, alone,
//    to an equal message, leaving nothing buffered.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/framing.h"
#include "fuzz_check.h"

namespace {

using kvs::FrameDecoder;
using kvs::Message;

struct Outcome {
  std::vector<Message> messages;
  FrameDecoder::Result end = FrameDecoder::Result::kNeedMore;
  std::string error;
  std::size_t buffered = 0;
};

// Takes messages until the decoder waits or fails (or `limit` messages were taken).
void take(FrameDecoder* d, Outcome* o, std::size_t limit) {
  if (o->end == FrameDecoder::Result::kError) return;
  for (std::size_t i = 0; i < limit; ++i) {
    Message m;
    std::string error;
    const FrameDecoder::Result r = d->next(&m, &error);
    if (r == FrameDecoder::Result::kMessage) {
      o->messages.push_back(std::move(m));
      continue;
    }
    o->end = r;
    if (r == FrameDecoder::Result::kError) {
      FUZZ_CHECK(!error.empty(), "a frame error says why");
      o->error = error;
    }
    return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<kvs::fuzz::Steered> in = kvs::fuzz::steer(data, size);
  if (!in) return 0;
  const std::uint8_t seed = in->seed;
  const std::uint8_t options = in->options;
  const std::string_view stream = in->stream;
  constexpr std::size_t kLimits[] = {kvs::kDefaultMaxFrameBytes, 16, 64, 300};
  const std::size_t limit = kLimits[options % 4];
  const bool drain = (options & 4) == 0;

  FrameDecoder whole(limit);
  Outcome expected;
  whole.feed(stream);
  take(&whole, &expected, SIZE_MAX);
  expected.buffered = whole.buffered_bytes();

  FrameDecoder cut(limit);
  Outcome got;
  kvs::fuzz::for_each_piece(seed, stream, [&](std::string_view piece) {
    cut.feed(piece);
    take(&cut, &got, drain ? SIZE_MAX : 1);
  });
  take(&cut, &got, SIZE_MAX);
  got.buffered = cut.buffered_bytes();

  FUZZ_CHECK(got.messages.size() == expected.messages.size(), "same number of messages");
  for (std::size_t i = 0; i < got.messages.size(); ++i) {
    FUZZ_CHECK(got.messages[i] == expected.messages[i], "same messages in the same order");
  }
  FUZZ_CHECK(got.end == expected.end, "the stream ends the same way however it is cut");
  FUZZ_CHECK(got.error == expected.error, "the same error however the stream is cut");
  FUZZ_CHECK(got.buffered == expected.buffered, "the same bytes left buffered");
  FUZZ_CHECK(expected.messages.size() * (kvs::kFrameHeaderBytes + 1) <= stream.size(),
             "every frame costs at least 5 bytes");

  if (expected.end == FrameDecoder::Result::kError) {
    FUZZ_CHECK(expected.buffered == 0, "a failed decoder keeps nothing");
    whole.feed(stream.substr(0, 16));
    Message m;
    std::string error;
    FUZZ_CHECK(whole.next(&m, &error) == FrameDecoder::Result::kError, "the error is sticky");
    FUZZ_CHECK(error == expected.error, "the sticky error is the same");
    FUZZ_CHECK(whole.buffered_bytes() == 0, "bytes after an error are dropped");
  } else {
    FUZZ_CHECK(expected.buffered <= stream.size(), "buffered bytes come from the stream");
  }

  for (const Message& m : expected.messages) {
    const std::string frame = kvs::encode_frame(m);
    FrameDecoder d;
    d.feed(frame);
    Message again;
    std::string error;
    FUZZ_CHECK(d.next(&again, &error) == FrameDecoder::Result::kMessage,
               "a re-framed message decodes");
    FUZZ_CHECK(again == m, "a re-framed message decodes to an equal message");
    FUZZ_CHECK(d.next(&again, &error) == FrameDecoder::Result::kNeedMore, "one frame, one message");
    FUZZ_CHECK(d.buffered_bytes() == 0, "a re-framed message is consumed whole");
  }
  return 0;
}
