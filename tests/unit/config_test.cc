#include "core/config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace kvs {
namespace {

using json = nlohmann::json;

template <typename Parse>
std::string config_parse_error(Parse parse, const json& j) {
  std::string error;
  EXPECT_FALSE(parse(j, &error).has_value()) << j.dump();
  return error;
}

template <typename Config>
std::string validate_error(const Config& c) {
  std::string error;
  EXPECT_FALSE(validate(c, &error));
  return error;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

TEST(Config, DefaultsAreValid) {
  std::string error;
  auto frontend = parse_frontend_config(json::object(), &error);
  ASSERT_TRUE(frontend.has_value()) << error;
  EXPECT_EQ(frontend->client_listen, "127.0.0.1:8000");
  EXPECT_TRUE(validate(*frontend, &error)) << error;

  auto storage = parse_storage_config(json{{"id", "s1"}}, &error);
  ASSERT_TRUE(storage.has_value()) << error;
  EXPECT_TRUE(validate(*storage, &error)) << error;

  auto client = parse_client_config(json{{"id", "c1"}}, &error);
  ASSERT_TRUE(client.has_value()) << error;
  EXPECT_TRUE(validate(*client, &error)) << error;
}

TEST(Config, EveryFrontendFieldIsRead) {
  std::string error;
  auto c = parse_frontend_config(json::parse(R"({
      "client_listen": "0.0.0.0:9000", "storage_listen": "0.0.0.0:9001",
      "storage_timeout": 0.5, "unavailable_timeout": 3, "secret": "t",
      "max_key_bytes": 10, "max_value_bytes": 20, "max_frame_bytes": 100,
      "catchup_chunk_bytes": 50, "accept_data_loss": true, "log_level": "debug"})"),
                                 &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->client_listen, "0.0.0.0:9000");
  EXPECT_EQ(c->storage_listen, "0.0.0.0:9001");
  EXPECT_EQ(c->storage_timeout, 0.5);
  EXPECT_EQ(c->unavailable_timeout, 3.0);
  EXPECT_EQ(c->secret, "t");
  EXPECT_EQ(c->max_key_bytes, 10u);
  EXPECT_EQ(c->max_value_bytes, 20u);
  EXPECT_EQ(c->max_frame_bytes, 100u);
  EXPECT_EQ(c->catchup_chunk_bytes, 50u);
  EXPECT_TRUE(c->accept_data_loss);
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_TRUE(validate(*c, &error)) << error;
}

TEST(Config, EveryStorageAndClientFieldIsRead) {
  std::string error;
  auto s = parse_storage_config(json::parse(R"({
      "id": "node-1", "listen": "127.0.0.1:0", "data_dir": "/tmp/d", "frontend": "10.0.0.1:8001",
      "secret": "t", "snapshot_bytes": 1000, "max_frame_bytes": 2000, "reconnect_max": 1.5,
      "log_level": "warn"})"),
                                &error);
  ASSERT_TRUE(s.has_value()) << error;
  EXPECT_EQ(s->id, "node-1");
  EXPECT_EQ(s->listen, "127.0.0.1:0");
  EXPECT_EQ(s->data_dir, "/tmp/d");
  EXPECT_EQ(s->frontend, "10.0.0.1:8001");
  EXPECT_EQ(s->snapshot_bytes, 1000u);
  EXPECT_EQ(s->max_frame_bytes, 2000u);
  EXPECT_EQ(s->reconnect_max, 1.5);
  EXPECT_EQ(s->log_level, "warn");
  EXPECT_TRUE(validate(*s, &error)) << error;

  auto c = parse_client_config(json::parse(R"({
      "id": "c", "frontend": "127.0.0.1:8000", "secret": "", "request_timeout": 1,
      "reconnect_max": 0.25, "max_frame_bytes": 4096, "history": "h.jsonl"})"),
                               &error);
  ASSERT_TRUE(c.has_value()) << error;
  EXPECT_EQ(c->request_timeout, 1.0);
  EXPECT_EQ(c->reconnect_max, 0.25);
  EXPECT_EQ(c->max_frame_bytes, 4096u);
  EXPECT_EQ(c->history, "h.jsonl");
  EXPECT_TRUE(validate(*c, &error)) << error;
}

