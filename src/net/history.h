// Writes a Jepsen-style history of one client's operations to a file, one JSON line per
// event in the format of core/history.h. "op" is the client's op id (= its seq), so an
// invoke and its completion pair up even with many operations outstanding. "time" is
// CLOCK_MONOTONIC (uv_hrtime), which is shared by every process on the machine, so
// histories of several clients merge.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/history.h"
#include "core/messages.h"
#include "core/types.h"

namespace kvs::net {

class HistoryWriter {
 public:
  // Opens (creating, appending to) path. nullptr with *error set on failure.
  static std::unique_ptr<HistoryWriter> open(const std::string& path, std::string process,
                                             std::string* error);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  // The operation was issued. value: what a PUT writes; nullopt for a GET.
  void invoke(std::uint64_t op_id, Op op, const std::string& key,
              const std::optional<std::string>& value, Nanos time);
  // The operation finished (see history_completion). value: what a GET read (nullopt if
  // not found or failed), or what a PUT wrote.
  void complete(std::uint64_t op_id, Op op, Status status, const std::string& key,
                const std::optional<std::string>& value, Nanos time);

  // Why the last write failed; empty if every line was written. Writing stops being
  // attempted after the first failure (the history would have a hole anyway).
  const std::string& error() const { return error_; }

 private:
  HistoryWriter(int fd, std::string process) : fd_(fd), process_(std::move(process)) {}
  void write_line(const HistoryEvent& e);

  int fd_;
  std::string process_;
  std::string error_;
};

}  // namespace kvs::net
