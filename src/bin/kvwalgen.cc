// ./kvwalgen: writes a storage node's write-ahead log (e.g. wal-000001.log) of a given size, for
// the recovery benchmark (scripts/bench.sh). Writing hundreds of MB through a cluster would take
// minutes of fsyncing; this writes the same bytes directly, record by record with the node's own
// encoder (encode_wal_record), so the log is exactly what a node that accepted these writes would
// hold, and a storage node started on the folder replays it.
//
//   kvwalgen FILE MEGABYTES [VALUE_BYTES] [KEYS]
//
// Writes put records with LSNs 1, 2, ... (keys key0 .. key<KEYS-1> in turn, each value
// VALUE_BYTES long, default 100 like kvbench) until FILE holds at least MEGABYTES MiB.
// Prints "RECORDS BYTES" on stdout. The file is fsynced once at the end.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/messages.h"
#include "core/wal.h"

namespace {

bool to_u64(const char* text, std::uint64_t* out) {
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, *out);
  return ptr != text && ec == std::errc() && ptr == end;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t megabytes = 0, value_bytes = 100, keys = 1000000;
  if (argc < 3 || argc > 5 || !to_u64(argv[2], &megabytes) ||
      (argc > 3 && !to_u64(argv[3], &value_bytes)) || (argc > 4 && !to_u64(argv[4], &keys)) ||
      keys == 0) {
    std::fprintf(stderr, "usage: kvwalgen FILE MEGABYTES [VALUE_BYTES] [KEYS]\n");
    return 2;
  }
  const int fd = ::open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror(argv[1]);
    return 1;
  }
  const std::uint64_t target = megabytes * 1024 * 1024;
  // Buffer about 4 MiB of records per write(2): one syscall per record would dominate.
  std::string buffer;
  std::uint64_t written = 0, records = 0;
  kvs::Entry entry;
  while (written + buffer.size() < target) {
    ++records;
    entry.lsn = records;
    entry.key = "key" + std::to_string((records - 1) % keys);
    // A value that differs per write (like kvbench's), padded to value_bytes.
    entry.value = "v" + std::to_string(records);
    entry.value.resize(std::max<std::size_t>(entry.value.size(), value_bytes), 'x');
    buffer += kvs::encode_wal_record(entry);
    if (buffer.size() >= (4u << 20)) {
      if (!write_all(fd, buffer)) {
        std::perror(argv[1]);
        return 1;
      }
      written += buffer.size();
      buffer.clear();
    }
  }
  if (!write_all(fd, buffer) || ::fsync(fd) != 0 || ::close(fd) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  written += buffer.size();
  std::printf("%llu %llu\n", static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(written));
  return 0;
}