TEST(Config, ProtectedModeNeedsASecretOrTheInsecureFlagOffLoopback) {
  std::string error;
  FrontendConfig f;
  f.client_listen = "0.0.0.0:9000";
  EXPECT_FALSE(validate(f, &error));
  EXPECT_EQ(error.rfind("client_listen: \"0.0.0.0:9000\" is not a loopback address", 0), 0u)
      << error;
  EXPECT_NE(error.find("--insecure-no-secret"), std::string::npos);
  f.insecure_no_secret = true;
  EXPECT_TRUE(validate(f, &error)) << error;
  f.insecure_no_secret = false;
  f.secret = "s";
  EXPECT_TRUE(validate(f, &error)) << error;
  f = FrontendConfig{};
  f.resp_listen = "192.0.2.1:6379";
  EXPECT_FALSE(validate(f, &error));
  EXPECT_EQ(error.rfind("resp_listen:", 0), 0u) << error;

  StorageConfig s;
  s.id = "s1";
  s.listen = "0.0.0.0:0";
  EXPECT_FALSE(validate(s, &error));
  EXPECT_EQ(error.rfind("listen:", 0), 0u) << error;
  s.insecure_no_secret = true;
  EXPECT_TRUE(validate(s, &error)) << error;

  EXPECT_TRUE(is_loopback_address("127.0.0.1:1"));
  EXPECT_TRUE(is_loopback_address("127.255.0.9:0"));
  EXPECT_FALSE(is_loopback_address("128.0.0.1:1"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0:1"));
  EXPECT_FALSE(is_loopback_address("1127.0.0.1:1"));
}

TEST(Config, UnknownFieldIsNamed) {
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"storage_timout", 2}}),
            "storage_timout: unknown field");
  EXPECT_EQ(config_parse_error(parse_storage_config, json{{"id", "s"}, {"port", 1}}),
            "port: unknown field");
  // Fields of another program are unknown here.
  EXPECT_EQ(config_parse_error(parse_client_config, json{{"log_level", "info"}}),
            "log_level: unknown field");
}

TEST(Config, WrongTypesAreNamed) {
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"storage_timeout", "2"}}),
            "storage_timeout: must be a number > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"storage_timeout", 0}}),
            "storage_timeout: must be a number > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"unavailable_timeout", -1.5}}),
            "unavailable_timeout: must be a number > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"max_key_bytes", -1}}),
            "max_key_bytes: must be an integer > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"max_key_bytes", 1.5}}),
            "max_key_bytes: must be an integer > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"max_frame_bytes", 0}}),
            "max_frame_bytes: must be an integer > 0");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"accept_data_loss", "yes"}}),
            "accept_data_loss: must be true or false");
  EXPECT_EQ(config_parse_error(parse_frontend_config, json{{"client_listen", 8000}}),
            "client_listen: must be a string");
  EXPECT_EQ(config_parse_error(parse_storage_config, json{{"id", nullptr}}),
            "id: must be a string");
  EXPECT_EQ(config_parse_error(parse_client_config, json{{"history", json::array()}}),
            "history: must be a string");
}

TEST(Config, DocumentMustBeAnObject) {
  EXPECT_TRUE(starts_with(config_parse_error(parse_frontend_config, json::array()), "config: "));
  EXPECT_TRUE(starts_with(config_parse_error(parse_storage_config, json("x")), "config: "));
  EXPECT_TRUE(starts_with(config_parse_error(parse_client_config, json()), "config: "));
}

TEST(Config, SplitAddress) {
  std::string ip;
  int port = -1;
  EXPECT_TRUE(split_address("127.0.0.1:8000", &ip, &port));
  EXPECT_EQ(ip, "127.0.0.1");
  EXPECT_EQ(port, 8000);
  EXPECT_TRUE(split_address("0.0.0.0:0", &ip, &port));
  EXPECT_EQ(port, 0);
  EXPECT_TRUE(split_address("h:65535", &ip, &port));
  EXPECT_EQ(port, 65535);
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80",
        "127.0.0.1:8o", "127.0.0.1:999999", "127.0.0.1: 80", " 127.0.0.1:80", "a b:80"}) {
    EXPECT_FALSE(split_address(bad, &ip, &port)) << bad;
  }
}

