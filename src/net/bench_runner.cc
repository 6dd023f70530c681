// kvbench's run: see bench_runner.h.
#include "net/bench_runner.h"

#include <uv.h>

#include <cstdio>
#include <deque>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/client.h"
#include "core/config.h"
#include "net/bench_report.h"
#include "net/bench_workload.h"
#include "net/history.h"
#include "net/log.h"
#include "net/runtime.h"
#include "net/signals.h"

namespace kvs::bench {

namespace {

constexpr Nanos kProgressInterval = kSecond;
// How long the first TCP connect to the frontend may take before we call it unreachable.
constexpr double kConnectTimeoutCap = 5.0;
// Warnings from the sessions (refusals, reconnects) printed before the rest are muted:
// 50 sessions losing their connection at once would otherwise flood the terminal.
constexpr int kMaxWarnings = 10;

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", s);
  return text;
}

std::string format_seconds(Nanos n) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(n) / 1e9);
  return text;
}

std::string new_incarnation(std::random_device& rd) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx",
                static_cast<unsigned long long>((std::uint64_t{rd()} << 32) ^ rd()));
  return text;
}

// One TCP connect to `address`, for a clear "unreachable" message before any session
// starts (the sessions themselves would retry quietly until each request timed out).
bool probe_tcp(const std::string& address, double timeout_s, std::string* error) {
  std::string ip;
  int port = 0;
  sockaddr_in addr{};
  if (!split_address(address, &ip, &port) || uv_ip4_addr(ip.c_str(), port, &addr) != 0) {
    *error = "--frontend " + address + " is not an IPv4 IP:PORT";
    return false;
  }
  struct Probe {
    uv_tcp_t tcp;
    uv_connect_t req;
    uv_timer_t timer;
    int status = 1;  // 1: pending; else the connect status
    bool timed_out = false;
  } probe;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_tcp_init(&loop, &probe.tcp);
  uv_timer_init(&loop, &probe.timer);
  probe.tcp.data = &probe;
  probe.timer.data = &probe;
  int r = uv_tcp_connect(&probe.req, &probe.tcp, reinterpret_cast<const sockaddr*>(&addr),
                         [](uv_connect_t* req, int status) {
                           auto* p = static_cast<Probe*>(req->handle->data);
                           p->status = status;
                           // After a timeout the socket is closing already.
                           for (auto* h : {reinterpret_cast<uv_handle_t*>(&p->timer),
                                           reinterpret_cast<uv_handle_t*>(&p->tcp)}) {
                             if (!uv_is_closing(h)) uv_close(h, nullptr);
                           }
                         });
  if (r != 0) {
    probe.status = r;
    uv_close(reinterpret_cast<uv_handle_t*>(&probe.timer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&probe.tcp), nullptr);
  } else {
    uv_timer_start(
        &probe.timer,
        [](uv_timer_t* t) {
          auto* p = static_cast<Probe*>(t->data);
          p->timed_out = true;
          // Closing the socket cancels the connect; its callback then closes the timer.
          uv_close(reinterpret_cast<uv_handle_t*>(&p->tcp), nullptr);
        },
        static_cast<std::uint64_t>(timeout_s * 1000), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (probe.status == 0) return true;
  *error = "cannot connect to the frontend at " + address + ": " +
           (probe.timed_out
                ? "no answer within " + seconds_text(timeout_s)
                : std::string(uv_err_name(probe.status)) + " (" + uv_strerror(probe.status) + ")") +
           "; is it running, and is --frontend its client address?";
  return false;
}

class Bench {
 public:
  explicit Bench(const BenchOptions& options) : o_(options) {}
  int run();

 private:
  enum class Phase { kConnecting, kPreload, kWarmup, kMeasure, kDraining, kDone };

  struct InFlight {
    std::uint64_t op_id;
    Op op;
    Nanos issued;
    Phase phase;
    std::string value;  // a PUT's value, kept only for the history
  };

  struct Session {
    Session(const WorkloadOptions& w, std::uint64_t seed, std::size_t i)
        : index(i), workload(w, seed, i) {}
    std::size_t index;
    std::string name;
    Workload workload;
    std::unique_ptr<net::HistoryWriter> history;
    // Declared before the runtime, which holds a pointer to it: destroyed after it.
    std::unique_ptr<ClientSession> machine;
    std::unique_ptr<net::Runtime> runtime;
    std::deque<InFlight> in_flight;  // in issue order, as results are delivered
    std::uint64_t preload_next = 0;  // this session's slice of the key space
    std::uint64_t preload_end = 0;
  };

  bool start_sessions(std::string* error);
  bool check_frontend(std::string* error);
  void begin(Phase phase);
  void refill(Session& s);
  bool issue_one(Session& s);
  void on_effect(Session& s, const Effect& e);
  void on_deliver(Session& s, const Deliver& d);
  void on_warning(const std::string& text);
  void stop_issuing();
  void finish();
  void on_progress();
  void on_signal(const char* name);
  void start_timer(uv_timer_t* timer, double seconds, void (*cb)(uv_timer_t*));
  std::string history_errors() const;
  void say(const std::string& line) const;

  const BenchOptions& o_;
  uv_loop_t loop_;
  std::vector<std::unique_ptr<Session>> sessions_;
  std::unique_ptr<net::StopOnSignals> signals_;
  uv_timer_t progress_timer_;
  uv_timer_t phase_timer_;  // the end of the warm-up, or of --duration

  Phase phase_ = Phase::kConnecting;
  Nanos started_ = 0;
  Nanos phase_started_ = 0;
  Nanos measure_started_ = 0;
  Nanos last_measured_result_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t preload_done_ = 0;
  std::uint64_t measured_issued_ = 0;
  std::uint64_t measured_done_ = 0;
  std::uint64_t delivered_ = 0;  // every result, for the progress line's rate
  std::uint64_t delivered_at_last_progress_ = 0;
  Nanos last_progress_ = 0;
  int warnings_ = 0;
  std::string refused_;  // the frontend refused a session's hello (e.g. a wrong secret)
  int signals_seen_ = 0;
  Results results_;
};

void Bench::say(const std::string& line) const {
  if (!o_.quiet) std::cerr << "kvbench: " << line << std::endl;
}

bool Bench::start_sessions(std::string* error) {
  std::random_device rd;
  const std::uint64_t keys = o_.workload.keys;
  for (std::size_t i = 0; i < o_.sessions; ++i) {
    auto s = std::make_unique<Session>(o_.workload, o_.seed, i);
    s->name = o_.id_prefix + "-" + std::to_string(i);
    // Session i preloads keys [i*K/N, (i+1)*K/N): every key exactly once.
    s->preload_next =
        static_cast<std::uint64_t>(static_cast<unsigned __int128>(keys) * i / o_.sessions);
    s->preload_end =
        static_cast<std::uint64_t>(static_cast<unsigned __int128>(keys) * (i + 1) / o_.sessions);
    if (!o_.history.empty()) {
      s->history = net::HistoryWriter::open(o_.history, s->name, error);
      if (!s->history) return false;
    }
    ClientConfig config;
    config.id = s->name;
    config.frontend = o_.frontend;
    config.secret = o_.secret;
    config.request_timeout = o_.request_timeout;
    s->machine = std::make_unique<ClientSession>(config, new_incarnation(rd));
    net::RuntimeOptions options;
    options.max_frame_bytes = config.max_frame_bytes;
    options.log_name = "kvbench " + s->name;
    // Warnings come to on_effect and are printed there, a few at most.
    options.min_level = LogLevel::kError;
    Session* raw = s.get();
    options.on_effect = [this, raw](const Effect& e) { on_effect(*raw, e); };
    s->runtime = std::make_unique<net::Runtime>(&loop_, s->machine.get(), options);
    sessions_.push_back(std::move(s));
    if (!sessions_.back()->runtime->start(error)) return false;
  }
  return true;
}

bool Bench::check_frontend(std::string* error) {
  // Session 0's status request goes out right behind its hello: an answer proves the
  // frontend accepts our sessions (secret included) before any load starts.
  Session& s = *sessions_.front();
  s.machine->request_status(net::Runtime::now());
  s.runtime->drain();
  for (;;) {
    if (signals_seen_ > 0) return false;
    if (!refused_.empty()) {
      *error = refused_;
      return false;
    }
    if (auto st = s.machine->take_status()) {
      if (!st->ok) {
        *error = "the frontend at " + o_.frontend + " accepted a connection but answered no " +
                 "status request: " + st->detail;
        return false;
      }
      if (st->body.contains("members") && st->body["members"].is_number_unsigned()) {
        results_.members = st->body["members"].get<std::uint64_t>();
        if (*results_.members == 0) {
          std::cerr << "kvbench: warning: the frontend has no storage member yet; requests "
                       "wait for one (and fail as unavailable after its unavailable_timeout)\n";
        }
      }
      return true;
    }
    uv_run(&loop_, UV_RUN_ONCE);
  }
}

void Bench::start_timer(uv_timer_t* timer, double seconds, void (*cb)(uv_timer_t*)) {
  uv_timer_stop(timer);
  uv_timer_start(timer, cb, static_cast<std::uint64_t>(seconds * 1000), 0);
}

void Bench::begin(Phase phase) {
  const Nanos now = net::Runtime::now();
  phase_ = phase;
  phase_started_ = now;
  switch (phase) {
    case Phase::kPreload:
      say("preloading " + std::to_string(o_.workload.keys) + " keys");
      break;
    case Phase::kWarmup:
      say("warming up for " + seconds_text(o_.warmup));
      start_timer(&phase_timer_, o_.warmup, [](uv_timer_t* t) {
        auto* self = static_cast<Bench*>(t->data);
        if (self->phase_ == Phase::kWarmup) self->begin(Phase::kMeasure);
      });
      break;
    case Phase::kMeasure:
      measure_started_ = last_measured_result_ = now;
      say(o_.duration ? "measuring for " + seconds_text(*o_.duration)
                      : "measuring " + std::to_string(o_.requests) + " operations");
      if (o_.duration) {
        start_timer(&phase_timer_, *o_.duration, [](uv_timer_t* t) {
          auto* self = static_cast<Bench*>(t->data);
          if (self->phase_ == Phase::kMeasure) self->stop_issuing();
        });
      }
      break;
    default:
      break;
  }
  for (auto& s : sessions_) refill(*s);
}

void Bench::refill(Session& s) {
  bool issued = false;
  while (s.in_flight.size() < o_.pipeline && issue_one(s)) issued = true;
  // Inside this session's own on_effect the running drain sends these; elsewhere
  // (a timer, another session's result) this drain does.
  if (issued) s.runtime->drain();
}

bool Bench::issue_one(Session& s) {
  Op op;
  std::uint64_t key;
  switch (phase_) {
    case Phase::kPreload:
      if (s.preload_next == s.preload_end) return false;
      op = Op::kPut;
      key = s.preload_next++;
      break;
    case Phase::kWarmup:
      op = s.workload.next_is_get() ? Op::kGet : Op::kPut;
      key = s.workload.next_key_index();
      break;
    case Phase::kMeasure:
      if (!o_.duration && measured_issued_ == o_.requests) return false;
      op = s.workload.next_is_get() ? Op::kGet : Op::kPut;
      key = s.workload.next_key_index();
      ++measured_issued_;
      break;
    default:
      return false;
  }
  std::string name = Workload::key_name(key);
  const Nanos now = net::Runtime::now();
  InFlight f{0, op, now, phase_, {}};
  if (op == Op::kGet) {
    f.op_id = s.machine->get(name, now);
    if (s.history) s.history->invoke(f.op_id, op, name, std::nullopt, now);
  } else {
    std::string value = s.workload.next_value();
    if (s.history) {
      f.value = value;
      f.op_id = s.machine->put(name, std::move(value), now);
      s.history->invoke(f.op_id, op, name, f.value, now);
    } else {
      f.op_id = s.machine->put(name, std::move(value), now);
    }
  }
  s.in_flight.push_back(std::move(f));
  ++in_flight_;
  if (phase_ == Phase::kMeasure && !o_.duration && measured_issued_ == o_.requests) {
    phase_ = Phase::kDraining;  // the last measured operation is out
  }
  return true;
}

void Bench::on_effect(Session& s, const Effect& e) {
  if (const auto* d = std::get_if<Deliver>(&e)) {
    on_deliver(s, *d);
  } else if (const auto* line = std::get_if<LogLine>(&e)) {
    if (line->level < LogLevel::kWarn) return;
    // The session's words for a refused hello (wrong secret, unknown protocol version).
    if (line->text.find(" refused: ") != std::string::npos && refused_.empty()) {
      refused_ = s.name + ": " + line->text;
    }
    // While connecting, a failure is reported once, by run().
    if (phase_ != Phase::kConnecting) on_warning(s.name + ": " + line->text);
  }
}

void Bench::on_warning(const std::string& text) {
  if (++warnings_ <= kMaxWarnings) {
    net::write_log_line(LogLevel::kWarn, "kvbench", text);
  } else if (warnings_ == kMaxWarnings + 1) {
    net::write_log_line(LogLevel::kWarn, "kvbench", "further session warnings not shown");
  }
}

void Bench::on_deliver(Session& s, const Deliver& d) {
  const Nanos now = net::Runtime::now();
  if (s.in_flight.empty() || s.in_flight.front().op_id != d.op_id) {
    // Results come in issue order (ClientSession's contract); anything else is a bug.
    net::write_log_line(LogLevel::kError, "kvbench",
                        s.name + ": result for op " + std::to_string(d.op_id) + " out of order");
    return;
  }
  InFlight f = std::move(s.in_flight.front());
  s.in_flight.pop_front();
  --in_flight_;
  ++delivered_;
  if (s.history) {
    std::optional<std::string> value;
    if (d.op == Op::kPut) {
      value = f.value;
    } else if (d.status == Status::kOk) {
      value = d.value;
    }
    s.history->complete(d.op_id, d.op, d.status, d.key, value, now);
  }
  const Outcome outcome = classify(d.status, d.detail);
  if (f.phase == Phase::kMeasure) {
    (d.op == Op::kGet ? results_.get : results_.put).add(outcome, now - f.issued);
    ++measured_done_;
    last_measured_result_ = now;
  } else {
    if (f.phase == Phase::kPreload) {
      ++results_.preload_ops;
      ++preload_done_;
    } else {
      ++results_.warmup_ops;
    }
    if (outcome == Outcome::kUnavailable) ++results_.unmeasured_errors.unavailable;
    if (outcome == Outcome::kRejected) ++results_.unmeasured_errors.rejected;
    if (outcome == Outcome::kTimeout) ++results_.unmeasured_errors.timeout;
  }
  if (is_error(outcome) && !o_.allow_errors && results_.stopped_by_error.empty()) {
    results_.stopped_by_error = std::string(d.op == Op::kGet ? "get " : "put ") + d.key + ": " +
                                std::string(status_name(d.status)) +
                                (d.detail.empty() ? "" : ": " + d.detail);
    say("stopping at the first error (" + results_.stopped_by_error +
        "); --allow-errors keeps going");
    stop_issuing();
    if (phase_ == Phase::kDone) return;
  }
  if (phase_ == Phase::kPreload && preload_done_ == o_.workload.keys) {
    say("preloaded " + std::to_string(o_.workload.keys) + " keys in " +
        format_seconds(now - phase_started_));
    begin(o_.warmup > 0 ? Phase::kWarmup : Phase::kMeasure);
    return;
  }
  refill(s);
  if (phase_ == Phase::kDraining && in_flight_ == 0) finish();
}

void Bench::stop_issuing() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDraining;
  uv_timer_stop(&phase_timer_);
  if (in_flight_ == 0) finish();
}

void Bench::finish() {
  if (phase_ == Phase::kDone) return;
  phase_ = Phase::kDone;
  if (measure_started_ != 0) {
    results_.measured_seconds = static_cast<double>(last_measured_result_ - measure_started_) / 1e9;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&progress_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&phase_timer_), nullptr);
  signals_->close();
  for (auto& s : sessions_) s->runtime->shutdown();
}

