// txlab load's statistics: the latency histogram against exact sorted values, the bootstrap
// regression test (shifted, identical, slightly shifted), the history file and page, and open
// versus closed loop against a link that stalls (coordinated omission).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "sim/latency_histogram.h"
#include "world/load.h"
#include "world/load_compare.h"
#include "world/load_history.h"
#include "world/world.h"

using namespace txlab;
using Json = nlohmann::json;

namespace {

// The exact rank-th smallest value, ranked as the histogram ranks.
int64_t exact(std::vector<int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return v[LatencyHistogram::rank_of(q, v.size()) - 1];
}

}  // namespace

// Every percentile is within the stated relative error of the exact value; min and max exact.
RC_GTEST_PROP(LatencyHistogramProperty, PercentilesWithinTheStatedRelativeError, ()) {
  const auto values = *rc::gen::nonEmpty(rc::gen::container<std::vector<int64_t>>(
      rc::gen::oneOf(rc::gen::inRange<int64_t>(0, 300), rc::gen::inRange<int64_t>(0, 100000),
                     rc::gen::inRange<int64_t>(0, int64_t{1} << 36))));
  const int bits = *rc::gen::inRange(4, 9);
  LatencyHistogram h(bits);
  for (auto v : values) h.record(v);
  RC_ASSERT(h.count() == values.size());
  RC_ASSERT(h.max() == *std::max_element(values.begin(), values.end()));
  RC_ASSERT(h.min() == *std::min_element(values.begin(), values.end()));
  const double random_q = *rc::gen::inRange(0, 1001) / 1000.0;
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0, random_q}) {
    const auto want = static_cast<double>(exact(values, q));
    const auto got = static_cast<double>(h.percentile(q));
    RC_ASSERT(std::abs(got - want) <= want * h.relative_error());
  }
}

// The default precision meets the 1 % the load report promises, and the bound is not vacuous:
// a coarse histogram (8 sub-buckets) misses it on the same data.
TEST(LatencyHistogramTest, DefaultPrecisionIsWithinOnePercentAndACoarseOneIsNot) {
  LatencyHistogram fine, coarse(3);
  EXPECT_LE(fine.relative_error(), 0.01);
  std::mt19937_64 rng(7);
  std::vector<int64_t> v;
  for (int i = 0; i < 20000; ++i) v.push_back(1000 + static_cast<int64_t>(rng() % 200000));
  for (auto x : v) {
    fine.record(x);
    coarse.record(x);
  }
  std::sort(v.begin(), v.end());
  double worst_fine = 0, worst_coarse = 0;
  for (int k = 1; k < 1000; ++k) {
    const double q = k / 1000.0;
    const auto want = static_cast<double>(v[LatencyHistogram::rank_of(q, v.size()) - 1]);
    worst_fine = std::max(worst_fine, std::abs(fine.percentile(q) - want) / want);
    worst_coarse = std::max(worst_coarse, std::abs(coarse.percentile(q) - want) / want);
  }
  EXPECT_LE(worst_fine, 0.01);
  EXPECT_GT(worst_coarse, 0.01);
  // Fixed memory: a value past the range is counted at its end, not grown into.
  LatencyHistogram big;
  big.record(int64_t{1} << 62);
  EXPECT_EQ(big.max(), LatencyHistogram::kMaxUs);
}

namespace {

// A load --json report of one path whose 10 windows draw p50 ~ N(p50, 3 %) and p99
// ~ N(4·p50, 8 %) and throughput ~ N(tput, 3 %).
Json report(double p50, double tput, uint64_t seed, const std::string& scenario = "s") {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  Json windows = Json::array();
  for (int w = 0; w < 10; ++w)
    windows.push_back({{"calls", 100},
                       {"p50_us", p50 * (1 + 0.03 * n01(rng))},
                       {"p99_us", 4 * p50 * (1 + 0.08 * n01(rng))},
                       {"throughput_per_s", tput * (1 + 0.03 * n01(rng))}});
  return {{"scenario", scenario},
          {"mode", "closed-loop"},
          {"rate_per_s", 0},
          {"paths", {{{"name", "chain"}, {"windows", windows}}}}};
}

const MetricComparison& metric(const LoadComparison& c, const std::string& m) {
  for (const auto& x : c.paths.at(0).metrics)
    if (x.metric == m) return x;
  throw std::out_of_range(m);
}

}  // namespace

