// txlab load: the workload driven from concurrent callers for a while; throughput, latency
// percentiles and errors; optionally compared with a baseline and appended to a history.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/command.h"
#include "sim/json_util.h"
#include "world/html.h"
#include "world/load.h"
#include "world/load_compare.h"
#include "world/load_history.h"

namespace txlab::cli {

namespace {

// A JSON file read whole, or a usage error naming the flag and the file (line:column on bad
// JSON).
nlohmann::json read_json_file(const std::string& flag, const std::string& file) {
  std::ifstream in(file);
  if (!in) usage_error(flag + " " + file + ": cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  try {
    return nlohmann::json::parse(s);
  } catch (const nlohmann::json::parse_error& e) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < s.size(); ++i) {
      col = s[i] == '\n' ? 1 : col + 1;
      line += s[i] == '\n';
    }
    usage_error(flag + " " + file + ":" + std::to_string(line) + ":" + std::to_string(col) +
                ": not JSON (" + e.what() + ")");
  }
}

// The baseline: an earlier report, or the newest --baseline-last runs of a history (a --history
// DIR or its history.jsonl) of the same setup. A usage error when there is none.
nlohmann::json read_baseline(const Args& a, const nlohmann::json& setup) {
  std::error_code ec;
  const bool history = std::filesystem::is_directory(a.baseline, ec) ||
                       std::filesystem::path(a.baseline).extension() == ".jsonl";
  if (!history) return read_json_file("--baseline", a.baseline);
  std::string error;
  const auto runs = read_history(a.baseline, &error);
  if (!error.empty()) usage_error("--baseline " + error);
  auto b = history_baseline(runs, setup, static_cast<size_t>(a.baseline_last), &error);
  if (!error.empty()) usage_error("--baseline " + a.baseline + ": " + error);
  return b;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

LoadOptions options_of(const Args& a) {
  LoadOptions o;
  // A line a second on stderr: on a terminal, or with --progress; never with --quiet.
  const bool tty = isatty(STDERR_FILENO) != 0;
  if ((a.progress || tty) && !a.quiet)
    o.progress = [tty](double t_s, size_t calls, size_t errors) {
      char line[128];
      std::snprintf(line, sizeof line, "[%5.1fs] %zu calls, %zu errors, %.0f calls/s", t_s, calls,
                    errors, t_s > 0 ? static_cast<double>(calls) / t_s : 0.0);
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else
        std::cerr << line << "\n";
    };
  o.concurrency = a.concurrency;
  o.duration_s = a.duration_s;
  o.rate_per_s = a.rate;
  o.open_loop = !a.closed_loop;
  return o;
}

// --history: the run appended, the page rewritten; false after saying why not.
bool write_history(const Args& a, const nlohmann::json& report, bool print) {
  const std::string now = utc_now();
  std::string error;
  const auto runs = append_history(
      a.history_dir, history_entry(report, a.label.empty() ? now : a.label, now), &error);
  if (!error.empty()) {
    std::cerr << "txlab: --history " << error << "\n";
    return false;
  }
  const std::string page = a.history_dir + "/index.html";
  if (!write_output(page, history_page(runs, a.max_regression, a.seed, a.max_tail_regression)))
    return false;
  if (print) std::cout << "history: " << page << " (" << runs.size() << " runs)\n";
  return true;
}

}  // namespace