void Bench::on_progress() {
  const Nanos now = net::Runtime::now();
  const double dt = static_cast<double>(now - last_progress_) / 1e9;
  const double rate =
      dt > 0 ? static_cast<double>(delivered_ - delivered_at_last_progress_) / dt : 0;
  last_progress_ = now;
  delivered_at_last_progress_ = delivered_;
  std::string what;
  switch (phase_) {
    case Phase::kPreload:
      what = "preload   " + std::to_string(preload_done_) + "/" + std::to_string(o_.workload.keys);
      break;
    case Phase::kWarmup:
      what = "warm-up   " + std::to_string(results_.warmup_ops);
      break;
    case Phase::kMeasure:
    case Phase::kDraining:
      what = (phase_ == Phase::kMeasure ? "measuring " : "finishing ") +
             std::to_string(measured_done_) +
             (o_.duration ? std::string() : "/" + std::to_string(o_.requests));
      break;
    default:
      return;
  }
  char line[200];
  std::snprintf(line, sizeof line, "%7.1fs  %s ops  %.0f ops/s  %llu errors",
                static_cast<double>(now - started_) / 1e9, what.c_str(), rate,
                static_cast<unsigned long long>(results_.errors_total()));
  say(line);
}

void Bench::on_signal(const char* name) {
  results_.interrupted = true;
  if (++signals_seen_ == 1 && phase_ != Phase::kConnecting) {
    say(std::string(name) + ": stopping; waiting for " + std::to_string(in_flight_) +
        " outstanding operations (again to stop at once)");
    stop_issuing();
  } else {
    finish();
  }
}

