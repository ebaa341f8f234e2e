// Self-contained HTML reports drawn from the JSON reports.
#include "world/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"
#include "sim/xml.h"

namespace txlab::html {

using Json = nlohmann::json;

namespace {

// Pages stay readable and bounded whatever the run did: detail for the first calls and the
// first failed ones, a table row for the rest up to a limit, and a line saying what was left out.
constexpr size_t kDetailedCalls = 10;
constexpr size_t kDetailedFailures = 10;
constexpr size_t kTableRows = 2000;

std::string str(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const Json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return safe_dump(v);
}

int64_t num(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<int64_t>();
}

double real(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return 0;
  return j[key].get<double>();
}

const Json& array(const Json& j, const char* key) {
  static const Json empty = Json::array();
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return empty;
  return j[key];
}

std::string micros(int64_t us) {
  char buf[32];
  if (us >= 1000000)
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(us) / 1e6);
  else if (us >= 1000)
    std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(us) / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld µs", static_cast<long long>(us));
  return buf;
}

std::string compact(const Json& v) { return v.is_string() ? v.get<std::string>() : safe_dump(v); }

// A badge for a verdict or grade; the class is the lower-case word without spaces.
std::string badge(const std::string& text) {
  std::string cls;
  for (char c : text) cls += c == ' ' || c == '-' ? '_' : static_cast<char>(std::tolower(c));
  return "<span class=\"badge b-" + escape(cls) + "\">" + escape(text) + "</span>";
}

// A filter bar over the table with id `table`: a select per listed column (options are the
// distinct values present) and a text box. The script keeps "shown N of M" up to date.
std::string filter_bar(const std::string& table, const std::vector<std::string>& columns,
                       const std::map<std::string, std::set<std::string>>& values) {
  std::ostringstream o;
  o << "<div class=\"filters\" data-for=\"" << escape(table) << "\">";
  for (const auto& c : columns) {
    o << "<label>" << escape(c) << " <select data-col=\"" << escape(c)
      << "\"><option value=\"\">all</option>";
    if (auto it = values.find(c); it != values.end())
      for (const auto& v : it->second)
        o << "<option value=\"" << escape(v) << "\">" << escape(v) << "</option>";
    o << "</select></label> ";
  }
  o << "<label>text <input type=\"search\" data-col=\"text\" placeholder=\"filter rows\"></label> "
    << "<span class=\"shown\" data-shown-for=\"" << escape(table) << "\"></span></div>\n";
  return o.str();
}

const char* kStyle = R"CSS(
body{font:14px/1.45 "DejaVu Sans",Arial,sans-serif;margin:0;background:#fff;color:#1d2433}
header{background:#1d2433;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#c9d1e0}
main{padding:12px 24px 40px} h2{margin-top:28px;border-bottom:1px solid #dde3ee;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} th,td{border:1px solid #dde3ee;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f5fa} tr.fail td{background:#fff1f0} tr.warn td{background:#fffbe6}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:bold;color:#fff;background:#6b7a90}
.b-ok,.b-pass,.b-passed,.b-accept,.b-rejected{background:#2e8540}.b-failed,.b-fail,.b-not_passed,.b-not_rejected{background:#c0392b}
.b-non_strict{background:#c98a00}.b-informational,.b-unimplemented{background:#3f7fbf}
pre{background:#f6f8fb;border:1px solid #dde3ee;padding:6px 8px;white-space:pre-wrap;word-break:break-all;font-size:12px;margin:4px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #dde3ee;border-radius:6px;padding:8px 10px;min-width:300px;max-width:560px}
.card h4{margin:0 0 4px} .changed td{background:#fff3cd} .added td{background:#e6f4ea} .removed td{background:#fdecea;text-decoration:line-through}
.changes{margin:4px 0;padding-left:18px;font-size:13px} .muted{color:#5c677a} .filters{margin:8px 0}
.filters label{margin-right:10px} .summary td{font-variant-numeric:tabular-nums} svg{max-width:100%;height:auto}
details{margin:2px 0} summary{cursor:pointer}
)CSS";

// Runs last: applies the filters (also from the URL fragment, e.g. #grade=FAILED), and marks the
// document as ready. An error anywhere is counted on <html> for the browser test.
const char* kScript = R"JS(
(function(){
  var root=document.documentElement;
  window.addEventListener('error',function(){root.dataset.txlabErrors=String(Number(root.dataset.txlabErrors||0)+1);});
  function apply(bar){
    var table=document.getElementById(bar.dataset.for); if(!table) return;
    var wants={}; bar.querySelectorAll('[data-col]').forEach(function(el){ if(el.value) wants[el.dataset.col]=el.value.toLowerCase(); });
    var rows=table.querySelectorAll('tbody tr[data-row]'), shown=0;
    rows.forEach(function(tr){
      var ok=true;
      Object.keys(wants).forEach(function(col){
        if(col==='text'){ if(tr.textContent.toLowerCase().indexOf(wants[col])<0) ok=false; }
        else if((tr.dataset[col]||'').toLowerCase()!==wants[col]) ok=false;
      });
      tr.hidden=!ok; var next=tr.nextElementSibling;
      if(next && next.classList.contains('detail')) next.hidden=!ok;
      if(ok) shown++;
    });
    var out=document.querySelector('[data-shown-for="'+bar.dataset.for+'"]');
    if(out) out.textContent='shown '+shown+' of '+rows.length;
    table.dataset.shown=String(shown);
  }
  var bars=document.querySelectorAll('.filters');
  var preset={}; (location.hash||'').replace(/^#/,'').split('&').forEach(function(kv){
    var i=kv.indexOf('='); if(i>0) preset[decodeURIComponent(kv.slice(0,i))]=decodeURIComponent(kv.slice(i+1)); });
  bars.forEach(function(bar){
    bar.querySelectorAll('[data-col]').forEach(function(el){
      if(preset[el.dataset.col]!==undefined) el.value=preset[el.dataset.col];
      el.addEventListener('input',function(){apply(bar);}); el.addEventListener('change',function(){apply(bar);});
    });
    apply(bar);
  });
  root.dataset.txlabReady='1';
})();
)JS";

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

// A small line chart: series of (x, y) points, linear axes from 0, with a legend.
struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> points;
};

std::string line_chart(const std::string& title, const std::string& x_unit,
                       const std::string& y_unit, const std::vector<Series>& series,
                       bool dots = false) {
  const int w = 760, h = 260, left = 70, right = 20, top = 30, bottom = 40;
  double max_x = 1, max_y = 1;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) {
      max_x = std::max(max_x, x);
      max_y = std::max(max_y, y);
    }
  auto px = [&](double x) { return left + x / max_x * (w - left - right); };
  auto py = [&](double y) { return h - bottom - y / max_y * (h - top - bottom); };
  std::ostringstream o;
  o << "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\""
    << h << "\" viewBox=\"0 0 " << w << " " << h
    << "\" font-family=\"DejaVu Sans, Arial, sans-serif\" font-size=\"11\">"
    << "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"
    << "<text x=\"" << left << "\" y=\"16\" font-weight=\"bold\">" << escape(title) << "</text>";
  o << "<line x1=\"" << left << "\" y1=\"" << h - bottom << "\" x2=\"" << w - right << "\" y2=\""
    << h - bottom << "\" stroke=\"#333\"/><line x1=\"" << left << "\" y1=\"" << top << "\" x2=\""
    << left << "\" y2=\"" << h - bottom << "\" stroke=\"#333\"/>";
  for (int k = 0; k <= 4; ++k) {
    const double vx = max_x * k / 4, vy = max_y * k / 4;
    char bx[32], by[32];
    std::snprintf(bx, sizeof bx, "%g", std::round(vx * 10) / 10);
    std::snprintf(by, sizeof by, "%g", std::round(vy * 10) / 10);
    o << "<text x=\"" << px(vx) << "\" y=\"" << h - bottom + 16 << "\" text-anchor=\"middle\">"
      << bx << "</text><text x=\"" << left - 6 << "\" y=\"" << py(vy) + 4
      << "\" text-anchor=\"end\">" << by << "</text>";
  }
  o << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6
    << "\" text-anchor=\"middle\" fill=\"#555\">" << escape(x_unit) << "</text>"
    << "<text x=\"14\" y=\"" << (top + h - bottom) / 2
    << "\" fill=\"#555\" transform=\"rotate(-90 14 " << (top + h - bottom) / 2
    << ")\" text-anchor=\"middle\">" << escape(y_unit) << "</text>";
  int legend_x = left + 260;
  for (const auto& s : series) {
    if (dots) {
      for (const auto& [x, y] : s.points)
        o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"2.2\" fill=\"" << s.color
          << "\"/>";
    } else if (!s.points.empty()) {
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\" points=\"";
      for (const auto& [x, y] : s.points) o << px(x) << "," << py(y) << " ";
      o << "\"/>";
    }
    o << "<rect x=\"" << legend_x << "\" y=\"8\" width=\"10\" height=\"10\" fill=\"" << s.color
      << "\"/><text x=\"" << legend_x + 14 << "\" y=\"17\">" << escape(s.name) << "</text>";
    legend_x += 14 + 8 * static_cast<int>(s.name.size()) + 16;
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

std::string escape(std::string_view s) {
  // XML's escaping (control characters become spaces), and the apostrophe for attributes.
  std::string out;
  for (char c : xml_escape(s)) out += c == '\'' ? std::string("&#39;") : std::string(1, c);
  return out;
}

std::string page(std::string_view kind, std::string_view title, std::string_view subtitle,
                 const std::string& body) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\" data-txlab-page=\"" << escape(kind) << "\">\n<head>\n"
    << "<meta charset=\"utf-8\">\n"
    << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << escape(title) << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n"
    << "<header><h1>" << escape(title) << "</h1><p>" << escape(subtitle) << "</p></header>\n"
    << "<main>\n"
    << body << "</main>\n<script>" << kScript << "</script>\n</body>\n</html>\n";
  return o.str();
}

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

std::string load_body(const Json& load, const std::string& histogram_svg) {
  std::ostringstream o;
  const int64_t errors = num(load, "errors");
  o << "<table class=\"summary\"><tbody><tr><th>verdict</th><td>"
    << badge(errors == 0 ? "PASS" : "FAIL") << "</td></tr><tr><th>calls</th><td>"
    << num(load, "calls") << " in " << std::round(real(load, "elapsed_s") * 100) / 100 << " s · "
    << std::llround(real(load, "throughput_per_s")) << " calls/s · " << errors
    << " errors</td></tr><tr><th>exchanges</th><td>" << num(load, "exchanges")
    << "</td></tr><tr><th>exchange cache</th><td>" << num(load, "cache_hits") << " hits, "
    << num(load, "cache_misses") << " misses</td></tr><tr><th>seed</th><td>" << num(load, "seed")
    << "</td></tr></tbody></table>\n";
  o << "<h2>Paths</h2><table id=\"paths\"><thead><tr><th>path</th><th>calls</th><th>errors</th>"
       "<th>p50</th><th>p90</th><th>p99</th><th>max</th></tr></thead><tbody>";
  for (const auto& p : array(load, "paths"))
    o << "<tr data-row" << (num(p, "errors") ? " class=\"fail\"" : "") << "><td>"
      << escape(str(p, "name")) << "</td><td>" << num(p, "calls") << "</td><td>" << num(p, "errors")
      << "</td><td>" << micros(num(p, "p50_us")) << "</td><td>" << micros(num(p, "p90_us"))
      << "</td><td>" << micros(num(p, "p99_us")) << "</td><td>" << micros(num(p, "max_us"))
      << "</td></tr>";
  o << "</tbody></table>\n<h2>Latency histograms</h2>\n" << histogram_svg << "\n";
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