TEST(LoadCompareTest, AShiftedDistributionIsFlagged) {
  const auto c = compare_load(report(1000, 500, 1), report(1300, 500, 2), 10, 42);
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_TRUE(c.regressed());
  EXPECT_TRUE(metric(c, "p50_us").regressed);
  EXPECT_GT(metric(c, "p50_us").ci.lo, 1.10);
  EXPECT_FALSE(metric(c, "throughput_per_s").regressed);
  // Throughput's mirror: 30 % fewer calls a second.
  const auto t = compare_load(report(1000, 500, 1), report(1000, 350, 2), 10, 42);
  EXPECT_TRUE(metric(t, "throughput_per_s").regressed);
  EXPECT_LT(metric(t, "throughput_per_s").ci.hi, 0.90);
  EXPECT_FALSE(metric(t, "p50_us").regressed);
}

TEST(LoadCompareTest, TheSameDistributionFromAnotherSeedIsNot) {
  for (uint64_t seed = 2; seed < 40; ++seed) {
    const auto c = compare_load(report(1000, 500, 1), report(1000, 500, seed), 10, seed);
    EXPECT_FALSE(c.regressed()) << "seed " << seed;
    EXPECT_LE(metric(c, "p50_us").ci.lo, 1.0 + 1e-9 + 0.1) << "seed " << seed;
  }
}

TEST(LoadCompareTest, AShiftBelowTheThresholdIsNot) {
  const auto c = compare_load(report(1000, 500, 1), report(1050, 500, 3), 10, 5);
  EXPECT_FALSE(c.regressed());
  EXPECT_GT(metric(c, "p50_us").ci.hi, 1.0);  // seen, but not beyond +10 %
  // ... and it is flagged when the threshold is below it.
  EXPECT_TRUE(compare_load(report(1000, 500, 1), report(1200, 500, 3), 10, 5).regressed());
}

// One window with a scheduler hiccup (p50 and p99 ten times the rest) moves a mean by 90 %: the
// medians do not move, so the gate does not fire on it.
TEST(LoadCompareTest, OneHiccupWindowIsNotARegression) {
  Json hiccup = report(1000, 500, 2);
  hiccup["paths"][0]["windows"][3]["p50_us"] = 10000.0;
  hiccup["paths"][0]["windows"][3]["p99_us"] = 40000.0;
  const auto c = compare_load(report(1000, 500, 1), hiccup, 10, 3);
  EXPECT_FALSE(c.regressed());
  EXPECT_LT(metric(c, "p50_us").ci.ratio, 1.1);
}

// p99 has its own threshold: +30 % passes the default 50 %, fails a 10 % one.
TEST(LoadCompareTest, TheTailHasItsOwnThreshold) {
  Json slower_tail = report(1000, 500, 2);
  for (auto& w : slower_tail["paths"][0]["windows"]) w["p99_us"] = w["p99_us"].get<double>() * 1.3;
  EXPECT_FALSE(compare_load(report(1000, 500, 1), slower_tail, 10, 3).regressed());
  const auto strict = compare_load(report(1000, 500, 1), slower_tail, 10, 3, 10);
  EXPECT_TRUE(metric(strict, "p99_us").regressed);
  EXPECT_FALSE(metric(strict, "p50_us").regressed);
}

TEST(LoadCompareTest, TheBootstrapIsReproducibleFromTheSeed) {
  const std::vector<double> b{1, 1.1, 0.9, 1.05, 0.95}, c{1.2, 1.3, 1.1, 1.25, 1.15};
  const auto x = bootstrap_ratio(b, c, 9), y = bootstrap_ratio(b, c, 9);
  EXPECT_EQ(x.lo, y.lo);
  EXPECT_EQ(x.hi, y.hi);
  EXPECT_NEAR(x.ratio, 1.2, 1e-9);
  EXPECT_LT(x.lo, x.ratio);
  EXPECT_GT(x.hi, x.ratio);
}

