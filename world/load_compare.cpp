// Bootstrap comparison of two load runs (see load_compare.h).
#include "world/load_compare.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"
#include "sim/seed.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

// The median (the mean of the middle two for an even count).
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double resampled_median(const std::vector<double>& v, std::mt19937_64& rng) {
  std::vector<double> r(v.size());
  for (auto& x : r) x = v[rng() % v.size()];
  return median(std::move(r));
}

double number(const Json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0;
}

// The windows' values of one metric, by run: a window's "run" (a --runs report, a baseline
// gathered from several runs) says which; without it every window is of run 0. Latency metrics
// skip windows without calls.
RunSamples samples(const Json& path, const std::string& metric) {
  RunSamples out;
  std::vector<int64_t> ids;
  if (!path.contains("windows") || !path["windows"].is_array()) return out;
  for (const auto& w : path["windows"]) {
    if (metric != "throughput_per_s" && number(w, "calls") <= 0) continue;
    const auto id = static_cast<int64_t>(number(w, "run"));
    const auto at = static_cast<size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
    if (at == ids.size()) {
      ids.push_back(id);
      out.emplace_back();
    }
    out[at].push_back(number(w, metric.c_str()));
  }
  return out;
}

// Every run has two windows or more and a positive median.
bool usable(const RunSamples& runs) {
  if (runs.empty()) return false;
  for (const auto& r : runs)
    if (r.size() < 2 || median(r) <= 0) return false;
  return true;
}

// A side's value: the geometric mean of its runs' medians (the median itself for one run).
double level(const RunSamples& runs) {
  double sum = 0;
  for (const auto& r : runs) sum += std::log(median(r));
  return std::exp(sum / static_cast<double>(runs.size()));
}

const Json* find_path(const Json& report, const std::string& name) {
  if (!report.contains("paths") || !report["paths"].is_array()) return nullptr;
  for (const auto& p : report["paths"])
    if (json_str(p, "name") == name) return &p;
  return nullptr;
}

std::string run_error(const Json& b, const Json& c) {
  if (!b.is_object() || !b.contains("paths")) return "not a txlab load --json report";
  if (json_str(b, "scenario") != json_str(c, "scenario"))
    return "it is of scenario '" + json_str(b, "scenario") + "', this run of '" +
           json_str(c, "scenario") + "'";
  if (json_str(b, "mode") != json_str(c, "mode") ||
      std::abs(number(b, "rate_per_s") - number(c, "rate_per_s")) > 1e-9) {
    std::ostringstream o;
    o << "it was " << json_str(b, "mode") << " at rate " << number(b, "rate_per_s") << ", this run "
      << json_str(c, "mode") << " at rate " << number(c, "rate_per_s")
      << ": latencies and throughput are not comparable";
    return o.str();
  }
  for (const auto& p : b["paths"])
    if (!p.contains("windows")) return "it has no per-window samples (from an older txlab?)";
  return "";
}

}  // namespace

RatioInterval bootstrap_runs_ratio(const RunSamples& baseline, const RunSamples& current,
                                   uint64_t seed, int resamples) {
  const auto level = [](const std::vector<double>& run) { return median(run); };
  for (const auto* side : {&baseline, &current}) {
    if (side->empty()) return {};
    for (const auto& run : *side)
      if (run.empty() || level(run) <= 0) return {};
  }
  // Each run's level is the log of its median; a side's level the mean over its runs.
  const auto logs = [&](const RunSamples& side) {
    std::vector<double> v;
    for (const auto& run : side) v.push_back(std::log(level(run)));
    return v;
  };
  const auto mean = [](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  };
  const auto lb = logs(baseline), lc = logs(current);
  RatioInterval out{std::exp(mean(lc) - mean(lb)), 0, 0, 0};
  // The drift between runs: each run's deviation from its side's mean, from every side with
  // two runs or more (scaled by sqrt(n/(n-1)): deviations from a sample's own mean are smaller
  // than from the true one).
  std::vector<double> drift;
  for (const auto* side : {&lb, &lc}) {
    if (side->size() < 2) continue;
    const double m = mean(*side);
    const double n = static_cast<double>(side->size());
    for (double x : *side) drift.push_back((x - m) * std::sqrt(n / (n - 1)));
  }
  if (!drift.empty()) {
    double ss = 0;
    for (double d : drift) ss += d * d;
    out.between_run_sd = std::sqrt(ss / static_cast<double>(drift.size()));
  }
  std::mt19937_64 rng(seed);
  // One resampled level of a side: every run's windows resampled, plus as many draws of the
  // drift as the side has runs (the uncertainty of a mean of n runs).
  const auto resampled = [&](const RunSamples& side) {
    double sum = 0;
    for (const auto& run : side) {
      sum += std::log(std::max(resampled_median(run, rng), 1e-300));
      if (!drift.empty()) sum += drift[rng() % drift.size()];
    }
    return sum / static_cast<double>(side.size());
  };
  std::vector<double> ratios;
  ratios.reserve(static_cast<size_t>(std::max(1, resamples)));
  for (int i = 0; i < std::max(1, resamples); ++i) {
    const double b = resampled(baseline);
    ratios.push_back(std::exp(resampled(current) - b));
  }
  std::sort(ratios.begin(), ratios.end());
  const auto n = static_cast<double>(ratios.size());
  out.lo = ratios[static_cast<size_t>(std::floor(0.025 * n))];
  out.hi = ratios[std::min(ratios.size() - 1, static_cast<size_t>(std::ceil(0.975 * n)) - 1)];
  return out;
}

