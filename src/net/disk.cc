#include "net/disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace kvs::net {
namespace {

std::string describe_uv(const std::string& what, int status) {
  if (status == UV_ELOOP) {  // O_NOFOLLOW met a symbolic link (see storage_disk.cc)
    return what + ": it is a symbolic link; files in the data directory must be regular files";
  }
  return what + ": " + uv_err_name(status) + " (" + uv_strerror(status) + ")";
}

void close_sync(uv_file* fd) {
  if (*fd < 0) return;
  uv_fs_t req;
  uv_fs_close(nullptr, &req, *fd, nullptr);
  uv_fs_req_cleanup(&req);
  *fd = -1;
}

// -errno is a libuv error code on Unix.
ssize_t failed() {
  return -static_cast<ssize_t>(errno);
}

}  // namespace

Disk::Disk(uv_loop_t* loop, std::string dir, Done done)
    : loop_(loop), dir_(std::move(dir)), done_(std::move(done)) {}

Disk::~Disk() {
  close_sync(&log_fd_);
  close_sync(&dir_fd_);
}

bool Disk::open(std::string* error) {
  uv_fs_t req;
  int r = uv_fs_open(nullptr, &req, dir_.c_str(), O_RDONLY | O_DIRECTORY, 0, nullptr);
  uv_fs_req_cleanup(&req);
  if (r < 0) {
    *error = describe_uv("open data directory " + dir_, r);
    return false;
  }
  dir_fd_ = r;
  return true;
}

Disk::Step Disk::write_all(std::string what, Job* job, uv_file* fd) {
  Step step;
  step.what = std::move(what);
  step.issue = [this, job, fd](uv_fs_t* req) {
    // uv_buf_t lengths are unsigned int: write huge snapshots in 1 GiB pieces.
    const std::size_t piece = std::min<std::size_t>(job->bytes.size() - job->written, 1u << 30);
    uv_buf_t buf = uv_buf_init(job->bytes.data() + job->written, static_cast<unsigned>(piece));
    return uv_fs_write(loop_, req, *fd, &buf, 1, -1, &Disk::on_fs_done);
  };
  // write(2) may write less than asked (e.g. nearly full disk): continue from there.
  step.progress = [job](ssize_t n) {
    if (n == 0 && job->written < job->bytes.size()) return static_cast<int>(UV_EIO);
    job->written += static_cast<std::size_t>(n);
    return job->written == job->bytes.size() ? 1 : 0;
  };
  return step;
}

Disk::Step Disk::sync_dir() {
  return {"fsync data directory",
          [this](uv_fs_t* req) { return uv_fs_fsync(loop_, req, dir_fd_, &Disk::on_fs_done); },
          nullptr, nullptr};
}

