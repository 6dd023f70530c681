#include "core/recovery.h"

#include <utility>
#include <vector>

namespace kvs {

std::variant<Recovered, RecoveryError> recover(std::optional<std::string_view> snapshot,
                                               std::string_view snapshot_name, std::string_view log,
                                               std::string_view log_name) {
  Recovered out;
  if (snapshot) {
    auto parsed = read_snapshot(*snapshot, snapshot_name);
    if (auto* error = std::get_if<RecoveryError>(&parsed)) return std::move(*error);
    auto& records = std::get<std::vector<WalRecord>>(parsed);
    out.snapshot_records = records.size();
    for (WalRecord& r : records) out.replica.apply_record(std::move(r));
  }

  // The log holds what was appended after the snapshot, in arrival order.
  auto replayed =
      replay_wal(log, log_name, [&out](WalRecord&& r) { out.replica.apply_record(std::move(r)); });
  if (auto* error = std::get_if<RecoveryError>(&replayed)) return std::move(*error);
  const auto& extent = std::get<LogExtent>(replayed);
  out.log_records = extent.records;
  out.log_valid_bytes = extent.valid_bytes;
  out.log_dropped_bytes = extent.dropped_bytes;
  return out;
}

}  // namespace kvs
