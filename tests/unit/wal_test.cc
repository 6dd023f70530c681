#include "core/wal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/crc32c.h"

namespace kvs {
namespace {

const std::vector<WalRecord> kRecords = {
    Entry{1, "alpha", "one"},
    Entry{2, "beta", "two\nlines \"quoted\""},
    MarkRecord{2},
};

std::string log_of(const std::vector<WalRecord>& records) {
  std::string s;
  for (const WalRecord& r : records) s += encode_wal_record(r);
  return s;
}

// Byte offsets where each record starts, plus the total length.
std::vector<std::size_t> boundaries(const std::vector<WalRecord>& records) {
  std::vector<std::size_t> at = {0};
  for (const WalRecord& r : records) at.push_back(at.back() + encode_wal_record(r).size());
  return at;
}

std::string line_with_payload(const std::string& payload) {
  char hex[9];
  const std::uint32_t crc = crc32c(payload);
  for (int i = 0; i < 8; i++) hex[i] = "0123456789abcdef"[(crc >> (28 - 4 * i)) & 0xf];
  hex[8] = '\0';
  return std::string(hex) + " " + payload + "\n";
}

RecoveredLog expect_log(std::string_view bytes) {
  auto result = read_wal(bytes, "wal.log");
  if (auto* e = std::get_if<RecoveryError>(&result)) {
    ADD_FAILURE() << e->describe();
    return {};
  }
  return std::get<RecoveredLog>(std::move(result));
}

RecoveryError expect_log_error(std::string_view bytes) {
  auto result = read_wal(bytes, "wal.log");
  if (!std::holds_alternative<RecoveryError>(result)) {
    ADD_FAILURE() << "expected a recovery error";
    return {};
  }
  return std::get<RecoveryError>(result);
}

RecoveryError expect_snapshot_error(std::string_view bytes) {
  auto result = read_snapshot(bytes, "snap");
  if (!std::holds_alternative<RecoveryError>(result)) {
    ADD_FAILURE() << "expected a recovery error";
    return {};
  }
  return std::get<RecoveryError>(result);
}

TEST(Wal, RecordFormat) {
  const std::string payload = R"({"t":"put","lsn":7,"k":"key","v":"value"})";
  EXPECT_EQ(encode_wal_record(Entry{7, "key", "value"}), line_with_payload(payload));
  EXPECT_EQ(encode_wal_record(MarkRecord{9}), line_with_payload(R"({"t":"mark","complete":9})"));
  EXPECT_EQ(encode_snapshot({}, 3), line_with_payload(R"({"t":"end","records":0,"first_log":3})"));
  EXPECT_EQ(encode_wal_record(DiscardRecord{LsnRange{4, 8}}),
            line_with_payload(R"({"t":"discard","after":4,"upto":8})"));
}

TEST(FrontendStateFile, RoundTripsAndNamesDamage) {
  const FrontendState state{{"s1", "s2"}, 1u << 20, {LsnRange{7, 1u << 19}}};
  const std::string bytes = encode_frontend_state(state);
  EXPECT_EQ(std::get<FrontendState>(read_frontend_state(bytes, "f")), state);
  EXPECT_EQ(std::get<FrontendState>(read_frontend_state(encode_frontend_state({}), "f")),
            FrontendState{});
  std::string flipped = bytes;
  flipped[20] ^= 1;
  EXPECT_NE(std::get<RecoveryError>(read_frontend_state(flipped, "f")).reason.find("checksum"),
            std::string::npos);
  EXPECT_TRUE(std::holds_alternative<RecoveryError>(
      read_frontend_state(bytes.substr(0, bytes.size() - 1), "f")));
  EXPECT_TRUE(std::holds_alternative<RecoveryError>(read_frontend_state(bytes + bytes, "f")));
  // A storage node's snapshot is not a frontend state.
  const auto wrong = read_frontend_state(encode_wal_record(MarkRecord{1}), "f");
  EXPECT_NE(std::get<RecoveryError>(wrong).reason.find("storage node"), std::string::npos);
}

TEST(Wal, RoundTrip) {
  const std::string bytes = log_of(kRecords);
  RecoveredLog log = expect_log(bytes);
  EXPECT_EQ(log.records, kRecords);
  EXPECT_EQ(log.valid_bytes, bytes.size());
  EXPECT_EQ(log.dropped_bytes, 0u);
}

TEST(Wal, EmptyLog) {
  RecoveredLog log = expect_log("");
  EXPECT_TRUE(log.records.empty());
  EXPECT_EQ(log.valid_bytes, 0u);
  EXPECT_EQ(log.dropped_bytes, 0u);
}

TEST(Wal, BinaryAndUnicodeValuesRoundTrip) {
  const std::vector<WalRecord> records = {Entry{1, std::string("k\0\x01", 3), "\u00e9\U0001F600"},
                                          Entry{2, "", ""}};
  EXPECT_EQ(expect_log(log_of(records)).records, records);
}

TEST(Wal, InvalidUtf8IsReplacedNotThrown) {
  std::string line;
  EXPECT_NO_THROW(line = encode_wal_record(Entry{1, "k\xff", "v"}));
  RecoveredLog log = expect_log(line);
  ASSERT_EQ(log.records.size(), 1u);
  EXPECT_EQ(std::get<Entry>(log.records[0]).key, "k\xEF\xBF\xBD");
}

TEST(Wal, TornAtEveryOffsetRecoversTheCompletePrefix) {
  const std::string bytes = log_of(kRecords);
  const std::vector<std::size_t> at = boundaries(kRecords);
  for (std::size_t cut = 0; cut <= bytes.size(); cut++) {
    std::size_t complete = 0;
    while (complete < kRecords.size() && at[complete + 1] <= cut) complete++;
    RecoveredLog log = expect_log(std::string_view(bytes).substr(0, cut));
    ASSERT_EQ(log.records, std::vector<WalRecord>(kRecords.begin(), kRecords.begin() + complete))
        << "cut at " << cut;
    EXPECT_EQ(log.valid_bytes, at[complete]);
    EXPECT_EQ(log.dropped_bytes, cut - at[complete]);
  }
}

TEST(Wal, DamageBeforeAnIntactRecordIsCorruption) {
  std::vector<WalRecord> records = kRecords;
  records.push_back(Entry{3, "gamma", "three"});
  const std::string bytes = log_of(records);
  const std::vector<std::size_t> at = boundaries(records);
  // Every byte of the second record; a flipped newline merges it with the third, and the
  // fourth is still intact.
  for (std::size_t i = at[1]; i < at[2]; i++) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    RecoveryError e = expect_log_error(bad);
    EXPECT_EQ(e.offset, at[1]) << "flipped byte " << i;
    EXPECT_EQ(e.file, "wal.log");
  }
}

TEST(Wal, ErrorDescribesFileOffsetAndReason) {
  std::string bytes = log_of(kRecords);
  const std::vector<std::size_t> at = boundaries(kRecords);
  bytes[at[1] + 12] ^= 0x01;
  EXPECT_EQ(expect_log_error(bytes).describe(),
            "wal.log: corrupt record at byte " + std::to_string(at[1]) +
                ": checksum mismatch; an intact record follows at byte " + std::to_string(at[2]) +
                ", so this is not a torn write");
  EXPECT_EQ((RecoveryError{"f", 42, "why"}.describe()), "f: corrupt record at byte 42: why");
}

TEST(Wal, DamagedLastRecordIsATornTail) {
  const std::string bytes = log_of(kRecords);
  const std::vector<std::size_t> at = boundaries(kRecords);
  for (std::size_t i = at[2]; i < at[3]; i++) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    RecoveredLog log = expect_log(bad);
    EXPECT_EQ(log.records, std::vector<WalRecord>(kRecords.begin(), kRecords.begin() + 2))
        << "flipped byte " << i;
    EXPECT_EQ(log.valid_bytes, at[2]);
    EXPECT_EQ(log.dropped_bytes, at[3] - at[2]);
  }
}

