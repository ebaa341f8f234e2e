// HTML bodies of `txlab run` and `txlab timeline`: the calls table, a sequence diagram of each
// detailed call's hops and its tokens decoded hop by hop.
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

namespace {

// Pages stay readable and bounded whatever the run did: detail for the first calls and the
// first failed ones, a table row for the rest up to a limit, and a line saying what was left out.
constexpr size_t kDetailedCalls = 10;
constexpr size_t kDetailedFailures = 10;
constexpr size_t kTableRows = 2000;

// Lanes: the roles a call touches, in the roles' order, grouped by zone.
struct Lane {
  std::string id, kind, zone;
};

std::vector<Lane> lanes_of(const Json& roles, const Json& call) {
  std::set<std::string> used;
  for (const auto& h : array(call, "hops")) {
    used.insert(str(h, "from"));
    used.insert(str(h, "to"));
  }
  std::vector<Lane> lanes;
  std::vector<std::string> zones;
  for (const auto& r : roles.is_array() ? roles : Json::array())
    if (used.count(str(r, "id"))) {
      lanes.push_back({str(r, "id"), str(r, "kind"), str(r, "zone")});
      if (std::find(zones.begin(), zones.end(), lanes.back().zone) == zones.end())
        zones.push_back(lanes.back().zone);
    }
  // Roles a hop names that the roles list lacks still get a lane.
  for (const auto& u : used)
    if (std::none_of(lanes.begin(), lanes.end(), [&](const Lane& l) { return l.id == u; }))
      lanes.push_back({u, "", ""});
  std::stable_sort(lanes.begin(), lanes.end(), [&](const Lane& a, const Lane& b) {
    auto za = std::find(zones.begin(), zones.end(), a.zone) - zones.begin();
    auto zb = std::find(zones.begin(), zones.end(), b.zone) - zones.begin();
    return za < zb;
  });
  return lanes;
}

std::string table_of_claims(const Json& claims, const Json* previous) {
  std::ostringstream o;
  o << "<table><tbody>";
  std::set<std::string> keys;
  for (auto it = claims.begin(); it != claims.end(); ++it) keys.insert(it.key());
  if (previous)
    for (auto it = previous->begin(); it != previous->end(); ++it) keys.insert(it.key());
  static const std::set<std::string> kVolatile = {"jti", "iat", "exp", "nbf"};
  for (const auto& k : keys) {
    const bool here = claims.contains(k);
    const bool before = previous && previous->contains(k);
    std::string cls;
    if (previous && !kVolatile.count(k)) {
      if (here && !before)
        cls = "added";
      else if (!here && before)
        cls = "removed";
      else if (here && before && (*previous)[k] != claims[k])
        cls = "changed";
    }
    o << "<tr" << (cls.empty() ? "" : " class=\"" + cls + "\"") << " data-claim=\"" << escape(k)
      << "\"><td>" << escape(k) << "</td><td>" << escape(compact(here ? claims[k] : (*previous)[k]))
      << "</td></tr>";
  }
  o << "</tbody></table>";
  return o.str();
}

std::string calls_table(const Json& calls) {
  std::ostringstream o;
  o << "<table id=\"calls\"><thead><tr><th>call</th><th>workload entry</th><th>status</th>"
       "<th>time</th><th>verdict</th><th>failures</th></tr></thead><tbody>\n";
  size_t rows = 0;
  for (const auto& c : calls) {
    if (rows++ == kTableRows) break;
    const bool ok = c.value("ok", false);
    std::string failures;
    for (const auto& f : array(c, "failures")) failures += escape(compact(f)) + "<br>";
    o << "<tr data-row data-verdict=\"" << (ok ? "PASS" : "FAIL") << "\""
      << (ok ? "" : " class=\"fail\"") << "><td>" << escape(str(c, "id")) << "</td><td>"
      << escape(str(c, "name").empty() ? str(c, "entry") : str(c, "name")) << "</td><td>"
      << num(c, "status") << "</td><td>" << micros(num(c, "us")) << "</td><td>"
      << badge(ok ? "PASS" : "FAIL") << "</td><td>" << failures << "</td></tr>\n";
  }
  o << "</tbody></table>\n";
  if (calls.size() > kTableRows)
    o << "<p class=\"muted\">" << calls.size() - kTableRows
      << " more calls are in the JSON report, not shown here.</p>\n";
  return o.str();
}

std::string call_detail(const Json& roles, const Json& call) {
  const bool ok = call.value("ok", false);
  std::ostringstream o;
  o << "<section class=\"call\" data-call=\"" << escape(str(call, "id")) << "\"><h3>"
    << escape(str(call, "id")) << " · " << escape(str(call, "name")) << " "
    << badge(ok ? "PASS" : "FAIL") << "</h3>\n";
  for (const auto& f : array(call, "failures"))
    o << "<p class=\"fail-line\">✗ " << escape(compact(f)) << "</p>\n";
  o << sequence_svg(roles, call) << "\n<h4>Tokens</h4>\n" << token_cards(call);
  if (call.contains("backend_saw") && call["backend_saw"].is_object())
    o << "<h4>What the backend saw</h4><pre>" << escape(safe_dump(call["backend_saw"], 2))
      << "</pre>\n";
  o << "</section>\n";
  return o.str();
}

}  // namespace

