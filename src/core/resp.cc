#include "core/resp.h"

#include <utility>

namespace kvs {
namespace {

// A decimal integer with an optional '-', nothing else (Redis's string2ll).
bool parse_int(std::string_view s, std::int64_t* out) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 18) return false;  // 18 digits cannot overflow
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = negative ? -v : v;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

void append_line(std::string* out, char type, std::string_view text) {
  out->push_back(type);
  for (char c : text) out->push_back(c == '\r' || c == '\n' ? ' ' : c);
  out->append("\r\n");
}

}  // namespace

void RespParser::feed(std::string_view bytes) {
  if (!error_.empty()) return;
  buffer_.append(bytes);
}

RespParser::Result RespParser::fail(std::string what, std::string* error) {
  error_ = "Protocol error: " + std::move(what);
  buffer_.clear();
  pos_ = scan_ = 0;
  *error = error_;
  return Result::kError;
}

void RespParser::compact() {
  // Drop parsed bytes once they are most of the buffer: amortized O(1) per byte.
  if (pos_ == 0 || pos_ < buffer_.size() / 2) return;
  buffer_.erase(0, pos_);
  scan_ -= pos_;
  pos_ = 0;
}

bool RespParser::take_line(std::string_view* line) {
  const std::size_t from = scan_ > pos_ ? scan_ : pos_;
  const std::size_t nl = buffer_.find('\n', from);
  if (nl == std::string::npos) {
    scan_ = buffer_.size();
    return false;
  }
  *line = std::string_view(buffer_).substr(pos_, nl - pos_);
  pos_ = nl + 1;
  scan_ = pos_;
  return true;
}

RespParser::Result RespParser::parse_array_header(std::string_view line, std::string* error) {
  if (line.empty() || line.back() != '\r') return fail("expected CRLF after '*N'", error);
  line.remove_suffix(1);
  std::int64_t n = 0;
  if (!parse_int(line.substr(1), &n) || n > static_cast<std::int64_t>(limits_.max_args)) {
    return fail("invalid multibulk length", error);
  }
  if (n > 0) {
    in_array_ = true;
    want_args_ = static_cast<std::size_t>(n);
    request_bytes_ = 0;
    args_.clear();
  }
  return Result::kNeedMore;  // n <= 0 is an empty request: skipped, like Redis
}

RespParser::Result RespParser::parse_bulk_header(std::string_view line, std::string* error) {
  if (line[0] != '$') {
    return fail("expected '$', got '" + std::string(1, line[0]) + "'", error);
  }
  if (line.back() != '\r') return fail("expected CRLF after '$N'", error);
  line.remove_suffix(1);
  std::int64_t n = 0;
  if (!parse_int(line.substr(1), &n) || n < 0 ||
      static_cast<std::uint64_t>(n) > limits_.max_bulk_bytes) {
    return fail("invalid bulk length", error);
  }
  const auto len = static_cast<std::size_t>(n);
  if (len > limits_.max_request_bytes - request_bytes_) {
    return fail("request larger than " + std::to_string(limits_.max_request_bytes) + " bytes",
                error);
  }
  request_bytes_ += len;
  bulk_len_ = n;
  return Result::kNeedMore;
}

RespParser::Result RespParser::next(std::vector<std::string>* args, std::string* error) {
  if (!error_.empty()) {
    *error = error_;
    return Result::kError;
  }
  for (;;) {
    compact();
    if (in_array_ && bulk_len_ >= 0) {
      const auto len = static_cast<std::size_t>(bulk_len_);
      if (buffer_.size() - pos_ < len + 2) {
        // The announced length is within the limits: reserving it avoids regrowing a
        // large argument piece by piece.
        buffer_.reserve(pos_ + len + 2);
        return Result::kNeedMore;
      }
      if (buffer_[pos_ + len] != '\r' || buffer_[pos_ + len + 1] != '\n') {
        return fail("expected CRLF after a bulk string of " + std::to_string(len) + " bytes",
                    error);
      }
      args_.emplace_back(buffer_, pos_, len);
      pos_ += len + 2;
      scan_ = pos_;
      bulk_len_ = -1;
      if (args_.size() == want_args_) {
        in_array_ = false;
        *args = std::exchange(args_, {});
        return Result::kCommand;
      }
      continue;
    }
    if (pos_ == buffer_.size()) return Result::kNeedMore;
    const bool header = in_array_ || buffer_[pos_] == '*';
    // A line over the limit gets the same error whether its end has arrived or not, so
    // the answer does not depend on how the stream was cut into reads.
    auto too_big = [&] {
      if (!header) return fail("too big inline request", error);
      return fail(in_array_ ? "too big bulk count string" : "too big mbulk count string", error);
    };
    std::string_view line;
    if (!take_line(&line)) {
      if (buffered_bytes() <= limits_.max_inline_bytes) return Result::kNeedMore;
      return too_big();
    }
    if (line.size() > limits_.max_inline_bytes) return too_big();
    if (in_array_) {
      if (line.empty() || line[0] == '\r') return fail("expected '$', got end of line", error);
      if (parse_bulk_header(line, error) == Result::kError) return Result::kError;
      continue;
    }
    if (header) {
      if (parse_array_header(line, error) == Result::kError) return Result::kError;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::vector<std::string> words;
    if (!split_inline_args(line, &words)) return fail("unbalanced quotes in request", error);
    if (words.empty()) continue;  // a blank line: nothing to do
    *args = std::move(words);
    return Result::kCommand;
  }
}

bool split_inline_args(std::string_view line, std::vector<std::string>* args) {
  args->clear();
  std::size_t i = 0;
  const std::size_t n = line.size();
  for (;;) {
    while (i < n && is_space(line[i])) ++i;
    if (i == n) return true;
    std::string word;
    bool in_double = false, in_single = false, done = false;
    while (!done) {
      if (in_double) {
        if (i == n) return false;
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && hex_value(line[i + 2]) >= 0 &&
            hex_value(line[i + 3]) >= 0) {
          word.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n':
              word.push_back('\n');
              break;
            case 'r':
              word.push_back('\r');
              break;
            case 't':
              word.push_back('\t');
              break;
            case 'b':
              word.push_back('\b');
              break;
            case 'a':
              word.push_back('\a');
              break;
            default:
              word.push_back(line[i]);
              break;
          }
        } else if (line[i] == '"') {
          // The closing quote must end the argument.
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          word.push_back(line[i]);
        }
      } else if (in_single) {
        if (i == n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          word.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          done = true;
        } else {
          word.push_back(line[i]);
        }
      } else if (i == n || is_space(line[i])) {
        done = true;
      } else if (line[i] == '"') {
        in_double = true;
      } else if (line[i] == '\'') {
        in_single = true;
      } else {
        word.push_back(line[i]);
      }
      if (i < n) ++i;
    }
    args->push_back(std::move(word));
  }
}

void append_simple(std::string* out, std::string_view text) {
  append_line(out, '+', text);
}

void append_error(std::string* out, std::string_view text) {
  append_line(out, '-', text);
}

void append_bulk(std::string* out, std::string_view data) {
  out->push_back('$');
  out->append(std::to_string(data.size()));
  out->append("\r\n");
  out->append(data);
  out->append("\r\n");
}

void append_null(std::string* out) {
  out->append("$-1\r\n");
}

void append_integer(std::string* out, std::int64_t n) {
  out->push_back(':');
  out->append(std::to_string(n));
  out->append("\r\n");
}

void append_array_header(std::string* out, std::size_t n) {
  out->push_back('*');
  out->append(std::to_string(n));
  out->append("\r\n");
}

}  // namespace kvs
