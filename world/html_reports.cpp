// HTML bodies of `txlab conform`, `txlab attack` and `txlab load`: graded cases, attack
// verdicts, and the load run's latency, rate and memory charts.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"
#include "world/html.h"
#include "world/html_parts.h"

namespace txlab::html {

using namespace detail;

std::string conform_body(const Json& report) {
  std::ostringstream o;
  o << "<table class=\"summary\"><tbody><tr><th>target</th><td>" << escape(str(report, "target"))
    << "</td></tr><tr><th>profile</th><td>" << escape(str(report, "profile"))
    << (report.value("strict", false) ? " (strict)" : "") << "</td></tr><tr><th>verdict</th><td>"
    << badge(report.value("passed", false) ? "PASSED" : "NOT PASSED") << " "
    << escape(str(report, "verdict")) << " " << escape(str(report, "verdict_detail"))
    << "</td></tr><tr><th>grades</th><td>";
  if (report.contains("counts") && report["counts"].is_object())
    for (auto it = report["counts"].begin(); it != report["counts"].end(); ++it)
      o << badge(it.key()) << " " << compact(it.value()) << " &nbsp; ";
  o << "</td></tr>";
  // One grade per root cause: how many causes FAILED and how many cases they account for.
  if (num(report, "causes_failed") > 0)
    o << "<tr><th>causes</th><td>" << num(report, "causes_failed") << " causes FAILED ("
      << num(report, "cases_affected") << " cases affected)</td></tr>";
  o << "</tbody></table>\n";
  std::map<std::string, std::set<std::string>> values;
  for (const auto& c : array(report, "cases")) {
    values["section"].insert(str(c, "section"));
    values["grade"].insert(str(c, "grade"));
    values["level"].insert(str(c, "level"));
  }
  o << "<h2>Cases</h2>\n"
    << filter_bar("cases", {"section", "grade", "level"}, values)
    << "<table id=\"cases\"><thead><tr><th>section</th><th>level</th><th>grade</th><th>case</th>"
       "<th>title</th><th>time</th></tr></thead><tbody>\n";
  for (const auto& c : array(report, "cases")) {
    const std::string grade = str(c, "grade");
    const bool failed = grade == "FAILED";
    o << "<tr id=\"case-" << escape(str(c, "id")) << "\" data-row data-section=\""
      << escape(str(c, "section")) << "\" data-grade=\"" << escape(grade) << "\" data-level=\""
      << escape(str(c, "level")) << "\""
      << (failed                  ? " class=\"fail\""
          : grade == "NON-STRICT" ? " class=\"warn\""
                                  : "")
      << "><td>" << escape(str(c, "section")) << "</td><td>" << escape(str(c, "level"))
      << "</td><td>" << badge(grade) << "</td><td><code>" << escape(str(c, "id"))
      << "</code></td><td>" << escape(str(c, "title"))
      << (str(c, "cause").empty()
              ? ""
              : " <span class=\"muted\">(cause: <a href=\"#case-" + escape(str(c, "cause")) +
                    "\">" + escape(str(c, "cause")) + "</a>)</span>")
      << "</td><td>" << micros(num(c, "us")) << "</td></tr>\n";
    // The detail row follows its case row (the filter hides both together).
    o << "<tr class=\"detail\"><td colspan=\"6\"><details" << (failed ? " open" : "")
      << "><summary>requirement, expected and actual";
    if (c.contains("exchanges"))
      o << ", " << array(c, "exchanges").size() << " exchanges as sent and received";
    o << "</summary><blockquote>" << escape(str(c, "requirement")) << "</blockquote>";
    if (!str(c, "binds").empty() && str(c, "binds") != "authorization server")
      o << "<p><b>Binds:</b> the " << escape(str(c, "binds"))
        << " (a sentence that does not bind the server is NON-STRICT at most)</p>";
    if (!str(c, "expected").empty())
      o << "<p><b>Expected:</b> " << escape(str(c, "expected")) << "</p>";
    if (!str(c, "actual").empty()) o << "<p><b>Actual:</b> " << escape(str(c, "actual")) << "</p>";
    if (!str(c, "note").empty()) o << "<p><b>Note:</b> " << escape(str(c, "note")) << "</p>";
    size_t k = 0;
    for (const auto& e : array(c, "exchanges"))
      o << "<div class=\"exchange\"><b>request " << ++k << "</b><pre class=\"request\">"
        << escape(str(e, "request")) << "</pre><b>response</b><pre class=\"response\">"
        << escape(str(e, "response")) << "</pre></div>";
    if (num(c, "exchanges_dropped") > 0)
      o << "<p class=\"muted\">" << num(c, "exchanges_dropped")
        << " earlier exchanges of this case not kept.</p>";
    o << "</details></td></tr>\n";
  }
  o << "</tbody></table>\n";
  return o.str();
}

std::string attack_body(const Json& attack) {
  std::ostringstream o;
  const auto& attacks = array(attack, "attacks");
  const Json& iso = attack.contains("isolation") ? attack["isolation"] : Json::object();
  const int64_t mismatches = num(iso, "mismatches");
  o << "<table class=\"summary\"><tbody><tr><th>verdict</th><td>"
    << badge(num(attack, "failed") == 0 && mismatches == 0 ? "PASS" : "FAIL")
    << "</td></tr><tr><th>attacks</th><td>" << attacks.size() << " (" << num(attack, "failed")
    << " not rejected)</td></tr><tr><th>isolation mismatches</th><td>" << mismatches
    << "</td></tr><tr><th>seed</th><td>" << num(attack, "seed") << "</td></tr></tbody></table>\n";
  std::map<std::string, std::set<std::string>> values;
  for (const auto& a : attacks) {
    values["category"].insert(str(a, "category"));
    values["verdict"].insert(a.value("passed", false) ? "rejected" : "not rejected");
  }
  o << "<h2>Attack catalogue</h2>\n"
    << filter_bar("attacks", {"category", "verdict"}, values)
    << "<table id=\"attacks\"><thead><tr><th>category</th><th>attack</th><th>title</th>"
       "<th>target</th><th>expected</th><th>observed</th><th>verdict</th></tr></thead><tbody>\n";
  for (const auto& a : attacks) {
    const bool passed = a.value("passed", false);
    const std::string verdict = passed ? "rejected" : "not rejected";
    o << "<tr data-row data-category=\"" << escape(str(a, "category")) << "\" data-verdict=\""
      << verdict << "\"" << (passed ? "" : " class=\"fail\"") << "><td>"
      << escape(str(a, "category")) << "</td><td><code>" << escape(str(a, "id"))
      << "</code></td><td>" << escape(str(a, "title")) << "</td><td>" << escape(str(a, "target"))
      << "</td><td>" << escape(str(a, "expected")) << "</td><td>" << escape(str(a, "observed"))
      << "</td><td>" << badge(verdict) << "</td></tr>\n";
  }
  o << "</tbody></table>\n";
  // Isolation: tokens down, verifiers across.
  std::vector<std::string> tokens, verifiers;
  std::map<std::pair<std::string, std::string>, const Json*> cells;
  for (const auto& c : array(iso, "cells")) {
    const std::string t = str(c, "token"), v = str(c, "verifier");
    if (std::find(tokens.begin(), tokens.end(), t) == tokens.end()) tokens.push_back(t);
    if (std::find(verifiers.begin(), verifiers.end(), v) == verifiers.end()) verifiers.push_back(v);
    cells[{t, v}] = &c;
  }
  o << "<h2>Trust isolation</h2><p class=\"muted\">Every token at every verifier: what the trust "
       "configuration allows, and what happened (a mismatch is marked ✗).</p>"
       "<table id=\"isolation\"><thead><tr><th>token \\ verifier</th>";
  for (const auto& v : verifiers) o << "<th>" << escape(v) << "</th>";
  o << "</tr></thead><tbody>";
  for (const auto& t : tokens) {
    o << "<tr><th>" << escape(t) << "</th>";
    for (const auto& v : verifiers) {
      auto it = cells.find({t, v});
      if (it == cells.end()) {
        o << "<td></td>";
        continue;
      }
      const Json& c = *it->second;
      const bool match = str(c, "expected") == str(c, "actual");
      o << "<td class=\"cell" << (match ? "" : " mismatch") << "\""
        << (match ? "" : " style=\"background:#fdecea\"") << " title=\""
        << escape(str(c, "observed") + " " + str(c, "reason")) << "\">" << escape(str(c, "actual"))
        << (match ? "" : " ✗ (expected " + escape(str(c, "expected")) + ")") << "</td>";
    }
    o << "</tr>";
  }
  o << "</tbody></table>\n";
  return o.str();
}

namespace {

// load --baseline: a row per path and metric, the regressions marked.
std::string baseline_table(const Json& b) {
  std::ostringstream o;
  o << "<h2>Against the baseline</h2><p class=\"muted\">" << escape(str(b, "file")) << " · "
    << escape(str(b, "method")) << " · a regression: the 95 % CI beyond ±"
    << real(b, "max_regression_pct") << " %</p>";
  if (b.contains("error"))
    return o.str() + "<p>not comparable: " + escape(str(b, "error")) + "</p>\n";
  o << "<table id=\"baseline\"><thead><tr><th>path</th><th>metric</th><th>baseline</th>"
       "<th>current</th><th>ratio</th><th>95 % CI</th><th>verdict</th></tr></thead><tbody>";
  for (const auto& p : array(b, "paths")) {
    if (!p.value("comparable", false)) {
      o << "<tr data-row><td>" << escape(str(p, "name"))
        << "</td><td colspan=\"6\">not comparable: " << escape(str(p, "why")) << "</td></tr>";
      continue;
    }
    for (const auto& [metric, m] : p["metrics"].items()) {
      const bool bad = m.value("regressed", false);
      char ratio[96];
      const Json& ci = m.contains("ci95") ? m["ci95"] : Json::array({0, 0});
      std::snprintf(ratio, sizeof ratio, "%.3f</td><td>[%.3f, %.3f]", real(m, "ratio"),
                    ci.size() == 2 && ci[0].is_number() ? ci[0].get<double>() : 0.0,
                    ci.size() == 2 && ci[1].is_number() ? ci[1].get<double>() : 0.0);
      o << "<tr data-row" << (bad ? " class=\"fail\"" : "") << "><td>" << escape(str(p, "name"))
        << "</td><td>" << escape(metric) << "</td><td>" << std::llround(real(m, "baseline"))
        << "</td><td>" << std::llround(real(m, "current")) << "</td><td>" << ratio << "</td><td>"
        << badge(bad ? "REGRESSION" : "ok") << "</td></tr>";
    }
  }
  return o.str() + "</tbody></table>\n";
}

}  // namespace

std::string load_body(const Json& load, const std::string& histogram_svg) {
  std::ostringstream o;
  const int64_t errors = num(load, "errors");
  o << "<table class=\"summary\"><tbody><tr><th>verdict</th><td>"
    << badge(errors == 0 ? "PASS" : "FAIL") << "</td></tr><tr><th>calls</th><td>"
    << num(load, "calls") << " in " << std::round(real(load, "elapsed_s") * 100) / 100 << " s · "
    << std::llround(real(load, "throughput_per_s")) << " calls/s · " << errors
    << " errors</td></tr><tr><th>exchanges</th><td>" << num(load, "exchanges")
    << "</td></tr><tr><th>exchange cache</th><td>" << num(load, "cache_hits") << " hits, "
    << num(load, "cache_misses") << " misses</td></tr><tr><th>mode</th><td>"
    << escape(str(load, "mode"))
    << (real(load, "rate_per_s") > 0 ? " at " + std::to_string(num(load, "rate_per_s")) + " calls/s"
                                     : std::string())
    << (num(load, "unsent") ? " · " + std::to_string(num(load, "unsent")) +
                                  " due calls not sent (rate not sustained)"
                            : std::string())
    << "</td></tr><tr><th>seed</th><td>" << num(load, "seed") << "</td></tr></tbody></table>\n";
  o << "<h2>Paths</h2><table id=\"paths\"><thead><tr><th>path</th><th>calls</th><th>errors</th>"
       "<th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead><tbody>";
  for (const auto& p : array(load, "paths"))
    o << "<tr data-row" << (num(p, "errors") ? " class=\"fail\"" : "") << "><td>"
      << escape(str(p, "name")) << "</td><td>" << num(p, "calls") << "</td><td>" << num(p, "errors")
      << "</td><td>" << micros(num(p, "p50_us")) << "</td><td>" << micros(num(p, "p90_us"))
      << "</td><td>" << micros(num(p, "p99_us")) << "</td><td>" << micros(num(p, "p999_us"))
      << "</td><td>" << micros(num(p, "max_us")) << "</td></tr>";
  o << "</tbody></table>\n";
  if (load.contains("baseline")) o << baseline_table(load["baseline"]);
  o << "<h2>Latency histograms</h2>\n" << histogram_svg << "\n";
  Series p50{"p50", "#1f5fa8", {}}, p90{"p90", "#c98a00", {}}, p99{"p99", "#c0392b", {}},
      rate{"calls/s", "#2e8540", {}};
  for (const auto& s : array(load, "over_time")) {
    const double t = real(s, "t_s");
    p50.points.emplace_back(t, real(s, "p50_us") / 1000.0);
    p90.points.emplace_back(t, real(s, "p90_us") / 1000.0);
    p99.points.emplace_back(t, real(s, "p99_us") / 1000.0);
    rate.points.emplace_back(t, real(s, "calls"));
  }
  o << "<h2>Percentiles over time</h2>\n"
    << line_chart("latency per second of the run, all paths", "time (s)", "latency (ms)",
                  {p50, p90, p99})
    << "\n"
    << line_chart("calls completed per second", "time (s)", "calls", {rate}) << "\n";
  Series rss{"RSS", "#6b4fbb", {}};
  for (const auto& s : array(load, "rss_kb"))
    if (s.is_array() && s.size() == 2 && s[0].is_number() && s[1].is_number())
      rss.points.emplace_back(s[0].get<double>(), s[1].get<double>() / 1024.0);
  o << "<h2>Memory</h2>\n"
    << line_chart("resident memory of the txlab process", "time (s)", "MiB", {rss}) << "\n";
  return o.str();
}

}  // namespace txlab::html