std::string sequence_svg(const Json& roles, const Json& call) {
  const auto lanes = lanes_of(roles, call);
  const auto& hops = array(call, "hops");
  const int lane_w = 150, left = 20, head = 64, step = 36;
  const int w = left * 2 + lane_w * static_cast<int>(std::max<size_t>(lanes.size(), 1));
  const int h = head + step * static_cast<int>(hops.size()) + 30;
  auto lane_x = [&](const std::string& id) {
    for (size_t i = 0; i < lanes.size(); ++i)
      if (lanes[i].id == id) return left + lane_w * static_cast<int>(i) + lane_w / 2;
    return left;
  };
  std::ostringstream o;
  o << "<svg class=\"sequence\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w
    << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << " " << h
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>";
  // Zone bands behind the lanes.
  static const char* kBands[] = {"#eef4fc", "#f3f0fa", "#eef8f1", "#fbf3ea"};
  size_t band = 0;
  for (size_t i = 0; i < lanes.size();) {
    size_t j = i;
    while (j < lanes.size() && lanes[j].zone == lanes[i].zone) ++j;
    const int x = left + lane_w * static_cast<int>(i);
    o << "<rect x=\"" << x + 2 << "\" y=\"2\" width=\"" << lane_w * static_cast<int>(j - i) - 4
      << "\" height=\"" << h - 4 << "\" rx=\"6\" fill=\"" << kBands[band++ % 4] << "\"/>"
      << "<text x=\"" << x + 8 << "\" y=\"15\" fill=\"#5c677a\">zone " << escape(lanes[i].zone)
      << "</text>";
    i = j;
  }
  for (const auto& l : lanes) {
    const int x = lane_x(l.id);
    o << "<rect class=\"lane\" data-role=\"" << escape(l.id) << "\" x=\"" << x - lane_w / 2 + 10
      << "\" y=\"22\" width=\"" << lane_w - 20
      << "\" height=\"30\" rx=\"4\" fill=\"#1d2433\"/><text x=\"" << x
      << "\" y=\"36\" text-anchor=\"middle\" fill=\"#fff\" font-weight=\"bold\">" << escape(l.id)
      << "</text><text x=\"" << x << "\" y=\"48\" text-anchor=\"middle\" fill=\"#c9d1e0\">"
      << escape(l.kind) << "</text><line x1=\"" << x << "\" y1=\"52\" x2=\"" << x << "\" y2=\""
      << h - 8 << "\" stroke=\"#9aa5b8\" stroke-dasharray=\"4 3\"/>";
  }
  int y = head;
  for (const auto& hop : hops) {
    y += step;
    const int x1 = lane_x(str(hop, "from")), x2 = lane_x(str(hop, "to"));
    const int status = static_cast<int>(num(hop, "status"));
    const char* color = status == 0 || status >= 500 ? "#c0392b"
                        : status >= 400              ? "#c98a00"
                                                     : "#1f5fa8";
    const std::string label = str(hop, "what");
    const int dir = x2 >= x1 ? 1 : -1;
    o << "<g class=\"hop\" data-status=\"" << status << "\"><line x1=\"" << x1 << "\" y1=\"" << y
      << "\" x2=\"" << x2 << "\" y2=\"" << y << "\" stroke=\"" << color
      << "\" stroke-width=\"1.6\"/><polygon points=\"" << x2 << "," << y << " " << x2 - 8 * dir
      << "," << y - 4 << " " << x2 - 8 * dir << "," << y + 4 << "\" fill=\"" << color
      << "\"/><text x=\"" << (x1 + x2) / 2 << "\" y=\"" << y - 5 << "\" text-anchor=\"middle\">"
      << escape(label.size() > 48 ? label.substr(0, 47) + "…" : label) << "</text><text x=\""
      << (x1 + x2) / 2 << "\" y=\"" << y + 13 << "\" text-anchor=\"middle\" fill=\"" << color
      << "\">" << (status ? std::to_string(status) : std::string("no answer")) << " · "
      << micros(num(hop, "us")) << "</text><title>" << escape(str(hop, "from")) << " → "
      << escape(str(hop, "to")) << ": " << escape(label) << "</title></g>";
  }
  o << "</svg>";
  return o.str();
}

