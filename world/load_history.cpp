// The load history: a JSON line per run and its trend page (see load_history.h).
#include "world/load_history.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/json_util.h"
#include "world/html.h"
#include "world/html_parts.h"
#include "world/load_compare.h"

namespace txlab {

using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool same_setup(const Json& a, const Json& b) {
  return json_str(a, "scenario") == json_str(b, "scenario") &&
         json_str(a, "mode") == json_str(b, "mode") &&
         a.value("rate_per_s", 0.0) == b.value("rate_per_s", 0.0);
}

}  // namespace

Json history_entry(const Json& report, const std::string& label, const std::string& time_utc) {
  Json paths = Json::array();
  for (const auto& p : report.value("paths", Json::array())) {
    Json kept = Json::object();
    for (const char* k : {"name", "calls", "errors", "unsent", "throughput_per_s", "p50_us",
                          "p90_us", "p99_us", "p999_us", "max_us", "windows"})
      if (p.contains(k)) kept[k] = p[k];
    paths.push_back(std::move(kept));
  }
  Json out = {{"label", label}, {"time", time_utc}, {"paths", paths}};
  for (const char* k : {"scenario", "seed", "mode", "rate_per_s", "duration_s", "runs", "calls",
                        "errors", "unsent", "throughput_per_s"})
    if (report.contains(k)) out[k] = report[k];
  return out;
}

std::vector<Json> read_history(const std::string& path, std::string* error) {
  std::vector<Json> runs;
  std::error_code ec;
  const fs::path file =
      fs::is_directory(path, ec) ? fs::path(path) / "history.jsonl" : fs::path(path);
  std::ifstream in(file);
  if (!in) return runs;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("paths") || !j["paths"].is_array()) {
      *error = file.string() + ":" + std::to_string(n) + ": not a txlab load history line";
      return {};
    }
    runs.push_back(std::move(j));
  }
  return runs;
}

std::vector<Json> append_history(const std::string& dir, const Json& entry, std::string* error,
                                 size_t max_runs) {
  const fs::path file = fs::path(dir) / "history.jsonl";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = dir + ": " + ec.message();
    return {};
  }
  std::vector<Json> runs = read_history(dir, error);
  if (!error->empty()) return {};
  runs.push_back(entry);
  if (runs.size() > max_runs)
    runs.erase(runs.begin(), runs.begin() + static_cast<long>(runs.size() - max_runs));
  const fs::path tmp = fs::path(dir) / "history.jsonl.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& r : runs) out << safe_dump(r) << "\n";
    if (!out) {
      *error = tmp.string() + ": cannot write";
      return {};
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    *error = file.string() + ": " + ec.message();
    return {};
  }
  return runs;
}

Json history_baseline(const std::vector<Json>& runs, const Json& setup, size_t last,
                      std::string* error, size_t end) {
  std::vector<const Json*> chosen;
  for (size_t i = std::min(end, runs.size()); i-- > 0 && chosen.size() < last;)
    if (same_setup(runs[i], setup)) chosen.insert(chosen.begin(), &runs[i]);
  if (chosen.empty()) {
    *error = "no run of scenario '" + json_str(setup, "scenario") + "', " +
             json_str(setup, "mode") + " at rate " + safe_dump(setup.value("rate_per_s", Json(0))) +
             " in the history";
    return {};
  }
  Json out = {{"scenario", json_str(setup, "scenario")},
              {"mode", json_str(setup, "mode")},
              {"rate_per_s", setup.value("rate_per_s", Json(0))},
              {"paths", Json::array()}};
  int64_t next_run = 0;
  for (const Json* entry : chosen) {
    // This entry's runs get the next numbers: run ids stay apart across entries.
    int64_t highest = 0;
    for (const auto& p : (*entry)["paths"]) {
      Json* to = nullptr;
      for (auto& q : out["paths"])
        if (json_str(q, "name") == json_str(p, "name")) to = &q;
      if (!to) {
        out["paths"].push_back({{"name", json_str(p, "name")}, {"windows", Json::array()}});
        to = &out["paths"].back();
      }
      for (Json w : p.value("windows", Json::array())) {
        const int64_t run = w.is_object() ? w.value("run", int64_t{0}) : 0;
        highest = std::max(highest, run);
        w["run"] = next_run + run;
        (*to)["windows"].push_back(std::move(w));
      }
    }
    next_run += highest + 1;
  }
  out["runs"] = next_run;
  out["entries"] = chosen.size();
  return out;
}

