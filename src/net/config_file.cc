#include "net/config_file.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <span>
#include <sstream>
#include <type_traits>
#include <variant>

namespace kvs::net {
namespace {

using json = nlohmann::json;

// One config field as a flag. The flag is the field name with dashes.
template <typename C>
struct FieldFlag {
  const char* field;
  std::variant<std::string C::*, double C::*, std::uint64_t C::*, bool C::*> member;
  const char* help;
  const char* default_text = nullptr;  // shown instead of the built-in default
};

const FieldFlag<FrontendConfig> kFrontendFlags[] = {
    {"client_listen", &FrontendConfig::client_listen,
     "IP:PORT to accept clients on (port 0: a free port, printed at startup)"},
    {"storage_listen", &FrontendConfig::storage_listen,
     "IP:PORT to accept storage nodes on (port 0: a free port, printed at startup)"},
    {"resp_listen", &FrontendConfig::resp_listen,
     "IP:PORT to accept Redis clients on (RESP2: redis-cli, redis-benchmark, client "
     "libraries; GET, SET, PING, ...); each connection is a client session with the same "
     "guarantees as ./client. With a secret, clients must send AUTH <secret> first "
     "(redis-cli -a SECRET). "
     "Port 0: a free port, printed at startup",
     "empty: off"},
    {"data_dir", &FrontendConfig::data_dir,
     "directory of the frontend's state file (the last member set and the LSNs handed "
     "out), which a restart needs to keep every acknowledged write; created (mode 0700) "
     "if missing"},
    {"storage_timeout", &FrontendConfig::storage_timeout,
     "seconds a storage node may leave a write, read or ping unanswered before it is "
     "removed from the membership (it must then rejoin and catch up)"},
    {"unavailable_timeout", &FrontendConfig::unavailable_timeout,
     "seconds a request waits while no storage node is a member, before it is "
     "answered 'unavailable'"},
    {"secret", &FrontendConfig::secret,
     "cluster secret: every client, storage node and Redis client (AUTH) must prove it knows "
     "it; it never crosses the network (challenge-response with HMAC-SHA256). Prefer "
     "--secret-file: a flag is visible to other local users in the process list. Empty: "
     "no secret, and the frontend is in protected mode (loopback connections only)"},
    {"secret_file", &FrontendConfig::secret_file,
     "file whose first line is the cluster secret (instead of --secret)"},
    {"insecure_no_secret", &FrontendConfig::insecure_no_secret,
     "with no secret, listen on non-loopback addresses and accept unauthenticated "
     "connections from anywhere (otherwise the frontend refuses to start on such an address "
     "and refuses non-loopback peers). Anyone who can connect can then read and write "
     "every key"},
    {"session_idle_timeout", &FrontendConfig::session_idle_timeout,
     "seconds the frontend keeps the session of a disconnected client with nothing "
     "pending (its record of answered requests); a client returning later is told "
     "session_lost and starts a new session"},
    {"max_key_bytes", &FrontendConfig::max_key_bytes, "largest key accepted, in bytes"},
    {"max_value_bytes", &FrontendConfig::max_value_bytes, "largest value accepted, in bytes"},
    {"max_frame_bytes", &FrontendConfig::max_frame_bytes,
     "largest frame accepted on any connection, in bytes (refused from its header)"},
    {"catchup_chunk_bytes", &FrontendConfig::catchup_chunk_bytes,
     "about how many bytes of keys and values one catch-up chunk carries"},
    {"max_client_outstanding", &FrontendConfig::max_client_outstanding,
     "requests one client session may have unanswered (or answered but not yet "
     "confirmed) at once; beyond it the connection gets a too_many_requests error and "
     "is closed (the client resends later)"},
    {"max_connections_per_address", &FrontendConfig::max_connections_per_address,
     "connections one peer IP address may hold open at once, on all ports together; "
     "one more gets a too_many_connections error and is closed"},
    {"max_inflight_writes", &FrontendConfig::max_inflight_writes,
     "PUTs sent to the storage nodes and not yet committed, frontend-wide, at most; a "
     "client session whose next PUT does not fit waits and its connection is not read "
     "until writes commit (backpressure)"},
    {"max_inflight_write_bytes", &FrontendConfig::max_inflight_write_bytes,
     "the same bound in key+value bytes (one PUT always fits when none is in flight)"},
    {"max_connection_backlog_bytes", &FrontendConfig::max_connection_backlog_bytes,
     "bytes queued for writing to one connection beyond which it is closed (logged): a "
     "peer that does not read. A client connection is not read while more than "
     "max_frame_bytes are queued to it"},
    {"accept_data_loss", &FrontendConfig::accept_data_loss,
     "after a total failure (or a frontend restart), admit a stale storage node as the "
     "only replica instead of waiting for one that holds every acknowledged write. LOSES "
     "acknowledged writes; logged loudly"},
    {"log_level", &FrontendConfig::log_level,
     "least severe log lines shown: debug, info, warn or error"},
};

const FieldFlag<StorageConfig> kStorageFlags[] = {
    {"id", &StorageConfig::id, "this node's name, unique in the cluster (required)", "none"},
    {"listen", &StorageConfig::listen,
     "IP:PORT answering status probes (port 0: a free port, printed at startup)"},
    {"data_dir", &StorageConfig::data_dir,
     "directory of the write-ahead log and the snapshot; created (mode 0700) if missing",
     "./data/<id>"},
    {"frontend", &StorageConfig::frontend, "the frontend's storage port, IP:PORT"},
    {"secret", &StorageConfig::secret,
     "cluster secret, proven to the frontend and required from probes (HMAC challenge-"
     "response; it never crosses the network). Prefer --secret-file. Empty: none, and the "
     "probe port accepts loopback connections only"},
    {"secret_file", &StorageConfig::secret_file,
     "file whose first line is the cluster secret (instead of --secret)"},
    {"insecure_no_secret", &StorageConfig::insecure_no_secret,
     "with no secret, let the probe port listen on a non-loopback address and accept "
     "unauthenticated probes from anywhere"},
    {"snapshot_bytes", &StorageConfig::snapshot_bytes,
     "compact when the log passes this many bytes: write a snapshot, then empty the log"},
    {"max_frame_bytes", &StorageConfig::max_frame_bytes,
     "largest frame accepted on any connection, in bytes"},
    {"reconnect_max", &StorageConfig::reconnect_max,
     "longest wait, in seconds, between attempts to reach the frontend"},
    {"log_level", &StorageConfig::log_level,
     "least severe log lines shown: debug, info, warn or error"},
};

const FieldFlag<ClientConfig> kClientFlags[] = {
    {"id", &ClientConfig::id,
     "session id (required): operations of one id take effect in issue order", "none"},
    {"frontend", &ClientConfig::frontend, "the frontend's client port, IP:PORT"},
    {"secret", &ClientConfig::secret,
     "cluster secret, proven to the frontend (HMAC challenge-response; it never crosses the "
     "network). Prefer --secret-file. Empty: none"},
    {"secret_file", &ClientConfig::secret_file,
     "file whose first line is the cluster secret (instead of --secret)"},
    {"request_timeout", &ClientConfig::request_timeout,
     "seconds before an unanswered operation fails"},
    {"reconnect_max", &ClientConfig::reconnect_max,
     "longest wait, in seconds, between attempts to reach the frontend"},
    {"max_frame_bytes", &ClientConfig::max_frame_bytes,
     "largest frame accepted from the frontend, in bytes"},
    {"history", &ClientConfig::history,
     "file to write a Jepsen-style history of the operations to (empty: none)"},
};

template <typename C>
struct Program {
  const char* name;
  const char* description;
  const char* default_path;
  std::span<const FieldFlag<C>> flags;
  std::optional<C> (*parse)(const json&, std::string*);
  void (*finish)(C*);  // fills derived defaults after the flags; may be null
};

std::string flag_name(const char* field) {
  std::string name = field;
  for (char& ch : name) {
    if (ch == '_') ch = '-';
  }
  return name;
}

// Wraps each paragraph of text at `width` columns (cxxopts prints descriptions as is).
std::string wrap(std::string_view text, std::size_t width) {
  std::string out;
  std::size_t column = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == '\n') {
      out += '\n';
      column = 0;
      ++pos;
      continue;
    }
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    std::size_t end = text.find_first_of(" \n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view word = text.substr(pos, end - pos);
    if (column > 0 && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    pos = end;
  }
  return out;
}

std::string show(const std::string& v) {
  return v.empty() ? "empty" : v;
}
std::string show(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
std::string show(std::uint64_t v) {
  return std::to_string(v);
}
std::string show(bool v) {
  return v ? "true" : "false";
}

template <typename C>
void add_flag(cxxopts::Options& options, const FieldFlag<C>& f, const C& defaults) {
  std::string shown =
      f.default_text != nullptr
          ? std::string(f.default_text)
          : std::visit([&](auto member) { return show(defaults.*member); }, f.member);
  std::string help = std::string(f.help) + " (default: " + shown + ")";
  std::visit(
      [&](auto member) {
        using T = std::remove_cvref_t<decltype(defaults.*member)>;
        if constexpr (std::is_same_v<T, bool>) {
          // Text, converted by convert(), so a bad value is reported with the flag's name.
          options.add_options()(flag_name(f.field), help,
                                cxxopts::value<std::string>()->implicit_value("true"),
                                "true|false");
        } else {
          const char* arg = std::is_same_v<T, std::string> ? "TEXT"
                            : std::is_same_v<T, double>    ? "SECONDS"
                                                           : "N";
          if (std::string_view(f.field).find("listen") != std::string_view::npos ||
              std::string_view(f.field) == "frontend") {
            arg = "IP:PORT";
          } else if (std::string_view(f.field) == "data_dir") {
            arg = "DIR";
          } else if (std::string_view(f.field) == "secret_file") {
            arg = "PATH";
          } else if (std::string_view(f.field) == "history") {
            arg = "FILE";
          }
          options.add_options()(flag_name(f.field), help, cxxopts::value<std::string>(), arg);
        }
      },
      f.member);
}

// Flag values are read as text and converted here, strictly: cxxopts would accept
// "1.5x" as 1.5 and wrap an overlong integer.
bool convert(const std::string& text, std::string* out, std::string*) {
  *out = text;
  return true;
}
bool convert(const std::string& text, bool* out, std::string* error) {
  if (text == "true" || text == "1" || text == "yes") {
    *out = true;
  } else if (text == "false" || text == "0" || text == "no") {
    *out = false;
  } else {
    *error = "\"" + text + "\" is not true or false";
    return false;
  }
  return true;
}
bool convert(const std::string& text, double* out, std::string* error) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) {
    *error = "\"" + text + "\" is not a number";
    return false;
  }
  *out = v;
  return true;
}
bool convert(const std::string& text, std::uint64_t* out, std::string* error) {
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    *error = "\"" + text + "\" is not a whole number in 0.." +
             std::to_string(std::numeric_limits<std::uint64_t>::max());
    return false;
  }
  *out = v;
  return true;
}

