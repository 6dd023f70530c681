#include "sim/sim_disk.h"

#include <algorithm>
#include <vector>

namespace kvs::sim {

void SimDisk::truncate_log(std::size_t length) {
  std::string all = log();
  all.resize(std::min(length, all.size()));
  durable_ = std::move(all);
  unsynced_.clear();
}

std::size_t SimDisk::crash(Prng& rng, Ppm torn_ppm) {
  std::size_t kept = 0;
  if (!unsynced_.empty() && rng.chance(torn_ppm)) {
    kept = static_cast<std::size_t>(rng.range(0, unsynced_.size()));
    durable_.append(unsynced_, 0, kept);
  }
  unsynced_.clear();
  // snapshot.tmp is synced before it is renamed, so it survives as it is; recovery
  // removes it.
  return kept;
}

bool SimDisk::flip_bit(Prng& rng) {
  // Records are lines; every line but the last durable one has an intact line after it.
  std::vector<std::size_t> starts;  // offsets of line starts
  std::size_t pos = 0;
  while (pos < durable_.size()) {
    starts.push_back(pos);
    std::size_t nl = durable_.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  // Need a complete line followed by at least one more complete line.
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    const std::size_t next_end = durable_.find('\n', starts[i + 1]);
    if (next_end != std::string::npos) candidates.push_back(i);
  }
  if (candidates.empty()) {
    // Any damage to a snapshot is corruption: it is written whole and renamed.
    if (!snapshot_ || snapshot_->empty()) return false;
    const std::size_t at = rng.below(snapshot_->size());
    (*snapshot_)[at] = static_cast<char>((*snapshot_)[at] ^ (1u << rng.below(8)));
    return true;
  }
  const std::size_t line = candidates[rng.below(candidates.size())];
  // Any byte of the line but its newline, so the line boundaries stay where they are.
  const std::size_t length = starts[line + 1] - 1 - starts[line];
  const std::size_t at = starts[line] + rng.below(length);
  durable_[at] = static_cast<char>(durable_[at] ^ (1u << rng.below(8)));
  return true;
}

}  // namespace kvs::sim
