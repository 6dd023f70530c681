// Config loading of the real programs (src/net/config_file.h): defaults, file, flags.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "net/config_file.h"

namespace kvs::net {
namespace {

std::optional<int> load(std::vector<std::string> args, FrontendConfig* c) {
  args.insert(args.begin(), "frontend");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return load_frontend_config(static_cast<int>(argv.size()), argv.data(), c);
}

std::string temp_file(const std::string& text) {
  std::string path = ::testing::TempDir() + "kvs_cfg_XXXXXX";
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(NetConfigFile, MissingDefaultFileMeansDefaultsButMissingGivenFileIsAnError) {
  std::string error;
  auto doc = read_config_document("/nonexistent/frontend.json", false, &error);
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->empty());
  EXPECT_FALSE(read_config_document("/nonexistent/frontend.json", true, &error));
  EXPECT_NE(error.find("/nonexistent/frontend.json: cannot open"), std::string::npos) << error;
}

TEST(NetConfigFile, FlagsOverrideTheFile) {
  const std::string path = temp_file(R"({"storage_timeout": 3.5, "secret": "t"})");
  FrontendConfig c;
  EXPECT_EQ(load({"--config", path, "--secret", "flag", "--accept-data-loss"}, &c), std::nullopt);
  EXPECT_EQ(c.storage_timeout, 3.5);
  EXPECT_EQ(c.secret, "flag");
  EXPECT_TRUE(c.accept_data_loss);
  EXPECT_EQ(c.client_listen, "127.0.0.1:8000");
  std::filesystem::remove(path);
}

TEST(NetConfigFile, BadInputExitsWithStatus2) {
  FrontendConfig c;
  EXPECT_EQ(load({"--no-such-flag"}, &c), 2);
  EXPECT_EQ(load({"--storage-timeout", "1.5x"}, &c), 2);
  EXPECT_EQ(load({"--max-frame-bytes", "-3"}, &c), 2);
  EXPECT_EQ(load({"--accept-data-loss=perhaps"}, &c), 2);
  EXPECT_EQ(load({"--config", "/nonexistent.json"}, &c), 2);
  EXPECT_EQ(load({"--log-level", "loud"}, &c), 2);
  EXPECT_EQ(load({"stray"}, &c), 2);
  const std::string path = temp_file(R"({"storage_timeout": "soon"})");
  EXPECT_EQ(load({"--config", path}, &c), 2);
  std::filesystem::remove(path);
}

TEST(NetConfigFile, ShippedConfigFilesHoldTheDefaults) {
  // tests run from the build directory; the sources are found relative to this file.
  const std::filesystem::path root =
      std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "config";
  std::string error;
  auto fe = read_config_document((root / "frontend.json").string(), true, &error);
  ASSERT_TRUE(fe) << error;
  auto fc = parse_frontend_config(*fe, &error);
  ASSERT_TRUE(fc) << error;
  FrontendConfig d;
  EXPECT_EQ(fc->client_listen, d.client_listen);
  EXPECT_EQ(fc->storage_listen, d.storage_listen);
  EXPECT_EQ(fc->storage_timeout, d.storage_timeout);
  EXPECT_EQ(fc->unavailable_timeout, d.unavailable_timeout);
  EXPECT_EQ(fc->max_key_bytes, d.max_key_bytes);
  EXPECT_EQ(fc->max_value_bytes, d.max_value_bytes);
  EXPECT_EQ(fc->max_frame_bytes, d.max_frame_bytes);
  EXPECT_EQ(fc->catchup_chunk_bytes, d.catchup_chunk_bytes);
  EXPECT_EQ(fc->accept_data_loss, d.accept_data_loss);
  EXPECT_EQ(fc->log_level, d.log_level);
  EXPECT_EQ(fc->secret, d.secret);
  EXPECT_EQ(fc->insecure_no_secret, d.insecure_no_secret);
  EXPECT_EQ(fc->data_dir, d.data_dir);
  EXPECT_EQ(fc->max_client_outstanding, d.max_client_outstanding);
  EXPECT_EQ(fc->max_connections_per_address, d.max_connections_per_address);
  EXPECT_EQ(fc->max_inflight_writes, d.max_inflight_writes);
  EXPECT_EQ(fc->max_inflight_write_bytes, d.max_inflight_write_bytes);
  EXPECT_EQ(fc->max_connection_backlog_bytes, d.max_connection_backlog_bytes);
  EXPECT_EQ(fe->size(), 19u);  // the fields checked above

  auto se = read_config_document((root / "storage.json").string(), true, &error);
  ASSERT_TRUE(se) << error;
  auto sc = parse_storage_config(*se, &error);
  ASSERT_TRUE(sc) << error;
  StorageConfig sd;
  EXPECT_EQ(sc->listen, sd.listen);
  EXPECT_EQ(sc->frontend, sd.frontend);
  EXPECT_EQ(sc->snapshot_bytes, sd.snapshot_bytes);
  EXPECT_EQ(sc->max_frame_bytes, sd.max_frame_bytes);
  EXPECT_EQ(sc->reconnect_max, sd.reconnect_max);
  EXPECT_EQ(sc->log_level, sd.log_level);
  EXPECT_FALSE(se->contains("id"));

  auto ce = read_config_document((root / "client.json").string(), true, &error);
  ASSERT_TRUE(ce) << error;
  auto cc = parse_client_config(*ce, &error);
  ASSERT_TRUE(cc) << error;
  ClientConfig cd;
  EXPECT_EQ(cc->frontend, cd.frontend);
  EXPECT_EQ(cc->request_timeout, cd.request_timeout);
  EXPECT_EQ(cc->reconnect_max, cd.reconnect_max);
  EXPECT_EQ(cc->max_frame_bytes, cd.max_frame_bytes);
}

TEST(NetConfigFile, SecretFileGivesItsFirstLine) {
  const std::string path = temp_file("s3cr3t with spaces\r\nsecond line ignored\n");
  FrontendConfig c;
  EXPECT_EQ(load({"--secret-file", path}, &c), std::nullopt);
  EXPECT_EQ(c.secret, "s3cr3t with spaces");
  // From the config file too.
  const std::string cfg = temp_file(R"({"secret_file": ")" + path + R"("})");
  FrontendConfig c2;
  EXPECT_EQ(load({"--config", cfg}, &c2), std::nullopt);
  EXPECT_EQ(c2.secret, "s3cr3t with spaces");
  std::filesystem::remove(cfg);
  std::filesystem::remove(path);
}

TEST(NetConfigFile, SecretFileErrorsAreClear) {
  std::string secret, error;
  EXPECT_FALSE(read_secret_file("/nonexistent/secret", &secret, &error));
  EXPECT_EQ(error, "/nonexistent/secret: cannot open: No such file or directory");
  const std::string empty = temp_file("\nsecret on line two\n");
  EXPECT_FALSE(read_secret_file(empty, &secret, &error));
  EXPECT_NE(error.find("the first line is empty"), std::string::npos) << error;
  FrontendConfig c;
  EXPECT_EQ(load({"--secret-file", empty}, &c), 2);
  EXPECT_EQ(load({"--secret-file", "/nonexistent/secret"}, &c), 2);
  const std::string good = temp_file("x\n");
  EXPECT_EQ(load({"--secret", "a", "--secret-file", good}, &c), 2) << "both: ambiguous";
  std::filesystem::remove(empty);
  std::filesystem::remove(good);
}

TEST(NetConfigFile, NonLoopbackListenWithoutSecretNeedsInsecureFlag) {
  FrontendConfig c;
  EXPECT_EQ(load({"--client-listen", "0.0.0.0:0"}, &c), 2);
  EXPECT_EQ(load({"--storage-listen", "10.1.2.3:0"}, &c), 2);
  EXPECT_EQ(load({"--client-listen", "0.0.0.0:0", "--secret", "s"}, &c), std::nullopt);
  EXPECT_EQ(load({"--client-listen", "0.0.0.0:0", "--insecure-no-secret"}, &c), std::nullopt);
  EXPECT_TRUE(c.insecure_no_secret);
  EXPECT_EQ(load({"--client-listen", "127.0.0.2:0"}, &c), std::nullopt) << "all of 127/8";
}

}  // namespace
}  // namespace kvs::net