template <typename C>
std::optional<int> load(const Program<C>& program, int argc, const char* const* argv, C* config,
                        const ExtraOptions& extra) {
  const std::string name = program.name;
  auto bad_command_line = [&](const std::string& what) {
    std::cerr << name << ": bad command line: " << what << " (see " << name << " --help)\n";
    return 2;
  };
  auto config_error = [&](const std::string& what) {
    std::cerr << name << ": config error: " << what << "\n";
    return 2;
  };

  cxxopts::Options options(name, wrap(program.description, 90));
  options.set_width(100);
  options.add_options()("config",
                        std::string("JSON config file: an object with any of the fields below "
                                    "(underscores for dashes) (default: ") +
                            program.default_path +
                            "; if that file does not exist, the built-in defaults apply)",
                        cxxopts::value<std::string>(), "PATH");
  const C defaults{};
  for (const FieldFlag<C>& f : program.flags) add_flag(options, f, defaults);
  options.add_options()("h,help", "print this help and exit");
  if (extra.add) extra.add(options);
  if (!extra.positional_help.empty()) options.positional_help(extra.positional_help);

  cxxopts::ParseResult result;
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    return bad_command_line(e.what());
  }
  if (result.count("help") != 0) {
    std::cout << options.help() << std::flush;
    return 0;
  }
  if (!result.unmatched().empty()) {
    return bad_command_line("unexpected argument \"" + result.unmatched().front() + "\"");
  }

  const bool user_given = result.count("config") != 0;
  const std::string path =
      user_given ? result["config"].as<std::string>() : std::string(program.default_path);
  std::string error;
  std::optional<json> doc = read_config_document(path, user_given, &error);
  if (!doc) return config_error(error);
  std::optional<C> parsed = program.parse(*doc, &error);
  if (!parsed) return config_error(error + " (in " + path + ")");
  C c = std::move(*parsed);

  for (const FieldFlag<C>& f : program.flags) {
    const std::string flag = flag_name(f.field);
    if (result.count(flag) == 0) continue;
    bool ok = std::visit(
        [&](auto member) { return convert(result[flag].as<std::string>(), &(c.*member), &error); },
        f.member);
    if (!ok) return bad_command_line("--" + flag + ": " + error);
  }
  if (extra.take && !extra.take(result, &error)) return bad_command_line(error);
  if (program.finish != nullptr) program.finish(&c);
  if (!c.secret_file.empty()) {
    if (!c.secret.empty()) {
      return config_error("secret_file: set either secret or secret_file, not both");
    }
    if (!read_secret_file(c.secret_file, &c.secret, &error)) {
      return config_error("secret_file: " + error);
    }
  }
  if (!validate(c, &error)) return config_error(error);
  *config = std::move(c);
  return std::nullopt;
}

}  // namespace

