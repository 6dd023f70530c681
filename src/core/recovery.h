// Rebuilds a node's Replica from its snapshot and numbered logs (see wal.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/replica.h"
#include "core/wal.h"

namespace kvs {

// Where a storage node appends next, and how many bytes of log it has written since
// its last snapshot (compaction starts when that exceeds snapshot_bytes).
struct LogPosition {
  std::uint64_t number = 1;  // the log appended to: log_file_name(number)
  std::uint64_t bytes = 0;   // valid bytes in the logs the snapshot does not hold
};

// One log file found in the data directory.
struct LogFile {
  std::uint64_t number = 0;
  std::string name;  // for error messages: the path
  std::string_view bytes;
};

struct Recovered {
  Replica replica;
  LogPosition position;
  std::size_t log_valid_bytes = 0;    // the last log's: truncate it to this if it is longer
  std::size_t log_dropped_bytes = 0;  // torn tail found at the end of the last log
  std::size_t log_records = 0;
  std::size_t snapshot_records = 0;
  std::vector<std::uint64_t> stale_logs;  // held by the snapshot already: delete them
};

// snapshot: the snapshot file's bytes if it exists; logs: every log file found, in any
// order. Logs below the snapshot's first_log are stale (a compaction ended before it
// deleted them); the others must run from first_log without a gap, and only the last
// may end in a torn write. Errors name the file and offset.
std::variant<Recovered, RecoveryError> recover(std::optional<std::string_view> snapshot,
                                               std::string_view snapshot_name,
                                               std::vector<LogFile> logs);

}  // namespace kvs
