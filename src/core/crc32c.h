// CRC-32C (Castagnoli), as used by LevelDB, iSCSI and ext4. Debian 12 packages no C or
// C++ library for it, so it is written here: the SSE4.2 crc32 instruction where the CPU
// has it (8 bytes a step), else a table (a byte a step).
#pragma once

#include <cstdint>
#include <string_view>

namespace kvs {

std::uint32_t crc32c(std::string_view data);

// The table version, whatever the CPU: what crc32c() is checked against in tests.
std::uint32_t crc32c_portable(std::string_view data);

}  // namespace kvs
