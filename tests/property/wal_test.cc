// Properties of the log and snapshot format (src/core/wal.h) and of recovery
// (src/core/recovery.h), for any records (unicode, quotes, control characters, any lsn):
//
// 1. CutAtAnyByte...: a log cut at any byte (a crash mid-write) reads back as exactly the
//    records whose whole line, newline included, lies before the cut; the rest is a torn
//    tail (dropped_bytes), never an error.
// 2. FlipAnyByte...: one damaged byte anywhere in a log is always noticed. Let record j
//    hold the byte. If the byte was j's newline, j's line now runs on through record
//    j+1's, so the damaged stretch is j and j+1; else it is j alone (a byte turned into a
//    newline splits j into two damaged lines). If no record follows the stretch, it is a
//    torn tail (wal.h: "no valid record after it") and the result is exactly records
//    0..j-1; otherwise it is a RecoveryError at j's first byte naming the file. Never a
//    different record set. Note what this contract allows: damage to the last record, or
//    to the newline of the one before it, silently drops the (intact) last record too.
// 3. RecoveryMatchesTheModel...: a storage node's disk driven as the backends drive it
//    (src/core/storage.cc emits synced appends and compactions; src/sim/sim_disk.h and
//    src/net/disk.cc carry them out: write + fdatasync; snapshot.tmp + fsync, rename +
//    fsync dir, truncate log + fsync), with crashes between any of those steps, recovers
//    exactly the synced records (a std::map model) plus exactly those records of an
//    interrupted append whose whole line reached the disk (SimDisk's crash: a prefix of
//    the unsynced bytes survives; here also as zeros). A crash after the rename leaves
//    the new snapshot with the old log, whose records must replay as no-ops. The node
//    then cuts the log to log_valid_bytes and appends on; later recoveries agree.
// 4. SnapshotIsAll...: a snapshot is written whole and renamed into place, so any cut,
//    any flipped byte or anything after its end record is an error naming the snapshot
//    file and the damaged record's offset, never a partial state.
#include "core/wal.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/recovery.h"
#include "core/replica.h"
#include "sim/sim_disk.h"

namespace kvs {

// How RapidCheck prints records in counterexamples.
void showValue(const Entry& e, std::ostream& os) {
  os << "put{lsn " << e.lsn << ", ";
  rc::show(e.key, os);
  os << ", ";
  rc::show(e.value, os);
  os << "}";
}
void showValue(const MarkRecord& m, std::ostream& os) {
  os << "mark{" << m.complete << "}";
}
void showValue(const DiscardRecord& d, std::ostream& os) {
  os << "discard{" << d.range.after << ".." << d.range.upto << "}";
}
void showValue(const WalRecord& r, std::ostream& os) {
  std::visit([&os](const auto& v) { showValue(v, os); }, r);
}

namespace {

constexpr const char* kLogName = "data/s1/wal-000001.log";
constexpr const char* kSnapshotName = "data/s1/snapshot";
constexpr Lsn kMaxLsn = std::numeric_limits<Lsn>::max();

// ---- generators ------------------------------------------------------------------

// An integer in [min, max), uniform whatever the test size (rc::gen::inRange alone
// narrows the range at small sizes, which would never damage a long log's tail).
template <typename T>
rc::Gen<T> uniform(T min, T max) {
  return rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max));
}

std::string utf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A Unicode scalar value: mostly ASCII, often a character JSON must escape, sometimes
// 2-, 3- (no surrogates) or 4-byte UTF-8. (Invalid UTF-8 is stored as U+FFFD by design,
// see wal_test.cc, so it cannot round-trip and is not generated.)
rc::Gen<std::uint32_t> code_point() {
  return rc::gen::weightedOneOf<std::uint32_t>({
      {6, uniform<std::uint32_t>(0x20, 0x7F)},
      {3, rc::gen::elementOf(std::vector<std::uint32_t>{'"', '\\', '\n', '\r', '\t', '\0', 0x01,
                                                        0x1F, 0x7F, '/'})},
      {1, uniform<std::uint32_t>(0x80, 0x800)},
      {1, rc::gen::map(uniform<std::uint32_t>(0x800, 0xF800),
                       [](std::uint32_t cp) { return cp < 0xD800 ? cp : cp + 0x800; })},
      {1, uniform<std::uint32_t>(0x10000, 0x110000)},
  });
}

