// The load report as text, JSON, SVG and JUnit (see load.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/junit.h"
#include "sim/xml.h"
#include "world/load.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

std::string pad_left(const std::string& s, size_t width) {
  return std::string(width - std::min(width, s.size()), ' ') + s;
}

std::string mode_line(const LoadReport& r) {
  std::ostringstream o;
  if (r.open_loop)
    o << "open loop at " << r.rate_per_s
      << " calls/s: latency counts from each call's due time; calls more than " << r.max_lag_s
      << " s late are not sent";
  else if (r.rate_per_s > 0)
    o << "closed loop paced at " << r.rate_per_s
      << " calls/s: latency counts from sending (a stall hides the calls it delayed)";
  else
    o << "closed loop, as fast as the callers go: latency counts from sending";
  return o.str();
}

// A window's length: the duration over a run's windows; a run's last window also holds the
// calls that returned after the duration.
double window_seconds(const LoadReport& r, const PathStats& p, size_t w) {
  const size_t per_run = std::max<size_t>(1, p.windows.size() / r.runs());
  const size_t run = w / per_run, i = w % per_run;
  const double width = r.duration_s / static_cast<double>(per_run);
  const double elapsed = run < r.run_elapsed_s.size() ? r.run_elapsed_s[run] : r.elapsed_s;
  if (i + 1 == per_run) return std::max(width, elapsed - width * static_cast<double>(i));
  return width;
}

}  // namespace

std::string render_text(const LoadReport& r) {
  std::ostringstream o;
  o << "txlab load · " << r.calls() << " calls in " << r.elapsed_s << " s";
  if (r.runs() > 1) o << " (" << r.runs() << " runs of " << r.duration_s << " s)";
  o << " · "
    << static_cast<int64_t>(r.elapsed_s > 0 ? static_cast<double>(r.calls()) / r.elapsed_s : 0)
    << " calls/s · " << r.errors() << " errors · " << r.exchanges << " exchanges";
  if (r.cache_hits + r.cache_misses)
    o << " · exchange cache hit ratio " << 100 * r.cache_hits / (r.cache_hits + r.cache_misses)
      << "%";
  if (!r.rss_kb.empty()) {
    o << " · RSS " << r.rss_kb.front().second / 1024 << " → " << r.rss_kb.back().second / 1024
      << " MiB";
    if (const int64_t at10 = r.rss_at_kb(10); at10 > 0 && r.elapsed_s > 10)
      o << " (end / 10 s: " << std::round(100.0 * r.rss_kb.back().second / at10) / 100 << ")";
  }
  o << "\n" << mode_line(r) << "\n";
  if (r.unsent())
    o << "NOT SUSTAINED: " << r.unsent() << " due calls were not sent (the callers fell more than "
      << r.max_lag_s
      << " s behind, or were still busy at the end); the percentiles do not include them\n";
  o << "\n  path                                        calls   errors     p50 µs     p90 µs     "
       "p99 µs   p99.9 µs     max µs\n";
  for (const auto& p : r.paths) {
    std::string name = p.name.substr(0, 41);
    name.resize(43, ' ');
    o << "  " << name << pad_left(std::to_string(p.calls()), 6)
      << pad_left(std::to_string(p.errors), 9);
    for (double q : {0.5, 0.9, 0.99, 0.999, 1.0})
      o << pad_left(std::to_string(p.latency.percentile(q)), 11);
    o << "\n";
  }
  return o.str();
}

