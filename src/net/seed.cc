#include "net/seed.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace kvs::net {

SeedKey random_seed_key() {
  SeedKey key{};
  std::size_t got = 0;
  while (got < key.size()) {
    const ssize_t n = getrandom(key.data() + got, key.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::cerr << "kvs: getrandom failed: " << std::strerror(errno) << "\n";
      std::exit(1);
    }
    got += static_cast<std::size_t>(n);
  }
  return key;
}

}  // namespace kvs::net
