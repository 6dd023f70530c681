// Fuzz target: the RESP2 request parser (src/core/resp.h) and one Redis connection's
// session (src/core/resp_session.h) on any byte stream.
// Input: byte 0 chooses how the stream is cut into pieces (fuzz_check.h); byte 1 the
// parser limits (the defaults or tiny ones), whether the session requires AUTH and
// how many replies it may owe; the rest is what the client sent.
// Invariants:
//  * however the stream is cut, the parser yields the same commands in the same order
//    and ends the same way: the same error, or waiting with the same bytes buffered;
//  * every command has at least one argument; an error starts "Protocol error: " and is
//    sticky (next() repeats it, later bytes are ignored);
//  * the commands, written back as RESP arrays (what redis-cli sends), parse to the
//    same commands with nothing left over;
//  * a RespSession fed the stream whole or in those pieces sends the frontend the same
//    messages and the client the same reply bytes, and closes the same way.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/resp.h"
#include "core/resp_session.h"
#include "fuzz_check.h"

namespace {

using kvs::RespParser;
using Command = std::vector<std::string>;

struct Outcome {
  std::vector<Command> commands;
  RespParser::Result end = RespParser::Result::kNeedMore;
  std::string error;
  std::size_t buffered = 0;
};

void drain(RespParser* p, Outcome* o) {
  if (o->end == RespParser::Result::kError) return;
  for (;;) {
    Command args;
    std::string error;
    const RespParser::Result r = p->next(&args, &error);
    if (r == RespParser::Result::kCommand) {
      FUZZ_CHECK(!args.empty(), "a command has at least one argument");
      o->commands.push_back(std::move(args));
      continue;
    }
    o->end = r;
    if (r == RespParser::Result::kError) {
      FUZZ_CHECK(error.rfind("Protocol error: ", 0) == 0 && error.size() > 16,
                 "a parse error is \"Protocol error: REASON\"");
      o->error = error;
    }
    return;
  }
}

bool same(const Outcome& a, const Outcome& b) {
  return a.commands == b.commands && a.end == b.end && a.error == b.error &&
         a.buffered == b.buffered;
}

struct SessionLog {
  std::vector<kvs::Message> to_frontend;
  std::string reply;
  bool close = false;
  void add(kvs::RespSession::Output& out) {
    for (auto& m : out.to_frontend) to_frontend.push_back(std::move(m));
    reply += out.reply;
    close = close || out.close;
    out = {};
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<kvs::fuzz::Steered> in = kvs::fuzz::steer(data, size);
  if (!in) return 0;
  const std::uint8_t seed = in->seed;
  const std::uint8_t options = in->options;
  const std::string_view stream = in->stream;
  kvs::RespLimits limits;
  if (options & 1)
    limits = {.max_args = 3, .max_bulk_bytes = 8, .max_request_bytes = 12, .max_inline_bytes = 10};

  RespParser whole(limits);
  Outcome expected;
  whole.feed(stream);
  drain(&whole, &expected);
  expected.buffered = whole.buffered_bytes();

  RespParser cut(limits);
  Outcome got;
  kvs::fuzz::for_each_piece(seed, stream, [&](std::string_view piece) {
    cut.feed(piece);
    drain(&cut, &got);
  });
  got.buffered = cut.buffered_bytes();
  FUZZ_CHECK(same(got, expected), "the parser's result is independent of the chunking");

  if (expected.end == RespParser::Result::kError) {
    whole.feed("PING\r\n");
    Command args;
    std::string error;
    FUZZ_CHECK(whole.next(&args, &error) == RespParser::Result::kError, "a parse error is sticky");
    FUZZ_CHECK(error == expected.error, "the sticky error is the same");
  }

  // The commands as a client library would send them.
  std::string resent;
  for (const Command& c : expected.commands) {
    kvs::append_array_header(&resent, c.size());
    for (const std::string& arg : c) kvs::append_bulk(&resent, arg);
  }
  constexpr std::size_t kHuge = std::size_t{1} << 30;
  RespParser again(kvs::RespLimits{kHuge, kHuge, kHuge, kHuge});
  again.feed(resent);
  Outcome reparsed;
  drain(&again, &reparsed);
  reparsed.buffered = again.buffered_bytes();
  FUZZ_CHECK(reparsed.commands == expected.commands && reparsed.buffered == 0 &&
                 reparsed.end == RespParser::Result::kNeedMore,
             "commands written back as RESP arrays parse to the same commands");

  // One RESP connection, fed the stream whole and in pieces.
  kvs::RespOptions session_options;
  session_options.limits = limits;
  if ((options & 2) != 0) session_options.secret = "secret";  // the password the seeds use
  session_options.max_pending = (options & 4) ? 2 : 1024;
  kvs::RespSession a(7, session_options), b(7, session_options);
  SessionLog log_a, log_b;
  kvs::RespSession::Output out;
  // The frontend's challenge arrives first, so the session's Hello and requests flow.
  const kvs::Message challenge = kvs::Challenge{std::string(64, 'c')};
  a.start(&out);
  a.on_message(challenge, &out);
  log_a.add(out);
  a.on_bytes(stream, &out);
  log_a.add(out);
  b.start(&out);
  b.on_message(challenge, &out);
  log_b.add(out);
  kvs::fuzz::for_each_piece(seed, stream, [&](std::string_view piece) {
    b.on_bytes(piece, &out);
    log_b.add(out);
  });
  FUZZ_CHECK(log_a.to_frontend == log_b.to_frontend,
             "a RESP session sends the frontend the same messages however the stream is cut");
  FUZZ_CHECK(log_a.reply == log_b.reply,
             "a RESP session replies the same bytes however the stream is cut");
  FUZZ_CHECK(log_a.close == log_b.close, "a RESP session closes the same way");
  FUZZ_CHECK(a.wants_input() == b.wants_input(), "a RESP session ends in the same state");
  return 0;
}