// Valid UTF-8 of up to ~12 characters (up to ~48 bytes).
rc::Gen<std::string> text() {
  return rc::gen::map(
      rc::gen::scale(0.12, rc::gen::container<std::vector<std::uint32_t>>(code_point())),
      [](const std::vector<std::uint32_t>& cps) {
        std::string s;
        for (std::uint32_t cp : cps) s += utf8(cp);
        return s;
      });
}

rc::Gen<Lsn> any_lsn() {
  return rc::gen::weightedOneOf<Lsn>({{4, uniform<Lsn>(0, 1000)},
                                      {1, rc::gen::arbitrary<Lsn>()},
                                      {1, rc::gen::element(Lsn{0}, kMaxLsn)}});
}

rc::Gen<WalRecord> any_record() {
  return rc::gen::weightedOneOf<WalRecord>({
      {4, rc::gen::map(rc::gen::build<Entry>(rc::gen::set(&Entry::lsn, any_lsn()),
                                             rc::gen::set(&Entry::key, text()),
                                             rc::gen::set(&Entry::value, text())),
                       [](Entry e) { return WalRecord(std::move(e)); })},
      {1, rc::gen::map(any_lsn(), [](Lsn c) { return WalRecord(MarkRecord{c}); })},
      {1, rc::gen::apply(
              [](Lsn after, Lsn length) {
                return WalRecord(DiscardRecord{LsnRange{after, after + length}});
              },
              uniform<Lsn>(0, 1000), uniform<Lsn>(1, 1000))},
  });
}

// Up to ~10 records.
rc::Gen<std::vector<WalRecord>> any_records() {
  return rc::gen::scale(0.1, rc::gen::container<std::vector<WalRecord>>(any_record()));
}

// ---- encoded logs ----------------------------------------------------------------

struct Encoded {
  std::string bytes;
  std::vector<std::size_t> starts;  // where each line starts, then bytes.size()
  // The record whose line holds byte `at` (for at == size: one past the last).
  std::size_t record_at(std::size_t at) const {
    return static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), at) -
                                    starts.begin()) -
           1;
  }
};

Encoded encode_log(const std::vector<WalRecord>& records) {
  Encoded out;
  out.starts.push_back(0);
  for (const WalRecord& r : records) {
    out.bytes += encode_wal_record(r);
    out.starts.push_back(out.bytes.size());
  }
  return out;
}

// The snapshot's lines: the records, then the end record.
Encoded encode_snapshot_lines(const std::vector<WalRecord>& records) {
  Encoded out = encode_log(records);
  out.bytes = encode_snapshot(records, 1);
  out.starts.push_back(out.bytes.size());
  return out;
}

std::vector<WalRecord> prefix(const std::vector<WalRecord>& records, std::size_t n) {
  return {records.begin(), records.begin() + static_cast<std::ptrdiff_t>(n)};
}

// A cut point 0..size: anywhere, or next to a line boundary where off-by-ones live.
rc::Gen<std::size_t> cut_point(const Encoded& log) {
  const std::size_t size = log.bytes.size();
  return rc::gen::weightedOneOf<std::size_t>({
      {1, uniform<std::size_t>(0, size + 1)},
      {1, rc::gen::map(rc::gen::pair(rc::gen::elementOf(log.starts), uniform(-1, 2)),
                       [size](std::pair<std::size_t, int> p) {
                         const auto at = static_cast<std::int64_t>(p.first) + p.second;
                         return static_cast<std::size_t>(
                             std::clamp<std::int64_t>(at, 0, static_cast<std::int64_t>(size)));
                       })},
  });
}

struct Flip {
  std::size_t at = 0;
  unsigned mask = 1;  // 1..255, XORed into bytes[at]
};

