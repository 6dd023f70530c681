// Micro benchmark of decode_message (src/core/messages.h) on the messages that dominate
// the wire: a storage write, its ack, a read and its reply, a client put, and a catch-up
// chunk. Not a test (ctest does not run it); docs/ARCHITECTURE.md, decision 13, has the
// numbers and the command.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/messages.h"

namespace {

const std::string kKey(16, 'k');     // 16 B keys
const std::string kValue(100, 'v');  // 100 B values

void decode(benchmark::State& state, const kvs::Message& m) {
  const std::string text = kvs::encode_message(m);
  std::string error;
  for (auto _ : state) {
    auto decoded = kvs::decode_message(text, &error);
    if (!decoded) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

kvs::CatchupChunk chunk_of(std::size_t n) {
  kvs::CatchupChunk chunk{7, {}, kKey, false, 0};
  for (std::size_t i = 0; i < n; i++) chunk.entries.push_back(kvs::Entry{1000 + i, kKey, kValue});
  return chunk;
}

BENCHMARK_CAPTURE(decode, write, kvs::Write{kvs::Entry{123456, kKey, kValue}, 123400});
BENCHMARK_CAPTURE(decode, ack, kvs::Ack{123456});
BENCHMARK_CAPTURE(decode, read, kvs::Read{42, kKey, 123456});
BENCHMARK_CAPTURE(decode, read_reply, kvs::ReadReply{42, true, kValue, 123450});
BENCHMARK_CAPTURE(decode, request_put, kvs::Request{17, kvs::Op::kPut, kKey, kValue, 12});
BENCHMARK_CAPTURE(decode, catchup_chunk_100, chunk_of(100));

}  // namespace

BENCHMARK_MAIN();
