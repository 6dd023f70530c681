#include "net/disk.h"

#include <fcntl.h>

#include <algorithm>
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

}  // namespace

Disk::Disk(uv_loop_t* loop, std::string dir, Done done)
    : loop_(loop), dir_(std::move(dir)), done_(std::move(done)) {
  req_.data = this;
}

Disk::~Disk() {
  close_sync(&log_fd_);
}

bool Disk::open(std::string* error) {
  uv_fs_t req;
  int r = uv_fs_open(nullptr, &req, path(kLogFileName).c_str(),
                     O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600, nullptr);
  uv_fs_req_cleanup(&req);
  if (r < 0) {
    *error = describe_uv("open " + path(kLogFileName), r);
    return false;
  }
  log_fd_ = r;
  return true;
}

Disk::Step Disk::write_all(std::string what, uv_file* fd) {
  Step step;
  step.what = std::move(what);
  step.issue = [this, fd](uv_fs_t* req) {
    Job* job = current_.get();
    // uv_buf_t lengths are unsigned int: write huge snapshots in 1 GiB pieces.
    const std::size_t piece = std::min<std::size_t>(job->bytes.size() - job->written, 1u << 30);
    uv_buf_t buf = uv_buf_init(job->bytes.data() + job->written, static_cast<unsigned>(piece));
    return uv_fs_write(loop_, req, *fd, &buf, 1, -1, &Disk::on_fs_done);
  };
  // write(2) may write less than asked (e.g. nearly full disk): continue from there.
  step.progress = [this](ssize_t n) {
    Job* job = current_.get();
    if (n == 0 && job->written < job->bytes.size()) return static_cast<int>(UV_EIO);
    job->written += static_cast<std::size_t>(n);
    return job->written == job->bytes.size() ? 1 : 0;
  };
  return step;
}

void Disk::append(std::uint64_t token, std::string bytes, bool sync) {
  if (stopped_) return;
  auto job = std::make_unique<Job>();
  job->token = token;
  job->bytes = std::move(bytes);
  if (!job->bytes.empty()) job->steps.push_back(write_all("write wal.log", &log_fd_));
  if (sync) {
    job->steps.push_back(
        {"fdatasync wal.log",
         [this](uv_fs_t* req) { return uv_fs_fdatasync(loop_, req, log_fd_, &Disk::on_fs_done); },
         nullptr});
  }
  queue_.push_back(std::move(job));
  start_next();
}

void Disk::snapshot(std::uint64_t token, SnapshotContent content) {
  if (stopped_) return;
  auto job = std::make_unique<Job>();
  Job* j = job.get();
  j->token = token;
  j->content = std::move(content);
  j->disk = this;
  j->encode_req.data = j;
  auto then = [](ssize_t) { return 1; };
  std::vector<Step>& s = j->steps;
  // Only this pool thread touches the job until its after-work callback runs on the loop.
  s.push_back({"encode snapshot",
               [this, j](uv_fs_t*) {
                 return uv_queue_work(
                     loop_, &j->encode_req,
                     [](uv_work_t* req) {
                       auto* job = static_cast<Job*>(req->data);
                       job->bytes = encode_snapshot_content(job->content);
                       job->content = {};
                     },
                     [](uv_work_t* req, int status) {
                       static_cast<Job*>(req->data)->disk->step_done(status < 0 ? status : 1);
                     });
               },
               then});
  s.push_back({"open snapshot.tmp",
               [this](uv_fs_t* req) {
                 return uv_fs_open(loop_, req, path(kSnapshotTempName).c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600,
                                   &Disk::on_fs_done);
               },
               [j](ssize_t fd) {
                 j->temp_fd = static_cast<uv_file>(fd);
                 return 1;
               }});
  s.push_back(write_all("write snapshot.tmp", &j->temp_fd));
  s.push_back(
      {"fsync snapshot.tmp",
       [this, j](uv_fs_t* req) { return uv_fs_fsync(loop_, req, j->temp_fd, &Disk::on_fs_done); },
       then});
  s.push_back({"close snapshot.tmp",
               [this, j](uv_fs_t* req) {
                 uv_file fd = std::exchange(j->temp_fd, -1);
                 return uv_fs_close(loop_, req, fd, &Disk::on_fs_done);
               },
               then});
  s.push_back({"rename snapshot.tmp to snapshot",
               [this](uv_fs_t* req) {
                 return uv_fs_rename(loop_, req, path(kSnapshotTempName).c_str(),
                                     path(kSnapshotFileName).c_str(), &Disk::on_fs_done);
               },
               then});
  // The rename is durable only once the directory entry is: fsync the directory.
  s.push_back({"open data directory",
               [this](uv_fs_t* req) {
                 return uv_fs_open(loop_, req, dir_.c_str(), O_RDONLY | O_DIRECTORY, 0,
                                   &Disk::on_fs_done);
               },
               [j](ssize_t fd) {
                 j->dir_fd = static_cast<uv_file>(fd);
                 return 1;
               }});
  s.push_back(
      {"fsync data directory",
       [this, j](uv_fs_t* req) { return uv_fs_fsync(loop_, req, j->dir_fd, &Disk::on_fs_done); },
       then});
  s.push_back({"close data directory",
               [this, j](uv_fs_t* req) {
                 uv_file fd = std::exchange(j->dir_fd, -1);
                 return uv_fs_close(loop_, req, fd, &Disk::on_fs_done);
               },
               then});
  // Only now that the snapshot is durable may the log it replaces be emptied.
  s.push_back(
      {"ftruncate wal.log",
       [this](uv_fs_t* req) { return uv_fs_ftruncate(loop_, req, log_fd_, 0, &Disk::on_fs_done); },
       then});
  s.push_back(
      {"fdatasync wal.log",
       [this](uv_fs_t* req) { return uv_fs_fdatasync(loop_, req, log_fd_, &Disk::on_fs_done); },
       then});
  queue_.push_back(std::move(job));
  start_next();
}

void Disk::stop() {
  stopped_ = true;
  queue_.clear();
}

void Disk::start_next() {
  if (current_ || queue_.empty() || stopped_) return;
  current_ = std::move(queue_.front());
  queue_.pop_front();
  if (current_->steps.empty()) return finish(DiskResult{});
  run_step();
}

void Disk::run_step() {
  Step& step = current_->steps[current_->next];
  req_.data = this;
  int r = step.issue(&req_);
  if (r < 0) {
    uv_fs_req_cleanup(&req_);
    finish(DiskResult{false, describe_uv(step.what, r)});
  }
}

void Disk::on_fs_done(uv_fs_t* req) {
  auto* self = static_cast<Disk*>(req->data);
  ssize_t result = req->result;
  uv_fs_req_cleanup(req);
  self->step_done(result);
}

void Disk::step_done(ssize_t result) {
  Job* job = current_.get();
  if (stopped_) return finish(DiskResult{false, "stopped"});
  Step& step = job->steps[job->next];
  int status = result < 0 ? static_cast<int>(result) : 1;
  if (status > 0 && step.progress) status = step.progress(result);
  if (status < 0) return finish(DiskResult{false, describe_uv(step.what, status)});
  if (status == 1 && ++job->next == job->steps.size()) return finish(DiskResult{});
  run_step();
}

void Disk::finish(DiskResult result) {
  std::unique_ptr<Job> job = std::move(current_);
  close_sync(&job->temp_fd);
  close_sync(&job->dir_fd);
  if (!stopped_) done_(job->token, result);
  start_next();
}

}  // namespace kvs::net