std::string token_cards(const Json& call) {
  const auto& tokens = array(call, "tokens");
  if (tokens.empty()) return "<p class=\"muted\">No tokens recorded for this call.</p>\n";
  std::ostringstream o;
  o << "<div class=\"cards\">\n";
  const Json* previous = nullptr;
  for (const auto& t : tokens) {
    static const Json kNone;
    const Json& claims = t.contains("claims") && t["claims"].is_object() ? t["claims"] : kNone;
    o << "<div class=\"card token\" data-label=\"" << escape(str(t, "label")) << "\"><h4>"
      << escape(str(t, "label")) << " <span class=\"muted\">issued by "
      << escape(str(t, "issuer_role")) << ", presented by " << escape(str(t, "presenter")) << " to "
      << escape(str(t, "to")) << "</span></h4>\n";
    if (previous && claims.is_object()) {
      o << "<ul class=\"changes\">";
      bool any = false;
      for (const char* k : {"iss", "aud", "scope", "act", "cnf", "sub", "client_id", "may_act"}) {
        const bool here = claims.contains(k), before = previous->contains(k);
        if (!here && !before) continue;
        if (here && before && claims[k] == (*previous)[k]) continue;
        any = true;
        o << "<li data-changed=\"" << k << "\"><b>" << k
          << "</b>: " << (before ? escape(compact((*previous)[k])) : "<i>absent</i>") << " → "
          << (here ? escape(compact(claims[k])) : "<i>absent</i>") << "</li>";
      }
      if (!any) o << "<li>no change in iss, aud, scope, act, cnf, sub</li>";
      o << "</ul>\n";
    }
    if (t.contains("header")) o << "<pre>" << escape(safe_dump(t["header"])) << "</pre>";
    if (claims.is_object()) o << table_of_claims(claims, previous);
    o << "</div>\n";
    if (claims.is_object()) previous = &claims;
  }
  o << "</div>\n";
  return o.str();
}

std::string run_body(const Json& run) {
  std::ostringstream o;
  const auto& calls = array(run, "calls");
  size_t failed = 0;
  for (const auto& c : calls) failed += c.value("ok", false) ? 0 : 1;
  o << "<table class=\"summary\"><tbody><tr><th>verdict</th><td>"
    << badge(run.value("ok", false) ? "PASS" : "FAIL") << "</td></tr><tr><th>calls</th><td>"
    << calls.size() << " (" << failed << " failed)</td></tr><tr><th>seed</th><td>"
    << num(run, "seed") << "</td></tr><tr><th>topology</th><td>" << escape(str(run, "topology"))
    << "</td></tr></tbody></table>\n";
  o << "<h2>Roles</h2><table id=\"roles\"><thead><tr><th>role</th><th>kind</th><th>zone</th>"
       "<th>URL</th><th>issuer</th></tr></thead><tbody>";
  for (const auto& r : array(run, "roles"))
    o << "<tr><td>" << escape(str(r, "id")) << "</td><td>" << escape(str(r, "kind")) << "</td><td>"
      << escape(str(r, "zone")) << "</td><td>" << escape(str(r, "url")) << "</td><td>"
      << escape(str(r, "issuer")) << "</td></tr>";
  o << "</tbody></table>\n<h2>Calls</h2>\n"
    << filter_bar("calls", {"verdict"}, {{"verdict", {"FAIL", "PASS"}}}) << calls_table(calls);
  // Detail: the first call of each workload entry up to kDetailedCalls, and failed calls.
  o << "<h2>Sequence diagrams and tokens</h2>\n";
  std::set<std::string> entries;
  size_t detailed = 0, detailed_failed = 0, left_out = 0;
  for (const auto& c : calls) {
    const bool ok = c.value("ok", false);
    const bool first_of_entry = entries.insert(str(c, "name")).second;
    if (!ok && detailed_failed < kDetailedFailures) {
      ++detailed_failed;
    } else if (ok && first_of_entry && detailed < kDetailedCalls) {
      ++detailed;
    } else {
      ++left_out;
      continue;
    }
    o << call_detail(array(run, "roles"), c);
  }
  if (left_out)
    o << "<p class=\"muted\">" << left_out
      << " further calls are drawn only in the table above (the JSON report has them all).</p>\n";
  if (!array(run, "faults").empty())
    o << "<h2>Fault decisions</h2><pre>" << escape(safe_dump(run["faults"], 1)) << "</pre>\n";
  return o.str();
}

