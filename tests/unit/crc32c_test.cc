#include "core/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace kvs {
namespace {

TEST(Crc32c, CheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
}

TEST(Crc32c, Empty) {
  EXPECT_EQ(crc32c(""), 0u);
}

// RFC 3720, appendix B.4.
TEST(Crc32c, IscsiVectors) {
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; i++) {
    ascending += static_cast<char>(i);
    descending += static_cast<char>(31 - i);
  }
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
}

// The instruction path (8 bytes a step, then a byte a step) agrees with the table at
// every length and alignment, so a log written on one CPU reads on another.
TEST(Crc32c, FastPathAgreesWithTheTableAtEveryLengthAndOffset) {
  std::string data;
  std::uint32_t x = 12345;
  for (int i = 0; i < 300; i++) {
    x = x * 1103515245 + 12345;
    data += static_cast<char>(x >> 24);
  }
  for (std::size_t offset = 0; offset < 9; offset++) {
    for (std::size_t length = 0; offset + length <= data.size(); length++) {
      const std::string_view piece = std::string_view(data).substr(offset, length);
      ASSERT_EQ(crc32c(piece), crc32c_portable(piece))
          << "offset " << offset << " length " << length;
    }
  }
  EXPECT_EQ(crc32c_portable("123456789"), 0xE3069283u);
}

TEST(Crc32c, DetectsEverySingleBitFlip) {
  const std::string data = "{\"t\":\"put\",\"lsn\":1,\"k\":\"key\",\"v\":\"value\"}";
  const std::uint32_t good = crc32c(data);
  for (std::size_t i = 0; i < data.size(); i++) {
    for (int bit = 0; bit < 8; bit++) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_NE(crc32c(bad), good) << "byte " << i << " bit " << bit;
    }
  }
}

}  // namespace
}  // namespace kvs
