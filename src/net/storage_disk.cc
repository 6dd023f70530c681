#include "net/storage_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "core/recovery.h"
#include "net/disk.h"

namespace kvs::net {
namespace {

// Files in the data directory are opened with O_NOFOLLOW: a symbolic link planted there
// could otherwise make the node read or overwrite a file outside it.
std::string errno_text(const std::string& what) {
  if (errno == ELOOP) {
    return what + ": it is a symbolic link; files in the data directory must be regular files";
  }
  return what + ": " + std::strerror(errno);
}

enum class ReadResult { kOk, kMissing, kError };

// Reads a whole file into *out.
ReadResult read_file(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return ReadResult::kMissing;
    *error = errno_text("cannot open " + path);
    return ReadResult::kError;
  }
  // Sized once from fstat and read in place: a log of hundreds of MB grown piece by
  // piece was copied over and over as the string doubled (a quarter of recovery time).
  struct stat st {};
  std::size_t size = ::fstat(fd, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
  out->resize(std::max<std::size_t>(size, 64 * 1024));
  std::size_t used = 0;
  for (;;) {
    if (used == out->size()) out->resize(out->size() * 2);  // it grew meanwhile
    ssize_t n = ::read(fd, out->data() + used, out->size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = errno_text("cannot read " + path);
      ::close(fd);
      return ReadResult::kError;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out->resize(used);
  ::close(fd);
  return ReadResult::kOk;
}

bool truncate_log(const std::string& path, std::uint64_t length, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    *error = errno_text("cannot open " + path);
    return false;
  }
  bool ok = ::ftruncate(fd, static_cast<off_t>(length)) == 0;
  if (!ok) *error = errno_text("ftruncate " + path);
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    *error = errno_text("fsync " + path);
  }
  ::close(fd);
  return ok;
}

// Takes DIR/LOCK; fails if another process holds it.
int lock_directory(const std::string& dir, std::string* error) {
  const std::string path = dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    *error = errno_text("cannot open " + path);
    return -1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *error = (errno == EWOULDBLOCK)
                 ? dir + " is in use by another kvs process (it holds " + path + ")"
                 : errno_text("cannot lock " + path);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool make_directories(const std::string& dir, unsigned mode, std::string* error) {
  if (dir.empty()) {
    *error = "empty directory name";
    return false;
  }
  // Create each prefix in turn; existing ones are fine if they are directories.
  for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) == 0 || errno == EEXIST) continue;
    *error = errno_text("cannot create directory " + prefix);
    return false;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "cannot use " + dir + ": not a directory";
    return false;
  }
  return true;
}

namespace {

struct LogBytes {
  std::uint64_t number = 0;
  std::string path;
  std::string bytes;
};

// A data directory's files at startup, read under its lock.
struct DirContents {
  std::unique_ptr<int, void (*)(int*)> lock{nullptr, nullptr};  // closed unless released
  std::optional<std::string> snapshot;                          // absent: no snapshot file
  std::vector<LogBytes> logs;                                   // in no particular order
};

// The numbers of the log files in dir.
std::optional<std::vector<std::uint64_t>> list_logs(const std::string& dir, std::string* error) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    *error = errno_text("cannot list " + dir);
    return std::nullopt;
  }
  std::vector<std::uint64_t> numbers;
  while (const dirent* e = ::readdir(d)) {
    if (auto n = parse_log_file_name(e->d_name)) numbers.push_back(*n);
  }
  ::closedir(d);
  return numbers;
}

// Creates dir (0700), takes its lock, removes a temp file an interrupted snapshot write
// left (the old snapshot and log are intact), reads the snapshot and the log.
std::optional<DirContents> read_data_dir(const std::string& dir, const LogFn& log,
                                         std::string* error) {
  if (!make_directories(dir, 0700, error)) return std::nullopt;
  DirContents out;
  out.lock = {new int(lock_directory(dir, error)), [](int* fd) {
                if (*fd >= 0) ::close(*fd);
                delete fd;
              }};
  if (*out.lock < 0) return std::nullopt;
  const std::string temp_path = dir + "/" + kSnapshotTempName;
  if (::unlink(temp_path.c_str()) == 0) {
    log(LogLevel::kWarn, "removed " + temp_path + " left by an interrupted snapshot write");
  } else if (errno != ENOENT) {
    *error = errno_text("cannot remove " + temp_path);
    return std::nullopt;
  }
  std::string snapshot;
  const ReadResult snap = read_file(dir + "/" + kSnapshotFileName, &snapshot, error);
  if (snap == ReadResult::kError) return std::nullopt;
  if (snap == ReadResult::kOk) out.snapshot = std::move(snapshot);
  auto numbers = list_logs(dir, error);
  if (!numbers) return std::nullopt;
  for (std::uint64_t n : *numbers) {
    LogBytes log{n, dir + "/" + log_file_name(n), {}};
    if (read_file(log.path, &log.bytes, error) == ReadResult::kError) return std::nullopt;
    out.logs.push_back(std::move(log));
  }
  return out;
}

}  // namespace

