#include "core/recovery.h"

#include <algorithm>
#include <utility>

namespace kvs {

std::variant<Recovered, RecoveryError> recover(std::optional<std::string_view> snapshot,
                                               std::string_view snapshot_name,
                                               std::vector<LogFile> logs) {
  Recovered out;
  std::uint64_t first_log = 1;
  if (snapshot) {
    auto parsed = read_snapshot(*snapshot, snapshot_name);
    if (auto* error = std::get_if<RecoveryError>(&parsed)) return std::move(*error);
    auto& snap = std::get<Snapshot>(parsed);
    out.snapshot_records = snap.records.size();
    first_log = snap.first_log;
    for (WalRecord& r : snap.records) out.replica.apply_record(std::move(r));
  }

  std::sort(logs.begin(), logs.end(),
            [](const LogFile& a, const LogFile& b) { return a.number < b.number; });
  out.position.number = first_log;
  std::uint64_t expected = first_log;
  for (std::size_t i = 0; i < logs.size(); ++i) {
    const LogFile& log = logs[i];
    if (log.number < first_log) {
      out.stale_logs.push_back(log.number);
      continue;
    }
    // A missing log would silently drop the writes it held.
    if (log.number != expected) {
      return RecoveryError{log.name, 0,
                           "log " + log_file_name(expected) + " is missing (the " +
                               (snapshot ? "snapshot holds logs below " + std::to_string(first_log)
                                         : std::string("first log is 1, and there is no "
                                                       "snapshot")) +
                               "), so writes it held would be lost"};
    }
    ++expected;
    auto replayed = replay_wal(log.bytes, log.name,
                               [&out](WalRecord&& r) { out.replica.apply_record(std::move(r)); });
    if (auto* error = std::get_if<RecoveryError>(&replayed)) return std::move(*error);
    const auto& extent = std::get<LogExtent>(replayed);
    const bool last = i + 1 == logs.size();
    // A log is closed only after its last append was synced: a torn write can only be
    // at the end of the newest one.
    if (extent.dropped_bytes > 0 && !last) {
      return RecoveryError{log.name, extent.valid_bytes,
                           "damaged record at the end of a log that a newer log follows"};
    }
    out.log_records += extent.records;
    out.position.number = log.number;
    out.position.bytes += extent.valid_bytes;
    out.log_valid_bytes = extent.valid_bytes;
    out.log_dropped_bytes = extent.dropped_bytes;
  }
  return out;
}

}  // namespace kvs
