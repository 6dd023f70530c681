// HistoryWriter: see history.h.
#include "net/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace kvs::net {

std::unique_ptr<HistoryWriter> HistoryWriter::open(const std::string& path, std::string process,
                                                   std::string* error) {
  // O_APPEND and one write() per line: several client processes may share one file
  // and their lines do not interleave.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "history file " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(fd, std::move(process)));
}

HistoryWriter::~HistoryWriter() {
  ::close(fd_);
}

void HistoryWriter::invoke(std::uint64_t op_id, Op op, const std::string& key,
                           const std::optional<std::string>& value, Nanos time) {
  write_line(history_invocation(process_, op, key, value, time, op_id));
}

void HistoryWriter::complete(std::uint64_t op_id, Op op, Status status, const std::string& key,
                             const std::optional<std::string>& value, Nanos time) {
  write_line(history_completion(process_, op, status, key, value, time, op_id));
}

void HistoryWriter::write_line(const HistoryEvent& e) {
  if (!error_.empty()) return;
  std::string line = history_event_to_json(e);
  line += '\n';
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("history write failed: ") + std::strerror(errno);
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace kvs::net
