// The requirements inventory: parsed once from the embedded JSON, rendered for the CLI.
#include "conformance/requirements.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace txlab::conformance {

extern const char* const kRequirementsJson;

using Json = nlohmann::json;

const std::vector<Requirement>& requirements() {
  static const std::vector<Requirement> list = [] {
    std::vector<Requirement> out;
    const Json j = Json::parse(kRequirementsJson);  // built in: a parse error is a build bug
    for (const auto& r : j.at("requirements")) {
      Requirement q;
      q.id = r.at("id").get<std::string>();
      q.section = r.at("section").get<std::string>();
      q.keyword = r.at("keyword").get<std::string>();
      q.text = r.at("text").get<std::string>();
      q.cases = r.at("cases").get<std::vector<std::string>>();
      q.untestable = r.value("untestable", std::string());
      out.push_back(std::move(q));
    }
    return out;
  }();
  return list;
}

Coverage coverage(const std::string& section_prefix) {
  Coverage c;
  for (const auto& r : requirements()) {
    if (!section_prefix.empty() && r.section.rfind(section_prefix, 0) != 0) continue;
    ++c.total;
    if (!r.untestable.empty())
      ++c.untestable;
    else if (!r.cases.empty())
      ++c.tested;
  }
  return c;
}

namespace {

std::string state_of(const Requirement& r) {
  if (!r.untestable.empty()) return "untestable";
  if (r.cases.empty()) return "BACKLOG";
  return "tested (" + std::to_string(r.cases.size()) + (r.cases.size() == 1 ? " case)" : " cases)");
}

std::string percent(size_t a, size_t b) {
  return b == 0 ? "-" : std::to_string((a * 1000 / b + 5) / 10) + "%";
}

}  // namespace

std::string render_requirements() {
  std::ostringstream o;
  std::string section;
  for (const auto& r : requirements()) {
    if (r.section != section) {
      section = r.section;
      o << "\n" << section << "\n";
    }
    o << "  " << r.keyword << (r.keyword.size() < 6 ? std::string(7 - r.keyword.size(), ' ') : " ")
      << r.id << " — " << state_of(r) << "\n";
    o << "      \"" << r.text << "\"\n";
    if (!r.untestable.empty()) o << "      untestable: " << r.untestable << "\n";
    if (!r.cases.empty()) {
      o << "      cases: " << r.cases.front();
      if (r.cases.size() > 1) o << " (+" << r.cases.size() - 1 << " more)";
      o << "\n";
    }
  }
  const Coverage c = coverage();
  o << "\n"
    << c.total << " normative sentences binding the authorization server: " << c.tested
    << " tested, " << c.untestable << " untestable from outside, " << c.backlog()
    << " backlog\ncoverage: " << c.tested << "/" << c.testable() << " testable sentences ("
    << percent(c.tested, c.testable()) << ")\n";
  return o.str();
}

Json render_requirements_json() {
  Json list = Json::array();
  for (const auto& r : requirements())
    list.push_back({{"id", r.id},
                    {"section", r.section},
                    {"keyword", r.keyword},
                    {"level", r.keyword},
                    {"text", r.text},
                    {"requirement", r.text},
                    {"cases", r.cases},
                    {"untestable", r.untestable},
                    {"state", r.untestable.empty() ? (r.cases.empty() ? "backlog" : "tested")
                                                   : "untestable"}});
  const Coverage c = coverage();
  return {{"requirements", list},
          {"cases", list},  // the listing shape tests/rfc_quotes.py reads
          {"coverage",
           {{"total", c.total},
            {"tested", c.tested},
            {"untestable", c.untestable},
            {"backlog", c.backlog()}}}};
}

}  // namespace txlab::conformance
