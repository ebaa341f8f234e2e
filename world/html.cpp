// Self-contained HTML reports drawn from the JSON reports: the page chrome (style, script,
// header) and the drawing parts every body shares. The bodies are in world/html_run.cpp (run,
// timeline, sequence diagrams, tokens) and world/html_reports.cpp (conform, attack, load).
#include "world/html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"
#include "sim/xml.h"
#include "world/html_parts.h"

namespace txlab::html {

namespace detail {

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

std::string line_chart(const std::string& title, const std::string& x_unit,
                       const std::string& y_unit, const std::vector<Series>& series, bool dots) {
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

}  // namespace detail

namespace {

const char* kStyle = R"CSS(
body{font:14px/1.45 "DejaVu Sans",Arial,sans-serif;margin:0;background:#fff;color:#1d2433}
header{background:#1d2433;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px} header p{margin:4px 0 0;color:#c9d1e0}
main{padding:12px 24px 40px} h2{margin-top:28px;border-bottom:1px solid #dde3ee;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px} th,td{border:1px solid #dde3ee;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f2f5fa} tr.fail td{background:#fff1f0} tr.warn td{background:#fffbe6}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:bold;color:#fff;background:#6b7a90}
.b-ok,.b-pass,.b-passed,.b-accept,.b-rejected{background:#2e8540}.b-failed,.b-fail,.b-not_passed,.b-not_rejected,.b-regression{background:#c0392b}
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

}  // namespace txlab::html