// Any byte XOR any nonzero mask; biased to the cases that move line boundaries: a
// newline damaged, or a byte turned into a newline.
rc::Gen<Flip> flip_in(const std::string& bytes) {
  std::vector<std::size_t> newlines;
  for (std::size_t i = 0; i < bytes.size(); i++) {
    if (bytes[i] == '\n') newlines.push_back(i);
  }
  const auto any_at = uniform<std::size_t>(0, bytes.size());
  const auto any_mask = uniform<unsigned>(1, 256);
  return rc::gen::weightedOneOf<Flip>({
      {3, rc::gen::map(rc::gen::pair(any_at, any_mask),
                       [](std::pair<std::size_t, unsigned> p) {
                         return Flip{p.first, p.second};
                       })},
      {1, rc::gen::map(rc::gen::pair(rc::gen::elementOf(newlines), any_mask),
                       [](std::pair<std::size_t, unsigned> p) {
                         return Flip{p.first, p.second};
                       })},
      {1, rc::gen::map(any_at,
                       [bytes](std::size_t at) {
                         const unsigned mask = static_cast<unsigned char>(bytes[at]) ^ '\n';
                         return Flip{at, mask == 0 ? 1u : mask};
                       })},
  });
}

void showValue(const Flip& f, std::ostream& os) {
  os << "byte " << f.at << " ^= " << f.mask;
}

std::string flipped(std::string bytes, Flip f) {
  bytes[f.at] = static_cast<char>(static_cast<unsigned char>(bytes[f.at]) ^ f.mask);
  return bytes;
}

const RecoveredLog& expect_log(const std::variant<RecoveredLog, RecoveryError>& result) {
  if (const auto* e = std::get_if<RecoveryError>(&result)) RC_FAIL("unexpected " + e->describe());
  return std::get<RecoveredLog>(result);
}

template <typename T>
const RecoveryError& expect_error(const std::variant<T, RecoveryError>& result) {
  if (!std::holds_alternative<RecoveryError>(result)) RC_FAIL("expected a RecoveryError");
  return std::get<RecoveryError>(result);
}

// An error at `offset` that names `file`, as describe() promises.
void expect_error_at(const RecoveryError& e, const std::string& file, std::size_t offset) {
  RC_ASSERT(e.file == file);
  RC_ASSERT(e.offset == offset);
  const std::string head = file + ": corrupt record at byte " + std::to_string(offset) + ": ";
  RC_ASSERT(e.describe().substr(0, head.size()) == head);
}

// ---- 1 and 2: the log ----------------------------------------------------------------

RC_GTEST_PROP(WalProperty, CutAtAnyByteKeepsExactlyTheWholeRecordsBeforeIt, ()) {
  const auto records = *any_records();
  const Encoded log = encode_log(records);
  const std::size_t cut = *cut_point(log);

  const auto result = read_wal(std::string_view(log.bytes).substr(0, cut), kLogName);
  const RecoveredLog& got = expect_log(result);
  std::size_t whole = 0;  // records whose line, newline included, lies before the cut
  while (whole < records.size() && log.starts[whole + 1] <= cut) whole++;
  RC_CLASSIFY(whole == records.size(), "clean end");
  RC_ASSERT(got.records == prefix(records, whole));
  RC_ASSERT(got.valid_bytes == log.starts[whole]);
  RC_ASSERT(got.dropped_bytes == cut - log.starts[whole]);
}

RC_GTEST_PROP(WalProperty, FlipAnyByteIsATornTailOrAnErrorAtTheDamagedRecord, ()) {
  const auto records = *rc::gen::nonEmpty(any_records());
  const Encoded log = encode_log(records);
  const Flip flip = *flip_in(log.bytes);
  const std::string bad = flipped(log.bytes, flip);

  const std::size_t n = records.size();
  const std::size_t damaged = log.record_at(flip.at);
  const bool newline_lost = flip.at + 1 == log.starts[damaged + 1];
  // A lost newline joins the next line onto the damaged one.
  const std::size_t stretch_end = std::min(newline_lost ? damaged + 2 : damaged + 1, n);
  const bool torn_tail = stretch_end == n;
  RC_CLASSIFY(torn_tail, "torn tail");
  RC_CLASSIFY(newline_lost, "newline lost");
  RC_CLASSIFY(bad[flip.at] == '\n', "newline made");
  RC_CLASSIFY(torn_tail && newline_lost && damaged + 2 == n, "intact last record dropped");

  auto result = read_wal(bad, kLogName);
  if (torn_tail) {
    const RecoveredLog& got = expect_log(result);
    RC_ASSERT(got.records == prefix(records, damaged));
    RC_ASSERT(got.valid_bytes == log.starts[damaged]);
    RC_ASSERT(got.dropped_bytes == bad.size() - log.starts[damaged]);
  } else {
    expect_error_at(expect_error(result), kLogName, log.starts[damaged]);
  }
}

