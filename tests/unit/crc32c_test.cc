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
