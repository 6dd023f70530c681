#!/usr/bin/env bash
# Fails if src/core includes libuv, socket, file, thread or random-device headers, or
# reads a clock: state machines take time, randomness and I/O as inputs only.
set -u
dir=${1:-src/core}
hits=$(grep -rnE '#include *[<"](uv\.h|sys/[a-z_]+\.h|netinet/|arpa/inet\.h|netdb\.h|fstream|cstdio|stdio\.h|fcntl\.h|unistd\.h|thread|mutex|random|chrono|ctime|time\.h|filesystem)[>"]|std::chrono|std::random_device|\brand\(\)|\btime\(|getenv' "$dir")
if [ -n "$hits" ]; then
  echo "src/core must not do I/O, read clocks or draw randomness:"
  echo "$hits"
  echo "core purity: 0 passed, 1 failed"
  exit 1
fi
echo "core purity: $(ls "$dir" | wc -l) files checked, no I/O, clock or randomness headers"