TEST(Wal, GarbageTailOfSeveralLinesIsTorn) {
  const std::string good = log_of(kRecords);
  const std::string tail = "0123abcd {\"t\":\"put\"\n\nzz\n\x00\x01partial";
  RecoveredLog log = expect_log(good + tail);
  EXPECT_EQ(log.records, kRecords);
  EXPECT_EQ(log.valid_bytes, good.size());
  EXPECT_EQ(log.dropped_bytes, tail.size());
}

TEST(Wal, EndRecordInALogIsCorruption) {
  const std::string bytes =
      log_of(kRecords) + line_with_payload(R"({"t":"end","records":3,"first_log":1})");
  RecoveryError e = expect_log_error(bytes);
  EXPECT_EQ(e.offset, log_of(kRecords).size());
  EXPECT_NE(e.reason.find("end record"), std::string::npos);
}

// A record whose checksum holds was written whole; not understanding it is never a
// torn write, even at the end of the log.
TEST(Wal, ChecksummedButUnreadableRecordIsCorruption) {
  const std::string good = log_of(kRecords);
  for (const char* payload :
       {R"({"t":"delete","k":"a"})", R"({"t":"put","lsn":-1,"k":"a","v":"b"})",
        R"({"t":"put","lsn":1,"v":"b"})", R"({"t":"mark"})", R"(["t","put"])", "not json"}) {
    RecoveryError e = expect_log_error(good + line_with_payload(payload));
    EXPECT_EQ(e.offset, good.size()) << payload;
    EXPECT_NE(e.reason.find("payload"), std::string::npos) << e.reason;
  }
}