std::optional<json> read_config_document(const std::string& path, bool user_given,
                                         std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!user_given && errno == ENOENT) return json::object();
    *error = path + ": cannot open: " + std::strerror(errno);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::optional<json> doc = parse_config_text(text.str(), error);
  if (!doc) *error = path + ": " + *error;
  return doc;
}

bool read_secret_file(const std::string& path, std::string* secret, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::string line;
  std::getline(in, line);
  if (in.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    *error = path + ": the first line is empty; it must hold the cluster secret";
    return false;
  }
  *secret = std::move(line);
  return true;
}

std::optional<int> load_frontend_config(int argc, const char* const* argv, FrontendConfig* config,
                                        const ExtraOptions& extra) {
  static const Program<FrontendConfig> program{
      "frontend",
      "The kvs frontend: the coordinator of a replicated, durable key-value store.\n\n"
      "Clients connect to its client port and send GET and PUT requests; storage nodes "
      "connect to its storage port, join the cluster and catch up on what they missed. "
      "It numbers every PUT, replicates it to every member and answers it once every "
      "member has it on disk; each GET is read from one member at the commit watermark. "
      "In its data directory it keeps a small state file, so that after a restart it "
      "waits for a node that holds every acknowledged write. Settings are the built-in defaults, "
      "overridden "
      "by the JSON config file, overridden by these flags. SIGINT or SIGTERM stops it.\n",
      "config/frontend.json",
      kFrontendFlags,
      &parse_frontend_config,
      nullptr};
  return load(program, argc, argv, config, extra);
}

