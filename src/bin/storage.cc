// ./storage: one storage node. Loads its config, recovers its data directory (or
// refuses to start, exit 1), then runs the StorageNode state machine on the libuv
// backend until SIGINT or SIGTERM (exit 0) or a Stop effect such as a failed fsync
// (exit 1).
#include "core/storage.h"

#include <uv.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "core/config.h"
#include "net/config_file.h"
#include "net/log.h"
#include "net/runtime.h"
#include "net/seed.h"
#include "net/signals.h"
#include "net/storage_disk.h"

int main(int argc, char** argv) {
  using namespace kvs;
  StorageConfig config;
  if (auto status = net::load_storage_config(argc, argv, &config)) return *status;

  const std::string name = "storage " + config.id;
  const LogLevel min_level = parse_log_level(config.log_level).value_or(LogLevel::kInfo);
  std::string error;
  std::optional<net::OpenedStore> store = net::open_store(
      config.data_dir,
      [&](LogLevel level, const std::string& text) {
        if (level >= min_level) net::write_log_line(level, name, text);
      },
      &error);
  if (!store) {
    std::cerr << name << ": cannot start: " << error << "\n";
    return 1;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  StorageNode node(config, std::move(store->replica), store->log, net::random_seed_key());
  net::RuntimeOptions options;
  options.listeners = {{Listener::kProbe, config.listen}};
  options.max_frame_bytes = config.max_frame_bytes;
  options.data_dir = config.data_dir;
  options.log_name = name;
  options.min_level = min_level;
  net::Runtime runtime(&loop, &node, options);

  if (!runtime.start(&error)) {
    std::cerr << name << ": " << error << "\n";
    return 1;
  }
  std::string ip;
  int unused = 0;
  split_address(config.listen, &ip, &unused);
  // Integration tests parse this line for the probe port (they may pass port 0).
  std::printf("%s: listening on %s:%d, data in %s, frontend at %s\n", name.c_str(), ip.c_str(),
              runtime.bound_port(Listener::kProbe), config.data_dir.c_str(),
              config.frontend.c_str());
  std::fflush(stdout);

  return net::serve_until_stopped(&loop, runtime);
}
