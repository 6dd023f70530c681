// Per-client session checkers: see check_session.h for the rules.
#include "sim/check_session.h"

#include <map>
#include <utility>

namespace kvs::check {

namespace {

class SessionCheck {
 public:
  SessionCheck(const History& history, const Operations& ops, const std::string& key,
               const CheckOptions& options)
      : history_(history),
        ops_(ops),
        kv_(ops.keys.at(key)),
        key_(key),
        words_(options.time_origin) {
    for (std::size_t id : kv_.ops) by_client_[ops_.ops[id].process].push_back(id);
  }

  std::vector<Violation> run() {
    for (const auto& [client, ids] : by_client_) read_your_writes(ids);
    for (const auto& [client, ids] : by_client_) monotonic_reads(ids);
    monotonic_writes();
    return std::move(out_);
  }

 private:
  // The write of the value `r` read; nullptr for nothing or an untraceable value.
  const Operation* source(const Operation& r) const {
    return r.source == kNoEvent ? nullptr : &ops_.ops[r.source];
  }
  bool traceable(const Operation& r) const { return !r.value || source(r); }

  // a's value is older than b's (see the header).
  static bool older(const Operation& a, const Operation& b) {
    return a.id != b.id && (a.precedes(b) || (a.client == b.client && a.issue < b.issue));
  }
  // Why a is older than b, in words.
  std::string why_older(const Operation& a, const Operation& b) const {
    if (a.precedes(b)) {
      return "its write by " + a.process + " " + words_.interval(a) +
             " completed before the write of " + words_.value(b.value) + " by " + b.process + " " +
             words_.interval(b) + " began";
    }
    return a.process + " issued its write " + words_.interval(a) + " before that of " +
           words_.value(b.value) + " " + words_.interval(b);
  }

  // "read (invoked t=.., ok t=..) returned \"v1\"".
  std::string read(const Operation& r) const {
    return "read " + words_.interval(r) + " returned " + words_.value(r.value);
  }

  void report(std::string checker, std::string explanation, std::vector<std::size_t> involved) {
    out_.push_back({std::move(checker), key_, "key " + key_ + ": " + std::move(explanation),
                    witness_events(history_, ops_, std::move(involved))});
  }

  void read_your_writes(const std::vector<std::size_t>& ids) {
    const Operation* last_write = nullptr;  // last write issued so far that completed ok
    for (std::size_t id : ids) {
      const Operation& o = ops_.ops[id];
      if (o.is_write()) {
        if (o.ok()) last_write = &o;
        continue;
      }
      if (!o.ok() || !traceable(o)) continue;
      const Operation* src = source(o);
      if (src && src->client == o.client && src->issue > o.issue) {
        report("session-order",
               o.process + "'s " + read(o) + ", which " + o.process +
                   " wrote with a write it issued after that read " + words_.interval(*src) +
                   ": a session's operations take effect in issue order",
               {o.id, src->id});
        continue;
      }
      if (!last_write) continue;
      if (!src) {
        report("read-your-writes",
               o.process + " wrote " + words_.value(last_write->value) + " " +
                   words_.interval(*last_write) + ", then its later " + read(o) +
                   ": read-your-writes violated (its own completed write is not visible)",
               {last_write->id, o.id});
      } else if (older(*src, *last_write)) {
        report("read-your-writes",
               o.process + " wrote " + words_.value(last_write->value) + " " +
                   words_.interval(*last_write) + ", then its later " + read(o) +
                   ", an older value (" + why_older(*src, *last_write) +
                   "): read-your-writes violated (the read did not see its own write)",
               {last_write->id, o.id, src->id});
      }
    }
  }

