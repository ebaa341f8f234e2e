// Load generation over the client roles' /invoke, closed or open loop, with per-path latency
// histograms (see load.h).
#include "world/load.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "actors/gateway.h"
#include "sim/clock.h"
#include "world/world.h"

namespace txlab {

using Json = nlohmann::json;

namespace {
// Per-second histograms: 32 sub-buckets per power of two (1.6 %), one per second of the run.
constexpr int kSecondPrecisionBits = 5;
constexpr size_t kMaxSeconds = 4000;
}  // namespace

LoadReport LoadReport::for_paths(const std::vector<std::string>& names, double duration_s,
                                 int windows) {
  LoadReport r;
  r.duration_s = duration_s;
  for (const auto& n : names) {
    PathStats p;
    p.name = n;
    p.windows.resize(static_cast<size_t>(std::max(1, windows)));
    r.paths.push_back(std::move(p));
  }
  return r;
}

void LoadReport::record(size_t path, int64_t us, double end_s, bool failed) {
  auto& p = paths.at(path);
  p.latency.record(us);
  if (failed) ++p.errors;
  if (!p.windows.empty()) {
    const double width = duration_s > 0 ? duration_s / static_cast<double>(p.windows.size()) : 1;
    auto& w = p.windows[std::min(p.windows.size() - 1,
                                 static_cast<size_t>(std::max(0.0, end_s) / width))];
    w.latency.record(us);
    if (failed) ++w.errors;
  }
  const auto sec = std::min(kMaxSeconds - 1, static_cast<size_t>(std::max(0.0, end_s)));
  if (per_second.size() <= sec) per_second.resize(sec + 1, LatencyHistogram(kSecondPrecisionBits));
  per_second[sec].record(us);
}

size_t LoadReport::calls() const {
  size_t n = 0;
  for (const auto& p : paths) n += p.calls();
  return n;
}

size_t LoadReport::errors() const {
  size_t n = 0;
  for (const auto& p : paths) n += p.errors;
  return n;
}

size_t LoadReport::unsent() const {
  size_t n = 0;
  for (const auto& p : paths) n += p.unsent;
  return n;
}

int64_t percentile_us(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t idx =
      std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0 ? 1 : 0));
  return v[idx];
}

int64_t LoadReport::rss_at_kb(double t_s) const {
  for (const auto& [t, kb] : rss_kb)
    if (t >= t_s) return kb;
  return 0;
}

namespace {

int64_t resident_kb() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// What the callers share while the load runs.
struct Shared {
  World& world;
  const LoadOptions& o;
  LoadReport& report;
  std::mutex& mu;
  int64_t start = 0, end = 0;
  std::atomic<size_t> next{0}, calls_done{0}, calls_failed{0};
};

// One call of workload entry i; true when it missed its expected status.
bool call_once(World& world, const WorkloadCall& call) {
  http::OutboundRequest req;
  req.method = "POST";
  req.path = "/invoke";
  req.content_type = "application/json";
  req.body = Json{{"to", call.to}, {"path", call.path}, {"method", call.method}}.dump();
  auto res = world.transport().http().send(world.directory().url_of(call.from), req);
  auto j = Json::parse(res.body, nullptr, false);
  const int status =
      j.is_object() && j.contains("status") && j["status"].is_number() ? j["status"].get<int>() : 0;
  return res.status != 200 || status != call.expect.status.value_or(200);
}

// Caller t of C: closed loop (optionally paced: call k due at start + (k·C + t) / rate, sent
// when due or at once when late, timed from sending), or open loop (the same due times, timed
// from the due time; a call more than max_lag late, or still due at the end, is not sent).
void caller(Shared& s, int t) {
  const auto& workload = s.world.scenario().workload;
  const int c = std::max(1, s.o.concurrency);
  const double interval_us = s.o.rate_per_s > 0 ? 1e6 / s.o.rate_per_s : 0;
  const bool open = s.o.open_loop && interval_us > 0;
  const auto max_lag_us = static_cast<int64_t>(s.o.max_lag_s * 1e6);
  std::vector<size_t> unsent(workload.size(), 0);
  for (int64_t k = 0;; ++k) {
    const int64_t n = k * c + t;  // the call's number in the run's schedule
    const int64_t due = s.start + static_cast<int64_t>(static_cast<double>(n) * interval_us);
    if (interval_us > 0 && due >= s.end) break;
    int64_t now = monotonic_us();
    const size_t i = open ? static_cast<size_t>(n) % workload.size() : s.next++ % workload.size();
    if (open && (now >= s.end || now - due > max_lag_us)) {
      ++unsent[i];
      continue;
    }
    if (interval_us > 0 && due > now) {
      std::this_thread::sleep_for(std::chrono::microseconds(due - now));
      now = monotonic_us();
    }
    if (now >= s.end) break;
    const int64_t t0 = open ? due : now;
    const bool failed = call_once(s.world, workload[i]);
    const int64_t t1 = monotonic_us();
    {
      std::lock_guard lock(s.mu);
      s.report.record(i, t1 - t0, static_cast<double>(t1 - s.start) / 1e6, failed);
    }
    ++s.calls_done;
    if (failed) ++s.calls_failed;
  }
  std::lock_guard lock(s.mu);
  for (size_t i = 0; i < workload.size(); ++i) s.report.paths[i].unsent += unsent[i];
}

void count_exchanges(World& world, LoadReport& report) {
  for (const auto& r : world.scenario().roles) {
    if (r.kind == RoleKind::kAuthorizationServer && r.runs_here())
      report.exchanges +=
          world.authorization_server(r.id).audit_log().issued_count("token-exchange");
    if (r.kind == RoleKind::kGateway && r.runs_here())
      if (const auto* c = world.gateway(r.id).exchange_cache()) {
        const auto st = c->stats();
        report.cache_hits += st.hits + st.waits;
        report.cache_misses += st.misses;
      }
  }
}

}  // namespace

