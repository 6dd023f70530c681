// The one message set of the protocol, shared by the frontend, storage nodes,
// clients, both backends and the tests. docs/PROTOCOL.md describes each message.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/types.h"

namespace kvs {

// One replicated write: the unit of the log, of replication and of catch-up.
struct Entry {
  Lsn lsn = 0;
  std::string key;
  std::string value;
  bool operator==(const Entry&) const = default;
};

// First frame on every accepted connection, from the accepting side: the connecting
// side proves it knows the cluster secret by answering with a Hello whose proof is
// computed over this nonce (src/core/auth.h). Fresh per connection, never repeated.
struct Challenge {
  std::string nonce;  // 64 lowercase hex characters
  bool operator==(const Challenge&) const = default;
};

// First frame from the side that connected, in answer to the Challenge.
// role: "client" (to the frontend's client port), "storage" (to its storage port),
// "probe" (to a storage node's --listen port, for status only).
struct Hello {
  std::string role;
  int version = kProtocolVersion;
  std::string id;     // client id or storage node id; may be empty for probes
  std::string proof;  // auth_proof(secret, challenge nonce, role, id); empty: no secret
  // Client: this session sent requests on an earlier connection. A frontend with no
  // record of the session then answers session_lost instead of starting it afresh.
  bool resume = false;
  bool operator==(const Hello&) const = default;
};

// The accepting side's answer to a valid Hello.
struct Welcome {
  std::string id;  // who answered (e.g. "frontend" or the storage node id)
  bool operator==(const Welcome&) const = default;
};

// A refusal of the connection (bad hello, bad frame, ...). The sender closes the
// connection right after it. Invalid requests get a Response with kRejected instead.
struct Error {
  std::string code;  // machine-readable: "bad_frame", "bad_hello", "too_large", ...
  std::string message;
  bool operator==(const Error&) const = default;
};

// ---- client <-> frontend -------------------------------------------------

enum class Op { kGet, kPut };

// A client operation. seq numbers a client's operations 1, 2, 3, ... in issue order;
// a resent request keeps its seq so the frontend can answer it without applying twice.
// done_below: every seq below it has been answered to the client (the frontend may
// forget those results).
struct Request {
  std::uint64_t seq = 0;
  Op op = Op::kGet;
  std::string key;
  std::string value;  // PUT only
  std::uint64_t done_below = 0;
  bool operator==(const Request&) const = default;
};

enum class Status {
  kOk,           // GET found a value / PUT committed on every member
  kNotFound,     // GET: the key has never been written
  kUnavailable,  // no storage node could serve it in time (the original StorageFail);
                 // a PUT answered so may still take effect later
  kRejected,     // the request itself is invalid (size limits, ...); it had no effect
};

struct Response {
  std::uint64_t seq = 0;
  Status status = Status::kOk;
  std::string value;   // GET with kOk
  std::string detail;  // human-readable reason for kUnavailable / kRejected
  bool operator==(const Response&) const = default;
};

// ---- storage <-> frontend ------------------------------------------------

// A storage node asks to (re)join. complete: it durably holds every write <= complete.
struct Join {
  Lsn complete = 0;
  bool operator==(const Join&) const = default;
};

// The frontend tells a storage node where it stands (for its log and operators).
// state: "catching_up", "member", "waiting" (stale after a total failure).
struct JoinState {
  std::string state;
  std::string detail;
  bool operator==(const JoinState&) const = default;
};

// Replicate one write. commit is the frontend's commit watermark when sent.
struct Write {
  Entry entry;
  Lsn commit = 0;
  bool operator==(const Write&) const = default;
};

// Liveness probe and watermark carrier when there is nothing else to send.
struct Ping {
  Lsn commit = 0;
  bool operator==(const Ping&) const = default;
};

// Cumulative acknowledgement: every write <= complete is durable on the node.
// Sent after each durable batch and in answer to Ping.
struct Ack {
  Lsn complete = 0;
  bool operator==(const Ack&) const = default;
};

// Read the newest version of key with lsn <= at.
struct Read {
  std::uint64_t req = 0;
  std::string key;
  Lsn at = 0;
  bool operator==(const Read&) const = default;
};

struct ReadReply {
  std::uint64_t req = 0;
  bool found = false;
  std::string value;
  Lsn lsn = 0;
  bool operator==(const ReadReply&) const = default;
};

// Frontend -> donor: send the versions you hold with lsn > after, for keys > cursor
// (in key order), at most max_bytes of keys and values.
struct CatchupFetch {
  std::uint64_t req = 0;
  Lsn after = 0;
  std::string cursor;
  std::uint64_t max_bytes = 0;
  bool operator==(const CatchupFetch&) const = default;
};

// Donor -> frontend (answering req) and, relayed, frontend -> joining node.
// cursor: the last key covered; done: no keys after cursor remain.
// upto: set by the frontend when relaying; once done is applied the joining node
// holds every write <= upto.
struct CatchupChunk {
  std::uint64_t req = 0;
  std::vector<Entry> entries;
  std::string cursor;
  bool done = false;
  Lsn upto = 0;
  bool operator==(const CatchupChunk&) const = default;
};

// Joining node -> frontend: the last relayed chunk is durable.
struct CatchupApplied {
  std::uint64_t req = 0;
  bool operator==(const CatchupApplied&) const = default;
};

// Frontend -> a storage node that sent Join, when the frontend has restarted: these
// LSN ranges were handed out by an earlier frontend run but never committed, and later
// writes never reuse them. The node drops every version it holds in them, durably, and
// then sends Join again with what it holds now.
struct Discard {
  std::vector<LsnRange> ranges;
  bool operator==(const Discard&) const = default;
};

// ---- status (any role) ---------------------------------------------------

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};

// Free-form status, shown to operators and used by tests.
struct StatusReply {
  nlohmann::json body;
  bool operator==(const StatusReply&) const = default;
};

using Message = std::variant<Challenge, Hello, Welcome, Error, Request, Response, Join, JoinState,
                             Write, Ping, Ack, Read, ReadReply, CatchupFetch, CatchupChunk,
                             CatchupApplied, Discard, StatusRequest, StatusReply>;

// The message's wire name ("hello", "write", ...).
std::string_view type_name(const Message& m);

// Encode as one JSON object with a "type" field. Throws nothing: every string in a
// Message must be valid UTF-8 (the decoder and the frontend's validation ensure it).
std::string encode_message(const Message& m);

// Decode one JSON object. On any problem (invalid JSON or UTF-8, unknown type,
// missing or mistyped field) returns std::nullopt and sets *error; never returns a
// half-built message.
std::optional<Message> decode_message(std::string_view text, std::string* error);

std::string_view status_name(Status s);

class JsonWriter;
// LSN ranges as [{"after":A,"upto":B},...]: how the wire (discard) and the frontend's
// state file spell them.
void encode_ranges(JsonWriter& w, const std::vector<LsnRange>& ranges);

}  // namespace kvs
