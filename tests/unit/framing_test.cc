#include "core/framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kvs {
namespace {

std::string header(std::uint32_t length) {
  return {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
          static_cast<char>(length >> 8), static_cast<char>(length)};
}

// Drains every complete message; fails the test on a decoder error.
std::vector<Message> drain(FrameDecoder& decoder) {
  std::vector<Message> out;
  Message m;
  std::string error;
  for (;;) {
    FrameDecoder::Result r = decoder.next(&m, &error);
    if (r == FrameDecoder::Result::kNeedMore) return out;
    EXPECT_EQ(r, FrameDecoder::Result::kMessage) << error;
    if (r != FrameDecoder::Result::kMessage) return out;
    out.push_back(m);
  }
}

const std::vector<Message> kMessages = {
    Hello{"client", 1, "c1", ""},
    Request{1, Op::kPut, "k", "v", 0},
    Write{Entry{1, "k", std::string(300, 'x')}, 0},
    CatchupChunk{2, {Entry{1, "a", "b"}}, "a", true, 1},
    StatusRequest{},
};

std::string stream_of(const std::vector<Message>& messages) {
  std::string s;
  for (const Message& m : messages) s += encode_frame(m);
  return s;
}

TEST(Framing, FrameIsBigEndianLengthThenMessage) {
  const Message m = Ping{5};
  const std::string body = encode_message(m);
  EXPECT_EQ(encode_frame(m), header(static_cast<std::uint32_t>(body.size())) + body);
  const Message big = Write{Entry{1, "k", std::string(70000, 'v')}, 0};
  const std::string frame = encode_frame(big);
  EXPECT_EQ(frame.substr(0, 4), header(static_cast<std::uint32_t>(frame.size() - 4)));
}

TEST(Framing, WholeStreamAtOnce) {
  FrameDecoder decoder;
  decoder.feed(stream_of(kMessages));
  EXPECT_EQ(drain(decoder), kMessages);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(Framing, SplitAtEveryByteBoundary) {
  const std::string stream = stream_of(kMessages);
  for (std::size_t cut = 0; cut <= stream.size(); cut++) {
    FrameDecoder decoder;
    decoder.feed(std::string_view(stream).substr(0, cut));
    std::vector<Message> got = drain(decoder);
    decoder.feed(std::string_view(stream).substr(cut));
    for (Message& m : drain(decoder)) got.push_back(std::move(m));
    ASSERT_EQ(got, kMessages) << "cut at " << cut;
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(Framing, OneByteAtATime) {
  const std::string stream = stream_of(kMessages);
  FrameDecoder decoder;
  std::vector<Message> got;
  for (char ch : stream) {
    decoder.feed(std::string_view(&ch, 1));
    for (Message& m : drain(decoder)) got.push_back(std::move(m));
  }
  EXPECT_EQ(got, kMessages);
}

TEST(Framing, LongStreamInOddPieces) {
  std::vector<Message> sent;
  for (std::uint64_t i = 1; i <= 5000; i++) sent.push_back(Write{Entry{i, "k", "v"}, i - 1});
  const std::string stream = stream_of(sent);
  FrameDecoder decoder;
  std::vector<Message> got;
  for (std::size_t at = 0; at < stream.size(); at += 37) {
    decoder.feed(std::string_view(stream).substr(at, 37));
    for (Message& m : drain(decoder)) got.push_back(std::move(m));
    EXPECT_LT(decoder.buffered_bytes(), 37u + 100u);
  }
  EXPECT_EQ(got, sent);
}

TEST(Framing, NeedMoreUntilHeaderAndBodyArrive) {
  const std::string frame = encode_frame(Ack{3});
  FrameDecoder decoder;
  Message m;
  std::string error;
  decoder.feed(frame.substr(0, 3));
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kNeedMore);
  EXPECT_EQ(decoder.buffered_bytes(), 3u);
  decoder.feed(frame.substr(3, frame.size() - 4));
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kNeedMore);
  decoder.feed(frame.substr(frame.size() - 1));
  ASSERT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kMessage);
  EXPECT_EQ(m, Message(Ack{3}));
}

TEST(Framing, OversizedHeaderRefusedBeforeBody) {
  FrameDecoder decoder(1024);
  decoder.feed(header(1025));
  Message m;
  std::string error;
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error, "frame of 1025 bytes exceeds the limit of 1024");
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  // Failed for good: later bytes, even a valid frame, are not buffered or decoded.
  decoder.feed(encode_frame(Ping{1}));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  error.clear();
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error, "frame of 1025 bytes exceeds the limit of 1024");
}

TEST(Framing, HugeHeaderWithDefaultLimit) {
  FrameDecoder decoder;
  decoder.feed(header(0xFFFFFFFF) + "{");
  Message m;
  std::string error;
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_NE(error.find("exceeds the limit"), std::string::npos);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(Framing, FrameOfExactlyTheLimitIsAccepted) {
  const Message msg = Write{Entry{1, "k", "value"}, 0};
  const std::size_t size = encode_message(msg).size();
  FrameDecoder exact(size);
  exact.feed(encode_frame(msg));
  EXPECT_EQ(drain(exact), std::vector<Message>{msg});

  FrameDecoder small(size - 1);
  small.feed(encode_frame(msg));
  Message m;
  std::string error;
  EXPECT_EQ(small.next(&m, &error), FrameDecoder::Result::kError);
}

TEST(Framing, EmptyFrameIsAnError) {
  FrameDecoder decoder;
  decoder.feed(header(0) + encode_frame(Ping{1}));
  Message m;
  std::string error;
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error, "empty frame");
}

TEST(Framing, BadMessageFailsTheStream) {
  FrameDecoder decoder;
  const std::string junk = R"({"type":"nope"})";
  decoder.feed(encode_frame(Ping{1}) + header(static_cast<std::uint32_t>(junk.size())) + junk +
               encode_frame(Ping{2}));
  Message m;
  std::string error;
  ASSERT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kMessage);
  EXPECT_EQ(m, Message(Ping{1}));
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error, "bad message: unknown message type \"nope\"");
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error, "bad message: unknown message type \"nope\"");
}

TEST(Framing, InvalidUtf8InFrameIsAnError) {
  FrameDecoder decoder;
  const std::string body = "{\"type\":\"welcome\",\"id\":\"\xff\"}";
  decoder.feed(header(static_cast<std::uint32_t>(body.size())) + body);
  Message m;
  std::string error;
  EXPECT_EQ(decoder.next(&m, &error), FrameDecoder::Result::kError);
  EXPECT_EQ(error.rfind("bad message: invalid JSON", 0), 0u) << error;
}

}  // namespace
}  // namespace kvs