LoadReport run_load(World& world, const LoadOptions& o) {
  const auto& workload = world.scenario().workload;
  std::vector<std::string> names;
  for (const auto& w : workload) names.push_back(w.name);
  LoadReport report = LoadReport::for_paths(names, o.duration_s, o.windows);
  report.open_loop = o.open_loop && o.rate_per_s > 0;
  report.rate_per_s = o.rate_per_s;
  report.max_lag_s = report.open_loop ? o.max_lag_s : 0;
  if (workload.empty()) return report;
  world.trace().set_enabled(false);
  std::mutex mu;
  Shared s{world, o, report, mu};
  s.start = monotonic_us();
  s.end = s.start + static_cast<int64_t>(o.duration_s * 1e6);
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    int tick = 0;
    for (int64_t next_us = s.start; sampling.load(); next_us += 500000) {
      const double t_s = static_cast<double>(monotonic_us() - s.start) / 1e6;
      const int64_t kb = resident_kb();
      {
        std::lock_guard lock(mu);
        report.rss_kb.emplace_back(t_s, kb);
      }
      if (o.progress && tick++ % 2 == 0 && t_s > 0.1)
        o.progress(t_s, s.calls_done.load(), s.calls_failed.load());
      while (sampling.load() && monotonic_us() < next_us + 500000)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, o.concurrency); ++t)
    threads.emplace_back([&s, t] { caller(s, t); });
  for (auto& th : threads) th.join();
  sampling = false;
  sampler.join();
  report.rss_kb.emplace_back(static_cast<double>(monotonic_us() - s.start) / 1e6, resident_kb());
  report.elapsed_s = static_cast<double>(monotonic_us() - s.start) / 1e6;
  count_exchanges(world, report);
  return report;
}

LoadReport merge_runs(std::vector<LoadReport> runs) {
  LoadReport out = std::move(runs.at(0));
  out.run_elapsed_s = {out.elapsed_s};
  for (size_t i = 1; i < runs.size(); ++i) {
    LoadReport& r = runs[i];
    const double offset = out.elapsed_s;
    for (size_t p = 0; p < out.paths.size() && p < r.paths.size(); ++p) {
      auto& to = out.paths[p];
      to.latency.merge(r.paths[p].latency);
      to.errors += r.paths[p].errors;
      to.unsent += r.paths[p].unsent;
      for (auto& w : r.paths[p].windows) {
        w.run = static_cast<int>(i);
        to.windows.push_back(std::move(w));
      }
    }
    // Whole seconds of the earlier runs first, so a second never holds two runs' calls.
    out.per_second.resize(std::min(kMaxSeconds, static_cast<size_t>(std::ceil(offset))),
                          LatencyHistogram(kSecondPrecisionBits));
    for (auto& h : r.per_second)
      if (out.per_second.size() < kMaxSeconds) out.per_second.push_back(std::move(h));
    for (const auto& [t, kb] : r.rss_kb) out.rss_kb.emplace_back(offset + t, kb);
    out.exchanges += r.exchanges;
    out.cache_hits += r.cache_hits;
    out.cache_misses += r.cache_misses;
    out.elapsed_s += r.elapsed_s;
    out.run_elapsed_s.push_back(r.elapsed_s);
  }
  if (out.run_elapsed_s.size() == 1) out.run_elapsed_s.clear();
  return out;
}

}  // namespace txlab
