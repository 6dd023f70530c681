// The one libuv loop fixture of the backend's tests (net_runtime_test.cc,
// net_resp_test.cc): a real loop whose tick timer wakes uv_run(ONCE) regularly so that
// run_until can check its deadline, and a TearDown that requires every handle to close.
// Every wait is a condition with a deadline; nothing sleeps.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstdint>
#include <functional>

#include "core/types.h"
#include "net/runtime.h"

namespace kvs::net {

class UvTestLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    // Wakes uv_run(ONCE) regularly so run_until can check its deadline.
    uv_timer_init(&loop_, &tick_);
    uv_timer_start(
        &tick_, [](uv_timer_t*) {}, 10, 10);
  }

  // A derived fixture shuts its runtimes down first, then calls this.
  void TearDown() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    // Every handle must close, or the loop would not end: checks for leaks too.
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Runs the loop until done() holds (true) or the deadline passes (false).
  bool run_until(const std::function<bool()>& done, Nanos limit = 5 * kSecond) {
    const Nanos deadline = Runtime::now() + limit;
    while (!done()) {
      if (Runtime::now() > deadline) return false;
      uv_run(&loop_, UV_RUN_ONCE);
    }
    return true;
  }

  // A plain blocking socket connected to 127.0.0.1:port, to send bytes no Machine would;
  // -1 (and a test failure) if the connect fails.
  static int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ADD_FAILURE() << "connect to 127.0.0.1:" << port << " failed";
      close(fd);
      return -1;
    }
    return fd;
  }

  uv_loop_t loop_;
  uv_timer_t tick_;
};

}  // namespace kvs::net
