#include "sim/sim_storage.h"

#include <utility>

#include "core/recovery.h"

namespace kvs::sim {
namespace {

// Steps of each operation, in order (the real backend's, src/net/disk.cc).
constexpr int kAppendSteps = 2;  // write, fdatasync
// write+fsync snapshot.tmp, rename+fsync dir, delete the logs the snapshot holds
constexpr int kSnapshotSteps = 3;

}  // namespace

SimStorage::SimStorage(EventQueue* queue, Prng rng, DiskTiming timing)
    : q_(queue), rng_(rng), timing_(timing) {}

void SimStorage::submit(DiskAppend op) {
  appends_.queue.emplace_back(std::move(op));
  start_next(appends_);
}

void SimStorage::submit(DiskSnapshot op) {
  snapshots_.queue.emplace_back(std::move(op));
  start_next(snapshots_);
}

Nanos SimStorage::sync_delay() {
  Nanos d = rng_.nanos(timing_.sync_min, timing_.sync_max);
  if (rng_.chance(timing_.slow_ppm)) d += timing_.slow_extra;
  return d;
}

void SimStorage::start_next(Lane& lane) {
  if (lane.busy || lane.queue.empty()) return;
  lane.busy = true;
  ++operations_;
  const int steps =
      std::holds_alternative<DiskAppend>(lane.queue.front()) ? kAppendSteps : kSnapshotSteps;
  lane.fail_at_step = -1;
  if (fail_next_) {
    fail_next_ = false;
    // An append fails at its fdatasync (the write itself reached the page cache); a
    // snapshot at any of its steps.
    lane.fail_at_step = steps == kAppendSteps ? 1 : static_cast<int>(rng_.below(kSnapshotSteps));
  }
  const std::uint64_t gen = gen_;
  q_->after(rng_.nanos(timing_.write_min, timing_.write_max),
            [this, &lane, gen] { step(lane, gen, 0); });
}

void SimStorage::step(Lane& lane, std::uint64_t gen, int n) {
  if (gen != gen_) return;
  Op& op = lane.queue.front();
  if (n == lane.fail_at_step) {
    std::string what;
    if (auto* a = std::get_if<DiskAppend>(&op)) {
      what = "fdatasync " + log_file_name(a->log);
    } else {
      what = n == 0 ? "fsync snapshot.tmp" : n == 1 ? "rename snapshot.tmp to snapshot" : "unlink";
    }
    return finish(lane, gen, DiskResult{false, what + ": EIO (simulated)"});
  }
  if (auto* a = std::get_if<DiskAppend>(&op)) {
    if (n == 0) {
      disk_.append(a->log, a->bytes);
      if (!a->sync) return finish(lane, gen, DiskResult{});
    } else {
      disk_.sync(a->log);
      return finish(lane, gen, DiskResult{});
    }
  } else {
    auto& s = std::get<DiskSnapshot>(op);
    if (n == 0) {
      disk_.write_temp(encode_snapshot_content(s.content, s.first_log));
    } else if (n == 1) {
      disk_.rename_temp();
    } else {
      disk_.remove_logs_below(s.first_log);
      return finish(lane, gen, DiskResult{});
    }
  }
  q_->after(sync_delay(), [this, &lane, gen, n] { step(lane, gen, n + 1); });
}

void SimStorage::finish(Lane& lane, std::uint64_t gen, DiskResult result) {
  const std::uint64_t token = std::visit([](const auto& o) { return o.token; }, lane.queue.front());
  lane.queue.pop_front();
  lane.busy = false;
  if (done_) done_(token, result);
  // done_ may have crashed the node (a Stop): then nothing more runs.
  if (gen == gen_) start_next(lane);
}

std::size_t SimStorage::crash(Ppm torn_ppm) {
  ++gen_;
  appends_ = Lane{};
  snapshots_ = Lane{};
  return disk_.crash(rng_, torn_ppm);
}

SimStorage::Boot SimStorage::boot() {
  Boot out;
  disk_.remove_temp();
  std::optional<std::string_view> snapshot;
  if (disk_.snapshot()) snapshot = *disk_.snapshot();
  auto result = recover(snapshot, SimDisk::kSnapshotName, disk_.durable_logs());
  if (auto* bad = std::get_if<RecoveryError>(&result)) {
    out.refused = bad->describe();
    disk_.wipe();
    return out;  // an empty replica: the node rejoins and catches up in full
  }
  Recovered& rec = std::get<Recovered>(result);
  for (std::uint64_t stale : rec.stale_logs) disk_.remove_log(stale);
  const std::uint64_t last = rec.position.number;
  const std::size_t length = disk_.durable_log(last).size();
  if (rec.log_valid_bytes < length) {
    out.torn_bytes_cut = length - rec.log_valid_bytes;
    disk_.truncate_log(last, rec.log_valid_bytes);
  }
  out.replica = std::move(rec.replica);
  out.log = rec.position;
  return out;
}

std::optional<Lsn> SimStorage::durable_complete() const {
  std::optional<std::string_view> snapshot;
  if (disk_.snapshot()) snapshot = *disk_.snapshot();
  auto result = recover(snapshot, SimDisk::kSnapshotName, disk_.durable_logs());
  if (std::holds_alternative<RecoveryError>(result)) return std::nullopt;
  return std::get<Recovered>(result).replica.complete();
}

}  // namespace kvs::sim
