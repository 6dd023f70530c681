// One storage node's storage device: carries out its DiskAppend effects one at a time,
// and its DiskSnapshot effects one at a time beside them (two lanes, as the real
// backend's), over a SimDisk, each step taking random virtual time; it can be told to
// fail the next operation (as an fdatasync returning EIO would). At boot it does what the
// real backend (src/net/storage_disk.cc) does: remove a leftover snapshot.tmp, run the
// core recover() over the durable bytes and cut a torn log tail; if recovery reports
// corruption the node refuses to start, and the simulator, acting as the operator,
// wipes the data directory so the node rejoins empty.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <variant>

#include "core/effects.h"
#include "core/machine.h"
#include "core/replica.h"
#include "sim/event_queue.h"
#include "sim/prng.h"
#include "sim/sim_disk.h"

namespace kvs::sim {

struct DiskTiming {
  Nanos write_min = 10'000, write_max = 200'000;   // write(2) of a batch
  Nanos sync_min = 100'000, sync_max = 3'000'000;  // fdatasync(2) / fsync(2) / rename
  Ppm slow_ppm = 10'000;                           // chance a sync stalls for slow_extra
  Nanos slow_extra = 50'000'000;
};

class SimStorage {
 public:
  // Called when an operation finished (from an event of its own).
  using Done = std::function<void(std::uint64_t token, const DiskResult& result)>;

  SimStorage(EventQueue* queue, Prng rng, DiskTiming timing);

  void set_done(Done done) { done_ = std::move(done); }
  // Carried out after the operations of its kind submitted before it.
  void submit(DiskAppend op);
  void submit(DiskSnapshot op);
  // The next operation fails part way (after some of its steps took effect).
  void fail_next() { fail_next_ = true; }
  void disarm() { fail_next_ = false; }
  bool failure_armed() const { return fail_next_; }

  // The node died: operations in progress or queued never finish, unsynced bytes are
  // lost (a prefix may survive with torn_ppm chance). Returns surviving unsynced bytes.
  std::size_t crash(Ppm torn_ppm);

  struct Boot {
    Replica replica;
    LogPosition log;
    std::size_t torn_bytes_cut = 0;
    std::string refused;  // non-empty: recovery reported corruption and the disk was wiped
  };
  // Recovery at process start; see the header comment.
  Boot boot();
  // The complete lsn a recovery would find now, without changing anything; nullopt if
  // recovery would refuse. For the storage checker.
  std::optional<Lsn> durable_complete() const;

  SimDisk& disk() { return disk_; }
  const SimDisk& disk() const { return disk_; }
  std::uint64_t operations() const { return operations_; }

 private:
  using Op = std::variant<DiskAppend, DiskSnapshot>;
  // Appends in one lane, snapshots in the other; each runs its operations in order.
  struct Lane {
    std::deque<Op> queue;
    bool busy = false;
    int fail_at_step = -1;  // the step of the current operation that fails, or -1
  };
  void start_next(Lane& lane);
  void step(Lane& lane, std::uint64_t gen, int n);
  void finish(Lane& lane, std::uint64_t gen, DiskResult result);
  Nanos sync_delay();

  EventQueue* q_;
  Prng rng_;
  DiskTiming timing_;
  Done done_;
  SimDisk disk_;
  Lane appends_;
  Lane snapshots_;
  bool fail_next_ = false;
  std::uint64_t gen_ = 0;  // bumped by crash(): events of a dead process do nothing
  std::uint64_t operations_ = 0;
};

}  // namespace kvs::sim
