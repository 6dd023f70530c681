// A data directory at startup, before the event loop runs: create it, lock it, clear a
// stale snapshot.tmp, read the snapshot and the log. For a storage node, rebuild the
// replica with core recover() and cut a torn log tail; for the frontend, read its state
// file (the "snapshot"; its log stays empty). Synchronous on purpose: nothing else can
// happen until the process knows its state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/effects.h"
#include "core/recovery.h"
#include "core/replica.h"
#include "core/wal.h"

namespace kvs::net {

struct OpenedStore {
  Replica replica;
  LogPosition log;  // the newest log ends where its valid records do (tail cut)
  // Open descriptor holding an exclusive lock on DIR/LOCK for the life of the process,
  // so two nodes can never append to one log.
  int lock_fd = -1;
};

using LogFn = std::function<void(LogLevel, const std::string&)>;

// Creates dir (mode 0700, parents too) if needed and recovers its contents. On failure
// returns nullopt with a message for the operator in *error: for corruption, it names
// the file and offset and says how to make the node rejoin empty (wipe the directory).
std::optional<OpenedStore> open_store(const std::string& dir, const LogFn& log, std::string* error);

struct OpenedFrontendStore {
  FrontendState state;  // empty for a new cluster
  int lock_fd = -1;     // as OpenedStore::lock_fd
};

// The frontend's data directory: created if needed; a damaged state file, or a
// storage node's directory, is refused with a message for the operator in *error.
std::optional<OpenedFrontendStore> open_frontend_store(const std::string& dir, const LogFn& log,
                                                       std::string* error);

// mkdir -p with the given mode for every directory it creates.
bool make_directories(const std::string& dir, unsigned mode, std::string* error);

}  // namespace kvs::net