TEST(Wal, MalformedLinesAreDamage) {
  const std::string good = log_of(kRecords);
  const std::string line = encode_wal_record(Entry{4, "k", "v"});
  for (const std::string& bad :
       {"ABCDEF01" + line.substr(8), "1234567g" + line.substr(8),
        line.substr(0, 8) + "\t" + line.substr(9), std::string("12345678\n"), std::string("\n")}) {
    RecoveryError e = expect_log_error(bad + good);
    EXPECT_EQ(e.offset, 0u) << bad;
    EXPECT_NE(e.reason.find("malformed"), std::string::npos) << e.reason;
    RecoveredLog log = expect_log(good + bad);
    EXPECT_EQ(log.valid_bytes, good.size()) << bad;
  }
}

TEST(Wal, SnapshotRoundTrip) {
  const std::string bytes = encode_snapshot(kRecords, 7);
  auto result = read_snapshot(bytes, "snap");
  ASSERT_TRUE(std::holds_alternative<Snapshot>(result))
      << std::get<RecoveryError>(result).describe();
  EXPECT_EQ(std::get<Snapshot>(result).records, kRecords);
  EXPECT_EQ(std::get<Snapshot>(result).first_log, 7u);

  auto empty = read_snapshot(encode_snapshot({}, 1), "snap");
  ASSERT_TRUE(std::holds_alternative<Snapshot>(empty));
  EXPECT_TRUE(std::get<Snapshot>(empty).records.empty());

  // Log 0 does not exist: a first_log of 0 is damage.
  EXPECT_NE(expect_snapshot_error(line_with_payload(R"({"t":"end","records":0,"first_log":0})"))
                .reason.find("first_log"),
            std::string::npos);
}

TEST(Wal, LogFileNames) {
  EXPECT_EQ(log_file_name(1), "wal-000001.log");
  EXPECT_EQ(log_file_name(1234567), "wal-1234567.log");
  EXPECT_EQ(parse_log_file_name("wal-000042.log"), 42u);
  EXPECT_EQ(parse_log_file_name("wal-1234567.log"), 1234567u);
  for (const char* other : {"wal.log", "wal-000000.log", "wal-42.log", "wal-0000042.log",
                            "wal-00004x.log", "wal-000001.log.tmp", "snapshot", "wal-.log"}) {
    EXPECT_FALSE(parse_log_file_name(other).has_value()) << other;
  }
}

TEST(Wal, SnapshotWithoutEndIsCorruption) {
  const std::string records = log_of(kRecords);
  RecoveryError e = expect_snapshot_error(records);
  EXPECT_EQ(e.offset, records.size());
  EXPECT_EQ(e.file, "snap");
  EXPECT_EQ(expect_snapshot_error("").offset, 0u);
}

TEST(Wal, SnapshotTruncatedAnywhereIsCorruption) {
  const std::string bytes = encode_snapshot(kRecords, 1);
  const std::vector<std::size_t> at = boundaries(kRecords);
  for (std::size_t cut = 0; cut < bytes.size(); cut++) {
    RecoveryError e = expect_snapshot_error(std::string_view(bytes).substr(0, cut));
    std::size_t record = 0;
    while (record + 1 < at.size() && at[record + 1] <= cut) record++;
    EXPECT_EQ(e.offset, at[record]) << "cut at " << cut;
  }
}

TEST(Wal, SnapshotFlippedByteNamesTheRecord) {
  const std::string bytes = encode_snapshot(kRecords, 1);
  const std::vector<std::size_t> at = boundaries(kRecords);
  for (std::size_t i = 0; i < bytes.size(); i++) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    std::size_t record = 0;
    while (record + 1 < at.size() && at[record + 1] <= i) record++;
    EXPECT_EQ(expect_snapshot_error(bad).offset, at[record]) << "flipped byte " << i;
  }
}

TEST(Wal, SnapshotEndCountMustMatch) {
  const std::string body = log_of(kRecords);
  RecoveryError e = expect_snapshot_error(body + line_with_payload(R"({"t":"end","records":2})"));
  EXPECT_EQ(e.offset, body.size());
}

TEST(Wal, SnapshotBytesAfterEndAreCorruption) {
  const std::string bytes = encode_snapshot(kRecords, 1);
  RecoveryError e = expect_snapshot_error(bytes + encode_wal_record(Entry{9, "k", "v"}));
  EXPECT_EQ(e.offset, bytes.size());
  EXPECT_EQ(expect_snapshot_error(bytes + "x").offset, bytes.size());
}

TEST(Wal, SnapshotIsNotALog) {
  const std::string bytes = encode_snapshot(kRecords, 1);
  RecoveryError e = expect_log_error(bytes);
  EXPECT_EQ(e.offset, log_of(kRecords).size());
}

}  // namespace
}  // namespace kvs
