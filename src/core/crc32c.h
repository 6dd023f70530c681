// CRC-32C (Castagnoli), as used by LevelDB, iSCSI and ext4. Debian 12 packages no C or
// C++ library for it, so it is written here (table-driven, 1 KiB table).
#pragma once

#include <cstdint>
#include <string_view>

namespace kvs {

std::uint32_t crc32c(std::string_view data);

}  // namespace kvs
