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
  // Adds a version. Idempotent: applying the same lsn twice changes nothing. Takes the
  // entry by value: recovery moves millions of values in rather than copying them.
  void apply(Entry e);
  // A log or snapshot record: an Entry is applied, a MarkRecord marks complete, a
  // DiscardRecord discards. The one way records become state, live and in recovery.
  void apply_record(WalRecord r);
  // Every write <= upto is now present (after a completed catch-up, or a snapshot).
  void mark_complete(Lsn upto);
  // The LSNs of `range` were never committed and will never be reused: drops every
  // version in it, and if complete() reached into it, every write <= range.upto is now
  // present. REQUIRES can_discard(range).
  void discard(const LsnRange& range);
  // Whether discard(range) would change anything.
  bool affected_by(const LsnRange& range) const;
  // False if versions older than the range were pruned in favour of versions inside
  // it: a read below the range could then no longer be answered. Never the case for a
  // node that only heard commit watermarks at or below the range (see docs/PROTOCOL.md).
  bool can_discard(const LsnRange& range) const { return range.after >= prune_bound_; }
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

  // Whether write `lsn` is already reflected here: held, superseded by a pruned-to
  // newer version, or covered by complete(). apply() of such an lsn is a no-op.
  bool contains(Lsn lsn) const { return lsn <= complete_ || above_complete_.count(lsn) > 0; }
  // Versions held across all keys (for status and tests).
  std::size_t version_count() const { return version_count_; }

 private:
  void advance_complete();
  void advance_prune_bound();
  void prune_key(const std::string& key);

  std::map<std::string, std::map<Lsn, std::string>> versions_;
  Lsn complete_ = 0;
  std::set<Lsn> above_complete_;  // lsns present beyond a gap
  Lsn max_lsn_ = 0;
  std::size_t version_count_ = 0;

  // Pruning is incremental: every key holds at most one version <= prune_bound_, and
  // unpruned_ lists (lsn -> key) the versions applied above it. When the bound rises,
  // only the keys of the versions it passes are visited, so a write costs O(log n)
  // amortized instead of a scan of every key.
  Lsn commit_ = 0;       // highest commit watermark heard
  Lsn prune_bound_ = 0;  // min(commit_, complete_)
  std::map<Lsn, std::string> unpruned_;
};

}  // namespace kvs
