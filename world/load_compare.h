// `txlab load --baseline FILE`: is this run slower than an earlier one, beyond noise?
//
// Each run's JSON carries, per workload path, the run split into equal windows (p50, p99 and
// throughput per window, world/load.h). For each path and metric the ratio of the medians
// current / baseline over the windows gets a 95 % bootstrap confidence interval: both runs'
// windows are resampled with replacement, 2000 times, from a generator seeded by the run's seed
// (so the verdict is reproducible). p50 regressed when the interval's lower bound is above
// 1 + P/100, p99 when above 1 + Q/100 (tails are noisier: a default Q of 50), throughput when
// its upper bound is below 1 - P/100. Medians, not means: one window with a scheduler hiccup
// does not move them. P (--max-regression) is the change worth failing for; the windows measure
// the noise within a run, P absorbs what varies between runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace txlab {

struct RatioInterval {
  double ratio = 0, lo = 0, hi = 0;  // median(current) / median(baseline), its 95 % interval
};

// The bootstrap interval of median(current) / median(baseline); {0, 0, 0} when either is empty
// or the baseline's median is 0.
RatioInterval bootstrap_ratio(const std::vector<double>& baseline,
                              const std::vector<double>& current, uint64_t seed,
                              int resamples = 2000);

struct MetricComparison {
  std::string metric;                // "p50_us", "p99_us", "throughput_per_s"
  double baseline = 0, current = 0;  // medians over the windows
  RatioInterval ci;
  bool regressed = false;
};

struct PathComparison {
  std::string name;
  bool comparable = true;
  std::string why;  // when not comparable
  std::vector<MetricComparison> metrics;
  bool regressed() const;
};

struct LoadComparison {
  std::string error;  // the runs cannot be compared at all (another scenario, mode or rate)
  double max_regression_pct = 10;
  double max_tail_regression_pct = 50;
  std::vector<PathComparison> paths;
  bool regressed() const;
};

// Compares two `load --json` reports (the baseline first).
// P (max_regression_pct) applies to p50 and throughput, the tail's own threshold to p99.
LoadComparison compare_load(const nlohmann::json& baseline, const nlohmann::json& current,
                            double max_regression_pct, uint64_t seed,
                            double max_tail_regression_pct = 50);
std::string render_comparison_text(const LoadComparison& c, const std::string& baseline_name);
nlohmann::json comparison_json(const LoadComparison& c, const std::string& baseline_name);

}  // namespace txlab
