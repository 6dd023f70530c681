// Fuzz target: the write-ahead log and snapshot readers (src/core/wal.h) and recovery
// (src/core/recovery.h) on any bytes.
// Input: byte 0 holds options: bit 0 "fix checksums" (each line "XXXXXXXX payload" gets
// the right crc32c in its first 8 bytes, so the fuzzer reaches the payload decoder
// instead of stopping at the checksum), bit 1 "recover with a snapshot", bits 2..7
// where the bytes are split into snapshot and log for recover(). The rest: the bytes.
// Invariants (read_wal):
//  * an error names the file, a non-empty reason and an offset inside the bytes at the
//    start of a line, and the bytes before that offset read cleanly;
//  * otherwise valid_bytes + dropped_bytes == size, the valid prefix is whole lines,
//    one record per line; reading just the valid prefix gives the same records and no
//    torn tail; reading just the dropped tail gives no record and drops all of it;
//  * a torn tail that ends in a newline becomes mid-log corruption at valid_bytes once
//    an intact record is appended after it (a torn write is only ever at the end);
//  * the records re-encode (encode_wal_record) to a log that reads back to the same
//    records with nothing dropped.
// Invariants (read_snapshot): an error names the file and an offset within the bytes;
// a snapshot read whole is its records plus a final end line: without that line it is
// a clean log of the same records, and encode_snapshot of them reads back to them.
// Invariants (recover): it fails exactly when reading the snapshot or the log fails,
// naming that file; else its counts and byte lengths are read_wal's/read_snapshot's,
// its state is those records applied in order, and that state written as a snapshot
// (what compaction does) recovers to the same state.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crc32c.h"
#include "core/recovery.h"
#include "core/replica.h"
#include "core/wal.h"
#include "fuzz_check.h"

