// Properties of the wire codec: messages (src/core/messages.h), their JSON writer
// (json_writer.h) and the frame decoder (framing.h). The codec is all that stands between
// a peer's bytes and the state machines, so it must be exact and unbreakable:
//
//  * Every message of every type survives encode -> decode unchanged, and its encoding
//    holds the fields docs/PROTOCOL.md lists. Any other JSON spelling of it decodes to it
//    too: whitespace, key order, \u escapes, unknown extra fields (which the protocol
//    says are ignored).
//  * The FrameDecoder's output does not depend on how the stream is cut into reads: any
//    cut (empty reads, 1-byte reads, everything at once) and any pace of taking messages
//    yields the messages in order, then kNeedMore with nothing left buffered.
//  * No input crashes it. Arbitrary or damaged bytes give exactly what a straightforward
//    reading of the whole stream gives (read_reference below): valid messages, then a
//    sticky error or a wait for more. Frames before a damaged byte are delivered intact.
//    decode_message gives a whole message or a short printable error; invalid UTF-8
//    anywhere in a message is an error.
//  * A frame longer than max_frame_bytes is refused from its 4-byte header alone, and a
//    frame of exactly the limit is accepted.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/framing.h"
#include "core/messages.h"
#include "message_gen.h"

namespace kvs {
namespace {

using json = nlohmann::json;
using Result = FrameDecoder::Result;
using testgen::list_up_to;

std::string header(std::uint32_t length) {
  return {static_cast<char>(length >> 24), static_cast<char>(length >> 16),
          static_cast<char>(length >> 8), static_cast<char>(length)};
}

std::string stream_of(const std::vector<Message>& messages) {
  std::string stream;
  for (const Message& m : messages) stream += encode_frame(m);
  return stream;
}

// decode(encode(m)) == m.
bool round_trips(const Message& m) {
  std::string error;
  const std::optional<Message> decoded = decode_message(encode_message(m), &error);
  return decoded.has_value() && *decoded == m;
}

bool is_short_printable_ascii(const std::string& text) {
  return text.size() <= 256 &&
         std::all_of(text.begin(), text.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; });
}

// ---- reading a stream -------------------------------------------------------

// How a stream is cut into reads, and how many messages the reader takes after each
// read before reading again. Both lists are used cyclically.
struct ChunkPlan {
  static constexpr int kDrain = -1;  // take until kNeedMore or kError
  std::vector<std::size_t> lengths;  // 0: an empty read
  std::vector<int> takes;            // next() calls after a read, or kDrain
};

constexpr std::size_t kWhole = std::numeric_limits<std::size_t>::max();  // the rest

void showValue(const ChunkPlan& plan, std::ostream& os) {
  os << "reads of [";
  for (std::size_t n : plan.lengths) os << (n == kWhole ? "all" : std::to_string(n)) << " ";
  os << "] bytes, taking [";
  for (int n : plan.takes) os << (n == ChunkPlan::kDrain ? "all" : std::to_string(n)) << " ";
  os << "] messages after each";
}

rc::Gen<ChunkPlan> chunk_plan() {
  const auto length = rc::gen::weightedOneOf<std::size_t>({
      {2, rc::gen::just<std::size_t>(0)},
      {4, rc::gen::just<std::size_t>(1)},
      {3, rc::gen::inRange<std::size_t>(2, 16)},
      {2, rc::gen::inRange<std::size_t>(16, 600)},
  });
  const auto lengths = rc::gen::weightedOneOf<std::vector<std::size_t>>({
      {1, rc::gen::just(std::vector<std::size_t>{1})},       // byte by byte
      {1, rc::gen::just(std::vector<std::size_t>{kWhole})},  // all at once
      {6, list_up_to<std::vector<std::size_t>>(20, length)},
  });
  const auto take = rc::gen::weightedOneOf<int>(
      {{3, rc::gen::just(ChunkPlan::kDrain)}, {2, rc::gen::inRange(0, 3)}});
  return rc::gen::map(rc::gen::pair(lengths, list_up_to<std::vector<int>>(6, take)),
                      [](std::pair<std::vector<std::size_t>, std::vector<int>> p) {
                        ChunkPlan plan{std::move(p.first), std::move(p.second)};
                        if (plan.lengths.empty()) plan.lengths.push_back(kWhole);
                        if (plan.takes.empty()) plan.takes.push_back(ChunkPlan::kDrain);
                        return plan;
                      });
}

// What a reader got from a FrameDecoder.
struct Outcome {
  std::vector<Message> messages;
  bool failed = false;
  std::string error;
  std::size_t buffered = 0;  // buffered_bytes() at the end
};

// Feeds stream to a FrameDecoder as plan says and checks the decoder's contract on every
// call: next() gives kMessage, kNeedMore or kError; a message is a valid one; an error
// has a reason, keeps nothing buffered, and stays, with the same reason, through later
// feeds and calls. At the end the decoder waits for more (or stays failed).
Outcome read_stream(std::string_view stream, const ChunkPlan& plan, std::size_t max_frame_bytes) {
  FrameDecoder decoder(max_frame_bytes);
  Outcome out;
  auto take = [&](int limit) {
    for (int i = 0; limit == ChunkPlan::kDrain || i < limit; i++) {
      Message m;
      std::string error;
      const Result r = decoder.next(&m, &error);
      if (r == Result::kNeedMore) {
        RC_ASSERT(!out.failed);
        return;
      }
      if (r == Result::kError) {
        RC_ASSERT(!error.empty());
        if (out.failed) RC_ASSERT(error == out.error);
        out.failed = true;
        out.error = error;
        RC_ASSERT(decoder.buffered_bytes() == 0u);
        return;
      }
      RC_ASSERT(r == Result::kMessage);
      RC_ASSERT(!out.failed);
      RC_ASSERT(round_trips(m));
      out.messages.push_back(std::move(m));
    }
  };
  const bool all_empty =
      std::all_of(plan.lengths.begin(), plan.lengths.end(), [](std::size_t n) { return n == 0; });
  std::size_t pos = 0;
  for (std::size_t read = 0; pos < stream.size(); read++) {
    std::size_t length = plan.lengths[read % plan.lengths.size()];
    if (all_empty) length = 1;  // make progress
    length = std::min(length, stream.size() - pos);
    decoder.feed(stream.substr(pos, length));
    pos += length;
    take(plan.takes[read % plan.takes.size()]);
  }
  take(ChunkPlan::kDrain);
  take(ChunkPlan::kDrain);  // the final state is stable
  out.buffered = decoder.buffered_bytes();
  return out;
}

// The framing spec read straight off the whole stream: frames one after another, each a
// 4-byte big-endian length and that many bytes of one message. A length of 0 or above
// the limit, or a body that is not a message, ends it with an error; an incomplete last
// frame waits for more.
struct Reference {
  std::vector<Message> messages;
  bool failed = false;
  std::size_t consumed = 0;  // bytes of the frames delivered
};

Reference read_reference(std::string_view stream, std::size_t max_frame_bytes) {
  Reference ref;
  while (stream.size() - ref.consumed >= 4) {
    std::size_t length = 0;
    for (int i = 0; i < 4; i++) {
      length = length << 8 | static_cast<unsigned char>(stream[ref.consumed + i]);
    }
    if (length == 0 || length > max_frame_bytes) {
      ref.failed = true;
      return ref;
    }
    if (stream.size() - ref.consumed - 4 < length) return ref;
    std::string error;
    std::optional<Message> m = decode_message(stream.substr(ref.consumed + 4, length), &error);
    if (!m) {
      ref.failed = true;
      return ref;
    }
    ref.messages.push_back(std::move(*m));
    ref.consumed += 4 + length;
  }
  return ref;
}

// Reads stream as plan says and checks the result against the reference reading, and
// the error against the one of a decoder given the whole stream at once.
Outcome read_and_check(std::string_view stream, const ChunkPlan& plan,
                       std::size_t max_frame_bytes) {
  const Outcome out = read_stream(stream, plan, max_frame_bytes);
  const Reference ref = read_reference(stream, max_frame_bytes);
  RC_ASSERT(out.messages == ref.messages);
  RC_ASSERT(out.failed == ref.failed);
  if (out.failed) {
    const ChunkPlan at_once{{kWhole}, {ChunkPlan::kDrain}};
    RC_ASSERT(out.error == read_stream(stream, at_once, max_frame_bytes).error);
  } else {
    RC_ASSERT(out.buffered == stream.size() - ref.consumed);
  }
  return out;
}

// ---- damage and junk --------------------------------------------------------

// One byte flipped, inserted or removed at position `where` (taken modulo the length).
struct Damage {
  enum Kind { kFlip, kInsert, kRemove } kind = kFlip;
  std::uint32_t where = 0;
  unsigned char byte = 1;  // xor mask of a flip (never 0), or the inserted byte
};

void showValue(const Damage& d, std::ostream& os) {
  static constexpr const char* kNames[] = {"flip", "insert", "remove"};
  os << kNames[d.kind] << " at " << d.where << " byte " << int{d.byte};
}

rc::Gen<Damage> damage() {
  return rc::gen::apply(
      [](Damage::Kind kind, std::uint32_t where, int byte) {
        return Damage{kind, where, static_cast<unsigned char>(byte)};
      },
      rc::gen::element(Damage::kFlip, Damage::kInsert, Damage::kRemove),
      rc::gen::arbitrary<std::uint32_t>(), rc::gen::inRange(1, 256));
}

// Applies d to *s; returns the offset of the damage (nothing before it changed).
std::size_t apply(const Damage& d, std::string* s) {
  if (d.kind == Damage::kInsert) {
    const std::size_t at = d.where % (s->size() + 1);
    s->insert(s->begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(d.byte));
    return at;
  }
  if (s->empty()) return 0;
  const std::size_t at = d.where % s->size();
  if (d.kind == Damage::kFlip) {
    (*s)[at] = static_cast<char>((*s)[at] ^ d.byte);
  } else {
    s->erase(at, 1);
  }
  return at;
}

// Sequences that are not UTF-8 wherever they are inserted into UTF-8 text: bytes that
// never occur, lone continuations, overlong forms, surrogates, above U+10FFFF, and
// sequences cut short.
// clang-format off
const std::vector<std::string> kInvalidUtf8 = {
    "\xff", "\xfe", "\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xed\xa0\x80",
    "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xf0\x9f\x98", "\xc3"};
// clang-format on

const std::vector<std::string> kFieldNames = {
    "type",   "role",      "version", "id",    "proof",      "nonce",  "code",   "message",
    "seq",    "op",        "key",     "value", "done_below", "status", "detail", "complete",
    "state",  "entry",     "commit",  "lsn",   "req",        "found",  "at",     "after",
    "cursor", "max_bytes", "entries", "done",  "upto",       "body"};

// JSON-ish text: tokens of the protocol's JSON in any order.
rc::Gen<std::string> token_soup() {
  // clang-format off
  static const std::vector<std::string> kTokens = {
      "{", "}", "[", "]", ":", ",", " ", "\"", "\\", "\\u", "\\ud800", "\\u00e9", "0", "-1",
      "1.5", "1e999", "18446744073709551616", "true", "null", "\"type\"", "\"hello\"",
      "\"write\"", "\"entries\"", "\"key\"", "\"x\"", "\xc3\xa9", "\xff"};
  // clang-format on
  return rc::gen::map(list_up_to<std::vector<std::string>>(30, rc::gen::elementOf(kTokens)),
                      [](const std::vector<std::string>& tokens) {
                        std::string text;
                        for (const std::string& t : tokens) text += t;
                        return text;
                      });
}

// A message's JSON with one field removed, retyped or added: missing and mistyped fields.
rc::Gen<std::string> mistyped_message() {
  return rc::gen::apply(
      [](const Message& m, int what, const std::string& name, const json& value) {
        json doc = json::parse(encode_message(m));
        json* target = &doc;
        if (doc.contains("entry") && what % 2 == 0) target = &doc["entry"];
        if (what < 2) {
          target->erase(name);
        } else {
          (*target)[name] = value;
        }
        return doc.dump();
      },
      rc::gen::arbitrary<Message>(), rc::gen::inRange(0, 4), rc::gen::elementOf(kFieldNames),
      testgen::json_value(2));
}

// A status body nested depth levels deep, around the codec's depth limit and far past it.
rc::Gen<std::string> deep_status_reply() {
  return rc::gen::apply(
      [](int depth, bool arrays) {
        std::string body = arrays ? "{\"x\":" : "";
        for (int i = 0; i < depth; i++) body += arrays ? "[" : "{\"a\":";
        body += "1";
        for (int i = 0; i < depth; i++) body += arrays ? "]" : "}";
        if (arrays) body += "}";
        return R"({"type":"status_reply","body":)" + body + "}";
      },
      rc::gen::weightedOneOf<int>({{3, rc::gen::inRange(55, 75)}, {1, rc::gen::inRange(0, 3000)}}),
      rc::gen::arbitrary<bool>());
}

// Candidate message bodies: junk, near misses of valid messages, and valid messages.
rc::Gen<std::string> message_text() {
  const auto bytes = list_up_to<std::string>(60, rc::gen::arbitrary<char>());
  const auto damaged = rc::gen::apply(
      [](const Message& m, const std::vector<Damage>& damages, std::uint32_t keep) {
        std::string text = encode_message(m);
        for (const Damage& d : damages) apply(d, &text);
        if (keep % 4 == 0) text.resize(keep / 4 % (text.size() + 1));  // cut short
        return text;
      },
      rc::gen::arbitrary<Message>(),
      rc::gen::mapcat(
          rc::gen::inRange<std::size_t>(1, 4),
          [](std::size_t n) { return rc::gen::container<std::vector<Damage>>(n, damage()); }),
      rc::gen::arbitrary<std::uint32_t>());
  const auto invalid_utf8 = rc::gen::apply(
      [](const Message& m, const std::string& bad, std::uint32_t where) {
        std::string text = encode_message(m);
        text.insert(where % (text.size() + 1), bad);
        return text;
      },
      rc::gen::arbitrary<Message>(), rc::gen::elementOf(kInvalidUtf8),
      rc::gen::arbitrary<std::uint32_t>());
  return rc::gen::weightedOneOf<std::string>({
      {2, bytes},
      {3, damaged},
      {2, token_soup()},
      {3, mistyped_message()},
      {1, deep_status_reply()},
      {1, invalid_utf8},
      {2, rc::gen::map(rc::gen::arbitrary<Message>(), encode_message)},
  });
}

// A byte stream a hostile or broken peer might send: valid frames, frames of junk,
// headers of any length (0, small, huge) and raw bytes, one after another.
rc::Gen<std::string> hostile_stream() {
  const auto segment = rc::gen::weightedOneOf<std::string>({
      {3, rc::gen::map(rc::gen::arbitrary<Message>(), encode_frame)},
      {3, rc::gen::map(message_text(),
                       [](const std::string& body) {
                         return header(static_cast<std::uint32_t>(body.size())) + body;
                       })},
      {1, rc::gen::map(
              rc::gen::weightedOneOf<std::uint32_t>({{1, rc::gen::just<std::uint32_t>(0)},
                                                     {2, rc::gen::inRange<std::uint32_t>(1, 64)},
                                                     {1, rc::gen::arbitrary<std::uint32_t>()}}),
              header)},
      {1, list_up_to<std::string>(8, rc::gen::arbitrary<char>())},
  });
  return rc::gen::map(list_up_to<std::vector<std::string>>(12, segment),
                      [](const std::vector<std::string>& segments) {
                        std::string stream;
                        for (const std::string& s : segments) stream += s;
                        return stream;
                      });
}

// ---- properties: messages ---------------------------------------------------

RC_GTEST_PROP(Codec, EveryMessageRoundTrips, (const Message& m)) {
  RC_TAG(std::string(type_name(m)));
  const std::string text = encode_message(m);
  std::string error;
  const std::optional<Message> decoded = decode_message(text, &error);
  RC_ASSERT(error.empty());
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(*decoded == m);
  RC_ASSERT(encode_message(*decoded) == text);
  // The encoder writes the fields of docs/PROTOCOL.md (a bug shared by the encoder and
  // the decoder, such as a misspelled field name, would survive the round trip).
  RC_ASSERT(json::parse(text) == json::parse(testgen::protocol_json(m).dump()));
  const std::string frame = encode_frame(m);
  RC_ASSERT(frame == header(static_cast<std::uint32_t>(text.size())) + text);
}

RC_GTEST_PROP(Codec, AnyJsonSpellingOfAMessageDecodesToIt, (const Message& m)) {
  RC_TAG(std::string(type_name(m)));
  json doc = json::parse(encode_message(m));
  // Unknown fields are ignored. The prefix keeps them apart from the message's fields.
  const auto extras = *list_up_to<std::vector<std::pair<std::string, json>>>(
      3, rc::gen::pair(testgen::utf8_string(8), testgen::json_value(2)));
  for (const auto& [name, value] : extras) doc["x-" + name] = value;
  const int indent = *rc::gen::element(-1, 0, 2);
  const bool ascii_only = *rc::gen::arbitrary<bool>();  // \uXXXX for every non-ASCII
  const std::string text = doc.dump(indent, ' ', ascii_only);
  std::string error;
  const std::optional<Message> decoded = decode_message(text, &error);
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(*decoded == m);
}

RC_GTEST_PROP(Codec, AnyTextDecodesToAMessageOrAShortPrintableError, ()) {
  const std::string text = *message_text();
  std::string error;
  const std::optional<Message> m = decode_message(text, &error);
  if (m) {
    RC_TAG(std::string(type_name(*m)));
    RC_ASSERT(round_trips(*m));
  } else {
    RC_TAG("error");
    RC_LOG() << "error: " << error << "\n";
    RC_ASSERT(!error.empty());
    RC_ASSERT(is_short_printable_ascii(error));
  }
}

RC_GTEST_PROP(Codec, InvalidUtf8AnywhereIsAnError, (const Message& m)) {
  const std::string bad = *rc::gen::elementOf(kInvalidUtf8);
  std::string text = encode_message(m);
  text.insert(*rc::gen::inRange<std::size_t>(0, text.size() + 1), bad);
  std::string error;
  RC_ASSERT_FALSE(decode_message(text, &error).has_value());
  RC_ASSERT(!error.empty());
}

// ---- properties: framing ----------------------------------------------------

RC_GTEST_PROP(Framing, AnyChunkingYieldsTheMessagesInOrder, ()) {
  const auto messages = *list_up_to<std::vector<Message>>(20, rc::gen::arbitrary<Message>());
  const ChunkPlan plan = *chunk_plan();
  RC_CLASSIFY(plan.lengths == std::vector<std::size_t>{1}, "byte by byte");
  RC_CLASSIFY(std::count(plan.lengths.begin(), plan.lengths.end(), 0u) > 0, "empty reads");
  const Outcome out = read_and_check(stream_of(messages), plan, kDefaultMaxFrameBytes);
  RC_ASSERT(!out.failed);
  RC_ASSERT(out.messages == messages);
  RC_ASSERT(out.buffered == 0u);
}

RC_GTEST_PROP(Framing, AnyBytesGiveValidMessagesThenAStickyErrorOrAWait, ()) {
  const std::string stream = *hostile_stream();
  const ChunkPlan plan = *chunk_plan();
  const std::size_t max_frame_bytes = *rc::gen::weightedOneOf<std::size_t>(
      {{1, rc::gen::just(kDefaultMaxFrameBytes)}, {1, rc::gen::inRange<std::size_t>(1, 300)}});
  const Outcome out = read_and_check(stream, plan, max_frame_bytes);
  RC_TAG(out.failed ? "error" : "waits");
  RC_CLASSIFY(!out.messages.empty(), "messages");
}

RC_GTEST_PROP(Framing, ADamagedStreamDeliversTheFramesBeforeTheDamage, ()) {
  const auto messages =
      *rc::gen::nonEmpty(list_up_to<std::vector<Message>>(12, rc::gen::arbitrary<Message>()));
  const Damage d = *damage();
  const ChunkPlan plan = *chunk_plan();
  std::string stream = stream_of(messages);
  const std::size_t at = apply(d, &stream);

  const Outcome out = read_and_check(stream, plan, kDefaultMaxFrameBytes);
  std::size_t intact = 0;  // frames wholly before the damage
  for (std::size_t end = 0; intact < messages.size(); intact++) {
    end += encode_frame(messages[intact]).size();
    if (end > at) break;
  }
  RC_TAG(out.failed ? "error" : "waits");
  RC_ASSERT(out.messages.size() >= intact);
  RC_ASSERT(std::equal(messages.begin(), messages.begin() + static_cast<std::ptrdiff_t>(intact),
                       out.messages.begin()));
}

RC_GTEST_PROP(Framing, AnOversizedFrameIsRefusedFromItsHeader, ()) {
  const auto before = *list_up_to<std::vector<Message>>(5, rc::gen::arbitrary<Message>());
  std::size_t largest = 0;
  for (const Message& m : before) largest = std::max(largest, encode_message(m).size());
  const std::size_t max_frame_bytes = largest + *rc::gen::inRange<std::size_t>(1, 2000);
  const std::uint64_t over = *rc::gen::weightedOneOf<std::uint64_t>({
      {1, rc::gen::just<std::uint64_t>(1)},
      {1, rc::gen::inRange<std::uint64_t>(1, 100)},
      {1, rc::gen::inRange<std::uint64_t>(1, 0x100000000 - max_frame_bytes)},
  });
  const auto length = static_cast<std::uint32_t>(max_frame_bytes + over);
  // No byte of the oversized frame's body is ever fed.
  const std::string stream = stream_of(before) + header(length);
  const Outcome out = read_and_check(stream, *chunk_plan(), max_frame_bytes);
  RC_ASSERT(out.messages == before);
  RC_ASSERT(out.failed);
  RC_ASSERT(out.error.find(std::to_string(length)) != std::string::npos);
}

RC_GTEST_PROP(Framing, AFrameOfExactlyTheLimitIsAccepted, (const Message& m)) {
  const std::size_t length = encode_message(m).size();
  const ChunkPlan plan = *chunk_plan();
  const std::string frame = encode_frame(m);
  const Outcome at_limit = read_and_check(frame, plan, length);
  RC_ASSERT(!at_limit.failed);
  RC_ASSERT(at_limit.messages == std::vector<Message>{m});
  const Outcome over_limit = read_and_check(frame.substr(0, 4), plan, length - 1);
  RC_ASSERT(over_limit.failed);
  RC_ASSERT(over_limit.messages.empty());
}

}  // namespace
}  // namespace kvs