namespace {

Json windows_json(const LoadReport& r, const PathStats& p) {
  Json out = Json::array();
  const size_t per_run = std::max<size_t>(1, p.windows.size() / r.runs());
  const double width = r.duration_s / static_cast<double>(per_run);
  for (size_t w = 0; w < p.windows.size(); ++w) {
    const auto& h = p.windows[w].latency;
    Json j = {{"t_s", std::round(width * static_cast<double>(w % per_run + 1) * 1000) / 1000},
              {"calls", h.count()},
              {"errors", p.windows[w].errors},
              {"p50_us", h.percentile(0.5)},
              {"p99_us", h.percentile(0.99)},
              {"throughput_per_s", static_cast<double>(h.count()) / window_seconds(r, p, w)}};
    if (r.runs() > 1) j["run"] = p.windows[w].run;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace

Json render_json(const LoadReport& r) {
  Json paths = Json::array();
  for (const auto& p : r.paths)
    paths.push_back(
        {{"name", p.name},
         {"calls", p.calls()},
         {"errors", p.errors},
         {"unsent", p.unsent},
         {"throughput_per_s", r.elapsed_s > 0 ? static_cast<double>(p.calls()) / r.elapsed_s : 0.0},
         {"p50_us", p.latency.percentile(0.5)},
         {"p90_us", p.latency.percentile(0.9)},
         {"p99_us", p.latency.percentile(0.99)},
         {"p999_us", p.latency.percentile(0.999)},
         {"max_us", p.latency.max()},
         {"windows", windows_json(r, p)}});
  // Percentiles second by second, all paths together; a last fraction of a second shorter than
  // half a second joins the second before it.
  const size_t seconds = std::max<size_t>(1, static_cast<size_t>(std::llround(r.elapsed_s)));
  std::vector<LatencyHistogram> per_second(seconds, LatencyHistogram(5));
  for (size_t sec = 0; sec < r.per_second.size(); ++sec)
    per_second[std::min(sec, seconds - 1)].merge(r.per_second[sec]);
  Json over_time = Json::array();
  for (size_t sec = 0; sec < per_second.size(); ++sec) {
    const auto& h = per_second[sec];
    if (!h.count()) continue;
    over_time.push_back({{"t_s", sec + 1},
                         {"calls", h.count()},
                         {"p50_us", h.percentile(0.5)},
                         {"p90_us", h.percentile(0.9)},
                         {"p99_us", h.percentile(0.99)}});
  }
  // Log-spaced buckets, 10 per decade: {upper bound µs, calls}, empty buckets left out.
  Json histogram = Json::array();
  for (const auto& p : r.paths) {
    std::map<int, size_t> buckets;
    const int64_t lo = p.latency.min(), hi = p.latency.max();
    p.latency.for_each_bucket([&](int64_t l, int64_t h, uint64_t n) {
      const int64_t us = std::clamp(l + (h - l) / 2, lo, hi);
      buckets[static_cast<int>(
          std::ceil(10 * std::log10(static_cast<double>(std::max<int64_t>(us, 1)))))] += n;
    });
    Json b = Json::array();
    for (const auto& [k, n] : buckets)
      b.push_back({{"le_us", std::llround(std::pow(10.0, k / 10.0))}, {"calls", n}});
    histogram.push_back({{"name", p.name}, {"buckets", b}});
  }
  return {{"elapsed_s", r.elapsed_s},
          {"duration_s", r.duration_s},
          {"mode", r.open_loop ? "open-loop" : "closed-loop"},
          {"rate_per_s", r.rate_per_s},
          {"runs", r.runs()},
          {"max_lag_s", r.max_lag_s},
          {"histogram_relative_error",
           r.paths.empty() ? 0.0 : r.paths.front().latency.relative_error()},
          {"calls", r.calls()},
          {"unsent", r.unsent()},
          {"over_time", over_time},
          {"histogram", histogram},
          {"errors", r.errors()},
          {"throughput_per_s", r.elapsed_s > 0 ? static_cast<double>(r.calls()) / r.elapsed_s : 0},
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
    if (p.calls()) {
      lo_us = std::min(lo_us, std::max<int64_t>(p.latency.min(), 1));
      hi_us = std::max(hi_us, p.latency.max());
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
    p.latency.for_each_bucket([&](int64_t l, int64_t hi, uint64_t n) {
      h[bucket_of(std::clamp(l + (hi - l) / 2, p.latency.min(), p.latency.max()))] += n;
    });
    const size_t peak = std::max<size_t>(1, *std::max_element(h.begin(), h.end()));
    const int top = static_cast<int>(i) * row_h + 18, plot_top = top + 22, base = top + row_h - 50;
    std::string name = p.name.size() > 70 ? p.name.substr(0, 69) + "…" : p.name;
    o << "<text x=\"" << left << "\" y=\"" << top << "\" font-weight=\"bold\">" << xml_escape(name)
      << "</text>\n";
    o << "<text x=\"" << left << "\" y=\"" << top + 14 << "\" fill=\"#555\">" << p.calls()
      << " calls · p50 " << duration_label(static_cast<double>(p.latency.percentile(0.5)))
      << " · p99 " << duration_label(static_cast<double>(p.latency.percentile(0.99))) << " · p99.9 "
      << duration_label(static_cast<double>(p.latency.percentile(0.999))) << " · " << p.errors
      << " errors</text>\n";
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

std::string render_junit(const LoadReport& r, const std::string& scenario,
                         const std::map<std::string, std::string>& regressions) {
  JunitSuite suite{"txlab.load." + scenario, r.elapsed_s};
  for (const auto& p : r.paths) {
    JunitCase c{suite.name, p.name};
    c.system_out = std::to_string(p.calls()) + " calls, p50 " +
                   std::to_string(p.latency.percentile(0.5)) + " us, p99 " +
                   std::to_string(p.latency.percentile(0.99)) + " us, p99.9 " +
                   std::to_string(p.latency.percentile(0.999)) + " us, " +
                   std::to_string(p.unsent) + " unsent";
    if (p.errors)
      c.failure = JunitFailure{std::to_string(p.errors) + " of " + std::to_string(p.calls()) +
                                   " calls missed their expected status",
                               std::nullopt};
    if (auto it = regressions.find(p.name); it != regressions.end()) {
      const std::string msg = "slower than the baseline: " + it->second;
      if (c.failure)
        c.failure->message += "; " + msg;
      else
        c.failure = JunitFailure{msg, std::nullopt};
    }
    suite.cases.push_back(std::move(c));
  }
  return render_junit(JunitReport{"txlab load", {std::move(suite)}});
}

}  // namespace txlab
