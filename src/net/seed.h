// Unpredictable bytes for the state machines, which take randomness only as an input.
#pragma once

#include "core/auth.h"

namespace kvs::net {

// 32 bytes from the kernel's CSPRNG (getrandom). Exits the process with a message if
// the kernel cannot provide them: challenges must never be predictable.
SeedKey random_seed_key();

}  // namespace kvs::net