std::string timeline_body(const Json& tl, const Json& sample) {
  std::ostringstream o;
  o << "<table class=\"summary\"><tbody><tr><th>verdict</th><td>"
    << badge(tl.value("ok", false) ? "PASS" : "FAIL") << "</td></tr><tr><th>duration</th><td>"
    << real(tl, "duration_s") << " s " << (tl.value("simulated_time", false) ? "simulated" : "real")
    << " time, step " << real(tl, "step_s") << " s (" << real(tl, "real_s")
    << " s wall)</td></tr><tr><th>seed</th><td>" << num(tl, "seed")
    << "</td></tr></tbody></table>\n";
  for (const auto& f : array(tl, "failures"))
    o << "<p class=\"fail-line\">✗ " << escape(compact(f)) << "</p>\n";
  o << "<h2>Windows</h2><table id=\"windows\"><thead><tr><th>window</th><th>from</th><th>to</th>"
       "<th>calls</th><th>success</th><th>p50</th><th>p99</th><th>max</th><th>verdict</th>"
       "<th>failures</th></tr></thead><tbody>";
  for (const auto& w : array(tl, "windows")) {
    const bool declared = w.value("declared", false);
    const bool ok = array(w, "failures").empty();
    std::string failures;
    for (const auto& f : array(w, "failures")) failures += escape(compact(f)) + "<br>";
    o << "<tr data-row data-verdict=\"" << (declared ? (ok ? "PASS" : "FAIL") : "report") << "\""
      << (ok ? "" : " class=\"fail\"") << "><td>" << escape(str(w, "name")) << "</td><td>"
      << real(w, "from_s") << " s</td><td>" << real(w, "to_s") << " s</td><td>" << num(w, "calls")
      << "</td><td>" << std::round(real(w, "success_rate") * 1000) / 10 << " %</td><td>"
      << micros(num(w, "p50_us")) << "</td><td>" << micros(num(w, "p99_us")) << "</td><td>"
      << micros(num(w, "max_us")) << "</td><td>"
      << (declared ? badge(ok ? "PASS" : "FAIL") : "<span class=\"muted\">report only</span>")
      << "</td><td>" << failures << "</td></tr>";
  }
  o << "</tbody></table>\n<h2>Events</h2><table id=\"events\"><thead><tr><th>at</th><th>event</th>"
       "<th>origin</th><th>result</th></tr></thead><tbody>";
  for (const auto& e : array(tl, "events"))
    o << "<tr" << (e.value("ok", true) ? "" : " class=\"fail\"") << "><td>" << real(e, "at_s")
      << " s</td><td>" << escape(str(e, "event")) << "</td><td>" << escape(str(e, "origin"))
      << "</td><td>" << escape(str(e, "result")) << "</td></tr>";
  o << "</tbody></table>\n";
  Series good{"2xx", "#1f5fa8", {}}, bad{"failed", "#c0392b", {}};
  for (const auto& c : array(tl, "calls"))
    (c.value("ok", false) ? good : bad)
        .points.emplace_back(real(c, "t_s"), static_cast<double>(num(c, "us")) / 1000.0);
  o << "<h2>Calls over time</h2>"
    << line_chart("every call by its step", "time (s)", "latency (ms)", {good, bad}, true) << "\n";
  if (sample.is_object() && !array(sample, "calls").empty()) {
    o << "<h2>Sample calls</h2>\n";
    for (const auto& c : array(sample, "calls")) o << call_detail(array(sample, "roles"), c);
  }
  return o.str();
}

}  // namespace txlab::html
