// ./frontend: the coordinator. Loads its config, reads its state file (or refuses to
// start, exit 1), listens for clients (and, with --resp-listen, Redis clients) and
// storage nodes, and runs the Frontend state machine on the libuv backend until SIGINT
// or SIGTERM (exit 0) or a Stop effect (exit 1).
#include "core/frontend.h"

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
  FrontendConfig config;
  if (auto status = net::load_frontend_config(argc, argv, &config)) return *status;

  const LogLevel min_level = parse_log_level(config.log_level).value_or(LogLevel::kInfo);
  std::string error;
  std::optional<net::OpenedFrontendStore> store = net::open_frontend_store(
      config.data_dir,
      [&](LogLevel level, const std::string& text) {
        if (level >= min_level) net::write_log_line(level, "frontend", text);
      },
      &error);
  if (!store) {
    std::cerr << "frontend: cannot start: " << error << "\n";
    return 1;
  }

  uv_loop_t loop;
  uv_loop_init(&loop);
  Frontend frontend(config, net::random_seed_key(), std::move(store->state));
  net::RuntimeOptions options;
  // A client that does not read its replies is not read either once a frame's worth
  // waits for it; any peer with max_connection_backlog_bytes waiting is disconnected.
  const std::size_t client_pause = config.max_frame_bytes;
  options.listeners = {{Listener::kClients, config.client_listen, net::Wire::kFrames, client_pause},
                       {Listener::kStorage, config.storage_listen}};
  options.max_frame_bytes = config.max_frame_bytes;
  options.max_backlog_bytes = config.max_connection_backlog_bytes;
  if (!config.resp_listen.empty()) {
    options.listeners.push_back(
        {Listener::kClients, config.resp_listen, net::Wire::kResp, client_pause});
    // One request may carry as much as one frame: larger values are then refused by the
    // frontend's own limits with a clear error rather than by the parser.
    options.resp.limits.max_bulk_bytes = config.max_frame_bytes;
    options.resp.limits.max_request_bytes = config.max_frame_bytes;
    options.resp.secret = config.secret;
  }
  options.data_dir = config.data_dir;
  options.log_name = "frontend";
  options.min_level = min_level;
  net::Runtime runtime(&loop, &frontend, options);

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
  if (!config.resp_listen.empty()) {
    std::string resp_ip;
    split_address(config.resp_listen, &resp_ip, &unused);
    std::printf("frontend: listening for redis clients on %s:%d\n", resp_ip.c_str(),
                runtime.bound_port(Listener::kClients, net::Wire::kResp));
  }
  std::fflush(stdout);

  return net::serve_until_stopped(&loop, runtime);
}