std::optional<OpenedFrontendStore> open_frontend_store(const std::string& dir, const LogFn& log,
                                                       std::string* error) {
  std::optional<DirContents> files = read_data_dir(dir, log, error);
  if (!files) return std::nullopt;
  const std::string snapshot_path = dir + "/" + kSnapshotFileName;
  for (const LogBytes& log : files->logs) {
    if (log.bytes.find_first_not_of('\0') == std::string::npos) continue;
    *error = log.path +
             " holds records: this is a storage node's data directory, not a "
             "frontend's";
    return std::nullopt;
  }
  FrontendState state;
  if (files->snapshot) {
    auto read = read_frontend_state(*files->snapshot, snapshot_path);
    if (auto* bad = std::get_if<RecoveryError>(&read)) {
      *error = bad->describe() +
               "\nThe frontend refuses to start: without its state it could let a stale "
               "storage node roll back acknowledged writes. Restore the file if you can. "
               "Moving it away makes the frontend start as for a new cluster: the first "
               "storage node to join then defines the data, and acknowledged writes it lacks "
               "are lost.";
      return std::nullopt;
    }
    state = std::get<FrontendState>(read);
    log(LogLevel::kInfo, "read " + snapshot_path + ": " + std::to_string(state.members.size()) +
                             " last members, LSNs reserved up to " +
                             std::to_string(state.reserved));
  } else {
    log(LogLevel::kInfo, "no state file in " + dir + ": a new cluster");
  }
  return OpenedFrontendStore{std::move(state), std::exchange(*files->lock, -1)};
}

std::optional<OpenedStore> open_store(const std::string& dir, const LogFn& log,
                                      std::string* error) {
  std::optional<DirContents> files = read_data_dir(dir, log, error);
  if (!files) return std::nullopt;
  const std::string snapshot_path = dir + "/" + kSnapshotFileName;
  std::optional<std::string_view> snapshot;
  if (files->snapshot) snapshot = *files->snapshot;
  std::vector<LogFile> logs;
  for (const LogBytes& l : files->logs) logs.push_back(LogFile{l.number, l.path, l.bytes});
  auto result = recover(snapshot, snapshot_path, logs);
  if (auto* bad = std::get_if<RecoveryError>(&result)) {
    *error = bad->describe() +
             "\nThe node refuses to start: its data may hold acknowledged writes, and "
             "guessing past the damage could lose or invent some. To make it rejoin empty "
             "and catch up from the cluster, wipe its data directory (rm -rf " +
             dir + ") and start it again.";
    return std::nullopt;
  }
  Recovered& rec = std::get<Recovered>(result);
  for (std::uint64_t stale : rec.stale_logs) {
    // A compaction's snapshot holds these; it ended before it could delete them.
    const std::string path = dir + "/" + log_file_name(stale);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = errno_text("cannot remove " + path);
      return std::nullopt;
    }
    log(LogLevel::kInfo, "removed " + path + ": the snapshot holds its records");
  }
  const std::string log_path = dir + "/" + log_file_name(rec.position.number);
  for (const LogBytes& l : files->logs) {
    if (l.number != rec.position.number || rec.log_valid_bytes == l.bytes.size()) continue;
    // The next append goes where the valid records end: cut a record torn by a crash
    // (never acknowledged) so new records do not follow garbage, and preallocated space
    // (it is allocated again as the log grows).
    if (!truncate_log(log_path, rec.log_valid_bytes, error)) return std::nullopt;
    if (rec.log_dropped_bytes > 0) {
      log(LogLevel::kWarn, log_path + ": cut a torn tail of " +
                               std::to_string(rec.log_dropped_bytes) + " bytes at byte " +
                               std::to_string(rec.log_valid_bytes) +
                               " (a write interrupted by a crash, never acknowledged)");
    }
  }
  log(LogLevel::kInfo, "read " + std::to_string(rec.snapshot_records) + " snapshot records and " +
                           std::to_string(rec.log_records) + " log records from " + dir +
                           "; appending to " + log_file_name(rec.position.number));
  const int lock_fd = std::exchange(*files->lock, -1);
  return OpenedStore{std::move(rec.replica), rec.position, lock_fd};
}

}  // namespace kvs::net
