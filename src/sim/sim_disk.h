// A storage node's data directory in memory: numbered logs ("wal-000001.log", ...),
// "snapshot" and "snapshot.tmp", with the crash semantics of a real file system
// (LevelDB's FaultInjectionTestEnv is the model). Appended bytes sit in the page cache
// (unsynced) until a sync makes them durable; a crash keeps only durable bytes, except
// that a prefix of a log's unsynced tail may survive (a torn write). A log's directory
// entry is durable from its creation on (the backend syncs the directory before any
// append to a new log completes). The snapshot is replaced by renaming a synced temp
// file, which is atomic. Timing lives elsewhere (sim/sim_storage): this is only state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/recovery.h"
#include "sim/prng.h"

namespace kvs::sim {

class SimDisk {
 public:
  static constexpr const char* kSnapshotName = "snapshot";

  // write(2) to log number `log` (created if missing): readable, not yet durable.
  void append(std::uint64_t log, std::string_view bytes) { logs_[log].unsynced.append(bytes); }
  // fdatasync(2) of a log.
  void sync(std::uint64_t log);
  // The snapshot temp file, written and fsynced.
  void write_temp(std::string bytes) { temp_ = std::move(bytes); }
  // rename(2) of the temp file over the snapshot, then fsync of the directory.
  // REQUIRES: a temp file exists.
  void rename_temp() {
    snapshot_ = std::move(temp_);
    temp_.reset();
  }
  // unlink(2) of every log numbered below `first`.
  void remove_logs_below(std::uint64_t first) {
    logs_.erase(logs_.begin(), logs_.lower_bound(first));
  }
  // unlink(2) of one log.
  void remove_log(std::uint64_t log) { logs_.erase(log); }
  // ftruncate(2) of a log to `length` bytes, then fdatasync(2).
  void truncate_log(std::uint64_t log, std::size_t length);
  // What recovery does first: a temp file left by an interrupted compaction is removed.
  void remove_temp() { temp_.reset(); }

  // The machine lost power (or the process died and the OS lost its dirty pages): the
  // unsynced bytes are lost, except that with torn_ppm chance a random prefix of a
  // log's unsynced bytes (possibly all) survives. Returns the unsynced bytes that survived.
  std::size_t crash(Prng& rng, Ppm torn_ppm);
  // The operator's `rm -rf DATA_DIR`.
  void wipe() { *this = SimDisk{}; }
  // Flips one bit of a durable log inside a record that has an intact record after it,
  // so recovery must report corruption (a damaged last record would look like a torn
  // write); failing that, one bit of the snapshot. Returns false, changing nothing,
  // when neither holds anything that can be damaged so.
  bool flip_bit(Prng& rng);

  // The durable bytes of every log, as recover() takes them (views into this disk).
  std::vector<LogFile> durable_logs() const;
  // A log as a reader sees it now (durable bytes, then the page cache); "" if absent.
  std::string log(std::uint64_t number) const;
  std::string durable_log(std::uint64_t number) const;
  std::vector<std::uint64_t> log_numbers() const;
  std::size_t unsynced_bytes() const;
  const std::optional<std::string>& snapshot() const { return snapshot_; }
  bool has_temp() const { return temp_.has_value(); }

 private:
  struct File {
    std::string durable;
    std::string unsynced;  // appended after durable, not yet synced
  };
  std::map<std::uint64_t, File> logs_;
  std::optional<std::string> snapshot_;
  std::optional<std::string> temp_;
};

}  // namespace kvs::sim
