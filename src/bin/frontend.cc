// ./frontend: the coordinator. Loads its config, listens for clients and storage
// nodes, and runs the Frontend state machine on the libuv backend until SIGINT or
// SIGTERM (exit 0) or a Stop effect (exit 1).
#include "core/frontend.h"

#include <uv.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "core/config.h"
#include "net/config_file.h"
#include "net/log.h"
#include "net/runtime.h"
#include "net/signals.h"

int main(int argc, char** argv) {
  using namespace kvs;
  FrontendConfig config;
  if (auto status = net::load_frontend_config(argc, argv, &config)) return *status;

  uv_loop_t loop;
  uv_loop_init(&loop);
  Frontend frontend(config);
  net::RuntimeOptions options;
  options.listeners = {{Listener::kClients, config.client_listen},
                       {Listener::kStorage, config.storage_listen}};
  options.max_frame_bytes = config.max_frame_bytes;
  options.log_name = "frontend";
  options.min_level = net::parse_log_level(config.log_level).value_or(LogLevel::kInfo);
  net::Runtime runtime(&loop, &frontend, options);

  std::string error;
  if (!runtime.start(&error)) {
    std::cerr << "frontend: " << error << "\n";
    return 1;
  }
  std::string client_ip, storage_ip;
  int unused = 0;
  split_address(config.client_listen, &client_ip, &unused);
  split_address(config.storage_listen, &storage_ip, &unused);
  // Integration tests parse this line for the ports (they may pass port 0).
  std::printf("frontend: listening for clients on %s:%d, storage nodes on %s:%d\n",
              client_ip.c_str(), runtime.bound_port(Listener::kClients), storage_ip.c_str(),
              runtime.bound_port(Listener::kStorage));
  std::fflush(stdout);

  return net::serve_until_stopped(&loop, runtime);
}
