// A storage node's data directory in memory: "wal.log", "snapshot" and "snapshot.tmp",
// with the crash semantics of a real file system (LevelDB's FaultInjectionTestEnv is the
// model). Appended bytes sit in the page cache (unsynced) until a sync makes them
// durable; a crash keeps only durable bytes, except that a prefix of the unsynced tail
// may survive (a torn write). The snapshot is replaced by renaming a synced temp file,
// which is atomic. Timing lives elsewhere (sim/storage_host): this is only the state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "sim/prng.h"

namespace kvs::sim {

class SimDisk {
 public:
  static constexpr const char* kLogName = "wal.log";
  static constexpr const char* kSnapshotName = "snapshot";

  // write(2) to the log: the bytes are readable but not yet durable.
  void append(std::string_view bytes) { unsynced_.append(bytes); }
  // fdatasync(2) of the log.
  void sync() {
    durable_ += unsynced_;
    unsynced_.clear();
  }
  // The snapshot temp file, written and fsynced.
  void write_temp(std::string bytes) { temp_ = std::move(bytes); }
  // rename(2) of the temp file over the snapshot, then fsync of the directory.
  // REQUIRES: a temp file exists.
  void rename_temp() {
    snapshot_ = std::move(temp_);
    temp_.reset();
  }
  // ftruncate(2) of the log to `length` bytes, then fdatasync(2).
  void truncate_log(std::size_t length);
  // What recovery does first: a temp file left by an interrupted compaction is removed.
  void remove_temp() { temp_.reset(); }

  // The machine lost power (or the process died and the OS lost its dirty pages): the
  // unsynced bytes are lost, except that with torn_ppm chance a random prefix of them
  // (possibly all) survives. Returns the number of unsynced bytes that survived.
  std::size_t crash(Prng& rng, Ppm torn_ppm);
  // The operator's `rm -rf DATA_DIR`.
  void wipe() { *this = SimDisk{}; }
  // Flips one bit of the durable log inside a record that has an intact record after
  // it, so recovery must report corruption (a damaged last record would look like a
  // torn write); failing that, one bit of the snapshot. Returns false, changing
  // nothing, when neither holds anything that can be damaged so.
  bool flip_bit(Prng& rng);

  // The log as a reader sees it now (durable bytes, then the page cache).
  std::string log() const { return durable_ + unsynced_; }
  const std::string& durable_log() const { return durable_; }
  std::size_t unsynced_bytes() const { return unsynced_.size(); }
  const std::optional<std::string>& snapshot() const { return snapshot_; }
  bool has_temp() const { return temp_.has_value(); }

 private:
  std::string durable_;
  std::string unsynced_;  // appended after durable_, not yet synced
  std::optional<std::string> snapshot_;
  std::optional<std::string> temp_;
};

}  // namespace kvs::sim
