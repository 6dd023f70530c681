// Log and snapshot records: "<crc32c hex> <payload>\n", see wal.h. A line that fails its
// checksum (or is cut off) may be a write the crash interrupted; a line whose checksum
// holds was written whole, so if it cannot be understood that is corruption, never a
// torn tail to drop silently.
#include "core/wal.h"

#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>

#include "core/crc32c.h"
#include "core/json_writer.h"

namespace kvs {
namespace {

using json = nlohmann::json;

constexpr std::size_t kCrcDigits = 8;

// Writes the payload in place after room for its checksum, so it is never copied.
template <typename WritePayload>
std::string record_line(WritePayload write_payload) {
  constexpr char kHex[] = "0123456789abcdef";
  std::string line(kCrcDigits + 1, ' ');
  JsonWriter w(&line);
  w.begin_object();
  write_payload(w);
  w.end_object();
  const std::uint32_t crc = crc32c(std::string_view(line).substr(kCrcDigits + 1));
  for (std::size_t i = 0; i < kCrcDigits; i++) line[i] = kHex[(crc >> (28 - 4 * i)) & 0xf];
  line += '\n';
  return line;
}

// One line of a log or snapshot.
struct Line {
  enum Kind {
    kRecord,      // a put, mark or discard record
    kEnd,         // a snapshot's end record
    kDamaged,     // cut off, or its checksum fails: maybe a torn write
    kUnreadable,  // its checksum holds but its payload makes no sense
  };
  Kind kind = kDamaged;
  WalRecord record;
  std::uint64_t end_records = 0;
  std::uint64_t end_first_log = 0;
  std::string reason;    // for kDamaged and kUnreadable
  std::size_t next = 0;  // offset just past this line
};

bool parse_hex(std::string_view digits, std::uint32_t* out) {
  std::uint32_t value = 0;
  for (char ch : digits) {
    int nibble;
    if (ch >= '0' && ch <= '9') {
      nibble = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      nibble = ch - 'a' + 10;
    } else {
      return false;
    }
    value = (value << 4) | static_cast<std::uint32_t>(nibble);
  }
  *out = value;
  return true;
}

bool plain_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

// The length of the run of plain_char bytes at the start of s. Eight bytes a step
// (values are most of a log's bytes): a word is all plain if no byte is below 0x20,
// at or above 0x80, '"' or '\\' (the bit tricks of "Bit Twiddling Hacks": a byte of
// x - 0x01.. borrows into its high bit where x's byte was 0).
std::size_t plain_run(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101;
  constexpr std::uint64_t kHighs = 0x8080808080808080;
  auto has_zero_byte = [](std::uint64_t x) { return ((x - kOnes) & ~x & kHighs) != 0; };
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const bool below_space = ((w - kOnes * 0x20) & ~w & kHighs) != 0;
    if (below_space || (w & kHighs) != 0 || has_zero_byte(w ^ (kOnes * '"')) ||
        has_zero_byte(w ^ (kOnes * '\\'))) {
      break;
    }
  }
  while (i < s.size() && plain_char(s[i])) ++i;
  return i;
}

bool only_zeros(std::string_view s) {
  return s.find_first_not_of('\0') == std::string_view::npos;
}

}  // namespace

