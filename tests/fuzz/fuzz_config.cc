// Fuzz target: a config file's text, read as the programs read it (src/net/config_file.cc
// calls parse_config_text on the file's bytes), then parsed and validated for each of
// the three programs (src/core/config.h). The whole input is the file's text.
// Invariants, for the frontend, storage and client configs alike:
//  * nothing throws;
//  * text that is not JSON is refused with "invalid JSON: REASON";
//  * a refused document's error is "NAME: REASON" with a non-empty reason, where NAME
//    is "config" (only for a document that is not an object), a field of that program
//    whose value is wrong, or a member of the document that is no field ("unknown field");
//  * validate() of a parsed config gives true, or an error "FIELD: REASON" naming one
//    of that program's fields;
//  * the parsed document, written out by nlohmann::json and read again, parses to a
//    config that validates the same way.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"
#include "fuzz_check.h"

namespace {

using nlohmann::json;

// The field names, written out here so a mis-named field in config.cc is caught.
const std::initializer_list<std::string_view> kFrontendFields = {
    "client_listen",       "storage_listen",      "resp_listen",
    "storage_timeout",     "unavailable_timeout", "token",
    "max_key_bytes",       "max_value_bytes",     "max_frame_bytes",
    "catchup_chunk_bytes", "accept_data_loss",    "log_level"};
const std::initializer_list<std::string_view> kStorageFields = {
    "id",       "listen",         "data_dir",        "frontend",
    "token",    "snapshot_bytes", "max_frame_bytes", "reconnect_max",
    "log_level"};
const std::initializer_list<std::string_view> kClientFields = {
    "id", "frontend", "token", "request_timeout", "reconnect_max", "max_frame_bytes", "history"};

bool is_field(std::initializer_list<std::string_view> fields, std::string_view name) {
  for (std::string_view f : fields) {
    if (f == name) return true;
  }
  return false;
}

// "NAME: REASON" with a non-empty reason, NAME a field of the program.
bool names_field(const std::string& error, std::initializer_list<std::string_view> fields) {
  for (std::string_view f : fields) {
    const std::string prefix = std::string(f) + ": ";
    if (error.size() > prefix.size() && error.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

template <typename Config, typename Parse>
std::optional<bool> check_program(const json& doc, Parse parse,
                                  std::initializer_list<std::string_view> fields) {
  std::string error;
  std::optional<Config> config;
  try {
    config = parse(doc, &error);
  } catch (...) {
    FUZZ_CHECK(false, "parsing a config document throws nothing");
  }
  if (!config) {
    FUZZ_CHECK(!error.empty(), "a refused config document has an error");
    if (!doc.is_object()) {
      FUZZ_CHECK(error == "config: must be a JSON object", "a non-object is refused as config");
      return std::nullopt;
    }
    bool named = names_field(error, fields);
    if (!named) {
      for (const auto& [key, value] : doc.items()) {
        if (!is_field(fields, key) && error == key + ": unknown field") named = true;
      }
    }
    FUZZ_CHECK(named, "a config error names a field of the program or an unknown member");
    return std::nullopt;
  }
  FUZZ_CHECK(doc.is_object(), "only an object parses as a config");
  error.clear();
  bool valid = false;
  try {
    valid = kvs::validate(*config, &error);
  } catch (...) {
    FUZZ_CHECK(false, "validate throws nothing");
  }
  if (!valid) FUZZ_CHECK(names_field(error, fields), "a validation error names a field");
  return valid;
}

template <typename Config, typename Parse>
void check_program_twice(const json& doc, Parse parse,
                         std::initializer_list<std::string_view> fields) {
  const std::optional<bool> first = check_program<Config>(doc, parse, fields);
  // The same document written out and read back (what an operator's tool might do).
  std::string error;
  std::optional<json> again = kvs::parse_config_text(doc.dump(), &error);
  FUZZ_CHECK(again.has_value(), "a dumped document reads back");
  FUZZ_CHECK(check_program<Config>(*again, parse, fields) == first,
             "a dumped document parses and validates the same way");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::optional<json> doc;
  try {
    doc = kvs::parse_config_text(text, &error);
  } catch (...) {
    FUZZ_CHECK(false, "reading a config text throws nothing");
  }
  if (!doc) {
    FUZZ_CHECK(error.rfind("invalid JSON: ", 0) == 0 && error.size() > 14,
               "text that is not JSON is refused as invalid JSON with a reason");
    return 0;
  }
  check_program_twice<kvs::FrontendConfig>(*doc, kvs::parse_frontend_config, kFrontendFields);
  check_program_twice<kvs::StorageConfig>(*doc, kvs::parse_storage_config, kStorageFields);
  check_program_twice<kvs::ClientConfig>(*doc, kvs::parse_client_config, kClientFields);
  return 0;
}
