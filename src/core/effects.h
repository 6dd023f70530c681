// What a state machine asks its backend to do. Machines append effects to an Outbox;
// the libuv backend (src/net) and the simulator (src/sim) carry them out in order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/messages.h"
#include "core/types.h"
#include "core/wal.h"

namespace kvs {

struct Send {
  ConnId conn;
  Message msg;
};

// Close a connection. The backend calls on_closed for it afterwards (asynchronously).
struct Close {
  ConnId conn;
};

// Backpressure: stop (paused) or resume reading the peer's input on a connection. While
// paused the backend delivers no more of its messages (bytes already read wait), so the
// peer's sends block in TCP. Only the frontend pauses, and only client connections.
struct PauseReading {
  ConnId conn;
  bool paused;
};

// Open an outbound connection to "ip:port"; the backend answers with on_connected or
// on_closed for this id.
struct Connect {
  ConnId conn;
  std::string address;
};

// Fire on_timer(id) at absolute time `at`. Setting an id that is already set re-arms it.
struct SetTimer {
  TimerId id;
  Nanos at;
};

struct CancelTimer {
  TimerId id;
};

// Storage only. Append bytes to log file number `log` (log_file_name(log), created if
// missing, its directory entry synced before any append to it completes), then (if
// sync) fdatasync it; answer with on_disk_done(token, ...). Appends are carried out
// one at a time, in the order they were emitted.
struct DiskAppend {
  std::uint64_t token;
  std::uint64_t log;
  std::string bytes;
  bool sync = true;
};

// Replace the snapshot with encode_snapshot_content(content, first_log) (temp file,
// fsync, rename, fsync the directory), then delete the logs numbered below first_log;
// answer with on_disk_done(token, ...). Runs beside the appends (at most one snapshot
// at a time): the machine emits one only when every append to a log below first_log is
// done, and appends to first_log and later go on meanwhile. The frontend writes its
// state file the same way (first_log 0: it has no logs).
struct DiskSnapshot {
  std::uint64_t token;
  SnapshotContent content;
  std::uint64_t first_log = 0;
};

// Client only: an operation finished. Delivered in issue order.
struct Deliver {
  std::uint64_t op_id;
  Op op;
  Status status;
  std::string key;
  std::string value;   // GET with kOk
  std::string detail;  // reason when not kOk / kNotFound
};

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "debug", "info", "warn", "error": the one name table of log levels (log_level in the
// config files, client --log-level, the simulator's trace; log lines show it in capitals).
std::string_view log_level_name(LogLevel level);
// The level of one of those names; nullopt for anything else.
std::optional<LogLevel> parse_log_level(std::string_view name);

struct LogLine {
  LogLevel level;
  std::string text;
};

// The process must stop now (e.g. fsync failed: its durability promise is broken).
struct Stop {
  std::string reason;
};

using Effect = std::variant<Send, Close, Connect, SetTimer, CancelTimer, DiskAppend, DiskSnapshot,
                            Deliver, LogLine, Stop, PauseReading>;

// Effects in emission order. Backends drain it after every input.
class Outbox {
 public:
  void push(Effect e) { effects_.push_back(std::move(e)); }
  void send(ConnId conn, Message m) { push(Send{conn, std::move(m)}); }
  void log(LogLevel level, std::string text) { push(LogLine{level, std::move(text)}); }

  // Moves every pending effect out, leaving the outbox empty.
  std::vector<Effect> take() { return std::exchange(effects_, {}); }
  bool empty() const { return effects_.empty(); }

 private:
  std::vector<Effect> effects_;
};

}  // namespace kvs
