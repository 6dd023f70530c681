// The storage data directory as the runtime sees it: "wal.log" (appended, synced) and
// "snapshot" (replaced atomically). Disk effects run strictly one at a time in the
// order they were emitted, each as a chain of uv_fs_* requests in libuv's thread pool,
// so the event loop never blocks on the disk.
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

constexpr const char* kLogFileName = "wal.log";
constexpr const char* kSnapshotFileName = "snapshot";
constexpr const char* kSnapshotTempName = "snapshot.tmp";

class Disk {
 public:
  using Done = std::function<void(std::uint64_t token, const DiskResult& result)>;

  // done(token, result) is called on the loop thread after each operation.
  Disk(uv_loop_t* loop, std::string dir, Done done);
  // REQUIRES: no operation in flight (the loop ran until idle after stop()).
  ~Disk();
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  // Opens dir/wal.log for appending (O_WRONLY|O_APPEND|O_CREAT, 0600). Synchronous:
  // called once at startup, before the loop runs.
  bool open(std::string* error);

  // Appends bytes to the log, then fdatasyncs it if sync.
  void append(std::uint64_t token, std::string bytes, bool sync);
  // Encodes content on a thread of libuv's pool (a large state takes long to encode and
  // the loop must keep answering), writes snapshot.tmp, fsyncs it, renames it to
  // snapshot, fsyncs the directory, then truncates the log to 0 bytes and fdatasyncs it.
  void snapshot(std::uint64_t token, SnapshotContent content);

  // Reports nothing more; the operation in flight (if any) stops after its current
  // request and queued ones are dropped.
  void stop();

 private:
  // One uv_fs_* request of an operation. issue() starts it; progress(result) returns
  // false to issue the same step again (a short write continues where it stopped).
  struct Step {
    std::string what;  // "fdatasync wal.log": named in errors
    std::function<int(uv_fs_t*)> issue;
    std::function<bool(ssize_t)> progress;
  };
  struct Job {
    std::uint64_t token = 0;
    Disk* disk = nullptr;
    SnapshotContent content;  // encoded into bytes by a snapshot's first step
    uv_work_t encode_req;     // data: this job
    std::string bytes;
    std::size_t written = 0;
    uv_file temp_fd = -1;
    uv_file dir_fd = -1;
    std::vector<Step> steps;
    std::size_t next = 0;
  };

  void start_next();
  void run_step();
  void finish(DiskResult result);
  Step write_all(std::string what, uv_file* fd);
  static void on_fs_done(uv_fs_t* req);
  // Ends the current step: result < 0 is a libuv error, else the step's own result.
  void step_done(ssize_t result);

  std::string path(const char* name) const { return dir_ + "/" + name; }

  uv_loop_t* loop_;
  std::string dir_;
  Done done_;
  uv_file log_fd_ = -1;
  uv_fs_t req_;
  std::unique_ptr<Job> current_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopped_ = false;
};

}  // namespace kvs::net
