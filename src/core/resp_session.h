// One Redis (RESP2) connection, translated into a native client session of the
// frontend: a Hello with role "client", then a Request per GET/SET with seq 1, 2, 3, ...
// The frontend therefore gives it exactly the guarantees of a native client (issue
// order, read-your-writes, dedupe) and needs no change. The frontend's Responses are
// turned back into RESP replies strictly in command order: a PING answered here waits
// behind an earlier GET still in flight, as pipelining clients expect.
//
// Pure: the backend feeds the socket's bytes and the messages the frontend sends to
// this connection, and carries out each Output (messages to the frontend as if they
// arrived on a client connection, reply bytes to the socket, close).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/resp.h"

namespace kvs {

struct RespOptions {
  RespLimits limits;
  // The cluster secret. Set: only AUTH (carrying it) and QUIT are served before a
  // successful AUTH, which this session checks itself (in constant time).
  std::string secret;
  // Commands whose replies are still owed. At this many the session parses no further
  // (wants_input() turns false) until replies go out, which bounds what one pipelining
  // connection can queue in the frontend.
  std::size_t max_pending = 1024;
};

class RespSession {
 public:
  struct Output {
    std::vector<Message> to_frontend;  // in order, as from a client connection
    std::string reply;                 // bytes for the client, in command order
    bool close = false;                // close the connection once `reply` is written
  };

  // number: unique among the frontend's RESP connections; it names the session.
  RespSession(std::uint64_t number, RespOptions options);

  // The session id presented in the Hello ("redis#N").
  const std::string& client_id() const { return client_id_; }

  // The connection is accepted (after the frontend's on_accepted). The Hello goes out
  // once the frontend's Challenge has arrived and, with a secret, AUTH succeeded; the
  // session computes its proof from the secret as any client would.
  void start(Output* out);
  // Bytes from the client.
  void on_bytes(std::string_view bytes, Output* out);
  // A message the frontend sent to this connection (Challenge, Welcome, Response,
  // StatusReply, Error).
  void on_message(const Message& msg, Output* out);

  // False while max_pending replies are owed or once the connection is ending: the
  // backend should stop reading until it turns true again.
  bool wants_input() const { return !closing_ && slots_.size() < options_.max_pending; }

 private:
  // One command's reply, in command order.
  struct Slot {
    enum class Kind { kLocal, kGet, kSet, kInfo } kind = Kind::kLocal;
    std::uint64_t seq = 0;  // kGet/kSet: the Request's seq
    bool ready = false;
    bool close_after = false;
    std::string reply;
  };

  void parse(Output* out);
  void execute(std::vector<std::string>& args, Output* out);
  void run_auth(std::vector<std::string>& args, Output* out);
  void run_set(std::vector<std::string>& args, Output* out);
  void run_config(const std::vector<std::string>& args, Output* out);
  void run_command(const std::vector<std::string>& args, Output* out);
  void run_client(const std::vector<std::string>& args, Output* out);
  void run_select(const std::vector<std::string>& args, Output* out);
  void send_request(Op op, std::string key, std::string value, Output* out);
  // Sends the Hello (and what waited for it) once the nonce is known and AUTH is done.
  void maybe_send_hello(Output* out);
  void to_frontend(Message m, Output* out);
  void on_response(const Response& r, Output* out);
  void on_error(const Error& e, Output* out);
  // Fills the first unanswered slot of `kind` (kInfo).
  void answer_first(Slot::Kind kind, std::string reply, Output* out);

  // A reply made here: written at once when no reply is owed before it, else queued.
  void local(std::string reply, Output* out, bool close_after = false);
  void local_error(std::string_view text, Output* out, bool close_after = false);
  void local_simple(std::string_view text, Output* out);
  void local_bulk(std::string_view data, Output* out);
  // Writes the ready replies at the head of the order.
  void flush(Output* out);
  std::uint64_t done_below() const;

  std::string client_id_;
  std::uint64_t number_;
  RespOptions options_;
  RespParser parser_;
  std::deque<Slot> slots_;
  std::uint64_t next_seq_ = 1;
  bool hello_sent_ = false;
  bool authenticated_ = false;  // AUTH succeeded (or no secret is set)
  bool have_nonce_ = false;
  std::string nonce_;          // the frontend's challenge
  std::vector<Message> held_;  // for the frontend, waiting for the Hello to go first
  bool closing_ = false;       // QUIT, protocol error or a refusal: nothing more is parsed
  std::string name_;           // CLIENT SETNAME
};

}  // namespace kvs