namespace {

using html::detail::badge;
using html::detail::line_chart;
using html::detail::micros;
using html::detail::Series;

const Json* path_of(const Json& run, const std::string& name) {
  if (!run.is_object() || !run.contains("paths") || !run["paths"].is_array()) return nullptr;
  for (const auto& p : run["paths"])
    if (json_str(p, "name") == name) return &p;
  return nullptr;
}

// Every path name, in order of first appearance.
std::vector<std::string> path_names(const std::vector<Json>& runs) {
  std::vector<std::string> names;
  for (const auto& r : runs)
    for (const auto& p : r.value("paths", Json::array())) {
      const std::string n = json_str(p, "name");
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  return names;
}

std::string charts(const std::vector<Json>& runs, const std::string& name) {
  Series p50{"p50", "#1f5fa8", {}}, p99{"p99", "#c0392b", {}}, rate{"calls/s", "#2e8540", {}};
  for (size_t i = 0; i < runs.size(); ++i)
    if (const Json* p = path_of(runs[i], name)) {
      const auto x = static_cast<double>(i + 1);
      p50.points.emplace_back(x, p->value("p50_us", 0.0) / 1000);
      p99.points.emplace_back(x, p->value("p99_us", 0.0) / 1000);
      rate.points.emplace_back(x, p->value("throughput_per_s", 0.0));
    }
  return "<h2>" + html::escape(name) + "</h2>\n" +
         line_chart("latency over the runs", "run", "latency (ms)", {p50, p99}) + "\n" +
         line_chart("throughput over the runs", "run", "calls/s", {rate}) + "\n";
}

}  // namespace

std::string history_page(const std::vector<Json>& runs, double max_regression_pct, uint64_t seed,
                         double max_tail_regression_pct) {
  const auto names = path_names(runs);
  std::ostringstream o;
  size_t regressions = 0;
  std::ostringstream rows;
  for (size_t i = 0; i < runs.size(); ++i) {
    const Json& r = runs[i];
    std::string verdict = "first", why;
    std::string none;
    if (i > 0 && same_setup(runs[i - 1], r)) {
      const auto c = compare_load(history_baseline(runs, r, kHistoryBaseline, &none, i), r,
                                  max_regression_pct, seed, max_tail_regression_pct);
      verdict = !c.error.empty() ? "not comparable" : c.regressed() ? "REGRESSION" : "ok";
      for (const auto& p : c.paths)
        for (const auto& m : p.metrics)
          if (m.regressed) {
            char buf[160];
            std::snprintf(buf, sizeof buf, "%s %s ×%.2f [%.2f, %.2f]; ", p.name.c_str(),
                          m.metric.c_str(), m.ci.ratio, m.ci.lo, m.ci.hi);
            why += buf;
          }
    } else if (i > 0) {
      verdict = "new setup";
    }
    if (verdict == "REGRESSION") ++regressions;
    rows << "<tr data-row data-verdict=\"" << html::escape(verdict) << "\""
         << (verdict == "REGRESSION" ? " class=\"fail\"" : "") << "><td>" << i + 1 << "</td><td>"
         << html::escape(json_str(r, "label")) << "</td><td>" << html::escape(json_str(r, "time"))
         << "</td><td>" << html::escape(json_str(r, "scenario")) << " · "
         << html::escape(json_str(r, "mode")) << "</td>";
    for (const auto& n : names) {
      const Json* p = path_of(r, n);
      rows << "<td>"
           << (p ? micros(p->value("p50_us", int64_t{0})) + " / " +
                       micros(p->value("p99_us", int64_t{0})) + " / " +
                       std::to_string(std::llround(p->value("throughput_per_s", 0.0)))
                 : std::string("—"))
           << "</td>";
    }
    rows << "<td title=\"" << html::escape(why) << "\">" << badge(verdict)
         << (why.empty() ? "" : " <span class=\"muted\">" + html::escape(why) + "</span>")
         << "</td></tr>";
  }
  o << "<table class=\"summary\"><tbody><tr><th>runs</th><td>" << runs.size() << " (the newest "
    << kMaxHistory << " are kept)</td></tr><tr><th>regressions against the runs before</th><td>"
    << regressions << "</td></tr><tr><th>test</th><td>each run against the newest "
    << kHistoryBaseline
    << " runs before it of its scenario, mode and rate: 95 % bootstrap CI of the ratio "
    << "beyond ±" << max_regression_pct << " % (p99: +" << max_tail_regression_pct
    << " %)</td></tr></tbody></table>\n";
  o << "<h2>Runs</h2><table id=\"runs\"><thead><tr><th>#</th><th>label</th><th>time</th>"
       "<th>scenario · mode</th>";
  for (const auto& n : names) o << "<th>" << html::escape(n) << "<br>p50 / p99 / calls/s</th>";
  o << "<th>vs the runs before</th></tr></thead><tbody>" << rows.str() << "</tbody></table>\n";
  for (const auto& n : names) o << charts(runs, n);
  const std::string scenario = runs.empty() ? "" : json_str(runs.back(), "scenario");
  return html::page("load-history", "txlab load history · " + scenario,
                    std::to_string(runs.size()) + " runs", o.str());
}

}  // namespace txlab