RatioInterval bootstrap_paired_ratio(const RunSamples& baseline, const RunSamples& current,
                                     uint64_t seed, int resamples) {
  const size_t n = baseline.size();
  if (n < 2 || current.size() != n) return {};
  for (const auto* side : {&baseline, &current})
    for (const auto& run : *side)
      if (run.size() < 2 || median(run) <= 0) return {};
  // Pair i's log ratio; their mean is the level ratio's log.
  std::vector<double> d;
  for (size_t i = 0; i < n; ++i) d.push_back(std::log(median(current[i]) / median(baseline[i])));
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(n);
  RatioInterval out{std::exp(mean), 0, 0, 0};
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  out.between_run_sd = std::sqrt(ss / static_cast<double>(n - 1));
  // Each resample draws n pairs with replacement; a drawn pair's log ratio is its windows
  // resampled on both sides, its spread around the mean widened by sqrt(n/(n-1)) (the pairs'
  // own mean is closer to them than the true one).
  const double widen = std::sqrt(static_cast<double>(n) / static_cast<double>(n - 1));
  std::mt19937_64 rng(seed);
  std::vector<double> ratios;
  ratios.reserve(static_cast<size_t>(std::max(1, resamples)));
  for (int r = 0; r < std::max(1, resamples); ++r) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = rng() % n;
      const double b = std::max(resampled_median(baseline[i], rng), 1e-300);
      const double c = std::max(resampled_median(current[i], rng), 1e-300);
      sum += mean + (std::log(c / b) - mean) * widen;
    }
    ratios.push_back(std::exp(sum / static_cast<double>(n)));
  }
  std::sort(ratios.begin(), ratios.end());
  const auto m = static_cast<double>(ratios.size());
  out.lo = ratios[static_cast<size_t>(std::floor(0.025 * m))];
  out.hi = ratios[std::min(ratios.size() - 1, static_cast<size_t>(std::ceil(0.975 * m)) - 1)];
  return out;
}

RatioInterval bootstrap_ratio(const std::vector<double>& baseline,
                              const std::vector<double>& current, uint64_t seed, int resamples) {
  return bootstrap_runs_ratio(RunSamples{baseline}, RunSamples{current}, seed, resamples);
}

bool PathComparison::regressed() const {
  return std::any_of(metrics.begin(), metrics.end(), [](const auto& m) { return m.regressed; });
}

bool LoadComparison::regressed() const {
  return std::any_of(paths.begin(), paths.end(), [](const auto& p) { return p.regressed(); });
}

LoadComparison compare_load(const Json& baseline, const Json& current, double max_regression_pct,
                            uint64_t seed, double max_tail_regression_pct, bool paired) {
  LoadComparison out;
  out.max_regression_pct = max_regression_pct;
  out.max_tail_regression_pct = max_tail_regression_pct;
  out.paired = paired;
  // Paired runs are of two scenarios by design (--versus): the paths are what must match.
  if (paired) {
    Json renamed = current;
    renamed["scenario"] = json_str(baseline, "scenario");
    out.error = run_error(baseline, renamed);
  } else {
    out.error = run_error(baseline, current);
  }
  if (!out.error.empty()) return out;
  const double p = max_regression_pct / 100;
  std::vector<std::string> names;
  for (const auto& path : current["paths"]) names.push_back(json_str(path, "name"));
  for (const auto& path : baseline["paths"])
    if (!find_path(current, json_str(path, "name"))) names.push_back(json_str(path, "name"));
  for (const auto& name : names) {
    PathComparison pc;
    pc.name = name;
    const Json* b = find_path(baseline, name);
    const Json* c = find_path(current, name);
    if (!b || !c) {
      pc.comparable = false;
      pc.why = b ? "not in this run" : "not in the baseline";
      out.paths.push_back(std::move(pc));
      continue;
    }
    for (const std::string metric : {"p50_us", "p99_us", "throughput_per_s"}) {
      const auto bs = samples(*b, metric), cs = samples(*c, metric);
      if (!usable(bs) || !usable(cs)) {
        pc.comparable = false;
        pc.why = "a run with fewer than 2 windows with calls";
        break;
      }
      out.baseline_runs = std::max(out.baseline_runs, bs.size());
      out.current_runs = std::max(out.current_runs, cs.size());
      MetricComparison m{metric, level(bs), level(cs), {}, false};
      const uint64_t draw = derive_seed(seed, "load-baseline/" + name + "/" + metric);
      m.ci = paired && bs.size() == cs.size() && bs.size() >= 2
                 ? bootstrap_paired_ratio(bs, cs, draw)
                 : bootstrap_runs_ratio(bs, cs, draw);
      m.regressed = metric == "throughput_per_s" ? m.ci.hi < 1 - p
                    : metric == "p99_us"         ? m.ci.lo > 1 + max_tail_regression_pct / 100
                                                 : m.ci.lo > 1 + p;
      pc.metrics.push_back(m);
    }
    if (!pc.comparable) pc.metrics.clear();
    out.paths.push_back(std::move(pc));
  }
  return out;
}

