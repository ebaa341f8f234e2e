// The registry of cases, the runner and the renderings.
#include "conformance/suite.h"

#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "conformance/cases.h"
#include "conformance/probe.h"
#include "sim/clock.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> v;
    add_request_cases(v);
    add_response_cases(v);
    add_subject_cases(v);
    add_act_cases(v);
    return v;
  }();
  return cases;
}

size_t Report::count(Grade g) const {
  size_t n = 0;
  for (const auto& r : results) n += r.finding.grade == g ? 1 : 0;
  return n;
}

bool Report::passed(bool strict) const { return count(Grade::kFailed) == 0 && (!strict || count(Grade::kNonStrict) == 0); }

Report run_suite(const Target& target, const std::string& filter) {
  Report report;
  report.target = target.name.empty() ? target.token_endpoint : target.name;
  report.profile = target.profile;
  Probe probe(target);
  for (const auto& c : all_cases()) {
    if (!filter.empty() && c.info.id.rfind(filter, 0) != 0) continue;
    CaseResult r;
    r.c = &c;
    const int64_t start = monotonic_us();
    try {
      r.finding = c.check(probe);
    } catch (const std::exception& e) {
      r.finding = {Grade::kFailed, "a gradable answer", std::string("case aborted: ") + e.what(), ""};
    }
    r.us = monotonic_us() - start;
    report.results.push_back(std::move(r));
  }
  return report;
}

namespace {

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

const char* color_of(Grade g) {
  switch (g) {
    case Grade::kOk: return "\033[32m";
    case Grade::kFailed: return "\033[31m";
    case Grade::kNonStrict: return "\033[33m";
    default: return "\033[36m";
  }
}

}  // namespace

namespace {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') out += ' ';
        else out += c;
    }
  }
  return out;
}


// Results grouped by section, sections in order of first appearance.
template <typename T, typename SectionOf>
std::vector<std::pair<std::string, std::vector<const T*>>> by_section(const std::vector<T>& items, SectionOf section_of) {
  std::vector<std::pair<std::string, std::vector<const T*>>> out;
  for (const auto& item : items) {
    const std::string& s = section_of(item);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == s; });
    if (it == out.end()) it = out.insert(out.end(), {s, {}});
    it->second.push_back(&item);
  }
  return out;
}

}  // namespace

std::string render_text(const Report& report, bool color) {
  std::ostringstream o;
  o << "txlab conform · " << report.target << " · profile " << to_string(report.profile) << "\n";
  for (const auto& [section, group] : by_section(report.results, [](const CaseResult& r) -> const std::string& { return r.c->info.section; })) {
    o << "\n" << section << "\n";
    for (const CaseResult* rp : group) {
    const CaseResult& r = *rp;
    const std::string grade(to_string(r.finding.grade));
    o << "  " << (color ? color_of(r.finding.grade) + pad(grade, 14) + "\033[0m" : pad(grade, 14)) << pad(std::string(to_string(r.c->info.level)), 7)
      << r.c->info.id << "\n";
    if (r.finding.grade == Grade::kFailed || r.finding.grade == Grade::kNonStrict) {
      o << "      " << r.c->info.title << "\n";
      if (!r.finding.expected.empty()) o << "      expected: " << r.finding.expected << "\n";
      if (!r.finding.actual.empty()) o << "      actual:   " << r.finding.actual << "\n";
    }
    if (!r.finding.note.empty() && r.finding.grade != Grade::kOk) o << "      note:     " << r.finding.note << "\n";
    }
  }
  o << "\n" << report.results.size() << " cases: " << report.count(Grade::kOk) << " OK, " << report.count(Grade::kNonStrict)
    << " NON-STRICT, " << report.count(Grade::kInformational) << " INFORMATIONAL, " << report.count(Grade::kUnimplemented)
    << " UNIMPLEMENTED, " << report.count(Grade::kFailed) << " FAILED\n";
  return o.str();
}

Json render_json(const Report& report) {
  Json cases = Json::array();
  for (const auto& r : report.results) {
    cases.push_back({{"id", r.c->info.id},
                     {"section", r.c->info.section},
                     {"level", std::string(to_string(r.c->info.level))},
                     {"title", r.c->info.title},
                     {"requirement", r.c->info.requirement},
                     {"grade", std::string(to_string(r.finding.grade))},
                     {"expected", r.finding.expected},
                     {"actual", r.finding.actual},
                     {"note", r.finding.note},
                     {"us", r.us}});
  }
  Json counts = Json::object();
  for (Grade g : {Grade::kOk, Grade::kNonStrict, Grade::kInformational, Grade::kUnimplemented, Grade::kFailed})
    counts[std::string(to_string(g))] = report.count(g);
  return {{"target", report.target}, {"profile", std::string(to_string(report.profile))}, {"counts", counts}, {"cases", cases}};
}

std::string render_junit(const Report& report) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o << "<testsuites name=\"txlab conform\">\n";
  for (const auto& [section, rs] : by_section(report.results, [](const CaseResult& r) -> const std::string& { return r.c->info.section; })) {
    size_t failures = 0, skipped = 0;
    for (const auto* r : rs) {
      failures += r->finding.grade == Grade::kFailed ? 1 : 0;
      skipped += (r->finding.grade == Grade::kUnimplemented || r->finding.grade == Grade::kInformational) ? 1 : 0;
    }
    o << "  <testsuite name=\"" << xml_escape(section) << "\" tests=\"" << rs.size() << "\" failures=\"" << failures
      << "\" skipped=\"" << skipped << "\">\n";
    for (const auto* r : rs) {
      o << "    <testcase classname=\"" << xml_escape(section) << "\" name=\"" << xml_escape(r->c->info.id) << "\" time=\""
        << (r->us / 1e6) << "\">\n";
      const std::string grade(to_string(r->finding.grade));
      if (r->finding.grade == Grade::kFailed) {
        o << "      <failure message=\"" << xml_escape(r->c->info.title) << "\">expected: " << xml_escape(r->finding.expected)
          << "\nactual: " << xml_escape(r->finding.actual) << "\n" << xml_escape(r->finding.note) << "</failure>\n";
      } else if (r->finding.grade == Grade::kUnimplemented || r->finding.grade == Grade::kInformational) {
        o << "      <skipped message=\"" << grade << ": " << xml_escape(r->finding.note) << "\"/>\n";
      } else if (r->finding.grade == Grade::kNonStrict) {
        o << "      <system-out>NON-STRICT: " << xml_escape(r->finding.note) << "</system-out>\n";
      }
      o << "    </testcase>\n";
    }
    o << "  </testsuite>\n";
  }
  o << "</testsuites>\n";
  return o.str();
}

std::string render_list() {
  std::ostringstream o;
  for (const auto& [section, group] : by_section(all_cases(), [](const Case& c) -> const std::string& { return c.info.section; })) {
    o << "\n" << section << "\n";
    for (const Case* c : group)
      o << "  " << pad(std::string(to_string(c->info.level)), 7) << pad(c->info.id, 58) << c->info.title << "\n";
  }
  o << "\n" << all_cases().size() << " cases\n";
  return o.str();
}

}  // namespace txlab::conformance
