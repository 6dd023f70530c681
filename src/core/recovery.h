// Rebuilds a node's Replica from its snapshot and log bytes.
#pragma once

#include <optional>
#include <string_view>
#include <variant>

#include "core/replica.h"
#include "core/wal.h"

namespace kvs {

struct Recovered {
  Replica replica;
  std::size_t log_valid_bytes = 0;    // truncate the log to this length before appending
  std::size_t log_dropped_bytes = 0;  // torn tail found (and to be cut)
  std::size_t log_records = 0;
  std::size_t snapshot_records = 0;
};

// snapshot: the snapshot file's bytes if it exists. Errors name the file and offset.
std::variant<Recovered, RecoveryError> recover(std::optional<std::string_view> snapshot,
                                               std::string_view snapshot_name, std::string_view log,
                                               std::string_view log_name);

}  // namespace kvs