namespace {

using kvs::RecoveredLog;
using kvs::RecoveryError;
using kvs::WalRecord;

void fix_checksums(std::string* bytes) {
  constexpr char kHex[] = "0123456789abcdef";
  std::size_t start = 0;
  while (start < bytes->size()) {
    std::size_t end = bytes->find('\n', start);
    if (end == std::string::npos) end = bytes->size();
    if (end - start >= 9 && (*bytes)[start + 8] == ' ') {
      const std::uint32_t crc =
          kvs::crc32c(std::string_view(*bytes).substr(start + 9, end - start - 9));
      for (std::size_t i = 0; i < 8; i++) (*bytes)[start + i] = kHex[(crc >> (28 - 4 * i)) & 0xf];
    }
    start = end + 1;
  }
}

std::size_t count_lines(std::string_view s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

bool at_line_start(std::string_view s, std::size_t offset) {
  return offset == 0 || (offset <= s.size() && s[offset - 1] == '\n');
}

void check_error(const RecoveryError& e, std::string_view name, std::size_t size) {
  FUZZ_CHECK(e.file == name, "an error names the file");
  FUZZ_CHECK(!e.reason.empty(), "an error says why");
  FUZZ_CHECK(e.offset <= size, "an error's offset is inside the bytes");
  FUZZ_CHECK(e.describe().rfind(std::string(name) + ": corrupt record at byte ", 0) == 0,
             "describe() starts with the file name");
}

void check_log(std::string_view bytes) {
  auto result = kvs::read_wal(bytes, "log");
  if (const auto* e = std::get_if<RecoveryError>(&result)) {
    check_error(*e, "log", bytes.size());
    FUZZ_CHECK(e->offset < bytes.size(), "a log error points at a byte of the log");
    FUZZ_CHECK(at_line_start(bytes, e->offset), "a log error points at the start of a line");
    auto before = kvs::read_wal(bytes.substr(0, e->offset), "log");
    const auto* clean = std::get_if<RecoveredLog>(&before);
    FUZZ_CHECK(clean != nullptr && clean->valid_bytes == e->offset && clean->dropped_bytes == 0,
               "the bytes before a log error read cleanly");
    return;
  }
  const RecoveredLog& log = std::get<RecoveredLog>(result);
  FUZZ_CHECK(log.valid_bytes <= bytes.size(), "valid_bytes <= size");
  const std::string_view valid = bytes.substr(0, log.valid_bytes);
  std::string_view tail = bytes.substr(log.valid_bytes);
  // The rest is a torn tail, or zeros (preallocated space) and nothing else.
  if (log.dropped_bytes == 0) {
    FUZZ_CHECK(tail.find_first_not_of('\0') == std::string_view::npos,
               "past the valid prefix of a log without a torn tail are only zeros");
    tail = {};
  }
  FUZZ_CHECK(log.valid_bytes + log.dropped_bytes == log.valid_bytes + tail.size(),
             "valid + dropped == size, unless the rest is zeros");
  FUZZ_CHECK(at_line_start(bytes, log.valid_bytes), "the valid prefix is whole lines");
  FUZZ_CHECK(count_lines(valid) == log.records.size(), "one record per line of the valid prefix");

  auto prefix = kvs::read_wal(valid, "log");
  const auto* p = std::get_if<RecoveredLog>(&prefix);
  FUZZ_CHECK(p != nullptr && p->records == log.records && p->valid_bytes == valid.size() &&
                 p->dropped_bytes == 0,
             "the valid prefix alone reads to the same records, nothing dropped");
  if (!tail.empty()) {
    auto torn = kvs::read_wal(tail, "log");
    const auto* t = std::get_if<RecoveredLog>(&torn);
    FUZZ_CHECK(t != nullptr && t->records.empty() && t->valid_bytes == 0 &&
                   t->dropped_bytes == tail.size(),
               "the torn tail alone holds no record");
    if (tail.back() == '\n') {
      const std::string extended =
          std::string(bytes) + kvs::encode_wal_record(kvs::MarkRecord{log.records.size()});
      auto after = kvs::read_wal(extended, "log");
      const auto* e = std::get_if<RecoveryError>(&after);
      FUZZ_CHECK(e != nullptr && e->offset == log.valid_bytes,
                 "an intact record after a torn tail makes it corruption at valid_bytes");
    }
  }

  std::string reencoded;
  for (const WalRecord& r : log.records) reencoded += kvs::encode_wal_record(r);
  auto again = kvs::read_wal(reencoded, "log");
  const auto* a = std::get_if<RecoveredLog>(&again);
  FUZZ_CHECK(a != nullptr && a->records == log.records && a->valid_bytes == reencoded.size() &&
                 a->dropped_bytes == 0,
             "re-encoded records read back to the same records");
}

void check_snapshot(std::string_view bytes) {
  auto result = kvs::read_snapshot(bytes, "snap");
  if (const auto* e = std::get_if<RecoveryError>(&result)) {
    check_error(*e, "snap", bytes.size());
    return;
  }
  const auto& records = std::get<kvs::Snapshot>(result).records;
  const std::uint64_t first_log = std::get<kvs::Snapshot>(result).first_log;
  FUZZ_CHECK(first_log >= 1, "a snapshot's first log is at least 1");
  FUZZ_CHECK(!bytes.empty() && bytes.back() == '\n', "a snapshot ends with a whole line");
  const std::size_t last_line = bytes.rfind('\n', bytes.size() - 2);
  const std::string_view body =
      bytes.substr(0, last_line == std::string_view::npos ? 0 : last_line + 1);
  FUZZ_CHECK(count_lines(body) == records.size(), "a snapshot is one line per record + an end");
  auto as_log = kvs::read_wal(body, "log");
  const auto* l = std::get_if<RecoveredLog>(&as_log);
  FUZZ_CHECK(l != nullptr && l->records == records && l->dropped_bytes == 0,
             "a snapshot without its end line is a clean log of its records");
  const std::string rewritten = kvs::encode_snapshot(records, first_log);
  auto again = kvs::read_snapshot(rewritten, "snap");
  const auto* r = std::get_if<kvs::Snapshot>(&again);
  FUZZ_CHECK(r != nullptr && r->records == records && r->first_log == first_log,
             "encode_snapshot of the records reads back");
}

void check_recover(std::optional<std::string_view> snapshot, std::string_view log) {
  std::optional<std::vector<WalRecord>> snap_records;
  std::uint64_t first_log = 1;
  if (snapshot) {
    auto s = kvs::read_snapshot(*snapshot, "snap");
    if (const auto* e = std::get_if<RecoveryError>(&s)) {
      auto result = kvs::recover(snapshot, "snap", {kvs::LogFile{1, "log", log}});
      const auto* re = std::get_if<RecoveryError>(&result);
      FUZZ_CHECK(re != nullptr && re->file == "snap" && re->offset == e->offset,
                 "recover fails on a bad snapshot, naming it");
      return;
    }
    snap_records = std::get<kvs::Snapshot>(s).records;
    first_log = std::get<kvs::Snapshot>(s).first_log;
  }
  // The log the snapshot says comes next, and a stale one before it (not replayed).
  std::vector<kvs::LogFile> logs{kvs::LogFile{first_log, "log", log}};
  if (first_log > 1) logs.push_back(kvs::LogFile{first_log - 1, "stale", "garbage"});
  auto result = kvs::recover(snapshot, "snap", logs);
  auto w = kvs::read_wal(log, "log");
  if (const auto* e = std::get_if<RecoveryError>(&w)) {
    const auto* re = std::get_if<RecoveryError>(&result);
    FUZZ_CHECK(re != nullptr && re->file == "log" && re->offset == e->offset,
               "recover fails on a bad log, naming it");
    return;
  }
  const RecoveredLog& wal = std::get<RecoveredLog>(w);
  const auto* rec = std::get_if<kvs::Recovered>(&result);
  FUZZ_CHECK(rec != nullptr, "recover succeeds when snapshot and log read cleanly");
  FUZZ_CHECK(rec->snapshot_records == (snap_records ? snap_records->size() : 0) &&
                 rec->log_records == wal.records.size() &&
                 rec->log_valid_bytes == wal.valid_bytes &&
                 rec->log_dropped_bytes == wal.dropped_bytes &&
                 rec->stale_logs.size() == (first_log > 1 ? 1u : 0u),
             "recover's counts are the readers'");
  kvs::Replica model;
  if (snap_records) {
    for (const WalRecord& r : *snap_records) model.apply_record(r);
  }
  for (const WalRecord& r : wal.records) model.apply_record(r);
  const std::vector<WalRecord> state = rec->replica.to_records();
  FUZZ_CHECK(state == model.to_records() && rec->replica.complete() == model.complete(),
             "recover's state is the records applied in order");

  // Compaction: the state as a snapshot, with an empty log, recovers to the same state.
  const std::string compacted = kvs::encode_snapshot(state, first_log + 1);
  auto after = kvs::recover(std::string_view(compacted), "snap", {});
  const auto* c = std::get_if<kvs::Recovered>(&after);
  FUZZ_CHECK(c != nullptr && c->replica.to_records() == state &&
                 c->replica.complete() == rec->replica.complete(),
             "a compacted state recovers to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t options = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (options & 1) fix_checksums(&bytes);

  check_log(bytes);
  check_snapshot(bytes);

  // recover(): the bytes split at a line boundary near the chosen fraction.
  std::size_t split = bytes.size() * (options >> 2) / 63;
  if (split > 0) {
    const std::size_t nl = bytes.find('\n', split - 1);
    split = nl == std::string::npos ? bytes.size() : nl + 1;
  }
  const std::string_view all(bytes);
  if (options & 2) {
    check_recover(all.substr(0, split), all.substr(split));
  } else {
    check_recover(std::nullopt, all);
  }
  return 0;
}