// Recovery reads millions of put records; nlohmann's lexer takes a byte at a time and
// builds a document for each, which was 40% of recovery time. This reads only the exact
// bytes encode_wal_record writes for a put whose key and value need no escapes;
// anything else is left to the general decoder, so it changes speed, never what is
// accepted (tests/property/wal_test.cc checks the two agree).
bool decode_plain_put(std::string_view p, Entry* out) {
  constexpr std::string_view kHead = R"({"t":"put","lsn":)";
  if (p.substr(0, kHead.size()) != kHead) return false;
  std::size_t i = kHead.size();
  const std::size_t digits_start = i;
  std::uint64_t lsn = 0;
  for (; i < p.size() && p[i] >= '0' && p[i] <= '9'; ++i) {
    lsn = lsn * 10 + static_cast<std::uint64_t>(p[i] - '0');
  }
  const std::size_t digits = i - digits_start;
  // 19 digits always fit in 64 bits; JSON has no leading zeros.
  if (digits == 0 || digits > 19 || (digits > 1 && p[digits_start] == '0')) return false;
  auto plain_string = [&](std::string_view field, std::string* value) {
    if (p.substr(i, field.size()) != field) return false;
    i += field.size();
    const std::size_t start = i;
    i += plain_run(p.substr(i));
    if (i == p.size() || p[i] != '"') return false;
    value->assign(p.data() + start, i - start);
    ++i;
    return true;
  };
  if (!plain_string(R"(,"k":")", &out->key) || !plain_string(R"(,"v":")", &out->value)) {
    return false;
  }
  if (i + 1 != p.size() || p[i] != '}') return false;
  out->lsn = lsn;
  return true;
}

namespace {

// Fills line->record or line->end_records from a checksummed payload; else sets reason.
bool decode_payload(std::string_view payload, Line* line) {
  if (Entry e; decode_plain_put(payload, &e)) {
    line->kind = Line::kRecord;
    line->record = std::move(e);
    return true;
  }
  json p = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded() || !p.is_object()) {
    line->reason = "payload is not a JSON object";
    return false;
  }
  auto field = [&](const char* name) -> json* {
    auto it = p.find(name);
    return it == p.end() ? nullptr : &*it;
  };
  auto bad = [&](const char* name, const char* problem) {
    line->reason = std::string("payload field '") + name + "' " + problem;
    return false;
  };
  auto u64 = [&](const char* name, std::uint64_t* out) {
    json* v = field(name);
    if (v == nullptr || !v->is_number_unsigned()) return bad(name, "must be an unsigned integer");
    *out = v->get<std::uint64_t>();
    return true;
  };
  auto str = [&](const char* name, std::string* out) {
    json* v = field(name);
    if (v == nullptr || !v->is_string()) return bad(name, "must be a string");
    *out = std::move(v->get_ref<std::string&>());
    return true;
  };

  json* t = field("t");
  if (t == nullptr || !t->is_string()) return bad("t", "must be a string");
  const std::string& type = t->get_ref<const std::string&>();
  if (type == "put") {
    Entry e;
    if (!u64("lsn", &e.lsn) || !str("k", &e.key) || !str("v", &e.value)) return false;
    line->kind = Line::kRecord;
    line->record = std::move(e);
  } else if (type == "mark") {
    MarkRecord m;
    if (!u64("complete", &m.complete)) return false;
    line->kind = Line::kRecord;
    line->record = m;
  } else if (type == "discard") {
    DiscardRecord d;
    if (!u64("after", &d.range.after) || !u64("upto", &d.range.upto)) return false;
    if (d.range.upto <= d.range.after) return bad("upto", "must be above 'after'");
    line->kind = Line::kRecord;
    line->record = d;
  } else if (type == "end") {
    if (!u64("records", &line->end_records) || !u64("first_log", &line->end_first_log)) {
      return false;
    }
    if (line->end_first_log == 0) return bad("first_log", "must be at least 1");
    line->kind = Line::kEnd;
  } else {
    return bad("t", "names no known record type");
  }
  return true;
}

// The payload of one line (without its newline) if its checksum holds; else nullopt
// with the reason.
std::optional<std::string_view> checked_payload(std::string_view text, std::string* reason) {
  std::uint32_t expected;
  if (text.size() < kCrcDigits + 2 || text[kCrcDigits] != ' ' ||
      !parse_hex(text.substr(0, kCrcDigits), &expected)) {
    *reason = "malformed record (expected 8 lowercase hex digits, a space, a payload)";
    return std::nullopt;
  }
  const std::string_view payload = text.substr(kCrcDigits + 1);
  if (crc32c(payload) != expected) {
    *reason = "checksum mismatch";
    return std::nullopt;
  }
  return payload;
}