std::string Bench::history_errors() const {
  for (const auto& s : sessions_) {
    if (s->history && !s->history->error().empty()) return o_.history + ": " + s->history->error();
  }
  return "";
}

int Bench::run() {
  std::string error;
  if (!probe_tcp(o_.frontend, std::min(o_.request_timeout, kConnectTimeoutCap), &error)) {
    std::cerr << "kvbench: " << error << "\n";
    return kExitFailed;
  }
  uv_loop_init(&loop_);
  uv_timer_init(&loop_, &progress_timer_);
  uv_timer_init(&loop_, &phase_timer_);
  progress_timer_.data = phase_timer_.data = this;
  signals_ =
      std::make_unique<net::StopOnSignals>(&loop_, [this](const char* name) { on_signal(name); });
  started_ = last_progress_ = net::Runtime::now();

  bool ok = start_sessions(&error) && check_frontend(&error);
  if (ok) {
    if (!o_.quiet) {
      uv_timer_start(
          &progress_timer_, [](uv_timer_t* t) { static_cast<Bench*>(t->data)->on_progress(); },
          kProgressInterval / kMillisecond, kProgressInterval / kMillisecond);
    }
    begin(o_.preload ? Phase::kPreload : o_.warmup > 0 ? Phase::kWarmup : Phase::kMeasure);
  } else {
    if (signals_seen_ == 0) std::cerr << "kvbench: " << error << "\n";
    finish();
  }
  // Until finish() closed every handle. The sessions always have a timer or socket
  // open, so an early return means something is wrong; close down anyway.
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (phase_ != Phase::kDone) {
    finish();
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
  for (auto& s : sessions_) s->runtime.reset();
  uv_loop_close(&loop_);
  if (!ok) return signals_seen_ > 0 ? kExitInterrupted : kExitFailed;

  std::cout << (o_.json ? json_report(o_, results_) : text_report(o_, results_)) << std::flush;
  if (const std::string h = history_errors(); !h.empty()) {
    std::cerr << "kvbench: " << h << "\n";
    return kExitFailed;
  }
  if (results_.interrupted) return kExitInterrupted;
  if (results_.errors_total() > 0 && !o_.allow_errors) {
    std::cerr << "kvbench: " << results_.errors_total() << " operations failed"
              << (results_.stopped_by_error.empty() ? ""
                                                    : ", the first: " + results_.stopped_by_error)
              << "\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

int run_bench(const BenchOptions& options) {
  Bench bench(options);
  return bench.run();
}

}  // namespace kvs::bench
