// Config parsing is table-driven: each program lists its fields once, with the member
// each one sets; the member's type decides which JSON values are accepted.
#include "core/config.h"

#include <span>
#include <string_view>
#include <variant>

#include "core/auth.h"
#include "core/effects.h"

namespace kvs {
namespace {

using json = nlohmann::json;

template <typename C>
struct Field {
  std::string_view name;
  std::variant<std::string C::*, double C::*, std::uint64_t C::*, bool C::*> member;
};

const Field<FrontendConfig> kFrontendFields[] = {
    {"client_listen", &FrontendConfig::client_listen},
    {"storage_listen", &FrontendConfig::storage_listen},
    {"resp_listen", &FrontendConfig::resp_listen},
    {"data_dir", &FrontendConfig::data_dir},
    {"storage_timeout", &FrontendConfig::storage_timeout},
    {"unavailable_timeout", &FrontendConfig::unavailable_timeout},
    {"secret", &FrontendConfig::secret},
    {"secret_file", &FrontendConfig::secret_file},
    {"insecure_no_secret", &FrontendConfig::insecure_no_secret},
    {"session_idle_timeout", &FrontendConfig::session_idle_timeout},
    {"max_key_bytes", &FrontendConfig::max_key_bytes},
    {"max_value_bytes", &FrontendConfig::max_value_bytes},
    {"max_frame_bytes", &FrontendConfig::max_frame_bytes},
    {"catchup_chunk_bytes", &FrontendConfig::catchup_chunk_bytes},
    {"max_client_outstanding", &FrontendConfig::max_client_outstanding},
    {"max_connections_per_address", &FrontendConfig::max_connections_per_address},
    {"max_inflight_writes", &FrontendConfig::max_inflight_writes},
    {"max_inflight_write_bytes", &FrontendConfig::max_inflight_write_bytes},
    {"max_connection_backlog_bytes", &FrontendConfig::max_connection_backlog_bytes},
    {"accept_data_loss", &FrontendConfig::accept_data_loss},
    {"log_level", &FrontendConfig::log_level},
};

const Field<StorageConfig> kStorageFields[] = {
    {"id", &StorageConfig::id},
    {"listen", &StorageConfig::listen},
    {"data_dir", &StorageConfig::data_dir},
    {"frontend", &StorageConfig::frontend},
    {"secret", &StorageConfig::secret},
    {"secret_file", &StorageConfig::secret_file},
    {"insecure_no_secret", &StorageConfig::insecure_no_secret},
    {"snapshot_bytes", &StorageConfig::snapshot_bytes},
    {"max_frame_bytes", &StorageConfig::max_frame_bytes},
    {"reconnect_max", &StorageConfig::reconnect_max},
    {"log_level", &StorageConfig::log_level},
};

const Field<ClientConfig> kClientFields[] = {
    {"id", &ClientConfig::id},
    {"frontend", &ClientConfig::frontend},
    {"secret", &ClientConfig::secret},
    {"secret_file", &ClientConfig::secret_file},
    {"request_timeout", &ClientConfig::request_timeout},
    {"reconnect_max", &ClientConfig::reconnect_max},
    {"max_frame_bytes", &ClientConfig::max_frame_bytes},
    {"history", &ClientConfig::history},
};

// Each returns nullptr on success, else what the value must be.
const char* assign(const json& v, std::string* out) {
  if (!v.is_string()) return "must be a string";
  *out = v.get<std::string>();
  return nullptr;
}
const char* assign(const json& v, double* out) {
  if (!v.is_number() || !(v.get<double>() > 0)) return "must be a number > 0";
  *out = v.get<double>();
  return nullptr;
}
const char* assign(const json& v, std::uint64_t* out) {
  if (!v.is_number_unsigned() || v.get<std::uint64_t>() == 0) return "must be an integer > 0";
  *out = v.get<std::uint64_t>();
  return nullptr;
}
const char* assign(const json& v, bool* out) {
  if (!v.is_boolean()) return "must be true or false";
  *out = v.get<bool>();
  return nullptr;
}

bool fail(std::string* error, std::string_view field, std::string_view problem) {
  if (error != nullptr) *error = std::string(field) + ": " + std::string(problem);
  return false;
}

template <typename C>
std::optional<C> parse(const json& j, std::span<const Field<C>> fields, std::string* error) {
  if (!j.is_object()) {
    fail(error, "config", "must be a JSON object");
    return std::nullopt;
  }
  C config;
  for (const auto& item : j.items()) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const std::string& name = item.key();
    const json& value = item.value();
    const Field<C>* field = nullptr;
    for (const Field<C>& f : fields) {
      if (f.name == name) field = &f;
    }
    if (field == nullptr) {
      fail(error, name, "unknown field");
      return std::nullopt;
    }
    const char* problem =
        std::visit([&](auto member) { return assign(value, &(config.*member)); }, field->member);
    if (problem != nullptr) {
      fail(error, name, problem);
      return std::nullopt;
    }
  }
  return config;
}

// ---- validation ------------------------------------------------------------

// Timers add these to a nanosecond clock, which must not overflow.
constexpr double kMaxSeconds = 365.0 * 24 * 3600;
// The frame header holds a 32-bit length.
constexpr std::uint64_t kMaxFrameLimit = 0xFFFFFFFF;

bool check_address(std::string* error, std::string_view field, const std::string& address,
                   bool listen) {
  std::string ip;
  int port = 0;
  if (split_address(address, &ip, &port) && (listen || port != 0)) return true;
  // Built with append: GCC 12 warns falsely (-Warray-bounds) on the chained operator+.
  std::string why = listen ? "must be IP:PORT with a port in 0..65535, not \""
                           : "must be IP:PORT with a port in 1..65535, not \"";
  why.append(address).append("\"");
  return fail(error, field, why);
}

bool check_seconds(std::string* error, std::string_view field, double seconds) {
  if (seconds > 0 && seconds <= kMaxSeconds) return true;  // also false for NaN
  return fail(error, field, "must be a number of seconds > 0 and at most a year");
}

bool check_positive(std::string* error, std::string_view field, std::uint64_t value) {
  return value > 0 || fail(error, field, "must be an integer > 0");
}

bool check_frame(std::string* error, std::uint64_t max_frame_bytes) {
  if (max_frame_bytes > 0 && max_frame_bytes <= kMaxFrameLimit) return true;
  return fail(error, "max_frame_bytes", "must be an integer in 1..4294967295");
}

// Protected mode: with no secret, a listener must be on loopback unless the operator
// explicitly accepts unauthenticated connections from the network.
bool check_protected(std::string* error, std::string_view field, const std::string& address,
                     const std::string& secret, bool insecure_no_secret) {
  if (!secret.empty() || insecure_no_secret || is_loopback_address(address)) return true;
  std::string why = "\"";
  why.append(address).append(
      "\" is not a loopback address and no cluster secret is set: anyone on the network could "
      "connect. Set a secret (--secret TEXT or --secret-file PATH; config \"secret\" or "
      "\"secret_file\"), or pass --insecure-no-secret (config \"insecure_no_secret\": true) "
      "to accept unauthenticated connections from the network");
  return fail(error, field, why);
}

bool check_log_level(std::string* error, const std::string& level) {
  if (parse_log_level(level)) return true;
  return fail(error, "log_level", "must be \"debug\", \"info\", \"warn\" or \"error\"");
}

}  // namespace

