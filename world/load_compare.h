// `txlab load --baseline`: is this run slower than earlier ones, beyond noise?
//
// Each run's JSON carries, per workload path, the run split into equal windows (p50, p99 and
// throughput per window, world/load.h); a report of `--runs N`, a baseline gathered from a
// history, tag each window with its run. For each path and metric the ratio current / baseline
// of the two sides' levels gets a 95 % bootstrap confidence interval (bootstrap_runs_ratio),
// 2000 resamples from a generator seeded by the run's seed (so the verdict is reproducible).
// p50 regressed when the interval's lower bound is above 1 + P/100, p99 when above 1 + Q/100
// (tails are noisier: a default Q of 50), throughput when its upper bound is below 1 - P/100.
// Medians, not means: one window with a scheduler hiccup does not move them. The windows
// measure the noise within a run; runs on each side measure the drift between runs (on a shared
// machine the larger of the two), which a single run cannot see.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace txlab {

struct RatioInterval {
  double ratio = 0, lo = 0, hi = 0;  // current / baseline, its 95 % interval
  double between_run_sd = 0;         // the drift between runs seen (sd of log run levels), or 0
};

// One side of a comparison: its runs, each the values of one metric over the run's windows.
using RunSamples = std::vector<std::vector<double>>;

// The ratio of the two sides' levels (a side's level: the geometric mean of its runs' medians)
// with a 95 % bootstrap interval. Each resample draws every run's windows with replacement and,
// when a side has two runs or more, adds to each run a deviation drawn from the runs' spread
// around their side's mean (both sides pooled): so with several runs the interval carries the
// drift between runs, to which a single run's windows are blind; a side of n runs averages n
// draws. With one run each it is the bootstrap of the ratio of the two runs' window medians.
// {0, 0, 0} when a side is empty or has a run without a positive median.
RatioInterval bootstrap_runs_ratio(const RunSamples& baseline, const RunSamples& current,
                                   uint64_t seed, int resamples = 2000);
// Paired runs (txlab load --versus: the two sides' runs alternated in time, run i of each a
// pair): the ratio is the geometric mean of the pairs' ratios, and each resample draws the pairs
// with replacement (each drawn pair's windows resampled too), so a drift the two runs of a pair
// share cancels. Needs two pairs or more; between_run_sd is the sd of the pairs' log ratios.
RatioInterval bootstrap_paired_ratio(const RunSamples& baseline, const RunSamples& current,
                                     uint64_t seed, int resamples = 2000);
// One run each.
RatioInterval bootstrap_ratio(const std::vector<double>& baseline,
                              const std::vector<double>& current, uint64_t seed,
                              int resamples = 2000);

struct MetricComparison {
  std::string metric;                // "p50_us", "p99_us", "throughput_per_s"
  double baseline = 0, current = 0;  // levels: the geometric mean of the runs' window medians
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
  size_t baseline_runs = 0, current_runs = 0;  // runs on each side (windows tagged "run")
  bool paired = false;                         // --versus: run i of each side a pair
  std::vector<PathComparison> paths;
  bool regressed() const;
};

// Compares two `load --json` reports (the baseline first).
// P (max_regression_pct) applies to p50 and throughput, the tail's own threshold to p99.
// `paired`: the runs were alternated (--versus), see bootstrap_paired_ratio; the scenarios may
// differ then.
LoadComparison compare_load(const nlohmann::json& baseline, const nlohmann::json& current,
                            double max_regression_pct, uint64_t seed,
                            double max_tail_regression_pct = 50, bool paired = false);
std::string render_comparison_text(const LoadComparison& c, const std::string& baseline_name);
nlohmann::json comparison_json(const LoadComparison& c, const std::string& baseline_name);

}  // namespace txlab
