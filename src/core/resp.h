// RESP2, the Redis serialization protocol: an incremental request parser and the
// reply encoders. Requests are arrays of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
// or inline lines ("GET k\r\n", what telnet and some redis-cli modes send). Pure: the
// backend feeds bytes in whatever pieces the socket delivers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kvs {

// Every request is bounded, so a hostile or broken peer costs at most about
// max_request_bytes + max_inline_bytes of memory; exceeding a limit is a protocol
// error (the connection is answered and closed), never an allocation of the claimed
// size.
struct RespLimits {
  std::size_t max_args = 1024;                      // elements of one request array
  std::size_t max_bulk_bytes = 4 * 1024 * 1024;     // one argument
  std::size_t max_request_bytes = 4 * 1024 * 1024;  // the arguments of one request together
  std::size_t max_inline_bytes = 64 * 1024;         // one inline request or one header line
};

class RespParser {
 public:
  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes);

  enum class Result { kCommand, kNeedMore, kError };
  // kCommand: *args holds the next request (never empty; empty requests are skipped as
  // Redis does). kError: *error is the reason in Redis's words ("Protocol error: invalid
  // bulk length"); the parser stays failed, as the stream is beyond repair.
  Result next(std::vector<std::string>* args, std::string* error);

  std::size_t buffered_bytes() const { return buffer_.size() - pos_; }

 private:
  // The next line ("\n"-terminated) from pos_, without its terminator; false if it is
  // not complete yet. Resumes scanning where the last call stopped.
  bool take_line(std::string_view* line);
  Result fail(std::string what, std::string* error);
  Result parse_array_header(std::string_view line, std::string* error);
  Result parse_bulk_header(std::string_view line, std::string* error);
  void compact();

  RespLimits limits_;
  std::string buffer_;
  std::size_t pos_ = 0;   // bytes of buffer_ already parsed
  std::size_t scan_ = 0;  // no '\n' in buffer_[pos_, scan_)
  bool in_array_ = false;
  std::size_t want_args_ = 0;
  std::size_t request_bytes_ = 0;
  std::int64_t bulk_len_ = -1;  // the announced length of the bulk string being read
  std::vector<std::string> args_;
  std::string error_;
};

// Splits an inline request like Redis (sdssplitargs): spaces separate arguments,
// "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes, 'single quotes' take \'.
// False on unbalanced quotes.
bool split_inline_args(std::string_view line, std::vector<std::string>* args);

// Reply encoders; each appends to *out. Simple strings and errors cannot hold CR or LF:
// those become spaces.
void append_simple(std::string* out, std::string_view text);
void append_error(std::string* out, std::string_view text);  // text starts with its code
void append_bulk(std::string* out, std::string_view data);
void append_null(std::string* out);
void append_integer(std::string* out, std::int64_t n);
void append_array_header(std::string* out, std::size_t n);

}  // namespace kvs