int cmd_load(const Args& a, Scenario s, std::optional<Scenario> versus) {
  if (a.concurrency < 1 || a.concurrency > 512) usage_error("--concurrency must be 1..512");
  if (a.duration_s < 1 || a.duration_s > 3600) usage_error("--duration must be 1..3600 seconds");
  if (a.rate > 100000) usage_error("--rate must be 0..100000 calls a second");
  if (a.closed_loop && a.rate <= 0)
    usage_error("--closed-loop needs --rate (without it the load is closed loop)");
  if (a.max_regression > 99) usage_error("--max-regression must be 0..99 (percent)");
  if (a.max_tail_regression > 1000) usage_error("--max-tail-regression must be 0..1000 (percent)");
  if (a.runs < 1 || a.runs > 100) usage_error("--runs must be 1..100");
  if (versus && !a.baseline.empty()) usage_error("--versus and --baseline are alternatives");
  if (versus && a.runs < 2) usage_error("--versus needs --runs 2 or more (pairs of runs)");
  if (a.baseline_last < 1 || a.baseline_last > 100) usage_error("--baseline-last must be 1..100");
  const LoadOptions o = options_of(a);
  const bool open = o.open_loop && o.rate_per_s > 0;
  nlohmann::json baseline;
  if (!a.baseline.empty()) {
    // Refused before the run: another scenario, mode or rate.
    const nlohmann::json setup = {{"scenario", s.name},
                                  {"mode", open ? "open-loop" : "closed-loop"},
                                  {"rate_per_s", a.rate},
                                  {"paths", nlohmann::json::array()}};
    baseline = read_baseline(a, setup);
    const auto pre = compare_load(baseline, setup, a.max_regression, a.seed);
    if (!pre.error.empty()) usage_error("--baseline " + a.baseline + ": " + pre.error);
  }
  const bool text = a.json_out != "-";
  if (text) std::cout << "txlab load · seed " << a.seed << "\n";
  const std::string name = s.name, file = s.file;
  // Each run on a fresh world. With --versus the sides alternate, ABBA (versus first in even
  // pairs), so neither side always runs first.
  std::vector<LoadReport> runs, versus_runs;
  const auto one_run = [&](const Scenario& sc, std::vector<LoadReport>& into, const char* side) {
    if (text && (a.runs > 1 || versus))
      std::cout << side << "run " << into.size() + 1 << " of " << a.runs << "\n" << std::flush;
    World world(Scenario(sc), a.seed);
    world.start();
    into.push_back(run_load(world, o));
    if (o.progress && isatty(STDERR_FILENO)) std::cerr << "\n";
  };
  for (int i = 0; i < a.runs; ++i) {
    if (versus && i % 2 == 0) one_run(*versus, versus_runs, "versus ");
    one_run(s, runs, "");
    if (versus && i % 2 == 1) one_run(*versus, versus_runs, "versus ");
  }
  const LoadReport r = merge_runs(std::move(runs));
  if (text) std::cout << render_text(r);
  bool ok = true;
  auto j = render_json(r);
  j["seed"] = a.seed;
  j["scenario"] = name;
  std::string baseline_name = a.baseline;
  if (versus) {
    baseline = render_json(merge_runs(std::move(versus_runs)));
    baseline["scenario"] = versus->name;
    baseline_name = versus->file + " (alternated)";
  }
  bool regressed = false;
  std::map<std::string, std::string> regressions;  // for JUnit
  if (!a.baseline.empty() || versus) {
    const auto c = compare_load(baseline, j, a.max_regression, a.seed, a.max_tail_regression,
                                versus.has_value());
    regressed = c.regressed();
    for (const auto& p : c.paths)
      for (const auto& m : p.metrics)
        if (m.regressed) {
          char buf[128];
          std::snprintf(buf, sizeof buf, "%s x%.3f, 95%% CI [%.3f, %.3f]; ", m.metric.c_str(),
                        m.ci.ratio, m.ci.lo, m.ci.hi);
          regressions[p.name] += buf;
        }
    if (text) std::cout << render_comparison_text(c, baseline_name);
    j["baseline"] = comparison_json(c, baseline_name);
  }
  if (!a.json_out.empty()) ok = write_output(a.json_out, safe_dump(j, 2) + "\n") && ok;
  if (!a.html_out.empty())
    ok = write_output(a.html_out, html::page("load", "txlab load · " + name,
                                             file + " · " + std::to_string(a.concurrency) +
                                                 " callers · seed " + std::to_string(a.seed),
                                             html::load_body(j, render_svg(r)))) &&
         ok;
  if (!a.svg_out.empty()) ok = write_output(a.svg_out, render_svg(r)) && ok;
  if (!a.junit_out.empty())
    ok = write_output(a.junit_out, render_junit(r, name, regressions)) && ok;
  if (!a.history_dir.empty()) ok = write_history(a, j, text) && ok;
  return r.errors() == 0 && !regressed && ok ? 0 : 1;
}

}  // namespace txlab::cli
