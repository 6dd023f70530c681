// Startup of a storage node's data directory (src/net/storage_disk.h) on a real
// temporary directory: fresh start, stale snapshot.tmp, torn tail, corruption, lock.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/wal.h"
#include "net/storage_disk.h"

namespace kvs::net {
namespace {

class StorageDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "kvs_store_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    dir_ = root_ + "/a/b/node";
  }
  void TearDown() override {
    for (int fd : fds_) close(fd);
    std::filesystem::remove_all(root_);
  }

  std::optional<OpenedStore> open(std::string* error) {
    auto store = open_store(
        dir_, [&](LogLevel, const std::string& t) { logs_.push_back(t); }, error);
    if (store) fds_.push_back(store->lock_fd);
    return store;
  }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string root_, dir_;
  std::vector<std::string> logs_;
  std::vector<int> fds_;
};

TEST_F(StorageDiskTest, FreshDirectoryIsCreatedPrivate) {
  std::string error;
  auto store = open(&error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->log.bytes, 0u);
  EXPECT_EQ(store->log.number, 1u);
  EXPECT_EQ(store->replica.key_count(), 0u);
  struct stat st {};
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(StorageDiskTest, RecoversLogAndCutsATornTail) {
  std::string error;
  ASSERT_TRUE(make_directories(dir_, 0700, &error)) << error;
  const std::string good =
      encode_wal_record(Entry{1, "k", "v1"}) + encode_wal_record(Entry{2, "k", "v2"});
  const std::string torn = encode_wal_record(Entry{3, "k", "v3"}).substr(0, 10);
  write("wal-000001.log", good + torn);
  write("snapshot.tmp", "half a compaction");
  auto store = open(&error);
  ASSERT_TRUE(store) << error;
  EXPECT_EQ(store->log.bytes, good.size());
  EXPECT_EQ(read("wal-000001.log"), good);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/snapshot.tmp"));
  ASSERT_TRUE(store->replica.read("k", 2));
  EXPECT_EQ(store->replica.read("k", 2)->value, "v2");
  bool warned = false;
  for (auto& line : logs_) warned |= line.find("torn tail of 10 bytes") != std::string::npos;
  EXPECT_TRUE(warned);
}

// What a compaction leaves when the process dies after the snapshot's rename and
// before the logs it holds are deleted; plus preallocated zeros at the newest log's end.
TEST_F(StorageDiskTest, RemovesLogsTheSnapshotHoldsAndCutsPreallocatedSpace) {
  std::string error;
  ASSERT_TRUE(make_directories(dir_, 0700, &error)) << error;
  const std::string old_log = encode_wal_record(Entry{1, "k", "v1"});
  const std::string live = encode_wal_record(Entry{2, "k", "v2"});
  write("wal-000001.log", old_log);
  write("snapshot", encode_snapshot({Entry{1, "k", "v1"}}, 2));
  write("wal-000002.log", live + std::string(1 << 16, '\0'));
  auto store = open(&error);
  ASSERT_TRUE(store) << error;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/wal-000001.log"));
  EXPECT_EQ(read("wal-000002.log"), live);  // appends continue right after the records
  EXPECT_EQ(store->log.number, 2u);
  EXPECT_EQ(store->log.bytes, live.size());
  EXPECT_EQ(store->replica.complete(), 2u);
}

TEST_F(StorageDiskTest, MidLogCorruptionRefusesToStartAndSaysHowToRecover) {
  std::string error;
  ASSERT_TRUE(make_directories(dir_, 0700, &error)) << error;
  const std::string first = encode_wal_record(Entry{1, "k", "v1"});
  std::string bad = encode_wal_record(Entry{2, "k", "v2"});
  bad[0] = bad[0] == '0' ? '1' : '0';  // checksum no longer matches
  write("wal-000001.log", first + bad + encode_wal_record(Entry{3, "k", "v3"}));
  EXPECT_FALSE(open(&error));
  EXPECT_NE(error.find("wal-000001.log"), std::string::npos) << error;
  EXPECT_NE(error.find("byte " + std::to_string(first.size())), std::string::npos) << error;
  EXPECT_NE(error.find("refuses to start"), std::string::npos) << error;
  EXPECT_NE(error.find("rm -rf " + dir_), std::string::npos) << error;
}

TEST_F(StorageDiskTest, ASymbolicLinkInTheDataDirectoryIsNeverFollowed) {
  std::string error;
  ASSERT_TRUE(make_directories(dir_, 0700, &error)) << error;
  const std::string outside = root_ + "/outside";
  std::ofstream(outside) << encode_wal_record(Entry{1, "k", "elsewhere"});
  ASSERT_EQ(symlink(outside.c_str(), (dir_ + "/wal-000001.log").c_str()), 0);
  EXPECT_FALSE(open(&error));
  EXPECT_NE(error.find("wal-000001.log"), std::string::npos) << error;
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
}

TEST_F(StorageDiskTest, ASecondProcessCannotOpenTheSameDirectory) {
  std::string error;
  ASSERT_TRUE(open(&error)) << error;
  // flock locks belong to the open file description: a second open conflicts.
  EXPECT_FALSE(open(&error));
  EXPECT_NE(error.find("in use"), std::string::npos) << error;
}

}  // namespace
}  // namespace kvs::net