// ---- 3: snapshot + log recovery against a model ------------------------------------

// A record of a batch before lsns are given out at run time, so lsns always increase.
struct RecordSpec {
  bool mark = false;
  std::string key, value;
  Lsn skip = 0;  // put: lsns left out before this one (lost or never sent, a gap)
                 // mark: how far below the newest lsn given out it marks complete
};

enum class Crash {
  kNone,
  kBeforeSync,       // append: written, not yet fdatasync'ed; a torn prefix may survive
  kAfterTemp,        // compaction: snapshot.tmp written and synced, not yet renamed
  kAfterRename,      // compaction: snapshot renamed into place, old logs not yet deleted
  kBetweenRequests,  // nothing in flight
};

struct Step {
  bool compact = false;  // a DiskSnapshot of the state, then the batch to a new log
  std::vector<RecordSpec> batch;
  Crash crash = Crash::kNone;
  std::uint32_t torn = 0;      // kBeforeSync: torn % (unsynced + 1) bytes survive ...
  bool torn_as_zeros = false;  // ... as written, or as zeros (file grown, data lost)
};

void showValue(const RecordSpec& r, std::ostream& os) {
  if (r.mark) {
    os << "mark(newest-" << r.skip << ")";
  } else {
    os << "put(skip " << r.skip << ", ";
    rc::show(r.key, os);
    os << ", ";
    rc::show(r.value, os);
    os << ")";
  }
}

void showValue(const Step& s, std::ostream& os) {
  static const char* const kCrash[] = {"", " CRASH before sync", " CRASH after temp",
                                       " CRASH after rename", " CRASH"};
  os << (s.crash == Crash::kBetweenRequests ? "" : s.compact ? "compact " : "append ");
  if (s.crash != Crash::kBetweenRequests) rc::show(s.batch, os);
  os << kCrash[static_cast<int>(s.crash)];
  if (s.crash == Crash::kBeforeSync) {
    os << " (torn " << s.torn << (s.torn_as_zeros ? " as zeros)" : ")");
  }
}

rc::Gen<RecordSpec> record_spec() {
  // Few keys, so keys are overwritten; some need escaping.
  const auto key = rc::gen::weightedOneOf<std::string>(
      {{4, rc::gen::element<std::string>("a", "b", "k\"q", "\u00e9\U0001F600", "")}, {1, text()}});
  return rc::gen::weightedOneOf<RecordSpec>({
      {6, rc::gen::build<RecordSpec>(
              rc::gen::set(&RecordSpec::key, key), rc::gen::set(&RecordSpec::value, text()),
              rc::gen::set(&RecordSpec::skip, rc::gen::weightedElement<Lsn>({{5, 0}, {1, 1}})))},
      {1, rc::gen::build<RecordSpec>(rc::gen::set(&RecordSpec::mark, rc::gen::just(true)),
                                     rc::gen::set(&RecordSpec::skip, uniform<Lsn>(0, 3)))},
  });
}

rc::Gen<Step> step() {
  // The storage node never writes an empty batch.
  const auto batch = rc::gen::mapcat(rc::gen::inRange(1, 6), [](int n) {
    return rc::gen::container<std::vector<RecordSpec>>(static_cast<std::size_t>(n), record_spec());
  });
  return rc::gen::weightedOneOf<Step>({
      {6, rc::gen::build<Step>(
              rc::gen::set(&Step::batch, batch),
              rc::gen::set(&Step::crash, rc::gen::weightedElement<Crash>(
                                             {{4, Crash::kNone}, {1, Crash::kBeforeSync}})),
              rc::gen::set(&Step::torn),
              rc::gen::set(&Step::torn_as_zeros,
                           rc::gen::weightedElement<bool>({{3, false}, {1, true}})))},
      {2, rc::gen::build<Step>(
              rc::gen::set(&Step::compact, rc::gen::just(true)), rc::gen::set(&Step::batch, batch),
              rc::gen::set(&Step::crash, rc::gen::element(Crash::kNone, Crash::kAfterTemp,
                                                          Crash::kAfterRename)))},
      {1, rc::gen::build<Step>(rc::gen::set(&Step::crash, rc::gen::just(Crash::kBetweenRequests)))},
  });
}

