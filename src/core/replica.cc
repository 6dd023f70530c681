#include "core/replica.h"

#include <algorithm>
#include <iterator>

namespace kvs {

void Replica::apply(Entry e) {
  // lsn 0 is "none"; a write already reflected (even if since pruned) must not be
  // re-added, or a replayed old version could reappear after its successor was kept.
  if (e.lsn == 0 || contains(e.lsn)) return;

  auto [it, inserted] = versions_[e.key].emplace(e.lsn, std::move(e.value));
  if (inserted) ++version_count_;
  max_lsn_ = std::max(max_lsn_, e.lsn);
  // contains() was false, so e.lsn > complete_ >= prune_bound_: prune it later. LSNs
  // mostly arrive in order (a log replays in order), so the hint makes this O(1).
  unpruned_.emplace_hint(unpruned_.end(), e.lsn, std::move(e.key));
  if (e.lsn == complete_ + 1 && above_complete_.empty()) {
    complete_ = e.lsn;  // the common case: no gap, so nothing to fold
  } else {
    above_complete_.insert(e.lsn);
    advance_complete();
  }
  advance_prune_bound();
}

void Replica::apply_record(WalRecord r) {
  if (auto* e = std::get_if<Entry>(&r)) {
    apply(std::move(*e));
  } else if (const auto* m = std::get_if<MarkRecord>(&r)) {
    mark_complete(m->complete);
  } else {
    discard(std::get<DiscardRecord>(r).range);
  }
}

// Versions above the prune bound are exactly those listed in unpruned_, and
// can_discard() keeps the range above it, so unpruned_ finds every version to drop.
void Replica::discard(const LsnRange& range) {
  auto first = unpruned_.upper_bound(range.after);
  auto last = unpruned_.upper_bound(range.upto);
  for (auto it = first; it != last; ++it) {
    auto k = versions_.find(it->second);
    if (k == versions_.end()) continue;
    version_count_ -= k->second.erase(it->first);
    if (k->second.empty()) versions_.erase(k);
  }
  unpruned_.erase(first, last);
  above_complete_.erase(above_complete_.upper_bound(range.after),
                        above_complete_.upper_bound(range.upto));
  if (complete_ >= range.after) complete_ = std::max(complete_, range.upto);
  advance_complete();
  max_lsn_ = std::max(complete_, unpruned_.empty() ? 0 : unpruned_.rbegin()->first);
  advance_prune_bound();
}

bool Replica::affected_by(const LsnRange& range) const {
  const bool holds_some = unpruned_.upper_bound(range.after) != unpruned_.upper_bound(range.upto);
  const bool complete_inside = complete_ >= range.after && complete_ < range.upto;
  return holds_some || complete_inside;
}

void Replica::mark_complete(Lsn upto) {
  if (upto <= complete_) return;
  complete_ = upto;
  max_lsn_ = std::max(max_lsn_, upto);
  above_complete_.erase(above_complete_.begin(), above_complete_.upper_bound(upto));
  advance_complete();
  advance_prune_bound();
}

void Replica::prune(Lsn commit) {
  commit_ = std::max(commit_, commit);
  advance_prune_bound();
}

// Folds lsns that arrived ahead of a gap into complete_ once the gap has filled.
void Replica::advance_complete() {
  while (!above_complete_.empty() && *above_complete_.begin() == complete_ + 1) {
    complete_ = *above_complete_.begin();
    above_complete_.erase(above_complete_.begin());
  }
}

// The bound is capped at complete_ as well as commit_: a version above complete_ may
// only be dropped once the gap below it is filled, because to_records() must keep
// every lsn above complete_ for a recovered replica to compute the same complete().
// A member always has complete_ >= commit_, so for it this is exactly the commit.
void Replica::advance_prune_bound() {
  Lsn bound = std::min(commit_, complete_);
  if (bound <= prune_bound_) return;
  prune_bound_ = bound;
  while (!unpruned_.empty() && unpruned_.begin()->first <= prune_bound_) {
    prune_key(unpruned_.begin()->second);
    unpruned_.erase(unpruned_.begin());
  }
}

// Keeps the newest version <= prune_bound_ (what a read at the watermark needs) and
// every newer one; older versions can never be read again.
void Replica::prune_key(const std::string& key) {
  auto k = versions_.find(key);
  if (k == versions_.end()) return;
  auto& versions = k->second;
  auto newest_committed = versions.upper_bound(prune_bound_);
  if (newest_committed == versions.begin()) return;
  --newest_committed;
  version_count_ -= static_cast<std::size_t>(std::distance(versions.begin(), newest_committed));
  versions.erase(versions.begin(), newest_committed);
}

std::optional<Entry> Replica::read(const std::string& key, Lsn at) const {
  auto k = versions_.find(key);
  if (k == versions_.end()) return std::nullopt;
  auto it = k->second.upper_bound(at);
  if (it == k->second.begin()) return std::nullopt;
  --it;
  return Entry{it->first, key, it->second};
}

CatchupChunk Replica::chunk_after(Lsn after, const std::string& cursor,
                                  std::size_t max_bytes) const {
  CatchupChunk chunk;
  chunk.cursor = cursor;
  std::size_t bytes = 0;
  auto k = versions_.upper_bound(cursor);
  while (k != versions_.end() && (bytes < max_bytes || chunk.entries.empty())) {
    const auto& [key, versions] = *k;
    for (auto v = versions.upper_bound(after); v != versions.end(); ++v) {
      chunk.entries.push_back(Entry{v->first, key, v->second});
      bytes += key.size() + v->second.size();
    }
    chunk.cursor = key;
    ++k;
  }
  chunk.done = (k == versions_.end());
  return chunk;
}

std::vector<WalRecord> Replica::to_records() const {
  std::vector<WalRecord> records;
  records.reserve(version_count_ + 1);
  for (const auto& [key, versions] : versions_) {
    for (const auto& [lsn, value] : versions) records.push_back(Entry{lsn, key, value});
  }
  // Last: replaying it after the entries restores complete() (apply ignores lsns
  // already covered by a mark, so the mark must not come first).
  records.push_back(MarkRecord{complete_});
  return records;
}

}  // namespace kvs
