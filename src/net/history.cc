// HistoryWriter: see history.h.
#include "net/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
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

std::string_view HistoryWriter::completion_type(Op op, Status status) {
  switch (status) {
    case Status::kOk:
    case Status::kNotFound:
      return "ok";
    case Status::kRejected:
      return "fail";
    case Status::kUnavailable:
      return op == Op::kGet ? "fail" : "info";
  }
  return "info";  // unknown status: claim nothing
}

void HistoryWriter::invoke(std::uint64_t op_id, Op op, const std::string& key,
                           const std::optional<std::string>& value, Nanos time) {
  write_line(op_id, "invoke", op, key, op == Op::kPut ? value : std::nullopt, time);
}

void HistoryWriter::complete(std::uint64_t op_id, Op op, Status status, const std::string& key,
                             const std::optional<std::string>& value, Nanos time) {
  std::string_view type = completion_type(op, status);
  // A GET's value is only known when it took effect; a PUT's completion repeats the
  // value it wrote (the checker matches it with the invoke).
  std::optional<std::string> v = value;
  if (op == Op::kGet && status != Status::kOk) v.reset();
  write_line(op_id, type, op, key, v, time);
}

void HistoryWriter::write_line(std::uint64_t op_id, std::string_view type, Op op,
                               const std::string& key, const std::optional<std::string>& value,
                               Nanos time) {
  if (!error_.empty()) return;
  nlohmann::json j;
  j["process"] = process_;
  j["op"] = op_id;
  j["type"] = type;
  j["f"] = op == Op::kGet ? "read" : "write";
  j["key"] = key;
  j["value"] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  j["time"] = time;
  // replace: keys and values are valid UTF-8 by protocol, but a history must never
  // throw; a replaced byte is visible to whoever reads the file.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
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
