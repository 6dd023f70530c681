#include "sim/sim_disk.h"

#include <algorithm>

namespace kvs::sim {

void SimDisk::sync(std::uint64_t log) {
  auto it = logs_.find(log);
  if (it == logs_.end()) return;
  it->second.durable += it->second.unsynced;
  it->second.unsynced.clear();
}

void SimDisk::truncate_log(std::uint64_t log, std::size_t length) {
  auto it = logs_.find(log);
  if (it == logs_.end()) return;
  std::string all = it->second.durable + it->second.unsynced;
  all.resize(std::min(length, all.size()));
  it->second.durable = std::move(all);
  it->second.unsynced.clear();
}

std::size_t SimDisk::crash(Prng& rng, Ppm torn_ppm) {
  std::size_t kept = 0;
  for (auto& [number, file] : logs_) {
    if (!file.unsynced.empty() && rng.chance(torn_ppm)) {
      const auto n = static_cast<std::size_t>(rng.range(0, file.unsynced.size()));
      file.durable.append(file.unsynced, 0, n);
      kept += n;
    }
    file.unsynced.clear();
  }
  // snapshot.tmp is synced before it is renamed, so it survives as it is; recovery
  // removes it.
  return kept;
}

bool SimDisk::flip_bit(Prng& rng) {
  // Records are lines; every line but the last durable one of a log has an intact line
  // after it. Candidates: (log, offset of the line start, length without the newline).
  struct Candidate {
    std::string* bytes;
    std::size_t start, length;
  };
  std::vector<Candidate> candidates;
  for (auto& [number, file] : logs_) {
    std::string& d = file.durable;
    std::vector<std::size_t> starts;  // offsets of line starts
    for (std::size_t pos = 0; pos < d.size();) {
      starts.push_back(pos);
      const std::size_t nl = d.find('\n', pos);
      if (nl == std::string::npos) break;
      pos = nl + 1;
    }
    for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
      if (d.find('\n', starts[i + 1]) == std::string::npos) continue;
      candidates.push_back({&d, starts[i], starts[i + 1] - 1 - starts[i]});
    }
  }
  if (candidates.empty()) {
    // Any damage to a snapshot is corruption: it is written whole and renamed.
    if (!snapshot_ || snapshot_->empty()) return false;
    const std::size_t at = rng.below(snapshot_->size());
    (*snapshot_)[at] = static_cast<char>((*snapshot_)[at] ^ (1u << rng.below(8)));
    return true;
  }
  const Candidate& c = candidates[rng.below(candidates.size())];
  // Any byte of the line but its newline, so the line boundaries stay where they are.
  const std::size_t at = c.start + rng.below(c.length);
  (*c.bytes)[at] = static_cast<char>((*c.bytes)[at] ^ (1u << rng.below(8)));
  return true;
}

std::vector<LogFile> SimDisk::durable_logs() const {
  std::vector<LogFile> out;
  for (const auto& [number, file] : logs_) {
    out.push_back(LogFile{number, log_file_name(number), file.durable});
  }
  return out;
}

std::string SimDisk::log(std::uint64_t number) const {
  auto it = logs_.find(number);
  return it == logs_.end() ? "" : it->second.durable + it->second.unsynced;
}

std::string SimDisk::durable_log(std::uint64_t number) const {
  auto it = logs_.find(number);
  return it == logs_.end() ? "" : it->second.durable;
}

std::vector<std::uint64_t> SimDisk::log_numbers() const {
  std::vector<std::uint64_t> out;
  for (const auto& [number, file] : logs_) out.push_back(number);
  return out;
}

std::size_t SimDisk::unsynced_bytes() const {
  std::size_t n = 0;
  for (const auto& [number, file] : logs_) n += file.unsynced.size();
  return n;
}

}  // namespace kvs::sim
