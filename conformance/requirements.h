// The requirements inventory (conformance/requirements.json, embedded at build time): every
// normative sentence (MUST/SHOULD and their kin) of the cited RFC sections that binds an
// authorization server's token and metadata endpoints, with the cases that test it or the reason
// it cannot be tested from outside. Untested testable sentences are the backlog, in the open.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace txlab::conformance {

struct Requirement {
  std::string id;                  // "rfc8693/2.1/validate-subject-and-actor"
  std::string section;             // "RFC 8693 §2.1"
  std::string keyword;             // "MUST" or "SHOULD" (MUST NOT, REQUIRED, SHALL: MUST; ...)
  std::string text;                // the sentence, verbatim
  std::vector<std::string> cases;  // case ids that exercise it
  std::string untestable;          // why it cannot be tested black-box; "" when it can
};

const std::vector<Requirement>& requirements();

struct Coverage {
  size_t total = 0, tested = 0, untestable = 0;
  size_t testable() const { return total - untestable; }
  size_t backlog() const { return testable() - tested; }
};
Coverage coverage(const std::string& section_prefix = {});

// txlab conform --requirements: by section, each sentence's keyword, id, state (tested by N
// cases / untestable: reason / BACKLOG) and text; the coverage figure last.
std::string render_requirements();
// The same as JSON; each entry also carries level/requirement so tests/rfc_quotes.py can check
// the quotes mechanically.
nlohmann::json render_requirements_json();

}  // namespace txlab::conformance