Line parse_line(std::string_view bytes, std::size_t offset) {
  Line line;
  const std::size_t newline = bytes.find('\n', offset);
  if (newline == std::string_view::npos) {
    line.next = bytes.size();
    line.reason = "incomplete record (no newline)";
    return line;
  }
  line.next = newline + 1;
  const std::optional<std::string_view> payload =
      checked_payload(bytes.substr(offset, newline - offset), &line.reason);
  if (payload && !decode_payload(*payload, &line)) line.kind = Line::kUnreadable;
  return line;
}

}  // namespace

std::string RecoveryError::describe() const {
  return file + ": corrupt record at byte " + std::to_string(offset) + ": " + reason;
}

std::string encode_wal_record(const WalRecord& r) {
  return record_line([&r](JsonWriter& w) {
    if (const auto* e = std::get_if<Entry>(&r)) {
      w.string("t", "put");
      w.u64("lsn", e->lsn);
      w.string("k", e->key);
      w.string("v", e->value);
    } else if (const auto* m = std::get_if<MarkRecord>(&r)) {
      w.string("t", "mark");
      w.u64("complete", m->complete);
    } else {
      const LsnRange& range = std::get<DiscardRecord>(r).range;
      w.string("t", "discard");
      w.u64("after", range.after);
      w.u64("upto", range.upto);
    }
  });
}

std::variant<LogExtent, RecoveryError> replay_wal(std::string_view bytes,
                                                  std::string_view file_name,
                                                  const RecordSink& sink) {
  auto error = [&](std::size_t offset, std::string reason) {
    return RecoveryError{std::string(file_name), offset, std::move(reason)};
  };
  LogExtent log;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    if (bytes[offset] == '\0' && only_zeros(bytes.substr(offset))) break;  // preallocated
    Line line = parse_line(bytes, offset);
    if (line.kind == Line::kRecord) {
      sink(std::move(line.record));
      ++log.records;
      offset = line.next;
      continue;
    }
    if (line.kind == Line::kEnd) return error(offset, "end record (only snapshots have one)");
    if (line.kind == Line::kUnreadable) return error(offset, line.reason);
    // A damaged record is a torn tail only if nothing intact was written after it.
    for (std::size_t later = line.next; later < bytes.size();) {
      Line after = parse_line(bytes, later);
      if (after.kind != Line::kDamaged) {
        return error(offset, line.reason + "; an intact record follows at byte " +
                                 std::to_string(later) + ", so this is not a torn write");
      }
      later = after.next;
    }
    log.valid_bytes = offset;
    log.dropped_bytes = bytes.size() - offset;
    return log;
  }
  log.valid_bytes = offset;
  return log;
}

std::variant<RecoveredLog, RecoveryError> read_wal(std::string_view bytes,
                                                   std::string_view file_name) {
  RecoveredLog log;
  auto extent =
      replay_wal(bytes, file_name, [&log](WalRecord&& r) { log.records.push_back(std::move(r)); });
  if (auto* e = std::get_if<RecoveryError>(&extent)) return std::move(*e);
  log.valid_bytes = std::get<LogExtent>(extent).valid_bytes;
  log.dropped_bytes = std::get<LogExtent>(extent).dropped_bytes;
  return log;
}

std::string log_file_name(std::uint64_t number) {
  std::string digits = std::to_string(number);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return "wal-" + digits + ".log";
}

std::optional<std::uint64_t> parse_log_file_name(std::string_view name) {
  constexpr std::string_view kPrefix = "wal-", kSuffix = ".log";
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t number = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    number = number * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  // One name per number, so two files can never claim the same log.
  if (number == 0 || log_file_name(number) != name) return std::nullopt;
  return number;
}

std::string encode_snapshot(const std::vector<WalRecord>& records, std::uint64_t first_log) {
  std::string out;
  for (const WalRecord& r : records) out += encode_wal_record(r);
  out += record_line([&records, first_log](JsonWriter& w) {
    w.string("t", "end");
    w.u64("records", records.size());
    w.u64("first_log", first_log);
  });
  return out;
}

