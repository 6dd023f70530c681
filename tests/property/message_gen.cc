// The generators and printers declared in message_gen.h (see there), compiled once.
#include "message_gen.h"

#include <rapidcheck.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "core/messages.h"

namespace kvs::testgen {

void append_utf8(std::uint32_t cp, std::string* out) {
  auto byte = [out](std::uint32_t b) { out->push_back(static_cast<char>(b)); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
}

rc::Gen<std::uint32_t> code_point() {
  using rc::gen::element;
  using rc::gen::inRange;
  return rc::gen::weightedOneOf<std::uint32_t>({
      {8, inRange<std::uint32_t>(0x20, 0x7F)},                 // printable ASCII
      {3, element<std::uint32_t>('"', '\\', '/', 0x7F, 'u')},  // escapes and near-escapes
      {3, inRange<std::uint32_t>(0x00, 0x20)},                 // control characters, NUL
      {2, inRange<std::uint32_t>(0x80, 0x800)},                // 2 bytes
      {2, inRange<std::uint32_t>(0x800, 0xD800)},              // 3 bytes, below surrogates
      {1, inRange<std::uint32_t>(0xE000, 0x10000)},            // 3 bytes, above surrogates
      {2, inRange<std::uint32_t>(0x10000, 0x110000)},          // 4 bytes
      {2, element<std::uint32_t>(0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFF, 0x2028,
                                 0x2029, 0x10000, 0x10FFFF)},
  });
}

rc::Gen<std::string> utf8_string(int max_chars) {
  auto text = rc::gen::map(list_up_to<std::vector<std::uint32_t>>(max_chars, code_point()),
                           [](const std::vector<std::uint32_t>& cps) {
                             std::string s;
                             for (std::uint32_t cp : cps) append_utf8(cp, &s);
                             return s;
                           });
  return rc::gen::weightedOneOf<std::string>({{1, rc::gen::just(std::string())}, {7, text}});
}

rc::Gen<std::string> hex_string() {
  auto digit = rc::gen::elementOf(std::string("0123456789abcdef"));
  return rc::gen::weightedOneOf<std::string>({{3, rc::gen::container<std::string>(64, digit)},
                                              {1, rc::gen::container<std::string>(digit)}});
}

rc::Gen<std::uint64_t> u64() {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  return rc::gen::weightedOneOf<std::uint64_t>({
      {4, rc::gen::arbitrary<std::uint64_t>()},
      {1, rc::gen::element<std::uint64_t>(0, 1, 0xFFFFFFFF, 1ull << 32, (1ull << 53) + 1,
                                          (1ull << 63) - 1, 1ull << 63, kMax - 1, kMax)},
  });
}

rc::Gen<int> any_int() {
  return rc::gen::weightedOneOf<int>({
      {4, rc::gen::arbitrary<int>()},
      {1, rc::gen::element<int>(0, 1, -1, kProtocolVersion, INT_MIN, INT_MAX)},
  });
}

rc::Gen<double> finite_double() {
  return rc::gen::weightedOneOf<double>({
      {3, rc::gen::arbitrary<double>()},
      {1, rc::gen::element<double>(0.0, -0.0, 0.1, 1.0 / 3, 1e-300, 4.9e-324, -2.5e-308,
                                   1.7976931348623157e308, 9007199254740993.0, -1e22)},
  });
}

rc::Gen<nlohmann::json> json_scalar() {
  using nlohmann::json;
  return rc::gen::oneOf(
      rc::gen::just(json(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return json(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t v) { return json(v); }),
      rc::gen::map(u64(), [](std::uint64_t v) { return json(v); }),
      rc::gen::map(finite_double(), [](double v) { return json(v); }),
      rc::gen::map(utf8_string(12), [](std::string s) { return json(std::move(s)); }));
}

rc::Gen<nlohmann::json> json_object_of(rc::Gen<nlohmann::json> value) {
  using Members = std::vector<std::pair<std::string, nlohmann::json>>;
  return rc::gen::map(list_up_to<Members>(5, rc::gen::pair(utf8_string(8), value)),
                      [](const Members& members) {
                        auto object = nlohmann::json::object();
                        for (const auto& [name, v] : members) object[name] = v;
                        return object;
                      });
}

rc::Gen<nlohmann::json> json_value(int depth) {
  if (depth == 0) return json_scalar();
  const rc::Gen<nlohmann::json> inner = json_value(depth - 1);
  return rc::gen::weightedOneOf<nlohmann::json>({
      {3, json_scalar()},
      {1, rc::gen::map(
              list_up_to<std::vector<nlohmann::json>>(5, inner),
              [](const std::vector<nlohmann::json>& items) { return nlohmann::json(items); })},
      {1, json_object_of(inner)},
  });
}

rc::Gen<nlohmann::json> status_body() {
  return rc::gen::weightedOneOf<nlohmann::json>({
      {1, rc::gen::just(nlohmann::json(nullptr))},
      {4, json_object_of(json_value(2))},
  });
}

}  // namespace kvs::testgen

namespace rc {

Gen<kvs::Entry> Arbitrary<kvs::Entry>::arbitrary() {
  using kvs::testgen::u64;
  using kvs::testgen::utf8_string;
  return gen::build<kvs::Entry>(gen::set(&kvs::Entry::lsn, u64()),
                                gen::set(&kvs::Entry::key, utf8_string()),
                                gen::set(&kvs::Entry::value, utf8_string()));
}

Gen<kvs::Hello> Arbitrary<kvs::Hello>::arbitrary() {
  using kvs::Hello;
  using kvs::testgen::utf8_string;
  return gen::build<Hello>(
      gen::set(&Hello::role, gen::weightedOneOf<std::string>(
                                 {{1, gen::element<std::string>("client", "storage", "probe")},
                                  {1, utf8_string()}})),
      gen::set(&Hello::version, kvs::testgen::any_int()), gen::set(&Hello::id, utf8_string()),
      gen::set(&Hello::proof, gen::weightedOneOf<std::string>(
                                  {{1, kvs::testgen::hex_string()}, {1, utf8_string()}})),
      gen::set(&Hello::resume));
}

Gen<kvs::Challenge> Arbitrary<kvs::Challenge>::arbitrary() {
  return gen::build<kvs::Challenge>(gen::set(
      &kvs::Challenge::nonce, gen::weightedOneOf<std::string>({{3, kvs::testgen::hex_string()},
                                                               {1, kvs::testgen::utf8_string()}})));
}

Gen<kvs::Welcome> Arbitrary<kvs::Welcome>::arbitrary() {
  return gen::build<kvs::Welcome>(gen::set(&kvs::Welcome::id, kvs::testgen::utf8_string()));
}

Gen<kvs::Error> Arbitrary<kvs::Error>::arbitrary() {
  using kvs::testgen::utf8_string;
  return gen::build<kvs::Error>(gen::set(&kvs::Error::code, utf8_string()),
                                gen::set(&kvs::Error::message, utf8_string()));
}

Gen<kvs::Request> Arbitrary<kvs::Request>::arbitrary() {
  using kvs::Request;
  using kvs::testgen::u64;
  using kvs::testgen::utf8_string;
  return gen::build<Request>(gen::set(&Request::seq, u64()),
                             gen::set(&Request::op, gen::element(kvs::Op::kGet, kvs::Op::kPut)),
                             gen::set(&Request::key, utf8_string()),
                             gen::set(&Request::value, utf8_string()),
                             gen::set(&Request::done_below, u64()));
}

Gen<kvs::Response> Arbitrary<kvs::Response>::arbitrary() {
  using kvs::Response;
  using kvs::Status;
  using kvs::testgen::utf8_string;
  return gen::build<Response>(
      gen::set(&Response::seq, kvs::testgen::u64()),
      gen::set(&Response::status, gen::element(Status::kOk, Status::kNotFound, Status::kUnavailable,
                                               Status::kRejected)),
      gen::set(&Response::value, utf8_string()), gen::set(&Response::detail, utf8_string()));
}

Gen<kvs::Join> Arbitrary<kvs::Join>::arbitrary() {
  return gen::build<kvs::Join>(gen::set(&kvs::Join::complete, kvs::testgen::u64()));
}

Gen<kvs::JoinState> Arbitrary<kvs::JoinState>::arbitrary() {
  using kvs::JoinState;
  using kvs::testgen::utf8_string;
  return gen::build<JoinState>(
      gen::set(&JoinState::state,
               gen::weightedOneOf<std::string>(
                   {{1, gen::element<std::string>("catching_up", "member", "waiting")},
                    {1, utf8_string()}})),
      gen::set(&JoinState::detail, utf8_string()));
}

Gen<kvs::Write> Arbitrary<kvs::Write>::arbitrary() {
  return gen::build<kvs::Write>(gen::set(&kvs::Write::entry),
                                gen::set(&kvs::Write::commit, kvs::testgen::u64()));
}

Gen<kvs::Ping> Arbitrary<kvs::Ping>::arbitrary() {
  return gen::build<kvs::Ping>(gen::set(&kvs::Ping::commit, kvs::testgen::u64()));
}

Gen<kvs::Ack> Arbitrary<kvs::Ack>::arbitrary() {
  return gen::build<kvs::Ack>(gen::set(&kvs::Ack::complete, kvs::testgen::u64()));
}

Gen<kvs::Read> Arbitrary<kvs::Read>::arbitrary() {
  using kvs::Read;
  using kvs::testgen::u64;
  return gen::build<Read>(gen::set(&Read::req, u64()),
                          gen::set(&Read::key, kvs::testgen::utf8_string()),
                          gen::set(&Read::at, u64()));
}

Gen<kvs::ReadReply> Arbitrary<kvs::ReadReply>::arbitrary() {
  using kvs::ReadReply;
  using kvs::testgen::u64;
  return gen::build<ReadReply>(gen::set(&ReadReply::req, u64()), gen::set(&ReadReply::found),
                               gen::set(&ReadReply::value, kvs::testgen::utf8_string()),
                               gen::set(&ReadReply::lsn, u64()));
}

Gen<kvs::CatchupFetch> Arbitrary<kvs::CatchupFetch>::arbitrary() {
  using kvs::CatchupFetch;
  using kvs::testgen::u64;
  return gen::build<CatchupFetch>(gen::set(&CatchupFetch::req, u64()),
                                  gen::set(&CatchupFetch::after, u64()),
                                  gen::set(&CatchupFetch::cursor, kvs::testgen::utf8_string()),
                                  gen::set(&CatchupFetch::max_bytes, u64()));
}

Gen<kvs::CatchupChunk> Arbitrary<kvs::CatchupChunk>::arbitrary() {
  using kvs::CatchupChunk;
  using kvs::testgen::u64;
  return gen::build<CatchupChunk>(
      gen::set(&CatchupChunk::req, u64()),
      gen::set(&CatchupChunk::entries,
               kvs::testgen::list_up_to<std::vector<kvs::Entry>>(8, gen::arbitrary<kvs::Entry>())),
      gen::set(&CatchupChunk::cursor, kvs::testgen::utf8_string()), gen::set(&CatchupChunk::done),
      gen::set(&CatchupChunk::upto, u64()));
}

Gen<kvs::CatchupApplied> Arbitrary<kvs::CatchupApplied>::arbitrary() {
  return gen::build<kvs::CatchupApplied>(gen::set(&kvs::CatchupApplied::req, kvs::testgen::u64()));
}

Gen<kvs::Discard> Arbitrary<kvs::Discard>::arbitrary() {
  // upto > after, as the decoder requires.
  auto range = gen::map(gen::pair(kvs::testgen::u64(), gen::inRange<std::uint64_t>(1, 1000)),
                        [](std::pair<std::uint64_t, std::uint64_t> p) {
                          const std::uint64_t after = std::min(p.first, UINT64_MAX - p.second);
                          return kvs::LsnRange{after, after + p.second};
                        });
  return gen::build<kvs::Discard>(gen::set(
      &kvs::Discard::ranges, kvs::testgen::list_up_to<std::vector<kvs::LsnRange>>(4, range)));
}

Gen<kvs::StatusRequest> Arbitrary<kvs::StatusRequest>::arbitrary() {
  return gen::just(kvs::StatusRequest{});
}

Gen<kvs::StatusReply> Arbitrary<kvs::StatusReply>::arbitrary() {
  return gen::build<kvs::StatusReply>(
      gen::set(&kvs::StatusReply::body, kvs::testgen::status_body()));
}

namespace {

template <std::size_t... I>
Gen<kvs::Message> message_of_each(std::index_sequence<I...>) {
  return gen::oneOf(
      gen::cast<kvs::Message>(gen::arbitrary<std::variant_alternative_t<I, kvs::Message>>())...);
}

}  // namespace

Gen<kvs::Message> Arbitrary<kvs::Message>::arbitrary() {
  return message_of_each(std::make_index_sequence<std::variant_size_v<kvs::Message>>());
}

}  // namespace rc

namespace kvs {
namespace testgen {

nlohmann::ordered_json protocol_json(const Entry& e) {
  return {{"lsn", e.lsn}, {"key", e.key}, {"value", e.value}};
}

nlohmann::ordered_json protocol_json(const Message& message) {
  using J = nlohmann::ordered_json;
  J fields = std::visit(
      [&](const auto& m) -> J {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Challenge>) {
          return {{"nonce", m.nonce}};
        } else if constexpr (std::is_same_v<T, Hello>) {
          return {{"role", m.role},
                  {"version", m.version},
                  {"id", m.id},
                  {"proof", m.proof},
                  {"resume", m.resume}};
        } else if constexpr (std::is_same_v<T, Welcome>) {
          return {{"id", m.id}};
        } else if constexpr (std::is_same_v<T, Error>) {
          return {{"code", m.code}, {"message", m.message}};
        } else if constexpr (std::is_same_v<T, Request>) {
          return {{"seq", m.seq},
                  {"op", m.op == Op::kGet ? "get" : "put"},
                  {"key", m.key},
                  {"value", m.value},
                  {"done_below", m.done_below}};
        } else if constexpr (std::is_same_v<T, Response>) {
          static constexpr const char* kStatus[] = {"ok", "not_found", "unavailable", "rejected"};
          return {{"seq", m.seq},
                  {"status", kStatus[static_cast<int>(m.status)]},
                  {"value", m.value},
                  {"detail", m.detail}};
        } else if constexpr (std::is_same_v<T, Join>) {
          return {{"complete", m.complete}};
        } else if constexpr (std::is_same_v<T, JoinState>) {
          return {{"state", m.state}, {"detail", m.detail}};
        } else if constexpr (std::is_same_v<T, Write>) {
          return {{"entry", protocol_json(m.entry)}, {"commit", m.commit}};
        } else if constexpr (std::is_same_v<T, Ping>) {
          return {{"commit", m.commit}};
        } else if constexpr (std::is_same_v<T, Ack>) {
          return {{"complete", m.complete}};
        } else if constexpr (std::is_same_v<T, Read>) {
          return {{"req", m.req}, {"key", m.key}, {"at", m.at}};
        } else if constexpr (std::is_same_v<T, ReadReply>) {
          return {{"req", m.req}, {"found", m.found}, {"value", m.value}, {"lsn", m.lsn}};
        } else if constexpr (std::is_same_v<T, CatchupFetch>) {
          return {
              {"req", m.req}, {"after", m.after}, {"cursor", m.cursor}, {"max_bytes", m.max_bytes}};
        } else if constexpr (std::is_same_v<T, CatchupChunk>) {
          J entries = J::array();
          for (const Entry& e : m.entries) entries.push_back(protocol_json(e));
          return {{"req", m.req},
                  {"entries", entries},
                  {"cursor", m.cursor},
                  {"done", m.done},
                  {"upto", m.upto}};
        } else if constexpr (std::is_same_v<T, CatchupApplied>) {
          return {{"req", m.req}};
        } else if constexpr (std::is_same_v<T, Discard>) {
          J ranges = J::array();
          for (const LsnRange& r : m.ranges) {
            ranges.push_back({{"after", r.after}, {"upto", r.upto}});
          }
          return {{"ranges", ranges}};
        } else if constexpr (std::is_same_v<T, StatusRequest>) {
          return J::object();
        } else {
          static_assert(std::is_same_v<T, StatusReply>, "a message type without a spelling");
          return {{"body", J::parse(m.body.dump(-1, ' ', false, J::error_handler_t::replace))}};
        }
      },
      message);
  J out = {{"type", std::string(type_name(message))}};
  out.update(fields);
  return out;
}

}  // namespace testgen

void showValue(const Message& m, std::ostream& os) {
  os << testgen::protocol_json(m).dump(-1, ' ', false,
                                       nlohmann::ordered_json::error_handler_t::replace);
}

void showValue(const Entry& e, std::ostream& os) {
  os << testgen::protocol_json(e).dump(-1, ' ', false,
                                       nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace kvs

namespace nlohmann {

void showValue(const json& j, std::ostream& os) {
  os << j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace nlohmann