// What must be durable: every version of every key (nothing is pruned here), and the
// highest mark. complete() is then the highest mark extended over the lsns that follow
// it without a gap (src/core/replica.h).
struct Model {
  std::map<std::string, std::map<Lsn, std::string>> versions;
  Lsn max_mark = 0;

  void apply(const WalRecord& r) {
    if (const auto* e = std::get_if<Entry>(&r)) {
      versions[e->key][e->lsn] = e->value;
    } else {
      max_mark = std::max(max_mark, std::get<MarkRecord>(r).complete);
    }
  }
  // Replica::to_records() of this state: versions in key order, then the complete mark.
  std::vector<WalRecord> records() const {
    std::set<Lsn> lsns;
    std::vector<WalRecord> out;
    for (const auto& [key, by_lsn] : versions) {
      for (const auto& [lsn, value] : by_lsn) {
        out.push_back(Entry{lsn, key, value});
        lsns.insert(lsn);
      }
    }
    Lsn complete = max_mark;
    while (lsns.count(complete + 1) > 0) complete++;
    out.push_back(MarkRecord{complete});
    return out;
  }
};

// Gives the batch its lsns: each put the next lsn after `skip` left out.
std::vector<WalRecord> assign_lsns(const std::vector<RecordSpec>& batch, Lsn* newest) {
  std::vector<WalRecord> out;
  for (const RecordSpec& r : batch) {
    if (r.mark) {
      out.push_back(MarkRecord{*newest > r.skip ? *newest - r.skip : 0});
    } else {
      *newest += r.skip + 1;
      out.push_back(Entry{*newest, r.key, r.value});
    }
  }
  return out;
}

// A storage node's disk, and the durable state the node holds in memory (storage.h:
// "replica_: durable state only").
struct Node {
  sim::SimDisk disk;
  Replica replica;
  std::uint64_t log = 1;  // the log appended to
};

// The crash and the restart: the unsynced bytes are lost but for the first `kept`
// (SimDisk::crash(), with the surviving length chosen by the test), as written or as
// zeros; then what open_store() and SimStorage::boot() do: drop snapshot.tmp, recover,
// cut the torn tail. Checks the recovered state against the model.
void crash_and_recover(Node* node, const Model& model, std::size_t kept, bool as_zeros,
                       std::size_t expect_valid_bytes) {
  sim::SimDisk& disk = node->disk;
  const std::uint64_t log = node->log;
  const std::size_t durable = disk.durable_log(log).size();
  const std::string survivor = disk.log(log).substr(durable, kept);
  disk.truncate_log(log, durable);
  disk.append(log, as_zeros ? std::string(survivor.size(), '\0') : survivor);
  disk.sync(log);
  disk.remove_temp();

  std::optional<std::string_view> snapshot;
  if (disk.snapshot()) snapshot = *disk.snapshot();
  auto result = recover(snapshot, kSnapshotName, disk.durable_logs());
  if (const auto* e = std::get_if<RecoveryError>(&result)) RC_FAIL("unexpected " + e->describe());
  Recovered& got = std::get<Recovered>(result);

  const std::vector<WalRecord> expected = model.records();
  RC_ASSERT(got.replica.to_records() == expected);
  const Lsn complete = std::get<MarkRecord>(expected.back()).complete;
  Lsn max_lsn = complete;
  for (const auto& [key, by_lsn] : model.versions) {
    max_lsn = std::max(max_lsn, by_lsn.rbegin()->first);
    RC_ASSERT(got.replica.read(key, kMaxLsn) ==
              std::optional<Entry>(Entry{by_lsn.rbegin()->first, key, by_lsn.rbegin()->second}));
  }
  RC_ASSERT(got.replica.max_lsn() == max_lsn);
  RC_ASSERT(got.log_valid_bytes == expect_valid_bytes);
  const std::string& bytes = disk.durable_log(log);
  // Past the valid records: a torn tail, or zeros that read as preallocated space.
  RC_ASSERT(got.log_valid_bytes + got.log_dropped_bytes == bytes.size() ||
            (got.log_dropped_bytes == 0 &&
             bytes.find_first_not_of('\0', got.log_valid_bytes) == std::string::npos));
  RC_ASSERT(got.position.number == log);

  for (std::uint64_t stale : got.stale_logs) disk.remove_log(stale);
  disk.truncate_log(log, got.log_valid_bytes);
  node->replica = std::move(got.replica);
}

