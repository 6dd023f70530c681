// The data a storage node holds: for each key, the newest version at or below the
// commit watermark it last heard, plus any newer (not yet committed) versions.
// Pure in-memory structure; src/core/recovery.h rebuilds it from disk bytes.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/wal.h"

namespace kvs {

class Replica {
 public:
  // Adds a version. Idempotent: applying the same lsn twice changes nothing.
  void apply(const Entry& e);
  // Every write <= upto is now present (after a completed catch-up, or a snapshot).
  void mark_complete(Lsn upto);
  // Highest L such that every write <= L is present.
  Lsn complete() const { return complete_; }
  // Forget versions older than the newest version <= commit, key by key.
  void prune(Lsn commit);
  // Newest version of key with lsn <= at.
  std::optional<Entry> read(const std::string& key, Lsn at) const;
  // Versions with lsn > after, for keys > cursor in key order, until about max_bytes
  // of keys and values are gathered (at least one key if any remains).
  CatchupChunk chunk_after(Lsn after, const std::string& cursor, std::size_t max_bytes) const;
  // The whole state as records: every retained version, then a mark of complete().
  std::vector<WalRecord> to_records() const;

  std::size_t key_count() const { return versions_.size(); }
  Lsn max_lsn() const { return max_lsn_; }

 private:
  std::map<std::string, std::map<Lsn, std::string>> versions_;
  Lsn complete_ = 0;
  std::set<Lsn> above_complete_;  // lsns present beyond a gap
  Lsn max_lsn_ = 0;
  Lsn pruned_at_ = 0;
};

}  // namespace kvs