std::variant<Snapshot, RecoveryError> read_snapshot(std::string_view bytes,
                                                    std::string_view file_name) {
  auto error = [&](std::size_t offset, std::string reason) {
    return RecoveryError{std::string(file_name), offset, std::move(reason)};
  };
  std::vector<WalRecord> records;
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    Line line = parse_line(bytes, offset);
    if (line.kind == Line::kRecord) {
      records.push_back(std::move(line.record));
      offset = line.next;
      continue;
    }
    if (line.kind != Line::kEnd) return error(offset, line.reason);
    if (line.end_records != records.size()) {
      return error(offset, "end record counts " + std::to_string(line.end_records) +
                               " records but the snapshot has " + std::to_string(records.size()));
    }
    if (line.next != bytes.size()) return error(line.next, "bytes after the end record");
    return Snapshot{std::move(records), line.end_first_log};
  }
  return error(offset, bytes.empty() ? "empty snapshot (no end record)"
                                     : "no end record (the snapshot is incomplete)");
}

}  // namespace kvs

namespace kvs {

std::string encode_frontend_state(const FrontendState& state) {
  return record_line([&state](JsonWriter& w) {
    w.string("t", "frontend");
    w.key("members");
    w.begin_array();
    for (const std::string& id : state.members) w.string(id);
    w.end_array();
    w.u64("reserved", state.reserved);
    w.key("discarded");
    encode_ranges(w, state.discarded);
  });
}

std::string encode_snapshot_content(const SnapshotContent& content, std::uint64_t first_log) {
  if (const auto* records = std::get_if<std::vector<WalRecord>>(&content)) {
    return encode_snapshot(*records, first_log);
  }
  return encode_frontend_state(std::get<FrontendState>(content));
}

std::variant<FrontendState, RecoveryError> read_frontend_state(std::string_view bytes,
                                                               std::string_view file_name) {
  auto error = [&](std::size_t offset, std::string reason) {
    return RecoveryError{std::string(file_name), offset, std::move(reason)};
  };
  const std::size_t newline = bytes.find('\n');
  if (newline == std::string_view::npos) return error(0, "incomplete record (no newline)");
  if (newline + 1 != bytes.size()) return error(newline + 1, "bytes after the state record");
  std::string reason;
  const auto payload = checked_payload(bytes.substr(0, newline), &reason);
  if (!payload) return error(0, reason);
  const json p = json::parse(payload->begin(), payload->end(), nullptr, false);
  FrontendState state;
  const auto u64 = [](const json& object, const char* name, std::uint64_t* out) {
    auto it = object.find(name);
    if (it == object.end() || !it->is_number_unsigned()) return false;
    *out = it->get<std::uint64_t>();
    return true;
  };
  const bool is_state = p.is_object() && p.contains("t") && p["t"].is_string() &&
                        p["t"].get_ref<const std::string&>() == "frontend";
  if (!is_state) {
    return error(0, "not a frontend state record (is this a storage node's data directory?)");
  }
  const auto members = p.find("members");
  const auto discarded = p.find("discarded");
  if (members == p.end() || !members->is_array() || discarded == p.end() ||
      !discarded->is_array() || !u64(p, "reserved", &state.reserved)) {
    return error(0, "frontend state record lacks members, reserved or discarded");
  }
  for (const json& id : *members) {
    if (!id.is_string()) return error(0, "frontend state: a member id is not a string");
    state.members.push_back(id.get<std::string>());
  }
  for (const json& r : *discarded) {
    LsnRange range;
    if (!r.is_object() || !u64(r, "after", &range.after) || !u64(r, "upto", &range.upto) ||
        range.upto <= range.after) {
      return error(0, "frontend state: a discarded range is not {after, upto} with upto > after");
    }
    state.discarded.push_back(range);
  }
  return state;
}

}  // namespace kvs