TEST(LoadCompareTest, AnotherScenarioModeOrPathSetIsNotComparable) {
  EXPECT_NE(compare_load(report(1000, 500, 1, "a"), report(1000, 500, 2, "b"), 10, 1)
                .error.find("scenario 'a'"),
            std::string::npos);
  Json open = report(1000, 500, 2);
  open["mode"] = "open-loop";
  open["rate_per_s"] = 200;
  EXPECT_NE(compare_load(report(1000, 500, 1), open, 10, 1).error.find("not comparable"),
            std::string::npos);
  Json renamed = report(1000, 500, 2);
  renamed["paths"][0]["name"] = "other";
  const auto c = compare_load(report(1000, 500, 1), renamed, 10, 1);
  ASSERT_TRUE(c.error.empty());
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_FALSE(c.paths[0].comparable);
  EXPECT_EQ(c.paths[0].why, "not in the baseline");
  EXPECT_EQ(c.paths[1].why, "not in this run");
  EXPECT_FALSE(c.regressed());
  const std::string text = render_comparison_text(c, "base.json");
  EXPECT_NE(text.find("not comparable: not in the baseline"), std::string::npos) << text;
}

namespace {

// A report of `runs` runs, each of 10 windows: run r's level is p50 · exp(drift · z_r) (the
// drift between runs), its windows' p50 that level ± 3 % (the noise within a run).
Json drifting(double p50, double drift, int runs, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  Json windows = Json::array();
  for (int r = 0; r < runs; ++r) {
    const double level = p50 * std::exp(drift * n01(rng));
    for (int w = 0; w < 10; ++w)
      windows.push_back({{"run", r},
                         {"calls", 100},
                         {"p50_us", level * (1 + 0.03 * n01(rng))},
                         {"p99_us", 4 * level * (1 + 0.08 * n01(rng))},
                         {"throughput_per_s", 500 * (1 + 0.03 * n01(rng))}});
  }
  return {{"scenario", "s"},
          {"mode", "open-loop"},
          {"rate_per_s", 200},
          {"paths", {{{"name", "chain"}, {"windows", windows}}}}};
}

}  // namespace

// Runs that drift by 10 % between them (sd) and 3 % within: one run against one run sees only
// the noise within, so unchanged runs raise false alarms; five baseline runs against three
// current ones carry the drift: no alarm, and a 60 % slowdown is still flagged.
TEST(LoadCompareTest, SeveralRunsCarryTheDriftBetweenRuns) {
  int single_alarms = 0, multi_alarms = 0, multi_flagged = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const Json one_b = drifting(1000, 0.10, 1, 1000 + seed), one_c = drifting(1000, 0.10, 1, seed);
    single_alarms += compare_load(one_b, one_c, 10, seed).regressed();
    const Json base = drifting(1000, 0.10, 5, 1000 + seed);
    const auto same = compare_load(base, drifting(1000, 0.10, 3, seed), 10, seed);
    ASSERT_TRUE(same.error.empty()) << same.error;
    EXPECT_EQ(same.baseline_runs, 5u);
    EXPECT_EQ(same.current_runs, 3u);
    EXPECT_GT(metric(same, "p50_us").ci.between_run_sd, 0.03) << "seed " << seed;
    multi_alarms += same.regressed();
    multi_flagged += compare_load(base, drifting(1600, 0.10, 3, seed), 10, seed).regressed();
  }
  EXPECT_GE(single_alarms, 4);  // the blind spot the runs close
  EXPECT_EQ(multi_alarms, 0);
  EXPECT_EQ(multi_flagged, 40);
}

// Alternated runs share the machine's drift pair by pair (each pair's level moves by 20 % sd,
// both sides alike): unpaired, that drift swamps a 25 % slowdown; paired, it cancels, the
// slowdown is flagged for every seed and an unchanged side never is.
TEST(LoadCompareTest, PairedRunsCancelTheDriftTheyShare) {
  const auto side = [](double factor, uint64_t seed, uint64_t noise_seed) {
    // One distribution per engine: a normal distribution keeps a cached draw between calls.
    std::mt19937_64 drift(seed), noise(noise_seed);
    std::normal_distribution<double> d01(0, 1), n01(0, 1);
    Json windows = Json::array();
    for (int r = 0; r < 5; ++r) {
      const double level = 1000 * factor * std::exp(0.2 * d01(drift));
      for (int w = 0; w < 10; ++w)
        windows.push_back({{"run", r},
                           {"calls", 100},
                           {"p50_us", level * (1 + 0.03 * n01(noise))},
                           {"p99_us", 4 * level * (1 + 0.05 * n01(noise))},
                           {"throughput_per_s", 500.0}});
    }
    return Json{{"scenario", "s"},
                {"mode", "open-loop"},
                {"rate_per_s", 200},
                {"paths", {{{"name", "chain"}, {"windows", windows}}}}};
  };
  int paired_flagged = 0, unpaired_flagged = 0, paired_alarms = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    const Json base = side(1.0, seed, 100 + seed);
    Json slow = side(1.25, seed, 200 + seed), same = side(1.0, seed, 300 + seed);
    slow["scenario"] = "other";  // paired runs may be of two scenarios
    paired_flagged += compare_load(base, slow, 10, seed, 50, true).regressed();
    slow["scenario"] = "s";
    unpaired_flagged += compare_load(base, slow, 10, seed).regressed();
    const auto c = compare_load(base, same, 10, seed, 50, true);
    ASSERT_TRUE(c.error.empty()) << c.error;
    EXPECT_TRUE(c.paired);
    paired_alarms += c.regressed();
  }
  EXPECT_EQ(paired_flagged, 30);
  EXPECT_LE(unpaired_flagged, 10);
  EXPECT_EQ(paired_alarms, 0);
}

