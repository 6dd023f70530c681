#include "core/resp_session.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/auth.h"

namespace kvs {
namespace {

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Unicode's well-formed UTF-8 (table 3-7): the codec carries only valid text, so keys
// and values must be checked here, where they enter without JSON decoding.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

char lower_char(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Redis's glob subset for CONFIG GET: '*' and '?', case-insensitive. Iterative with
// one backtrack point, so O(pattern * text) however many '*' a client sends.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() &&
               (pattern[p] == '?' || lower_char(pattern[p]) == lower_char(text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// What CONFIG GET reports: enough for redis-benchmark and client libraries that probe
// persistence settings at startup. kvs persists every write before acknowledging it,
// which no Redis setting describes, so these say "no Redis-style persistence".
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> kConfig = {{
    {"save", ""},
    {"appendonly", "no"},
    {"databases", "1"},
}};

std::string arity_error(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

std::string unknown_subcommand(std::string_view sub, std::string_view supported) {
  return "ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. kvs supports " +
         std::string(supported);
}

// Redis's wording, argument excerpt included (at most about 128 bytes of it).
std::string unknown_command(const std::vector<std::string>& args) {
  std::string list;
  for (std::size_t i = 1; i < args.size() && list.size() < 128; ++i) {
    list.append("'").append(args[i], 0, 128 - list.size()).append("' ");
  }
  return "ERR unknown command '" + args[0].substr(0, 128) + "', with args beginning with: " + list;
}

std::string info_text(const nlohmann::json& body) {
  auto num = [&](const char* key) -> std::string {
    auto it = body.find(key);
    return it != body.end() && it->is_number_integer() ? it->dump() : "0";
  };
  std::string nodes;
  if (auto it = body.find("nodes"); it != body.end() && it->is_array()) {
    for (const auto& n : *it) {
      if (!nodes.empty()) nodes += ",";
      nodes += n.value("id", "?") + "=" + n.value("state", "?");
    }
  }
  // redis_version is what client libraries read to pick features; kvs answers the
  // RESP2 subset of Redis 7.0 that it implements.
  std::string text = "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\n";
  text += "kvs_role:frontend\r\n";
  text += "\r\n# Clients\r\nconnected_clients:" + num("clients_connected") + "\r\n";
  text += "\r\n# Replication\r\nrole:master\r\n";
  text += "\r\n# kvs\r\ncommit_watermark:" + num("commit") + "\r\n";
  text += "next_lsn:" + num("next_lsn") + "\r\nuncommitted_writes:" + num("uncommitted") + "\r\n";
  text += "members:" + num("members") + "\r\nstorage_nodes:" + nodes + "\r\n";
  text += "reads_in_flight:" + num("reads_in_flight") + "\r\n";
  return text;
}

}  // namespace

RespSession::RespSession(std::uint64_t number, RespOptions options)
    : client_id_("redis#" + std::to_string(number)),
      number_(number),
      options_(std::move(options)),
      parser_(options_.limits),
      authenticated_(options_.secret.empty()) {}

void RespSession::start(Output* out) {
  maybe_send_hello(out);
}

void RespSession::maybe_send_hello(Output* out) {
  if (hello_sent_ || !have_nonce_ || !authenticated_) return;
  const std::string proof =
      options_.secret.empty() ? "" : auth_proof(options_.secret, nonce_, "client", client_id_);
  out->to_frontend.emplace_back(Hello{"client", kProtocolVersion, client_id_, proof});
  hello_sent_ = true;
  for (Message& m : held_) out->to_frontend.push_back(std::move(m));
  held_.clear();
}

void RespSession::to_frontend(Message m, Output* out) {
  if (hello_sent_) {
    out->to_frontend.push_back(std::move(m));
  } else {
    held_.push_back(std::move(m));
  }
}

void RespSession::on_bytes(std::string_view bytes, Output* out) {
  if (closing_) return;  // after QUIT or a protocol error the rest is not read
  parser_.feed(bytes);
  parse(out);
}

void RespSession::parse(Output* out) {
  std::vector<std::string> args;
  std::string why;
  while (wants_input()) {
    RespParser::Result r = parser_.next(&args, &why);
    if (r == RespParser::Result::kNeedMore) break;
    if (r == RespParser::Result::kError) {
      closing_ = true;
      local_error("ERR " + why, out, /*close_after=*/true);
      break;
    }
    execute(args, out);
  }
  flush(out);
}

void RespSession::local(std::string reply, Output* out, bool close_after) {
  if (slots_.empty()) {
    out->reply += reply;
    out->close = out->close || close_after;
    return;
  }
  Slot s;
  s.ready = true;
  s.close_after = close_after;
  s.reply = std::move(reply);
  slots_.push_back(std::move(s));
}

void RespSession::local_error(std::string_view text, Output* out, bool close_after) {
  std::string reply;
  append_error(&reply, text);
  local(std::move(reply), out, close_after);
}

void RespSession::local_simple(std::string_view text, Output* out) {
  std::string reply;
  append_simple(&reply, text);
  local(std::move(reply), out);
}

void RespSession::local_bulk(std::string_view data, Output* out) {
  std::string reply;
  append_bulk(&reply, data);
  local(std::move(reply), out);
}

void RespSession::flush(Output* out) {
  while (!slots_.empty() && slots_.front().ready) {
    Slot& s = slots_.front();
    out->reply += s.reply;
    if (s.close_after) {
      out->close = true;
      slots_.clear();
      return;
    }
    slots_.pop_front();
  }
}

std::uint64_t RespSession::done_below() const {
  for (const Slot& s : slots_) {
    if ((s.kind == Slot::Kind::kGet || s.kind == Slot::Kind::kSet) && !s.ready) return s.seq;
  }
  return next_seq_;
}

void RespSession::execute(std::vector<std::string>& args, Output* out) {
  const std::string name = lower(args[0]);
  const std::size_t argc = args.size();
  if (!authenticated_ && name != "auth" && name != "quit") {
    return local_error("NOAUTH Authentication required.", out);
  }
  if (name == "get") {
    if (argc != 2) return local_error(arity_error(name), out);
    if (!valid_utf8(args[1])) return local_error("ERR kvs keys must be valid UTF-8 text", out);
    return send_request(Op::kGet, std::move(args[1]), "", out);
  }
  if (name == "set") return run_set(args, out);
  if (name == "ping") {
    if (argc > 2) return local_error(arity_error(name), out);
    return argc == 1 ? local_simple("PONG", out) : local_bulk(args[1], out);
  }
  if (name == "echo") {
    if (argc != 2) return local_error(arity_error(name), out);
    return local_bulk(args[1], out);
  }
  if (name == "quit") {
    closing_ = true;
    std::string reply;
    append_simple(&reply, "OK");
    return local(std::move(reply), out, /*close_after=*/true);
  }
  if (name == "auth") return run_auth(args, out);
  if (name == "config") return run_config(args, out);
  if (name == "command") return run_command(args, out);
  if (name == "client") return run_client(args, out);
  if (name == "select") return run_select(args, out);
  if (name == "info") {
    Slot s;
    s.kind = Slot::Kind::kInfo;
    slots_.push_back(std::move(s));
    to_frontend(StatusRequest{}, out);
    return;
  }
  local_error(unknown_command(args), out);
}

void RespSession::run_set(std::vector<std::string>& args, Output* out) {
  if (args.size() < 3) return local_error(arity_error("set"), out);
  if (args.size() > 3) {
    static constexpr std::array<std::string_view, 8> kOptions = {"EX",      "PX", "EXAT", "PXAT",
                                                                 "KEEPTTL", "NX", "XX",   "GET"};
    const std::string option = upper(args[3]);
    if (std::find(kOptions.begin(), kOptions.end(), option) == kOptions.end()) {
      return local_error("ERR syntax error", out);
    }
    return local_error("ERR SET option " + option + " is not supported by kvs (only SET key value)",
                       out);
  }
  if (!valid_utf8(args[1])) return local_error("ERR kvs keys must be valid UTF-8 text", out);
  if (!valid_utf8(args[2])) return local_error("ERR kvs values must be valid UTF-8 text", out);
  send_request(Op::kPut, std::move(args[1]), std::move(args[2]), out);
}

void RespSession::run_auth(std::vector<std::string>& args, Output* out) {
  if (args.size() < 2) return local_error(arity_error("auth"), out);
  if (args.size() > 3) return local_error("ERR syntax error", out);
  if (options_.secret.empty()) {
    return local_error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?",
        out);
  }
  // Redis's only user is "default"; the password is the cluster secret. As in Redis, a
  // wrong password leaves the connection open (and a later good AUTH still works).
  if (args.size() == 3 && args[1] != "default") return local_error(kWrongPass, out);
  if (!secrets_equal(args.back(), options_.secret)) return local_error(kWrongPass, out);
  authenticated_ = true;
  maybe_send_hello(out);
  local_simple("OK", out);
}

void RespSession::run_config(const std::vector<std::string>& args, Output* out) {
  if (args.size() < 2) return local_error(arity_error("config"), out);
  const std::string sub = lower(args[1]);
  if (sub != "get") return local_error(unknown_subcommand(args[1], "CONFIG GET only."), out);
  if (args.size() < 3) return local_error(arity_error("config|get"), out);
  std::vector<std::pair<std::string_view, std::string_view>> found;
  for (const auto& entry : kConfig) {
    for (std::size_t i = 2; i < args.size(); ++i) {
      if (glob_match(args[i], entry.first)) {
        found.push_back(entry);
        break;
      }
    }
  }
  std::string reply;
  append_array_header(&reply, found.size() * 2);
  for (const auto& [key, value] : found) {
    append_bulk(&reply, key);
    append_bulk(&reply, value);
  }
  local(std::move(reply), out);
}

void RespSession::run_command(const std::vector<std::string>& args, Output* out) {
  // Clients use COMMAND / COMMAND DOCS for hints and routing; an empty table tells them
  // to expect nothing beyond the basics.
  const std::string sub = args.size() > 1 ? lower(args[1]) : "";
  if (sub.empty() || sub == "docs" || sub == "info") return local("*0\r\n", out);
  if (sub == "count") {
    if (args.size() != 2) return local_error(arity_error("command|count"), out);
    return local(":0\r\n", out);
  }
  local_error(unknown_subcommand(args[1], "COMMAND, COMMAND DOCS, COMMAND INFO, COMMAND COUNT."),
              out);
}

void RespSession::run_client(const std::vector<std::string>& args, Output* out) {
  if (args.size() < 2) return local_error(arity_error("client"), out);
  const std::string sub = lower(args[1]);
  if (sub == "setname") {
    if (args.size() != 3) return local_error(arity_error("client|setname"), out);
    for (char c : args[2]) {
      if (c < '!' || c > '~') {
        return local_error(
            "ERR Client names cannot contain spaces, newlines or special characters.", out);
      }
    }
    name_ = args[2];
    return local_simple("OK", out);
  }
  if (sub == "getname") {
    if (args.size() != 2) return local_error(arity_error("client|getname"), out);
    if (name_.empty()) return local("$-1\r\n", out);
    return local_bulk(name_, out);
  }
  if (sub == "id") {
    if (args.size() != 2) return local_error(arity_error("client|id"), out);
    std::string reply;
    append_integer(&reply, static_cast<std::int64_t>(number_));
    return local(std::move(reply), out);
  }
  if (sub == "setinfo") {
    if (args.size() != 4) return local_error(arity_error("client|setinfo"), out);
    return local_simple("OK", out);
  }
  local_error(unknown_subcommand(args[1], "CLIENT SETNAME, GETNAME, ID and SETINFO."), out);
}

void RespSession::run_select(const std::vector<std::string>& args, Output* out) {
  if (args.size() != 2) return local_error(arity_error("select"), out);
  const std::string& db = args[1];
  const std::size_t sign = !db.empty() && db[0] == '-' ? 1 : 0;
  const bool integer = db.size() > sign && db.size() <= 18 &&
                       db.find_first_not_of("0123456789", sign) == std::string::npos;
  if (!integer) return local_error("ERR value is not an integer or out of range", out);
  // kvs has one keyspace: database 0.
  if (db.find_first_not_of("0", sign) != std::string::npos) {
    return local_error("ERR DB index is out of range", out);
  }
  local_simple("OK", out);
}

void RespSession::send_request(Op op, std::string key, std::string value, Output* out) {
  Slot s;
  s.kind = op == Op::kGet ? Slot::Kind::kGet : Slot::Kind::kSet;
  s.seq = next_seq_;
  Request req{s.seq, op, std::move(key), std::move(value), done_below()};
  ++next_seq_;
  slots_.push_back(std::move(s));
  to_frontend(std::move(req), out);
}

void RespSession::on_message(const Message& msg, Output* out) {
  if (closing_ && slots_.empty()) return;
  if (const auto* r = std::get_if<Response>(&msg)) {
    on_response(*r, out);
  } else if (const auto* c = std::get_if<Challenge>(&msg)) {
    if (!have_nonce_) {
      have_nonce_ = true;
      nonce_ = c->nonce;
      maybe_send_hello(out);
    }
  } else if (const auto* s = std::get_if<StatusReply>(&msg)) {
    std::string reply;
    append_bulk(&reply, info_text(s->body));
    answer_first(Slot::Kind::kInfo, std::move(reply), out);
  } else if (const auto* e = std::get_if<Error>(&msg)) {
    return on_error(*e, out);
  }
  flush(out);
  parse(out);  // replies went out: reading may resume
}

void RespSession::answer_first(Slot::Kind kind, std::string reply, Output*) {
  for (Slot& s : slots_) {
    if (s.kind == kind && !s.ready) {
      s.reply = std::move(reply);
      s.ready = true;
      return;
    }
  }
}

void RespSession::on_response(const Response& r, Output*) {
  for (Slot& s : slots_) {
    if (s.seq != r.seq || s.ready || s.kind == Slot::Kind::kLocal) continue;
    s.ready = true;
    switch (r.status) {
      case Status::kOk:
        if (s.kind == Slot::Kind::kGet) {
          append_bulk(&s.reply, r.value);
        } else {
          append_simple(&s.reply, "OK");
        }
        break;
      case Status::kNotFound:
        append_null(&s.reply);
        break;
      case Status::kUnavailable:
        append_error(&s.reply, "UNAVAILABLE " + r.detail);
        break;
      case Status::kRejected:
        append_error(&s.reply, "ERR " + r.detail);
        break;
    }
    return;
  }
}

void RespSession::on_error(const Error& e, Output* out) {
  // The frontend refused the session and is closing the connection: what is ready goes
  // out, then the refusal; nothing pending will be answered any more.
  flush(out);
  if (e.code == "auth_failed") {
    append_error(&out->reply, kWrongPass);
  } else if (e.code == "protected_mode") {
    append_error(&out->reply, "DENIED " + e.message);
  } else {
    append_error(&out->reply, "ERR " + e.message);
  }
  slots_.clear();
  closing_ = true;
  out->close = true;
}

}  // namespace kvs
