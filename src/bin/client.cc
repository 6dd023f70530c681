// ./client: the command-line client over the client library (src/net/client_lib.h).
// One-shot (`client --id a get k`), interactive (a terminal on stdin) or script (commands
// piped on stdin) — see --help.
#include <unistd.h>

#include <cxxopts.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "core/config.h"
#include "net/client_cli.h"
#include "net/client_lib.h"
#include "net/config_file.h"
#include "net/log.h"

namespace {

// Exit codes, documented in --help.
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;    // unavailable, rejected, timed out, cannot start
constexpr int kExitUsage = 2;     // bad flags, config or command
constexpr int kExitNotFound = 3;  // one-shot get of a key that was never written

constexpr const char* kEpilogue = R"(
Modes:
  client [flags] COMMAND ...   one-shot: run one command and exit
  client [flags]               interactive when stdin is a terminal (prompt "kvs> "),
                               else a script: one command per line from stdin, one
                               result line per command on stdout

One-shot output: get prints the value alone on stdout; put prints nothing; status
prints JSON. Errors go to stderr. Results in interactive and script mode: ok,
"VALUE" (JSON-quoted), (not found), or error: STATUS: DETAIL.

A put that fails as "unavailable" (including a timeout) may still take effect later;
one that fails as "rejected" had no effect.

Exit codes:
  0  success (script: every command succeeded; a get of a missing key counts)
  1  the operation failed (unavailable, rejected, no answer within --request-timeout),
     the client could not start, or (script) some command failed
  2  usage error: bad flag, config file or command
  3  one-shot get: the key was not found
)";

int run_one_shot(kvs::Client& client, const kvs::cli::Command& cmd) {
  using Kind = kvs::cli::Command::Kind;
  if (cmd.kind == Kind::kStatus) {
    std::string error;
    auto body = client.status_sync(&error);
    if (!body) {
      std::cerr << "client: status: " << error << "\n";
      return kExitFailed;
    }
    std::cout << body->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  const kvs::Result r =
      cmd.kind == Kind::kGet ? client.get_sync(cmd.key) : client.put_sync(cmd.key, cmd.value);
  switch (r.status) {
    case kvs::Status::kOk:
      if (r.op == kvs::Op::kGet) std::cout << r.value.value_or("") << "\n";
      return kExitOk;
    case kvs::Status::kNotFound:
      return kExitNotFound;
    default:
      std::cerr << "client: " << (r.op == kvs::Op::kGet ? "get " : "put ") << cmd.key << ": "
                << kvs::cli::format_result(r).substr(std::string_view("error: ").size()) << "\n";
      return kExitFailed;
  }
}

// Runs one parsed command of a session; returns the result line and whether it
// succeeded.
std::pair<std::string, bool> run_line_command(kvs::Client& client, const kvs::cli::Command& cmd) {
  using Kind = kvs::cli::Command::Kind;
  if (cmd.kind == Kind::kStatus) {
    std::string error;
    auto body = client.status_sync(&error);
    if (!body) return {"error: status: " + error, false};
    return {body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), true};
  }
  const kvs::Result r =
      cmd.kind == Kind::kGet ? client.get_sync(cmd.key) : client.put_sync(cmd.key, cmd.value);
  return {kvs::cli::format_result(r), r.ok()};
}

// Interactive (prompt) and script (no prompt) mode share this loop.
int run_session(kvs::Client& client, bool interactive) {
  using Kind = kvs::cli::Command::Kind;
  bool all_ok = true;
  std::string line;
  for (;;) {
    if (interactive) std::cout << "kvs> " << std::flush;
    if (!std::getline(std::cin, line)) {
      if (interactive) std::cout << "\n";
      break;
    }
    std::string error;
    auto cmd = kvs::cli::parse_line(line, &error);
    if (!cmd) {
      std::cout << "error: " << error << std::endl;
      all_ok = false;
      continue;
    }
    if (cmd->kind == Kind::kNone) continue;
    if (cmd->kind == Kind::kQuit) break;
    if (cmd->kind == Kind::kHelp) {
      std::cout << kvs::cli::commands_help() << std::flush;
      continue;
    }
    auto [text, ok] = run_line_command(client, *cmd);
    // endl: a script's reader sees each result as soon as it exists.
    std::cout << text << std::endl;
    all_ok = all_ok && ok;
  }
  if (interactive) return kExitOk;
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  // Flags and config file are the shared loader's (net/config_file.h); the client adds
  // its command (positional) and --log-level.
  std::vector<std::string> words;
  std::string level_name = "warn";
  kvs::net::ExtraOptions extra;
  extra.positional_help = "[get KEY | put KEY VALUE | status]";
  extra.add = [](cxxopts::Options& options) {
    options.add_options()("log-level",
                          "least severe log lines shown on stderr: debug, info, warn or error "
                          "(default: warn)",
                          cxxopts::value<std::string>(),
                          "LEVEL")("command", "the one-shot command and its arguments",
                                   cxxopts::value<std::vector<std::string>>());
    options.parse_positional({"command"});
  };
  extra.take = [&](const cxxopts::ParseResult& flags, std::string* error) {
    if (flags.count("log-level")) level_name = flags["log-level"].as<std::string>();
    if (!kvs::parse_log_level(level_name)) {
      *error = "--log-level: must be debug, info, warn or error";
      return false;
    }
    if (flags.count("command")) words = flags["command"].as<std::vector<std::string>>();
    return true;
  };
  kvs::ClientConfig config;
  if (auto status = kvs::net::load_client_config(argc, argv, &config, extra)) {
    // 0 only after --help, which printed the flags: add modes, commands, exit codes.
    if (*status == 0) std::cout << kEpilogue << "\n" << kvs::cli::commands_help();
    return *status;
  }

  std::optional<kvs::cli::Command> one_shot;
  if (!words.empty()) {
    std::string error;
    one_shot = kvs::cli::parse_args(words, &error);
    if (!one_shot) {
      std::cerr << "client: " << error << " (see client --help)\n";
      return kExitUsage;
    }
  }

  std::string error;
  auto client = kvs::Client::open(config, &error, *kvs::parse_log_level(level_name));
  if (!client) {
    std::cerr << "client: " << error << "\n";
    return kExitFailed;
  }
  if (one_shot) return run_one_shot(*client, *one_shot);
  return run_session(*client, isatty(STDIN_FILENO) == 1);
}