RC_GTEST_PROP(WalProperty, RecoveryMatchesTheModelAfterAnyCrash, ()) {
  const auto steps = *rc::gen::scale(0.4, rc::gen::container<std::vector<Step>>(step()));
  Node node;
  Model model;  // what is durable
  Lsn newest = 0;
  int torn_appends = 0, crashes_after_temp = 0, crashes_after_rename = 0;
  for (const Step& s : steps) {
    const std::vector<WalRecord> batch = assign_lsns(s.batch, &newest);
    std::size_t log_size = node.disk.log(node.log).size();
    if (s.crash == Crash::kBetweenRequests) {
      crash_and_recover(&node, model, 0, false, log_size);
      continue;
    }
    if (s.compact) {
      // Appends move to a new log, and a DiskSnapshot holds the durable state, which is
      // everything in the logs before it.
      const std::uint64_t old_log = node.log;
      node.disk.write_temp(encode_snapshot(node.replica.to_records(), old_log + 1));
      if (s.crash == Crash::kAfterTemp) {
        crashes_after_temp++;
        crash_and_recover(&node, model, 0, false, log_size);
        continue;
      }
      node.disk.rename_temp();
      node.log = old_log + 1;
      if (s.crash == Crash::kAfterRename) {
        crashes_after_rename++;
        crash_and_recover(&node, model, 0, false, 0);  // the old log is stale
        for (std::uint64_t n : node.disk.log_numbers()) RC_ASSERT(n >= node.log);
        continue;
      }
      node.disk.remove_logs_below(node.log);
      log_size = 0;
    }
    // DiskAppend: write, then fdatasync.
    const Encoded appended = encode_log(batch);
    node.disk.append(node.log, appended.bytes);
    if (s.crash == Crash::kBeforeSync) {
      torn_appends++;
      const std::size_t kept = s.torn % (appended.bytes.size() + 1);
      std::size_t whole = 0;
      while (!s.torn_as_zeros && whole < batch.size() && appended.starts[whole + 1] <= kept) {
        model.apply(batch[whole++]);
      }
      crash_and_recover(&node, model, kept, s.torn_as_zeros, log_size + appended.starts[whole]);
      continue;
    }
    node.disk.sync(node.log);
    // on_disk_done: the batch is durable.
    for (const WalRecord& r : batch) {
      node.replica.apply_record(r);
      model.apply(r);
    }
  }
  crash_and_recover(&node, model, 0, false, node.disk.log(node.log).size());
  RC_CLASSIFY(torn_appends > 0, "torn append");
  RC_CLASSIFY(crashes_after_temp > 0, "crash after snapshot.tmp");
  RC_CLASSIFY(crashes_after_rename > 0, "crash after rename");
}

// ---- 4: snapshots --------------------------------------------------------------------

RC_GTEST_PROP(WalProperty, SnapshotIsAllOrAnErrorNamingTheFile, ()) {
  const auto records = *any_records();
  const Encoded snap = encode_snapshot_lines(records);
  const std::size_t size = snap.bytes.size();

  auto whole = read_snapshot(snap.bytes, kSnapshotName);
  if (const auto* e = std::get_if<RecoveryError>(&whole)) RC_FAIL("unexpected " + e->describe());
  RC_ASSERT(std::get<Snapshot>(whole).records == records);

  std::string bad;
  std::size_t offset = 0;  // of the first damaged record
  switch (*uniform(0, 3)) {
    case 0: {
      RC_TAG("cut");
      const std::size_t cut = std::min(*cut_point(snap), size - 1);
      bad = snap.bytes.substr(0, cut);
      offset = snap.starts[snap.record_at(cut)];
      break;
    }
    case 1: {
      RC_TAG("flip");
      const Flip flip = *flip_in(snap.bytes);
      bad = flipped(snap.bytes, flip);
      offset = snap.starts[snap.record_at(flip.at)];
      break;
    }
    default: {
      RC_TAG("trailing bytes");
      bad = snap.bytes + *rc::gen::nonEmpty(
                             rc::gen::oneOf(text(), rc::gen::map(any_record(), encode_wal_record)));
      offset = size;
    }
  }
  auto result = read_snapshot(bad, kSnapshotName);
  expect_error_at(expect_error(result), kSnapshotName, offset);

  // Recovery refuses it too, naming the snapshot, whatever the log holds.
  const std::string log = encode_log(records).bytes;
  auto recovered = recover(bad, kSnapshotName, {LogFile{1, kLogName, log}});
  expect_error_at(expect_error(recovered), kSnapshotName, offset);
}