  void monotonic_reads(const std::vector<std::size_t>& ids) {
    const Operation* first_valued = nullptr;        // earliest read so far that returned a value
    const Operation* latest_invoked = nullptr;      // read so far whose write was invoked last
    std::map<int, const Operation*> latest_issued;  // per writer: read so far whose write
                                                    // that writer issued last
    for (std::size_t id : ids) {
      const Operation& r2 = ops_.ops[id];
      if (!r2.is_read() || !r2.ok() || !traceable(r2)) continue;
      const Operation* w2 = source(r2);
      if (!w2) {
        if (first_valued) {
          report("monotonic-reads",
                 r2.process + "'s " + read(*first_valued) + ", then its later " + read(r2) +
                     ": monotonic reads violated (went back to before any write)",
                 {first_valued->id, source(*first_valued)->id, r2.id});
        }
        continue;
      }
      const Operation* r1 = nullptr;
      if (latest_invoked && w2->precedes(*source(*latest_invoked))) {
        r1 = latest_invoked;
      } else if (auto it = latest_issued.find(w2->client);
                 it != latest_issued.end() && older(*w2, *source(*it->second))) {
        r1 = it->second;
      }
      if (r1) {
        const Operation& w1 = *source(*r1);
        report("monotonic-reads",
               r2.process + "'s " + read(*r1) + ", then its later " + read(r2) +
                   ", an older value (" + why_older(*w2, w1) +
                   "): monotonic reads violated (went back to an older value)",
               {r1->id, w1.id, r2.id, w2->id});
      }
      if (!first_valued) first_valued = &r2;
      if (!latest_invoked || w2->invoke_time > source(*latest_invoked)->invoke_time) {
        latest_invoked = &r2;
      }
      auto [it, fresh] = latest_issued.emplace(w2->client, &r2);
      if (!fresh && w2->issue > source(*it->second)->issue) it->second = &r2;
    }
  }

  void monotonic_writes() {
    // When each write certainly took effect: its ok completion or the first completed read
    // of its value, whichever is earlier (and which operation shows it).
    std::map<std::size_t, std::pair<std::int64_t, std::size_t>> effective;
    for (std::size_t id : kv_.ops) {
      const Operation& o = ops_.ops[id];
      if (o.is_write() && o.ok()) effective.emplace(id, std::make_pair(o.complete_time, id));
    }
    for (std::size_t id : kv_.ops) {
      const Operation& r = ops_.ops[id];
      if (!r.is_read() || !r.ok()) continue;
      const Operation* w = source(r);
      if (!w) continue;
      auto [it, fresh] = effective.emplace(w->id, std::make_pair(r.complete_time, id));
      if (!fresh && r.complete_time < it->second.first) it->second = {r.complete_time, id};
    }
    // For each write: the earliest time a later-issued write of the same client certainly
    // took effect, and which write that was.
    std::map<std::size_t, std::pair<std::int64_t, std::size_t>> overtaken;
    for (const auto& [client, ids] : by_client_) {
      std::pair<std::int64_t, std::size_t> best{kNever, 0};
      for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
        const Operation& w = ops_.ops[*it];
        if (!w.is_write() || w.failed()) continue;
        overtaken[w.id] = best;
        if (auto e = effective.find(w.id); e != effective.end() && e->second.first < best.first) {
          best = {e->second.first, w.id};
        }
      }
    }
    for (std::size_t id : kv_.ops) {
      const Operation& r = ops_.ops[id];
      if (!r.is_read() || !r.ok()) continue;
      const Operation* w1 = source(r);
      if (!w1) continue;
      auto [when, w2_id] = overtaken.at(w1->id);
      if (when >= r.invoke_time) continue;
      const Operation& w2 = ops_.ops[w2_id];
      auto [_, shown_by] = effective.at(w2_id);
      const Operation& proof = ops_.ops[shown_by];
      std::string taken = shown_by == w2_id ? "its write completed ok"
                                            : "a read by " + proof.process + " " +
                                                  words_.interval(proof) + " had returned it";
      report("monotonic-writes",
             w1->process + " issued a write of " + words_.value(w1->value) + " " +
                 words_.interval(*w1) + " and then one of " + words_.value(w2.value) + " " +
                 words_.interval(w2) + "; " + words_.value(w2.value) + " had taken effect by " +
                 words_.time(when) + " (" + taken + "), yet a later read by " + r.process + " " +
                 words_.interval(r) + " returned " + words_.value(r.value) + ": " + w1->process +
                 "'s writes took effect out of issue order (monotonic writes violated)",
             {w1->id, w2_id, shown_by, r.id});
    }
  }

  const History& history_;
  const Operations& ops_;
  const KeyView& kv_;
  const std::string& key_;
  Wording words_;
  std::map<std::string, std::vector<std::size_t>> by_client_;  // ids in issue order
  std::vector<Violation> out_;
};

}  // namespace

std::vector<Violation> check_sessions_key(const History& history, const Operations& ops,
                                          const std::string& key, const CheckOptions& options) {
  return SessionCheck(history, ops, key, options).run();
}

}  // namespace kvs::check
