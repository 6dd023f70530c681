// The storage data directory as the runtime sees it: numbered logs (appended, synced,
// preallocated) and "snapshot" (replaced atomically). Appends run strictly one at a
// time in the order they were emitted; snapshots run one at a time beside them (two
// lanes). Each operation is a chain of requests in libuv's thread pool, so the event
// loop never blocks on the disk.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/machine.h"
#include "core/wal.h"

namespace kvs::net {

constexpr const char* kSnapshotFileName = "snapshot";
constexpr const char* kSnapshotTempName = "snapshot.tmp";

// Logs grow by this much preallocated space at a time: on ext4 here, fdatasync after
// a 1.2 KB write into fallocated space took 142-157 us against 196-212 us into a
// growing file (docs/ARCHITECTURE.md, decision 13).
constexpr std::uint64_t kLogPreallocBytes = 16 * 1024 * 1024;

class Disk {
 public:
  using Done = std::function<void(std::uint64_t token, const DiskResult& result)>;

  // done(token, result) is called on the loop thread after each operation.
  Disk(uv_loop_t* loop, std::string dir, Done done);
  // REQUIRES: no operation in flight (the loop ran until idle after stop()).
  ~Disk();
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Opens the data directory (kept open to sync it). Synchronous: called once at
  // startup, before the loop runs. A log is opened by the first append to it: at its
  // end, which is where the valid records end (open_store cut anything after them).
  bool open(std::string* error);

  // Appends bytes to log number `log` (creating it and syncing the directory first if
  // need be), then fdatasyncs it if sync.
  void append(std::uint64_t token, std::uint64_t log, std::string bytes, bool sync);
  // Encodes content on a thread of libuv's pool (a large state takes long to encode and
  // the loop must keep answering), writes snapshot.tmp, fsyncs it, renames it to
  // snapshot, fsyncs the directory, then deletes the logs numbered below first_log.
  void snapshot(std::uint64_t token, SnapshotContent content, std::uint64_t first_log);

  // Reports nothing more; the operations in flight (if any) stop after their current
  // request and queued ones are dropped.
  void stop();

 private:
  struct Job;
  // One request of an operation. issue() starts it (a uv_fs_* call); or, for what libuv
  // has no request for, work() runs on a pool thread and returns a result or -errno.
  // progress(result) returns 1 to go on, 0 to issue the same step again (a short write
  // continues where it stopped), or a negative libuv error. A step whose needed()
  // returns false when its turn comes is skipped (no trip through the thread pool).
  struct Step {
    std::string what;  // "fdatasync wal-000001.log": named in errors
    std::function<int(uv_fs_t*)> issue;
    std::function<int(ssize_t)> progress;
    std::function<ssize_t()> work;
    std::function<bool()> needed = {};
  };
  // Appends go through one lane, snapshots through the other.
  struct Lane {
    uv_fs_t req;
    std::unique_ptr<Job> current;
    std::deque<std::unique_ptr<Job>> queue;
  };
  struct Job {
    std::uint64_t token = 0;
    Disk* disk = nullptr;
    Lane* lane = nullptr;
    SnapshotContent content;  // encoded into bytes by a snapshot's first step
    uv_work_t work_req;       // data: this job
    ssize_t work_result = 0;
    std::string failed_call;  // set by a work step that makes several calls: which failed
    std::string bytes;
    std::size_t written = 0;
    uv_file temp_fd = -1;
    std::vector<Step> steps;
    std::size_t next = 0;
  };

  void submit(Lane* lane, std::unique_ptr<Job> job);
  void start_next(Lane* lane);
  void run_step(Job* job);
  void finish(Lane* lane, DiskResult result);
  Step write_all(std::string what, Job* job, uv_file* fd);
  Step sync_dir();
  std::vector<Step> open_log(std::uint64_t log);
  static void on_fs_done(uv_fs_t* req);
  // Ends the current step of job: result < 0 is a libuv error, else the step's own.
  void step_done(Job* job, ssize_t result);

  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  uv_loop_t* loop_;
  std::string dir_;
  Done done_;
  uv_file dir_fd_ = -1;
  uv_file log_fd_ = -1;
  std::uint64_t planned_log_ = 0;   // the log of the last append submitted
  std::uint64_t log_end_ = 0;       // where the next append to log_fd_ goes
  std::uint64_t log_reserved_ = 0;  // log_fd_'s size, preallocated space included
  bool prealloc_ = true;            // false once the file system refused fallocate
  Lane appends_;
  Lane snapshots_;
  bool stopped_ = false;
};

}  // namespace kvs::net