// 5. PlainPutFastPath...: decode_plain_put (the fast way recovery reads a put) accepts a
//    payload only if the general JSON decoder reads the same put from it, and accepts
//    every put encode_wal_record writes whose key and value need no escapes. Payloads
//    are encoded records, often with one byte replaced, inserted or removed near the
//    places the fast path checks.
RC_GTEST_PROP(WalProperty, PlainPutFastPathAgreesWithTheGeneralDecoder, ()) {
  // Half the strings printable ASCII, which the fast path must take.
  const auto plain_or_any = rc::gen::oneOf(
      text(), rc::gen::scale(0.2, rc::gen::container<std::string>(uniform<char>(0x20, 0x7f))));
  const Entry e = *rc::gen::build<Entry>(rc::gen::set(&Entry::lsn, any_lsn()),
                                         rc::gen::set(&Entry::key, plain_or_any),
                                         rc::gen::set(&Entry::value, plain_or_any));
  const std::string line = encode_wal_record(e);
  std::string payload = line.substr(9, line.size() - 10);  // no checksum, no newline
  const bool plain = std::all_of(payload.begin(), payload.end(),
                                 [](char ch) {
                                   return static_cast<unsigned char>(ch) >= 0x20 &&
                                          static_cast<unsigned char>(ch) < 0x80;
                                 }) &&
                     payload.find('\\') == std::string::npos &&
                     e.lsn <= 9'999'999'999'999'999'999u;  // 19 digits
  const bool mutate = *rc::gen::arbitrary<bool>();
  if (mutate && !payload.empty()) {
    // Anywhere, or where the fast path checks most: the lsn's first digit, the fields'
    // boundaries, the end.
    const std::vector<std::size_t> edges = {17, payload.find(R"(,"k")"), payload.find(R"(,"v")"),
                                            payload.size() - 1};
    std::size_t at =
        *rc::gen::oneOf(uniform<std::size_t>(0, payload.size() - 1), rc::gen::elementOf(edges));
    at = std::min(at, payload.size() - 1);
    const char ch = *rc::gen::elementOf(std::string("\"\\0919}{,: x\x7f\xc3\x01-+.eE"));
    switch (*uniform(0, 2)) {
      case 0:
        payload[at] = ch;
        break;
      case 1:
        payload.insert(at, 1, ch);
        break;
      default:
        payload.erase(at, 1);
    }
    RC_TAG("mutated");
  }

  Entry fast;
  const bool accepted = decode_plain_put(payload, &fast);
  if (!mutate && plain) RC_ASSERT(accepted && fast == e);
  if (!accepted) return;
  RC_TAG("accepted");
  // What the general decoder makes of it: the same put, or the fast path was wrong.
  const std::string good_line = encode_wal_record(fast);
  const auto parsed = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
  RC_ASSERT(parsed.is_object());
  RC_ASSERT(parsed.size() == 4u);
  RC_ASSERT(parsed.value("t", "") == "put");
  RC_ASSERT(parsed["lsn"].is_number_unsigned());
  RC_ASSERT(parsed["lsn"].get<std::uint64_t>() == fast.lsn);
  RC_ASSERT(parsed.value("k", std::string("\x01")) == fast.key);
  RC_ASSERT(parsed.value("v", std::string("\x01")) == fast.value);
  RC_ASSERT(good_line.substr(9, good_line.size() - 10) == payload);
}

}  // namespace
}  // namespace kvs