std::optional<int> load_storage_config(int argc, const char* const* argv, StorageConfig* config,
                                       const ExtraOptions& extra) {
  static const Program<StorageConfig> program{
      "storage",
      "A kvs storage node: holds a full replica of the data in a write-ahead log and a "
      "snapshot in its data directory.\n\n"
      "On start it recovers its state from the data directory (a damaged log stops it "
      "with a message naming the file and byte offset), connects to the frontend, joins "
      "the cluster, catches up on what it missed, and then takes every write, "
      "acknowledging it once it is on disk (write + fdatasync). Its --listen port answers "
      "status probes. Settings are the built-in defaults, overridden by the JSON config "
      "file, overridden by these flags. SIGINT or SIGTERM stops it.\n",
      "config/storage.json",
      kStorageFlags,
      &parse_storage_config,
      [](StorageConfig* c) {
        if (c->data_dir.empty() && !c->id.empty()) c->data_dir = "./data/" + c->id;
      }};
  return load(program, argc, argv, config, extra);
}

std::optional<int> load_client_config(int argc, const char* const* argv, ClientConfig* config,
                                      const ExtraOptions& extra) {
  static const Program<ClientConfig> program{
      "client",
      "A kvs client session: sends GET and PUT operations to the frontend; they take "
      "effect in the order issued, and requests resent after a reconnect are never "
      "applied twice. Settings are the built-in defaults, overridden by the JSON config "
      "file, overridden by these flags.\n",
      "config/client.json",
      kClientFlags,
      &parse_client_config,
      nullptr};
  return load(program, argc, argv, config, extra);
}

}  // namespace kvs::net
