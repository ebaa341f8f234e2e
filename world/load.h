// `txlab load`: drives a scenario's workload from C concurrent callers for a duration
// (optionally at a fixed total rate) and reports throughput, latency percentiles, errors,
// exchanges performed and the exchange-cache hit ratio, as text, JSON and an SVG histogram.
#pragma once

#include <functional>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace txlab {

class World;

struct LoadOptions {
  int concurrency = 4;
  double duration_s = 5;
  double rate_per_s = 0;  // 0 = as fast as possible
  // Called about once a second while the load runs (elapsed seconds, calls so far, errors so
  // far); may be empty.
  std::function<void(double t_s, size_t calls, size_t errors)> progress;
};

struct PathStats {
  std::string name;  // workload entry
  std::vector<int64_t> latencies_us;
  std::vector<uint32_t> finished_ms;  // when each call of latencies_us ended, since the start
  size_t errors = 0;
};

struct LoadReport {
  double elapsed_s = 0;
  std::vector<PathStats> paths;
  size_t exchanges = 0;
  size_t cache_hits = 0, cache_misses = 0;
  // Resident memory of this process, sampled every 500 ms: (seconds since start, KiB).
  std::vector<std::pair<double, int64_t>> rss_kb;
  int64_t rss_at_kb(double t_s) const;  // the first sample at or after t_s (0 when none)
  size_t calls() const;
  size_t errors() const;
};

LoadReport run_load(World& world, const LoadOptions& options);
int64_t percentile_us(std::vector<int64_t> v, double p);
std::string render_text(const LoadReport& r);
// Includes `over_time`: one entry per second of the run (calls that ended in it, their
// p50/p90/p99 across paths) and `histogram`: per path, log-spaced latency buckets.
nlohmann::json render_json(const LoadReport& r);
std::string render_svg(const LoadReport& r);
// A test case per workload path: failed when any of its calls missed its expected status, so
// JUnit agrees with the exit code.
std::string render_junit(const LoadReport& r, const std::string& scenario);

}  // namespace txlab