// Opens (creating if need be) the log, at the end of what it holds; its directory entry
// is synced before anything is appended, or a crash could lose a synced log whole.
std::vector<Disk::Step> Disk::open_log(std::uint64_t log) {
  const std::string name = log_file_name(log);
  Step open{"open " + name, nullptr, nullptr, [this, log, name]() -> ssize_t {
              const int fd =
                  ::open(path(name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
              if (fd < 0) return failed();
              struct stat st {};
              if (::fstat(fd, &st) != 0) {
                const ssize_t e = failed();
                ::close(fd);
                return e;
              }
              // Only the pool thread of this step touches these until it ends.
              if (log_fd_ >= 0) ::close(log_fd_);
              log_fd_ = fd;
              log_end_ = log_reserved_ = static_cast<std::uint64_t>(st.st_size);
              return 0;
            }};
  return {std::move(open), sync_dir()};
}

void Disk::append(std::uint64_t token, std::uint64_t log, std::string bytes, bool sync) {
  if (stopped_) return;
  auto job = std::make_unique<Job>();
  Job* j = job.get();
  j->token = token;
  j->bytes = std::move(bytes);
  const std::string name = log_file_name(log);
  if (log != planned_log_) {
    for (Step& s : open_log(log)) j->steps.push_back(std::move(s));
    planned_log_ = log;
  }
  if (!j->bytes.empty()) {
    // Room in preallocated space first. A file system without fallocate just grows the
    // file; any other failure shows up again in the write, which reports it.
    Step prealloc{"fallocate " + name, nullptr, nullptr, [this, j]() -> ssize_t {
                    const std::uint64_t need = log_end_ + j->bytes.size();
                    const std::uint64_t grow = std::max(kLogPreallocBytes, need - log_reserved_);
                    if (::fallocate(log_fd_, 0, static_cast<off_t>(log_reserved_),
                                    static_cast<off_t>(grow)) == 0) {
                      log_reserved_ += grow;
                    } else if (errno == EOPNOTSUPP || errno == ENOSYS) {
                      prealloc_ = false;
                    }
                    return 0;
                  }};
    prealloc.needed = [this, j] { return prealloc_ && log_end_ + j->bytes.size() > log_reserved_; };
    j->steps.push_back(std::move(prealloc));
  }
  if (!j->bytes.empty() || sync) {
    // The write and its flush in one trip through the pool: each trip is a hand-off to a
    // pool thread and back, which a single client waits for on every PUT.
    j->steps.push_back({"write " + name, nullptr, nullptr, [this, j, sync, name]() -> ssize_t {
                          std::size_t done = 0;
                          while (done < j->bytes.size()) {
                            const ssize_t n =
                                ::pwrite(log_fd_, j->bytes.data() + done, j->bytes.size() - done,
                                         static_cast<off_t>(log_end_ + done));
                            if (n < 0 && errno == EINTR) continue;
                            if (n < 0) return failed();
                            if (n == 0) return UV_EIO;  // no progress: e.g. the disk is full
                            done += static_cast<std::size_t>(n);
                          }
                          log_end_ += done;
                          log_reserved_ = std::max(log_reserved_, log_end_);
                          if (sync && ::fdatasync(log_fd_) != 0) {
                            j->failed_call = "fdatasync " + name;
                            return failed();
                          }
                          return 0;
                        }});
  }
  submit(&appends_, std::move(job));
}

void Disk::snapshot(std::uint64_t token, SnapshotContent content, std::uint64_t first_log) {
  if (stopped_) return;
  auto job = std::make_unique<Job>();
  Job* j = job.get();
  j->token = token;
  j->content = std::move(content);
  std::vector<Step>& s = j->steps;
  // Only this pool thread touches the job until its step ends on the loop.
  s.push_back({"encode snapshot", nullptr, nullptr, [j, first_log]() -> ssize_t {
                 j->bytes = encode_snapshot_content(j->content, first_log);
                 j->content = {};
                 return 0;
               }});
  s.push_back({"open snapshot.tmp",
               [this](uv_fs_t* req) {
                 return uv_fs_open(loop_, req, path(kSnapshotTempName).c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600,
                                   &Disk::on_fs_done);
               },
               [j](ssize_t fd) {
                 j->temp_fd = static_cast<uv_file>(fd);
                 return 1;
               },
               nullptr});
  s.push_back(write_all("write snapshot.tmp", j, &j->temp_fd));
  s.push_back(
      {"fsync snapshot.tmp",
       [this, j](uv_fs_t* req) { return uv_fs_fsync(loop_, req, j->temp_fd, &Disk::on_fs_done); },
       nullptr, nullptr});
  s.push_back({"close snapshot.tmp",
               [this, j](uv_fs_t* req) {
                 uv_file fd = std::exchange(j->temp_fd, -1);
                 return uv_fs_close(loop_, req, fd, &Disk::on_fs_done);
               },
               nullptr, nullptr});
  s.push_back({"rename snapshot.tmp to snapshot",
               [this](uv_fs_t* req) {
                 return uv_fs_rename(loop_, req, path(kSnapshotTempName).c_str(),
                                     path(kSnapshotFileName).c_str(), &Disk::on_fs_done);
               },
               nullptr, nullptr});
  // The rename is durable only once the directory entry is.
  s.push_back(sync_dir());
  // Only now that the snapshot is durable may the logs it holds go. A crash before they
  // are gone leaves them for recovery to delete (their numbers are below first_log).
  if (first_log > 1) {
    s.push_back({"delete logs below " + log_file_name(first_log), nullptr, nullptr,
                 [this, first_log]() -> ssize_t {
                   DIR* d = ::opendir(dir_.c_str());
                   if (d == nullptr) return failed();
                   ssize_t result = 0;
                   while (const dirent* e = ::readdir(d)) {
                     const auto number = parse_log_file_name(e->d_name);
                     if (!number || *number >= first_log) continue;
                     if (::unlink(path(e->d_name).c_str()) != 0 && errno != ENOENT) {
                       result = failed();
                     }
                   }
                   ::closedir(d);
                   return result;
                 }});
  }
  submit(&snapshots_, std::move(job));
}

void Disk::stop() {
  stopped_ = true;
  appends_.queue.clear();
  snapshots_.queue.clear();
}

void Disk::submit(Lane* lane, std::unique_ptr<Job> job) {
  job->disk = this;
  job->lane = lane;
  job->work_req.data = job.get();
  lane->queue.push_back(std::move(job));
  start_next(lane);
}

void Disk::start_next(Lane* lane) {
  if (lane->current || lane->queue.empty() || stopped_) return;
  lane->current = std::move(lane->queue.front());
  lane->queue.pop_front();
  if (lane->current->steps.empty()) return finish(lane, DiskResult{});
  run_step(lane->current.get());
}

void Disk::run_step(Job* job) {
  while (job->steps[job->next].needed && !job->steps[job->next].needed()) {
    if (++job->next == job->steps.size()) return finish(job->lane, DiskResult{});
  }
  Step& step = job->steps[job->next];
  int r;
  if (step.work) {
    r = uv_queue_work(
        loop_, &job->work_req,
        [](uv_work_t* req) {
          auto* j = static_cast<Job*>(req->data);
          j->work_result = j->steps[j->next].work();
        },
        [](uv_work_t* req, int status) {
          auto* j = static_cast<Job*>(req->data);
          j->disk->step_done(j, status < 0 ? status : j->work_result);
        });
  } else {
    job->lane->req.data = job;
    r = step.issue(&job->lane->req);
    if (r < 0) uv_fs_req_cleanup(&job->lane->req);
  }
  if (r < 0) finish(job->lane, DiskResult{false, describe_uv(step.what, r)});
}

void Disk::on_fs_done(uv_fs_t* req) {
  auto* job = static_cast<Job*>(req->data);
  ssize_t result = req->result;
  uv_fs_req_cleanup(req);
  job->disk->step_done(job, result);
}

void Disk::step_done(Job* job, ssize_t result) {
  Lane* lane = job->lane;
  if (stopped_) return finish(lane, DiskResult{false, "stopped"});
  Step& step = job->steps[job->next];
  int status = result < 0 ? static_cast<int>(result) : 1;
  if (status > 0 && step.progress) status = step.progress(result);
  if (status < 0) {
    const std::string& what = job->failed_call.empty() ? step.what : job->failed_call;
    return finish(lane, DiskResult{false, describe_uv(what, status)});
  }
  if (status == 1 && ++job->next == job->steps.size()) return finish(lane, DiskResult{});
  run_step(job);
}

void Disk::finish(Lane* lane, DiskResult result) {
  std::unique_ptr<Job> job = std::move(lane->current);
  close_sync(&job->temp_fd);
  if (!stopped_) done_(job->token, result);
  start_next(lane);
}

}  // namespace kvs::net
