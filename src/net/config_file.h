// Configuration of the real programs: built-in defaults, then a JSON file
// (config/NAME.json by default, or --config PATH), then command-line flags, then
// validate(). Every config field has a flag: the field name with dashes for
// underscores (storage_timeout -> --storage-timeout). Parsing and validation of the
// values are core's (core/config.h); this file reads the file and the flags.
#pragma once

#include <cxxopts.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/config.h"

namespace kvs::net {

// Reads a config file. If it is missing and user_given is false, returns an empty
// object (the built-in defaults apply); a missing file the user named is an error.
// Errors look like "PATH: cannot open: No such file or directory".
std::optional<nlohmann::json> read_config_document(const std::string& path, bool user_given,
                                                   std::string* error);

// The cluster secret from a secret file: its first line, without the line end (a
// trailing "\r" too). Errors look like "PATH: cannot open: ..." or "PATH: the first
// line is empty ...".
bool read_secret_file(const std::string& path, std::string* secret, std::string* error);

// What a program adds to the standard command line (e.g. the client's operations).
struct ExtraOptions {
  // Adds options to the parser; called before parsing.
  std::function<void(cxxopts::Options&)> add;
  // Receives the parse result, for the added options. Returns false with a message
  // in *error to reject the command line (exit status 2).
  std::function<bool(const cxxopts::ParseResult&, std::string* error)> take;
  // Extra positional arguments allowed (names for --help); empty: none.
  std::string positional_help;
};

// Parses argv into *config. Returns nullopt when the program should go on; otherwise
// the status to exit with after a message was printed: 0 after --help, 2 for a bad
// flag (unknown, malformed value, unexpected argument) or a config error, printed as
// "NAME: config error: FIELD: REASON". A secret_file is read into secret here
// (setting both is an error).
std::optional<int> load_frontend_config(int argc, const char* const* argv, FrontendConfig* config,
                                        const ExtraOptions& extra = {});
// For storage, an empty data_dir becomes "./data/<id>".
std::optional<int> load_storage_config(int argc, const char* const* argv, StorageConfig* config,
                                       const ExtraOptions& extra = {});
std::optional<int> load_client_config(int argc, const char* const* argv, ClientConfig* config,
                                      const ExtraOptions& extra = {});

}  // namespace kvs::net
