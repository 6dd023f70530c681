#include "sim/sim_storage.h"

#include <utility>

#include "core/recovery.h"

namespace kvs::sim {
namespace {

// Steps of each operation, in order (the real backend's, src/net/disk.cc).
constexpr int kAppendSteps = 2;    // write, fdatasync
constexpr int kSnapshotSteps = 3;  // write+fsync snapshot.tmp, rename+fsync dir, truncate log

}  // namespace

SimStorage::SimStorage(EventQueue* queue, Prng rng, DiskTiming timing)
    : q_(queue), rng_(rng), timing_(timing) {}

void SimStorage::submit(DiskAppend op) {
  queue_.emplace_back(std::move(op));
  start_next();
}

void SimStorage::submit(DiskSnapshot op) {
  queue_.emplace_back(std::move(op));
  start_next();
}

Nanos SimStorage::sync_delay() {
  Nanos d = rng_.nanos(timing_.sync_min, timing_.sync_max);
  if (rng_.chance(timing_.slow_ppm)) d += timing_.slow_extra;
  return d;
}

void SimStorage::start_next() {
  if (busy_ || queue_.empty()) return;
  busy_ = true;
  ++operations_;
  const int steps =
      std::holds_alternative<DiskAppend>(queue_.front()) ? kAppendSteps : kSnapshotSteps;
  fail_at_step_ = -1;
  if (fail_next_) {
    fail_next_ = false;
    // An append fails at its fdatasync (the write itself reached the page cache); a
    // snapshot at any of its steps.
    fail_at_step_ = steps == kAppendSteps ? 1 : static_cast<int>(rng_.below(kSnapshotSteps));
  }
  const std::uint64_t gen = gen_;
  q_->after(rng_.nanos(timing_.write_min, timing_.write_max), [this, gen] { step(gen, 0); });
}

void SimStorage::step(std::uint64_t gen, int n) {
  if (gen != gen_) return;
  Op& op = queue_.front();
  if (n == fail_at_step_) {
    const char* what = std::holds_alternative<DiskAppend>(op)
                           ? "fdatasync wal.log"
                           : (n == 0   ? "fsync snapshot.tmp"
                              : n == 1 ? "rename snapshot.tmp to snapshot"
                                       : "ftruncate wal.log");
    return finish(gen, DiskResult{false, std::string(what) + ": EIO (simulated)"});
  }
  if (auto* a = std::get_if<DiskAppend>(&op)) {
    if (n == 0) {
      disk_.append(a->bytes);
      if (!a->sync) return finish(gen, DiskResult{});
    } else {
      disk_.sync();
      return finish(gen, DiskResult{});
    }
  } else {
    auto& s = std::get<DiskSnapshot>(op);
    if (n == 0) {
      disk_.write_temp(encode_snapshot_content(s.content));
    } else if (n == 1) {
      disk_.rename_temp();
    } else {
      disk_.truncate_log(0);
      return finish(gen, DiskResult{});
    }
  }
  q_->after(sync_delay(), [this, gen, n] { step(gen, n + 1); });
}

void SimStorage::finish(std::uint64_t gen, DiskResult result) {
  const std::uint64_t token = std::visit([](const auto& o) { return o.token; }, queue_.front());
  queue_.pop_front();
  busy_ = false;
  if (done_) done_(token, result);
  // done_ may have crashed the node (a Stop): then nothing more runs.
  if (gen == gen_) start_next();
}

std::size_t SimStorage::crash(Ppm torn_ppm) {
  ++gen_;
  queue_.clear();
  busy_ = false;
  fail_at_step_ = -1;
  return disk_.crash(rng_, torn_ppm);
}

SimStorage::Boot SimStorage::boot() {
  Boot out;
  disk_.remove_temp();
  std::optional<std::string_view> snapshot;
  if (disk_.snapshot()) snapshot = *disk_.snapshot();
  auto result = recover(snapshot, SimDisk::kSnapshotName, disk_.durable_log(), SimDisk::kLogName);
  if (auto* bad = std::get_if<RecoveryError>(&result)) {
    out.refused = bad->describe();
    disk_.wipe();
    return out;  // an empty replica: the node rejoins and catches up in full
  }
  Recovered& rec = std::get<Recovered>(result);
  if (rec.log_valid_bytes < disk_.durable_log().size()) {
    out.torn_bytes_cut = disk_.durable_log().size() - rec.log_valid_bytes;
    disk_.truncate_log(rec.log_valid_bytes);
  }
  out.replica = std::move(rec.replica);
  out.log_bytes = rec.log_valid_bytes;
  return out;
}

std::optional<Lsn> SimStorage::durable_complete() const {
  std::optional<std::string_view> snapshot;
  if (disk_.snapshot()) snapshot = *disk_.snapshot();
  auto result = recover(snapshot, SimDisk::kSnapshotName, disk_.durable_log(), SimDisk::kLogName);
  if (std::holds_alternative<RecoveryError>(result)) return std::nullopt;
  return std::get<Recovered>(result).replica.complete();
}

}  // namespace kvs::sim