std::optional<json> parse_config_text(std::string_view text, std::string* error) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    if (error != nullptr) *error = std::string("invalid JSON: ") + e.what();
    return std::nullopt;
  }
}

std::optional<FrontendConfig> parse_frontend_config(const json& j, std::string* error) {
  return parse<FrontendConfig>(j, kFrontendFields, error);
}

std::optional<StorageConfig> parse_storage_config(const json& j, std::string* error) {
  return parse<StorageConfig>(j, kStorageFields, error);
}

std::optional<ClientConfig> parse_client_config(const json& j, std::string* error) {
  return parse<ClientConfig>(j, kClientFields, error);
}

bool is_loopback_address(const std::string& address) {
  std::string ip;
  int port = 0;
  return split_address(address, &ip, &port) && is_loopback_ip(ip);
}

bool split_address(const std::string& address, std::string* ip, int* port) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  const std::string_view host(address.data(), colon);
  const std::string_view digits = std::string_view(address).substr(colon + 1);
  for (char ch : host) {
    if (static_cast<unsigned char>(ch) <= ' ') return false;
  }
  if (digits.empty() || digits.size() > 5) return false;
  int value = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + (ch - '0');
  }
  if (value > 65535) return false;
  if (ip != nullptr) *ip = host;
  if (port != nullptr) *port = value;
  return true;
}