// One run each is the window bootstrap it always was: no drift term.
TEST(LoadCompareTest, OneRunEachHasNoDriftTerm) {
  const auto c = compare_load(drifting(1000, 0.1, 1, 1), drifting(1000, 0.1, 1, 2), 10, 3);
  EXPECT_EQ(metric(c, "p50_us").ci.between_run_sd, 0);
  EXPECT_NE(render_comparison_text(c, "b.json").find("one run each"), std::string::npos);
}

// --runs: the runs merged into one report, windows tagged by run; a history as a baseline: the
// newest entries of the same setup, their runs numbered apart.
TEST(LoadCompareTest, MergedRunsAndAHistoryBaselineKeepTheRunsApart) {
  std::vector<LoadReport> runs;
  for (int r = 0; r < 3; ++r) {
    auto rep = LoadReport::for_paths({"chain"}, 1.0, 4);
    for (int i = 0; i < 40; ++i) rep.record(0, 1000 + 100 * r + i, i / 40.0, false);
    rep.elapsed_s = 1.0;
    runs.push_back(std::move(rep));
  }
  const LoadReport merged = merge_runs(std::move(runs));
  EXPECT_EQ(merged.runs(), 3u);
  EXPECT_EQ(merged.calls(), 120u);
  ASSERT_EQ(merged.paths[0].windows.size(), 12u);
  Json j = render_json(merged);
  EXPECT_EQ(j["runs"], 3);
  EXPECT_EQ(j["paths"][0]["windows"][11]["run"], 2);
  EXPECT_DOUBLE_EQ(j["paths"][0]["windows"][11]["t_s"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["paths"][0]["windows"][5]["throughput_per_s"].get<double>(), 40.0);
  j["scenario"] = "s";
  std::vector<Json> history;
  Json other = j;
  other["rate_per_s"] = 7;
  for (const auto& e : {j, other, j, j}) history.push_back(history_entry(e, "l", "t"));
  std::string error;
  const Json b = history_baseline(history, j, 2, &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(b["runs"], 6);  // two entries of three runs each, the other setup skipped
  EXPECT_EQ(b["paths"][0]["windows"].size(), 24u);
  EXPECT_EQ(b["paths"][0]["windows"][23]["run"], 5);
  const auto c = compare_load(b, j, 10, 1);
  EXPECT_EQ(c.baseline_runs, 6u);
  EXPECT_FALSE(c.regressed());
  Json none = j;
  none["scenario"] = "x";
  history_baseline(history, none, 2, &error);
  EXPECT_NE(error.find("no run of scenario 'x'"), std::string::npos) << error;
}

// --history: a line per run, the newest kept, the page with every label and the regression
// of the third run against the second.
TEST(LoadHistoryTest, AppendsBoundedAndThePageFlagsTheRegression) {
  const std::string dir = ::testing::TempDir() + "txlab-history-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::string error;
  std::vector<Json> runs;
  const double p50s[] = {1000, 1010, 1500};
  for (int i = 0; i < 3; ++i) {
    runs = append_history(
        dir,
        history_entry(report(p50s[i], 500, i + 1), "commit-<" + std::to_string(i) + ">",
                      "2026-01-0" + std::to_string(i + 1) + "T00:00:00Z"),
        &error, 3);
    ASSERT_TRUE(error.empty()) << error;
  }
  ASSERT_EQ(runs.size(), 3u);
  const std::string page = history_page(runs, 10, 1);
  EXPECT_NE(page.find("data-txlab-page=\"load-history\""), std::string::npos);
  EXPECT_NE(page.find("commit-&lt;2&gt;"), std::string::npos);  // labels, escaped
  EXPECT_EQ(page.find("commit-<2>"), std::string::npos);
  EXPECT_NE(page.find("data-verdict=\"REGRESSION\""), std::string::npos);
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  size_t ok_rows = 0;
  for (size_t at = 0; (at = page.find("data-verdict=\"ok\"", at)) != std::string::npos; ++at)
    ++ok_rows;
  EXPECT_EQ(ok_rows, 1u);  // the second run against the first
  // A fourth run: the oldest goes, the file has three lines.
  runs = append_history(dir, history_entry(report(1000, 500, 9), "four", "t"), &error, 3);
  EXPECT_EQ(runs.front()["label"], "commit-<1>");
  std::ifstream in(dir + "/history.jsonl");
  size_t lines = 0;
  for (std::string l; std::getline(in, l);) ++lines;
  EXPECT_EQ(lines, 3u);
  // A broken line is reported with its file and line.
  std::ofstream(dir + "/history.jsonl", std::ios::app) << "{not json\n";
  append_history(dir, history_entry(report(1000, 500, 9), "five", "t"), &error, 3);
  EXPECT_NE(error.find("history.jsonl:4:"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

namespace {

// The calls of a histogram at or above `us` (buckets wholly at or above it).
uint64_t at_least(const LatencyHistogram& h, int64_t us) {
  uint64_t n = 0;
  h.for_each_bucket([&](int64_t lo, int64_t, uint64_t c) { n += lo >= us ? c : 0; });
  return n;
}

LoadReport run_stalled(bool open_loop) {
  World world(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/load-stall.yaml"), 1);
  world.start();
  LoadOptions o;
  o.concurrency = 4;
  o.duration_s = 5;
  o.rate_per_s = 100;
  o.open_loop = open_loop;
  return run_load(world, o);
}

}  // namespace

// The gw-c2p -> gw-c2pe link stalls for D = 1 s (every chunk forwarded in [2 s, 3 s) waits 1 s).
// Open loop: every call due in that second is answered no earlier than its due time + (3 s -
// due), so the 100 calls due in it have latencies spread up to D and at least 2 % of the 500
// exceed 0.9·D: p99 >= 0.9·D whatever the machine's speed. Closed loop at the same rate: each
// of the 4 callers is caught once, the calls it would have sent meanwhile are sent late and
// timed from sending, so at most 4 calls show the stall and p99 does not.
TEST(LoadStallTest, OpenLoopShowsTheStallInTheTailClosedLoopHidesIt) {
  const int64_t stall_us = 1000000;
  const LoadReport open = run_stalled(true);
  ASSERT_EQ(open.paths.size(), 1u);
  const auto& o = open.paths[0];
  EXPECT_EQ(o.errors, 0u);
  // Every call of the schedule (100/s for 5 s) was sent and timed, or counted as unsent.
  EXPECT_EQ(o.calls() + o.unsent, 500u);
  EXPECT_GE(o.latency.percentile(0.99),
            static_cast<int64_t>(0.9 * stall_us * (1 - o.latency.relative_error())));
  EXPECT_GE(at_least(o.latency, stall_us / 2), 45u);  // the calls due in [2 s, 2.5 s)
  const LoadReport closed = run_stalled(false);
  const auto& c = closed.paths[0];
  EXPECT_EQ(c.errors, 0u);
  EXPECT_LE(at_least(c.latency, stall_us / 2), 4u);  // one per caller
  EXPECT_GE(c.latency.max(), stall_us);              // the stall happened to it too ...
  EXPECT_LT(c.latency.percentile(0.99), o.latency.percentile(0.99));  // ... but hides in p99
  const Json j = render_json(open);
  EXPECT_EQ(j["mode"], "open-loop");
  EXPECT_EQ(j["paths"][0]["windows"].size(), 10u);
  EXPECT_GE(j["paths"][0]["p999_us"].get<int64_t>(), j["paths"][0]["p99_us"].get<int64_t>());
}
