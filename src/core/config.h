// Configuration of the three programs: defaults, and parsing from JSON text with
// errors that name the offending field. Pure: src/net reads the files.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/bugs.h"
#include "core/types.h"

namespace kvs {

struct FrontendConfig {
  std::string client_listen = "127.0.0.1:8000";
  std::string storage_listen = "127.0.0.1:8001";
  std::string resp_listen;                   // Redis (RESP2) clients; empty: not served
  std::string data_dir = "./data/frontend";  // the state file (members, reserved LSNs)
  double storage_timeout = 2.0;              // seconds without an answer before a node is removed
  double unavailable_timeout = 5.0;          // seconds a request waits with no live member
  std::string secret;                        // cluster secret; empty: none (protected mode)
  std::string secret_file;                   // read by the backend into `secret` (first line)
  bool insecure_no_secret = false;           // no secret, yet accept non-loopback peers
  double session_idle_timeout = 300.0;       // seconds a disconnected, idle client session is kept
  std::uint64_t max_key_bytes = 1024;
  std::uint64_t max_value_bytes = 1024 * 1024;
  std::uint64_t max_frame_bytes = 4 * 1024 * 1024;
  std::uint64_t catchup_chunk_bytes = 256 * 1024;
  std::uint64_t max_client_outstanding = 1024;       // requests of one client session held at once
  std::uint64_t max_connections_per_address = 1000;  // open connections from one peer IP
  // PUTs started (given an LSN, sent to the nodes) and not yet committed, frontend-wide:
  // at most this many, and at most this many key+value bytes (one PUT always fits when
  // none is in flight). A session whose next PUT does not fit waits, its connection unread.
  std::uint64_t max_inflight_writes = 4096;
  std::uint64_t max_inflight_write_bytes = 64 * 1024 * 1024;
  // Bytes queued for writing to one peer (any connection) beyond which it is closed; a
  // client connection stops being read while more than max_frame_bytes are queued to it.
  std::uint64_t max_connection_backlog_bytes = 256 * 1024 * 1024;
  bool accept_data_loss = false;  // let a stale node define the data (loses writes)
  std::string log_level = "info";
  PlantedBugs bugs;  // simulator only (kvsim --bug); never set from a file
};

struct StorageConfig {
  std::string id;  // required, unique per node
  std::string listen = "127.0.0.1:9101";
  std::string data_dir;  // default: ./data/<id>
  std::string frontend = "127.0.0.1:8001";
  std::string secret;               // cluster secret; empty: none (the probe port is loopback only)
  std::string secret_file;          // read by the backend into `secret` (first line)
  bool insecure_no_secret = false;  // no secret, yet accept non-loopback probes
  std::uint64_t snapshot_bytes = 64 * 1024 * 1024;  // compact when the log passes this
  std::uint64_t max_frame_bytes = 4 * 1024 * 1024;
  double reconnect_max = 2.0;  // seconds, the cap of the reconnect backoff
  std::string log_level = "info";
  PlantedBugs bugs;  // simulator only (kvsim --bug); never set from a file
};

struct ClientConfig {
  std::string id;  // required: the session id
  std::string frontend = "127.0.0.1:8000";
  std::string secret;             // cluster secret; empty: none
  std::string secret_file;        // read by the backend into `secret` (first line)
  double request_timeout = 10.0;  // seconds before an unanswered op fails
  double reconnect_max = 2.0;
  std::uint64_t max_frame_bytes = 4 * 1024 * 1024;
  std::string history;  // file for a Jepsen-style history; empty: none
};

// A config file's text as a JSON document (the programs read the file, then call this).
// On invalid JSON returns nullopt and sets *error to "invalid JSON: " and the parser's
// reason; throws nothing.
std::optional<nlohmann::json> parse_config_text(std::string_view text, std::string* error);

// Parse a whole config document. Unknown fields and wrong types are errors; a missing
// field keeps its default. On error returns nullopt and sets *error to a message that
// starts with the field name, e.g. "storage_timeout: must be a number > 0".
std::optional<FrontendConfig> parse_frontend_config(const nlohmann::json& j, std::string* error);
std::optional<StorageConfig> parse_storage_config(const nlohmann::json& j, std::string* error);
std::optional<ClientConfig> parse_client_config(const nlohmann::json& j, std::string* error);

// Check a finished config (after flags were applied). Same error convention.
bool validate(const FrontendConfig& c, std::string* error);
bool validate(const StorageConfig& c, std::string* error);
bool validate(const ClientConfig& c, std::string* error);

// Whether address ("ip:port") listens on loopback only (127.0.0.0/8 or ::1).
bool is_loopback_address(const std::string& address);

// "ip:port" -> parts; false if malformed (port 0..65535, ip non-empty).
bool split_address(const std::string& address, std::string* ip, int* port);

inline Nanos seconds_to_nanos(double s) {
  return static_cast<Nanos>(s * 1e9);
}

}  // namespace kvs
