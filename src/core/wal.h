// On-disk record format of the write-ahead log and of snapshots (pure: bytes in,
// bytes out; the backends do the file I/O).
//
// Every record is one line:  <crc32c of payload, 8 lowercase hex digits> <payload JSON>\n
// payload is {"t":"put","lsn":N,"k":KEY,"v":VALUE}   one replicated write
//         or {"t":"mark","complete":N}                 every write <= N is in the state
//         or {"t":"discard","after":A,"upto":B}        versions A+1..B are void (frontend restart)
//         or {"t":"end","records":N,"first_log":G}     last line of a snapshot
// Modeled on LevelDB's log format: a record cut off at the end of the file is a clean
// end (the writer died mid-write); damage anywhere else is corruption with an offset.
// Log files are preallocated, so a log may end in zero bytes: unused space, not damage.
//
// A data directory holds one snapshot and numbered logs (wal-000001.log, ...): the
// snapshot holds everything in the logs numbered below its first_log, and recovery
// replays the logs from first_log on, in order. So a node can start a new log, write
// the snapshot of everything before it, and keep appending meanwhile (LevelDB's log
// number in its MANIFEST works the same way).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/messages.h"
#include "core/types.h"

namespace kvs {

struct MarkRecord {
  Lsn complete = 0;
  bool operator==(const MarkRecord&) const = default;
};

// Drops every version in (range.after, range.upto]: those LSNs were handed out by a
// frontend that then restarted, and were never committed (see Replica::discard).
struct DiscardRecord {
  LsnRange range;
  bool operator==(const DiscardRecord&) const = default;
};

using WalRecord = std::variant<Entry, MarkRecord, DiscardRecord>;

std::string encode_wal_record(const WalRecord& r);

struct RecoveredLog {
  std::vector<WalRecord> records;
  std::size_t valid_bytes = 0;    // the log should be truncated to this length
  std::size_t dropped_bytes = 0;  // torn tail bytes past valid_bytes (0 if clean)
};

struct RecoveryError {
  std::string file;
  std::size_t offset = 0;  // byte offset of the first damaged record
  std::string reason;
  std::string describe() const;  // "FILE: corrupt record at byte OFFSET: REASON"
};

struct LogExtent {
  std::size_t records = 0;        // records passed to the sink
  std::size_t valid_bytes = 0;    // the log should be truncated to this length
  std::size_t dropped_bytes = 0;  // torn tail bytes past valid_bytes (0 if clean)
};

using RecordSink = std::function<void(WalRecord&&)>;

// Reads a log, handing each record to sink in order as it is read (a log may hold
// millions: recovery applies them without holding them all). Zero bytes from a record
// boundary to the end are preallocated space: the log ends there (valid_bytes). A
// damaged or incomplete final stretch with no valid record after it is a torn tail:
// reported in dropped_bytes, not an error. A damaged record followed by any valid record is
// mid-log corruption: an error naming file and offset (records before it were sunk).
std::variant<LogExtent, RecoveryError> replay_wal(std::string_view bytes,
                                                  std::string_view file_name,
                                                  const RecordSink& sink);
// replay_wal into a vector.
std::variant<RecoveredLog, RecoveryError> read_wal(std::string_view bytes,
                                                   std::string_view file_name);

// The fast way decode_payload reads a put record written by encode_wal_record when its
// key and value need no JSON escapes. False (out unspecified) for any other payload,
// which the general decoder then reads. Exposed for the test that the two agree.
bool decode_plain_put(std::string_view payload, Entry* out);

// The file name of log number n: "wal-000042.log" (six digits at least, so they sort).
std::string log_file_name(std::uint64_t number);
// The number of a log file name; nullopt for any other name.
std::optional<std::uint64_t> parse_log_file_name(std::string_view name);

// A snapshot is the records of a full state followed by an "end" record naming the
// first log not in it; it is written whole and renamed into place, so any damage or a
// missing end is corruption.
struct Snapshot {
  std::vector<WalRecord> records;
  std::uint64_t first_log = 1;
};
std::string encode_snapshot(const std::vector<WalRecord>& records, std::uint64_t first_log);
std::variant<Snapshot, RecoveryError> read_snapshot(std::string_view bytes,
                                                    std::string_view file_name);

// The frontend's durable state: one record in a file it replaces atomically (written
// with the snapshot machinery), "<crc32c> {"t":"frontend",...}\n". See docs/PROTOCOL.md,
// "Frontend restarts".
struct FrontendState {
  // The last member set: every acknowledged write is on each of these nodes.
  std::vector<std::string> members;
  // No LSN above this was ever handed out.
  Lsn reserved = 0;
  // LSN ranges that earlier runs handed out but never committed; never reused.
  std::vector<LsnRange> discarded;
  bool operator==(const FrontendState&) const = default;
};

std::string encode_frontend_state(const FrontendState& state);

// What a DiskSnapshot writes: a storage node's state (encode_snapshot, with the
// DiskSnapshot's first_log) or the frontend's state record (encode_frontend_state).
// Effects carry it unencoded so that the backend can encode it off the event loop: a
// state of a million keys takes a second to encode.
using SnapshotContent = std::variant<std::vector<WalRecord>, FrontendState>;
std::string encode_snapshot_content(const SnapshotContent& content, std::uint64_t first_log);
std::variant<FrontendState, RecoveryError> read_frontend_state(std::string_view bytes,
                                                               std::string_view file_name);

}  // namespace kvs
