// `txlab load`: drives a scenario's workload from C concurrent callers for a duration and
// reports throughput, latency percentiles (from a log-linear histogram, sim/latency_histogram),
// errors, exchanges performed and the exchange-cache hit ratio, as text, JSON and SVG.
//
// Closed loop (no rate, or --closed-loop): a caller sends its next call when the previous one
// has returned, and a call's latency counts from when it was sent. A stall then delays the
// sending too, so the calls that would have waited are never measured (coordinated omission).
// Open loop (a rate): call n of the run is due at start + n / rate, caller n mod C sends it, and
// its latency counts from that due time, so the time a call waited for its caller shows. A call
// whose caller gets to it more than max_lag_s late, or after the run's end, is not sent and
// counted as unsent: the schedule is arithmetic, nothing queues.
//
// Each path's calls are also split by completion time into `windows` equal windows of the run
// (p50, p99, throughput each): the repeated samples `--baseline` compares (world/load_compare.h).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/latency_histogram.h"

namespace txlab {

class World;

struct LoadOptions {
  int concurrency = 4;
  double duration_s = 5;
  double rate_per_s = 0;  // 0 = as fast as possible (closed loop)
  bool open_loop = true;  // with a rate: latency from the due time (false: the old pacing)
  double max_lag_s = 2;   // open loop: a call this late is not sent (unsent)
  int windows = 10;       // samples per path for --baseline
  // Called about once a second while the load runs (elapsed seconds, calls so far, errors so
  // far); may be empty.
  std::function<void(double t_s, size_t calls, size_t errors)> progress;
};

struct LoadWindow {
  LatencyHistogram latency;
  size_t errors = 0;
  int run = 0;  // which run of a merged report (merge_runs) the window is of
};

struct PathStats {
  std::string name;  // workload entry
  LatencyHistogram latency;
  std::vector<LoadWindow> windows;
  size_t errors = 0;
  size_t unsent = 0;  // open loop: due calls not sent (the callers fell behind)
  size_t calls() const { return latency.count(); }
};

struct LoadReport {
  bool open_loop = false;
  double rate_per_s = 0;
  double duration_s = 0;  // as asked; the windows divide it
  double max_lag_s = 0;
  double elapsed_s = 0;  // until the last call returned (runs merged: their sum)
  // merge_runs: how long each run took (empty: one run, elapsed_s); each path's windows are the
  // runs' windows in turn, `windows / runs` each.
  std::vector<double> run_elapsed_s;
  size_t runs() const { return std::max<size_t>(1, run_elapsed_s.size()); }
  std::vector<PathStats> paths;
  std::vector<LatencyHistogram> per_second;  // every path's calls by the second they ended in
  size_t exchanges = 0;
  size_t cache_hits = 0, cache_misses = 0;
  // Resident memory of this process, sampled every 500 ms: (seconds since start, KiB).
  std::vector<std::pair<double, int64_t>> rss_kb;

  // An empty report for these paths, `windows` windows over `duration_s`.
  static LoadReport for_paths(const std::vector<std::string>& names, double duration_s,
                              int windows);
  // One call of path `path` that took `us` and ended `end_s` seconds after the start.
  void record(size_t path, int64_t us, double end_s, bool failed);
  int64_t rss_at_kb(double t_s) const;  // the first sample at or after t_s (0 when none)
  size_t calls() const;
  size_t errors() const;
  size_t unsent() const;
};

LoadReport run_load(World& world, const LoadOptions& options);
// Runs of the same load, one after the other, as one report: calls, errors, unsent, histograms,
// exchanges and cache counts added up; each run's windows kept, tagged with its run; the
// per-second and memory samples one after the other. `runs` must not be empty and must be of
// the same paths and options.
LoadReport merge_runs(std::vector<LoadReport> runs);
int64_t percentile_us(std::vector<int64_t> v, double p);
std::string render_text(const LoadReport& r);
// Includes `over_time`: one entry per second of the run (calls that ended in it, their
// p50/p90/p99 across paths), `histogram`: per path, log-spaced latency buckets, and per path
// `windows` (p50, p99, throughput per window).
nlohmann::json render_json(const LoadReport& r);
std::string render_svg(const LoadReport& r);
// A test case per workload path: failed when any of its calls missed its expected status, or
// when `regressions` names the path (--baseline: path name -> what regressed), so JUnit agrees
// with the exit code.
std::string render_junit(const LoadReport& r, const std::string& scenario,
                         const std::map<std::string, std::string>& regressions = {});

}  // namespace txlab