TEST(Config, BadAddressesAreNamed) {
  FrontendConfig f;
  f.client_listen = "localhost";
  EXPECT_TRUE(starts_with(validate_error(f), "client_listen: ")) << validate_error(f);
  f = FrontendConfig{};
  f.storage_listen = "127.0.0.1:70000";
  EXPECT_TRUE(starts_with(validate_error(f), "storage_listen: "));
  f = FrontendConfig{};
  f.storage_listen = f.client_listen;
  EXPECT_EQ(validate_error(f), "storage_listen: must differ from client_listen");
  // Port 0 lets the OS choose, so both may ask for it.
  f.client_listen = f.storage_listen = "127.0.0.1:0";
  std::string error;
  EXPECT_TRUE(validate(f, &error)) << error;

  StorageConfig s;
  s.id = "s1";
  s.listen = "127.0.0.1:0";
  EXPECT_TRUE(validate(s, &error)) << error;
  s.frontend = "127.0.0.1:0";  // a connect address needs a real port
  EXPECT_TRUE(starts_with(validate_error(s), "frontend: "));
  s.frontend = "127.0.0.1:8001";
  s.listen = "nowhere";
  EXPECT_TRUE(starts_with(validate_error(s), "listen: "));

  ClientConfig c;
  c.id = "c1";
  c.frontend = "127.0.0.1:x";
  EXPECT_EQ(validate_error(c),
            "frontend: must be IP:PORT with a port in 1..65535, not \"127.0.0.1:x\"");
}

TEST(Config, StorageIdMustBeAPlainName) {
  std::string error;
  StorageConfig s;
  for (const char* good : {"s1", "node-1.a_B", "x"}) {
    s.id = good;
    EXPECT_TRUE(validate(s, &error)) << good << ": " << error;
  }
  for (const char* bad : {"", ".", "..", "a/b", "a b", "n\xc3\xa9", "../x"}) {
    s.id = bad;
    EXPECT_TRUE(starts_with(validate_error(s), "id: ")) << bad;
  }
}

TEST(Config, ClientIdIsRequired) {
  ClientConfig c;
  EXPECT_EQ(validate_error(c), "id: must not be empty");
}

TEST(Config, LogLevel) {
  FrontendConfig f;
  std::string error;
  for (const char* level : {"debug", "info", "warn", "error"}) {
    f.log_level = level;
    EXPECT_TRUE(validate(f, &error)) << level;
  }
  f.log_level = "verbose";
  EXPECT_TRUE(starts_with(validate_error(f), "log_level: "));
  StorageConfig s;
  s.id = "s";
  s.log_level = "INFO";
  EXPECT_TRUE(starts_with(validate_error(s), "log_level: "));
}

TEST(Config, SizesMustFitInAFrame) {
  FrontendConfig f;
  f.max_frame_bytes = 1000;
  f.max_key_bytes = 100;
  f.max_value_bytes = 899;
  f.catchup_chunk_bytes = 500;
  std::string error;
  EXPECT_TRUE(validate(f, &error)) << error;
  f.max_value_bytes = 900;
  EXPECT_TRUE(starts_with(validate_error(f), "max_value_bytes: "));
  f.max_value_bytes = 10;
  f.max_key_bytes = 1000;
  EXPECT_TRUE(starts_with(validate_error(f), "max_value_bytes: "));
  f.max_key_bytes = 100;
  f.catchup_chunk_bytes = 1000;
  EXPECT_TRUE(starts_with(validate_error(f), "catchup_chunk_bytes: "));
  f = FrontendConfig{};
  f.max_frame_bytes = 1ull << 32;  // the frame header holds 32 bits
  EXPECT_TRUE(starts_with(validate_error(f), "max_frame_bytes: "));
  f.max_frame_bytes = 0;
  EXPECT_TRUE(starts_with(validate_error(f), "max_frame_bytes: "));
}

TEST(Config, TimeoutsSetByFlagsAreChecked) {
  FrontendConfig f;
  f.storage_timeout = 0;
  EXPECT_TRUE(starts_with(validate_error(f), "storage_timeout: "));
  f.storage_timeout = NAN;
  EXPECT_TRUE(starts_with(validate_error(f), "storage_timeout: "));
  f.storage_timeout = 1e300;  // would overflow the nanosecond clock
  EXPECT_TRUE(starts_with(validate_error(f), "storage_timeout: "));
  ClientConfig c;
  c.id = "c";
  c.request_timeout = -1;
  EXPECT_TRUE(starts_with(validate_error(c), "request_timeout: "));
  c.request_timeout = 1;
  c.reconnect_max = 0;
  EXPECT_TRUE(starts_with(validate_error(c), "reconnect_max: "));
}

TEST(Config, SecondsToNanos) {
  EXPECT_EQ(seconds_to_nanos(2.0), 2 * kSecond);
  EXPECT_EQ(seconds_to_nanos(0.001), kMillisecond);
}

}  // namespace
}  // namespace kvs
