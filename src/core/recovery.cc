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
  auto parsed = read_wal(log, log_name);
  if (auto* error = std::get_if<RecoveryError>(&parsed)) return std::move(*error);
  auto& recovered = std::get<RecoveredLog>(parsed);
  for (WalRecord& r : recovered.records) out.replica.apply_record(std::move(r));
  out.log_records = recovered.records.size();
  out.log_valid_bytes = recovered.valid_bytes;
  out.log_dropped_bytes = recovered.dropped_bytes;
  return out;
}

}  // namespace kvs