bool validate(const FrontendConfig& c, std::string* error) {
  if (!check_address(error, "client_listen", c.client_listen, true) ||
      !check_address(error, "storage_listen", c.storage_listen, true) ||
      !check_seconds(error, "storage_timeout", c.storage_timeout) ||
      !check_seconds(error, "unavailable_timeout", c.unavailable_timeout) ||
      !check_positive(error, "max_key_bytes", c.max_key_bytes) ||
      !check_positive(error, "max_value_bytes", c.max_value_bytes) ||
      !check_frame(error, c.max_frame_bytes) ||
      !check_positive(error, "catchup_chunk_bytes", c.catchup_chunk_bytes) ||
      !check_positive(error, "max_inflight_writes", c.max_inflight_writes) ||
      !check_positive(error, "max_inflight_write_bytes", c.max_inflight_write_bytes) ||
      !check_log_level(error, c.log_level)) {
    return false;
  }
  // A connection to a storage node must be able to hold one full frame (e.g. a catch-up
  // chunk) queued behind others without being taken for a peer that does not read.
  if (c.max_connection_backlog_bytes < 2 * c.max_frame_bytes) {
    return fail(error, "max_connection_backlog_bytes", "must be at least 2 * max_frame_bytes");
  }
  std::string ip;
  int port = 0;
  split_address(c.client_listen, &ip, &port);
  if (port != 0 && c.client_listen == c.storage_listen) {
    return fail(error, "storage_listen", "must differ from client_listen");
  }
  if (!c.resp_listen.empty()) {
    if (!check_address(error, "resp_listen", c.resp_listen, true)) return false;
    split_address(c.resp_listen, &ip, &port);
    if (port != 0 && (c.resp_listen == c.client_listen || c.resp_listen == c.storage_listen)) {
      return fail(error, "resp_listen", "must differ from client_listen and storage_listen");
    }
  }
  // A PUT frame carries both a key and a value.
  if (c.max_key_bytes >= c.max_frame_bytes ||
      c.max_value_bytes >= c.max_frame_bytes - c.max_key_bytes) {
    return fail(error, "max_value_bytes",
                "max_key_bytes + max_value_bytes must be less than max_frame_bytes");
  }
  if (c.catchup_chunk_bytes >= c.max_frame_bytes) {
    return fail(error, "catchup_chunk_bytes", "must be less than max_frame_bytes");
  }
  return check_protected(error, "client_listen", c.client_listen, c.secret, c.insecure_no_secret) &&
         check_protected(error, "storage_listen", c.storage_listen, c.secret,
                         c.insecure_no_secret) &&
         (c.resp_listen.empty() ||
          check_protected(error, "resp_listen", c.resp_listen, c.secret, c.insecure_no_secret));
}

bool validate(const StorageConfig& c, std::string* error) {
  // The id names the node's data directory, so it must be a plain file name.
  if (c.id.empty() || c.id == "." || c.id == "..") {
    return fail(error, "id", "must be a non-empty name other than \".\" or \"..\"");
  }
  for (char ch : c.id) {
    const bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
    if (!ok) return fail(error, "id", "may contain only letters, digits, '_', '.' and '-'");
  }
  return check_address(error, "listen", c.listen, true) &&
         check_address(error, "frontend", c.frontend, false) &&
         check_positive(error, "snapshot_bytes", c.snapshot_bytes) &&
         check_frame(error, c.max_frame_bytes) &&
         check_seconds(error, "reconnect_max", c.reconnect_max) &&
         check_log_level(error, c.log_level) &&
         check_protected(error, "listen", c.listen, c.secret, c.insecure_no_secret);
}

bool validate(const ClientConfig& c, std::string* error) {
  if (c.id.empty()) return fail(error, "id", "must not be empty");
  return check_address(error, "frontend", c.frontend, false) &&
         check_seconds(error, "request_timeout", c.request_timeout) &&
         check_seconds(error, "reconnect_max", c.reconnect_max) &&
         check_frame(error, c.max_frame_bytes);
}

}  // namespace kvs
