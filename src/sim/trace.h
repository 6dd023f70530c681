// The record of a run: every event (deliveries, timers, disk operations, crashes,
// client completions, ...) is folded into a 64-bit FNV-1a hash of its canonical text,
// and optionally written out as text (--trace) or as a ShiViz log with vector clocks
// (--shiviz). The hash never depends on which outputs are open, so `hash=` printed by
// `kvsim --seed N` equals the hash of a traced replay.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "sim/prng.h"

namespace kvs::sim {

// A vector clock, one component per process (ProcId order).
using VectorClock = std::vector<std::uint32_t>;

class Trace {
 public:
  // names: the processes, indexed by process id. text / shiviz may be null.
  Trace(std::vector<std::string> names, std::ostream* text, std::ostream* shiviz);

  // Records one event at process `proc` (or -1: the simulator itself, e.g. a fault).
  // The detail may come in two parts (joined by a space), so callers need not build a
  // string per event: the hash is the same either way.
  void event(Nanos now, int proc, std::string_view kind, std::string_view detail,
             std::string_view more = {});

  // ShiViz needs message causality: a send stamps the sender's clock on the frame, the
  // delivery merges it into the receiver's. Both are no-ops without a ShiViz output.
  bool clocks_enabled() const { return shiviz_ != nullptr; }
  VectorClock stamp(int proc) const;
  void merge(int proc, const VectorClock& clock);

  std::uint64_t hash() const { return hash_; }
  std::uint64_t events() const { return events_; }
  // "0123456789abcdef": how hashes are printed and compared.
  static std::string hex(std::uint64_t h);

 private:
  std::vector<std::string> names_;
  std::string sim_name_ = "sim";
  std::ostream* text_;
  std::ostream* shiviz_;
  std::vector<VectorClock> clocks_;
  std::uint64_t hash_ = kFnvOffset;
  std::uint64_t events_ = 0;
};

}  // namespace kvs::sim
