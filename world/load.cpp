// Load generation over the client roles' /invoke, with per-path latency statistics.
#include "world/load.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/junit.h"
#include "sim/xml.h"

#include "actors/authorization_server.h"
#include "actors/gateway.h"
#include "sim/clock.h"
#include "world/world.h"

namespace txlab {

using Json = nlohmann::json;

size_t LoadReport::calls() const {
  size_t n = 0;
  for (const auto& p : paths) n += p.latencies_us.size();
  return n;
}

size_t LoadReport::errors() const {
  size_t n = 0;
  for (const auto& p : paths) n += p.errors;
  return n;
}

int64_t percentile_us(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t idx =
      std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0 ? 1 : 0));
  return v[idx];
}

namespace {
int64_t resident_kb() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}
}  // namespace

int64_t LoadReport::rss_at_kb(double t_s) const {
  for (const auto& [t, kb] : rss_kb)
    if (t >= t_s) return kb;
  return 0;
}

LoadReport run_load(World& world, const LoadOptions& o) {
  const auto& workload = world.scenario().workload;
  LoadReport report;
  for (const auto& w : workload) report.paths.push_back({w.name, {}, {}, 0});
  if (workload.empty()) return report;
  world.trace().set_enabled(false);
  std::mutex mu;
  std::atomic<size_t> next{0};
  const int64_t start = monotonic_us();
  const int64_t end = start + static_cast<int64_t>(o.duration_s * 1e6);
  const double per_thread_interval_us = o.rate_per_s > 0 ? 1e6 * o.concurrency / o.rate_per_s : 0;
  std::vector<std::thread> threads;
  std::atomic<bool> sampling{true};
  std::atomic<size_t> calls_done{0}, calls_failed{0};
  std::thread sampler([&] {
    int tick = 0;
    for (int64_t next_us = start; sampling.load(); next_us += 500000) {
      const double t_s = (monotonic_us() - start) / 1e6;
      const int64_t kb = resident_kb();
      {
        std::lock_guard lock(mu);
        report.rss_kb.emplace_back(t_s, kb);
      }
      if (o.progress && tick++ % 2 == 0 && t_s > 0.1)
        o.progress(t_s, calls_done.load(), calls_failed.load());
      while (sampling.load() && monotonic_us() < next_us + 500000)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int t = 0; t < std::max(1, o.concurrency); ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::vector<int64_t>> lat(workload.size());
      std::vector<std::vector<uint32_t>> at(workload.size());
      std::vector<size_t> errs(workload.size(), 0);
      int64_t due =
          start + static_cast<int64_t>(per_thread_interval_us * t / std::max(1, o.concurrency));
      while (true) {
        if (per_thread_interval_us > 0) {
          const int64_t now = monotonic_us();
          if (due > now) std::this_thread::sleep_for(std::chrono::microseconds(due - now));
          due += static_cast<int64_t>(per_thread_interval_us);
        }
        const int64_t t0 = monotonic_us();
        if (t0 >= end) break;
        const size_t i = next++ % workload.size();
        const auto& call = workload[i];
        http::OutboundRequest req;
        req.method = "POST";
        req.path = "/invoke";
        req.content_type = "application/json";
        req.body = Json{{"to", call.to}, {"path", call.path}, {"method", call.method}}.dump();
        auto res = world.transport().http().send(world.directory().url_of(call.from), req);
        const int64_t t1 = monotonic_us();
        lat[i].push_back(t1 - t0);
        at[i].push_back(static_cast<uint32_t>((t1 - start) / 1000));
        auto j = Json::parse(res.body, nullptr, false);
        const int status = j.is_object() && j.contains("status") && j["status"].is_number()
                               ? j["status"].get<int>()
                               : 0;
        const int want = call.expect.status.value_or(200);
        const bool failed = res.status != 200 || status != want;
        if (failed) ++errs[i];
        ++calls_done;
        if (failed) ++calls_failed;
      }
      std::lock_guard lock(mu);
      for (size_t i = 0; i < workload.size(); ++i) {
        auto& p = report.paths[i];
        p.latencies_us.insert(p.latencies_us.end(), lat[i].begin(), lat[i].end());
        p.finished_ms.insert(p.finished_ms.end(), at[i].begin(), at[i].end());
        p.errors += errs[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  sampling = false;
  sampler.join();
  report.rss_kb.emplace_back((monotonic_us() - start) / 1e6, resident_kb());
  report.elapsed_s = (monotonic_us() - start) / 1e6;
  for (const auto& r : world.scenario().roles) {
    if (r.kind == RoleKind::kAuthorizationServer && r.runs_here())
      report.exchanges +=
          world.authorization_server(r.id).audit_log().issued_count("token-exchange");
    if (r.kind == RoleKind::kGateway && r.runs_here())
      if (const auto* c = world.gateway(r.id).exchange_cache()) {
        const auto s = c->stats();
        report.cache_hits += s.hits + s.waits;
        report.cache_misses += s.misses;
      }
  }
  return report;
}

std::string render_text(const LoadReport& r) {
  std::ostringstream o;
  o << "txlab load · " << r.calls() << " calls in " << r.elapsed_s << " s · "
    << static_cast<int64_t>(r.calls() / r.elapsed_s) << " calls/s · " << r.errors() << " errors · "
    << r.exchanges << " exchanges";
  if (r.cache_hits + r.cache_misses)
    o << " · exchange cache hit ratio " << 100 * r.cache_hits / (r.cache_hits + r.cache_misses)
      << "%";
  if (!r.rss_kb.empty()) {
    o << " · RSS " << r.rss_kb.front().second / 1024 << " → " << r.rss_kb.back().second / 1024
      << " MiB";
    if (const int64_t at10 = r.rss_at_kb(10); at10 > 0 && r.elapsed_s > 10)
      o << " (end / 10 s: " << std::round(100.0 * r.rss_kb.back().second / at10) / 100 << ")";
  }
  o << "\n\n  path                                             calls   errors     p50 µs     p90 "
       "µs     p99 µs     max µs\n";
  for (const auto& p : r.paths) {
    std::string name = p.name.substr(0, 46);
    name.resize(48, ' ');
    o << "  " << name
      << std::string(6 - std::min<size_t>(6, std::to_string(p.latencies_us.size()).size()), ' ')
      << p.latencies_us.size()
      << std::string(9 - std::min<size_t>(9, std::to_string(p.errors).size()), ' ') << p.errors;
    for (double q : {0.5, 0.9, 0.99, 1.0}) {
      const std::string v = std::to_string(percentile_us(p.latencies_us, q));
      o << std::string(11 - std::min<size_t>(11, v.size()), ' ') << v;
    }
    o << "\n";
  }
  return o.str();
}

Json render_json(const LoadReport& r) {
  Json paths = Json::array();
  for (const auto& p : r.paths)
    paths.push_back({{"name", p.name},
                     {"calls", p.latencies_us.size()},
                     {"errors", p.errors},
                     {"p50_us", percentile_us(p.latencies_us, 0.5)},
                     {"p90_us", percentile_us(p.latencies_us, 0.9)},
                     {"p99_us", percentile_us(p.latencies_us, 0.99)},
                     {"max_us", percentile_us(p.latencies_us, 1.0)}});
  // Percentiles second by second, all paths together; a last fraction of a second shorter than
  // half a second joins the second before it.
  std::vector<std::vector<int64_t>> per_second(
      std::max<size_t>(1, static_cast<size_t>(std::llround(r.elapsed_s))));
  for (const auto& p : r.paths)
    for (size_t k = 0; k < p.finished_ms.size() && k < p.latencies_us.size(); ++k)
      per_second[std::min<size_t>(p.finished_ms[k] / 1000, per_second.size() - 1)].push_back(
          p.latencies_us[k]);
  Json over_time = Json::array();
  for (size_t sec = 0; sec < per_second.size(); ++sec) {
    if (per_second[sec].empty()) continue;
    over_time.push_back({{"t_s", sec + 1},
                         {"calls", per_second[sec].size()},
                         {"p50_us", percentile_us(per_second[sec], 0.5)},
                         {"p90_us", percentile_us(per_second[sec], 0.9)},
                         {"p99_us", percentile_us(per_second[sec], 0.99)}});
  }
  // Log-spaced buckets, 10 per decade: {upper bound µs, calls}, empty buckets left out.
  Json histogram = Json::array();
  for (const auto& p : r.paths) {
    std::map<int, size_t> buckets;
    for (auto us : p.latencies_us)
      ++buckets[static_cast<int>(
          std::ceil(10 * std::log10(static_cast<double>(std::max<int64_t>(us, 1)))))];
    Json b = Json::array();
    for (const auto& [k, n] : buckets)
      b.push_back({{"le_us", std::llround(std::pow(10.0, k / 10.0))}, {"calls", n}});
    histogram.push_back({{"name", p.name}, {"buckets", b}});
  }
  return {{"elapsed_s", r.elapsed_s},
          {"calls", r.calls()},
          {"over_time", over_time},
          {"histogram", histogram},
          {"errors", r.errors()},
          {"throughput_per_s", r.calls() / r.elapsed_s},
          {"exchanges", r.exchanges},
          {"cache_hits", r.cache_hits},
          {"cache_misses", r.cache_misses},
          {"paths", paths},
          {"rss_kb", r.rss_kb},
          {"rss_after_10s_kb", r.rss_at_kb(10)},
          {"rss_end_kb", r.rss_kb.empty() ? 0 : r.rss_kb.back().second}};
}

namespace {
std::string duration_label(double us) {
  char buf[32];
  if (us >= 1e6)
    std::snprintf(buf, sizeof buf, "%g s", us / 1e6);
  else if (us >= 1e3)
    std::snprintf(buf, sizeof buf, "%g ms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%g µs", us);
  return buf;
}
}  // namespace

std::string render_svg(const LoadReport& r) {
  // One latency histogram per path on an opaque background: log-spaced buckets over the
  // decades the run's latencies actually span, an x axis in time units, a y axis in calls.
  const int w = 760, row_h = 200, left = 70, right = 20;
  int64_t lo_us = INT64_MAX, hi_us = 1;
  for (const auto& p : r.paths)
    for (auto us : p.latencies_us) {
      lo_us = std::min(lo_us, std::max<int64_t>(us, 1));
      hi_us = std::max(hi_us, us);
    }
  if (lo_us == INT64_MAX) lo_us = 100;
  const int lo_dec = static_cast<int>(std::floor(std::log10(static_cast<double>(lo_us))));
  const int hi_dec =
      std::max(lo_dec + 1, static_cast<int>(std::ceil(std::log10(static_cast<double>(hi_us) + 1))));
  const int decades = hi_dec - lo_dec;
  const int buckets = std::clamp(decades * 10, 10, 60);
  const int plot_w = w - left - right, bw = std::max(1, plot_w / buckets);
  auto bucket_of = [&](int64_t us) {
    const double x = std::log10(static_cast<double>(std::max<int64_t>(us, 1))) - lo_dec;
    return std::clamp(static_cast<int>(x / decades * buckets), 0, buckets - 1);
  };
  const size_t height = row_h * std::max<size_t>(r.paths.size(), 1) + 10;
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << w << " " << height
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  for (size_t i = 0; i < r.paths.size(); ++i) {
    const auto& p = r.paths[i];
    std::vector<size_t> h(buckets, 0);
    for (auto us : p.latencies_us) ++h[bucket_of(us)];
    const size_t peak = std::max<size_t>(1, *std::max_element(h.begin(), h.end()));
    const int top = static_cast<int>(i) * row_h + 18, plot_top = top + 22, base = top + row_h - 50;
    std::string name = p.name.size() > 70 ? p.name.substr(0, 69) + "…" : p.name;
    o << "<text x=\"" << left << "\" y=\"" << top << "\" font-weight=\"bold\">" << xml_escape(name)
      << "</text>\n";
    o << "<text x=\"" << left << "\" y=\"" << top + 14 << "\" fill=\"#555\">"
      << p.latencies_us.size() << " calls · p50 "
      << duration_label(static_cast<double>(percentile_us(p.latencies_us, 0.5))) << " · p99 "
      << duration_label(static_cast<double>(percentile_us(p.latencies_us, 0.99))) << " · "
      << p.errors << " errors</text>\n";
    for (int b = 0; b < buckets; ++b) {
      const int bh = static_cast<int>(static_cast<double>(h[b]) / peak * (base - plot_top));
      if (bh > 0)
        o << "<rect x=\"" << left + b * bw << "\" y=\"" << base - bh << "\" width=\""
          << std::max(1, bw - 1) << "\" height=\"" << bh << "\" fill=\"#3b7dd8\"/>\n";
    }
    // Axes: x in time (one tick per decade), y in calls (0, half, peak).
    o << "<line x1=\"" << left << "\" y1=\"" << base << "\" x2=\"" << left + buckets * bw
      << "\" y2=\"" << base << "\" stroke=\"#333\"/>\n"
      << "<line x1=\"" << left << "\" y1=\"" << plot_top << "\" x2=\"" << left << "\" y2=\"" << base
      << "\" stroke=\"#333\"/>\n";
    for (int k = 0; k <= decades; ++k) {
      const int x = left + k * buckets * bw / decades;
      o << "<line x1=\"" << x << "\" y1=\"" << base << "\" x2=\"" << x << "\" y2=\"" << base + 4
        << "\" stroke=\"#333\"/>\n<text x=\"" << x << "\" y=\"" << base + 16
        << "\" text-anchor=\"middle\">" << duration_label(std::pow(10.0, lo_dec + k))
        << "</text>\n";
    }
    for (const size_t v : {size_t{0}, peak / 2, peak}) {
      const int y = base - static_cast<int>(static_cast<double>(v) / peak * (base - plot_top));
      o << "<line x1=\"" << left - 4 << "\" y1=\"" << y << "\" x2=\"" << left << "\" y2=\"" << y
        << "\" stroke=\"#333\"/>\n<text x=\"" << left - 7 << "\" y=\"" << y + 4
        << "\" text-anchor=\"end\">" << v << "</text>\n";
    }
    o << "<text x=\"" << left + buckets * bw / 2 << "\" y=\"" << base + 32
      << "\" text-anchor=\"middle\" fill=\"#555\">latency (log scale)</text>\n"
      << "<text x=\"14\" y=\"" << (plot_top + base) / 2
      << "\" fill=\"#555\" transform=\"rotate(-90 14 " << (plot_top + base) / 2
      << ")\" text-anchor=\"middle\">calls</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

std::string render_junit(const LoadReport& r, const std::string& scenario) {
  JunitSuite suite{"txlab.load." + scenario, r.elapsed_s};
  for (const auto& p : r.paths) {
    JunitCase c{suite.name, p.name};
    c.system_out = std::to_string(p.latencies_us.size()) + " calls, p50 " +
                   std::to_string(percentile_us(p.latencies_us, 0.5)) + " us, p99 " +
                   std::to_string(percentile_us(p.latencies_us, 0.99)) + " us";
    if (p.errors)
      c.failure =
          JunitFailure{std::to_string(p.errors) + " of " + std::to_string(p.latencies_us.size()) +
                           " calls missed their expected status",
                       std::nullopt};
    suite.cases.push_back(std::move(c));
  }
  return render_junit(JunitReport{"txlab load", {std::move(suite)}});
}

}  // namespace txlab