namespace {

std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string cell(std::string s, size_t width, bool left = false) {
  if (s.size() >= width) return s + " ";
  return left ? s + std::string(width - s.size(), ' ') : std::string(width - s.size(), ' ') + s;
}

const char* metric_label(const std::string& m) {
  return m == "p50_us" ? "p50 µs" : m == "p99_us" ? "p99 µs" : "calls/s";
}

}  // namespace

std::string render_comparison_text(const LoadComparison& c, const std::string& baseline_name) {
  std::ostringstream o;
  o << "\nbaseline " << baseline_name << " · a regression: the 95 % CI of current/baseline above "
    << fixed(1 + c.max_regression_pct / 100, 2) << " (p50), above "
    << fixed(1 + c.max_tail_regression_pct / 100, 2) << " (p99) or below "
    << fixed(1 - c.max_regression_pct / 100, 2) << " (throughput); values are medians of "
    << "the runs' windows\n";
  if (!c.error.empty()) return o.str() + "not comparable: " + c.error + "\n";
  o << "runs: " << c.baseline_runs << " in the baseline, " << c.current_runs << " now";
  if (c.paired && c.baseline_runs == c.current_runs && c.baseline_runs >= 2)
    o << ", alternated: each pair's ratio, the pairs resampled (drift a pair shares cancels; "
         "drift ± is the sd of the pairs' ratios)";
  else if (c.baseline_runs + c.current_runs < 3)
    o << ": one run each, so the interval holds the noise within a run only; the drift between "
         "runs (often larger) is not in it (give several runs: --runs N, a --history baseline)";
  else
    o << "; the interval carries the drift between runs (sd of the run levels, by metric)";
  o << "\n";
  o << "  " << cell("path", 40, true) << cell("metric", 10, true) << cell("baseline", 11)
    << cell("current", 11) << cell("ratio", 8) << "  " << cell("95 % CI", 16, true) << "verdict\n";
  for (const auto& p : c.paths) {
    const std::string name = p.name.substr(0, 38);
    if (!p.comparable) {
      o << "  " << cell(name, 40, true) << "not comparable: " << p.why << "\n";
      continue;
    }
    bool first = true;
    for (const auto& m : p.metrics) {
      o << "  " << cell(first ? name : "", 40, true) << cell(metric_label(m.metric), 10, true)
        << cell(fixed(m.baseline, m.metric == "throughput_per_s" ? 1 : 0), 11)
        << cell(fixed(m.current, m.metric == "throughput_per_s" ? 1 : 0), 11)
        << cell(fixed(m.ci.ratio, 3), 8) << "  "
        << cell("[" + fixed(m.ci.lo, 3) + ", " + fixed(m.ci.hi, 3) + "]", 16, true)
        << (m.ci.between_run_sd > 0 ? cell(m.regressed ? "REGRESSION" : "ok", 11, true) +
                                          "drift ±" + fixed(100 * m.ci.between_run_sd, 1) + " %"
            : m.regressed ? "REGRESSION"
                          : "ok")
        << "\n";
      first = false;
    }
  }
  o << (c.regressed() ? "verdict: REGRESSION\n" : "verdict: no significant regression\n");
  return o.str();
}

Json comparison_json(const LoadComparison& c, const std::string& baseline_name) {
  Json paths = Json::array();
  for (const auto& p : c.paths) {
    Json metrics = Json::object();
    for (const auto& m : p.metrics)
      metrics[m.metric] = {{"baseline", m.baseline},
                           {"current", m.current},
                           {"ratio", m.ci.ratio},
                           {"ci95", {m.ci.lo, m.ci.hi}},
                           {"between_run_sd", m.ci.between_run_sd},
                           {"regressed", m.regressed}};
    Json entry = {{"name", p.name},
                  {"comparable", p.comparable},
                  {"metrics", metrics},
                  {"verdict", !p.comparable   ? "not comparable"
                              : p.regressed() ? "regression"
                                              : "ok"}};
    if (!p.comparable) entry["why"] = p.why;
    paths.push_back(std::move(entry));
  }
  Json out = {{"file", baseline_name},
              {"max_regression_pct", c.max_regression_pct},
              {"max_tail_regression_pct", c.max_tail_regression_pct},
              {"confidence", 0.95},
              {"method",
               "bootstrap of the ratio of the run levels (geometric mean of run medians): "
               "windows resampled in each run, the drift between runs drawn from the runs' "
               "spread; 2000 resamples"},
              {"baseline_runs", c.baseline_runs},
              {"paired", c.paired},
              {"current_runs", c.current_runs},
              {"paths", paths},
              {"regressed", c.regressed()}};
  if (!c.error.empty()) out["error"] = c.error;
  return out;
}

}  // namespace txlab
