// Running the conformance suite against a target and rendering the results: a report grouped
// by RFC section, JSON (Autobahn-like index) and JUnit XML for CI.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "conformance/case.h"

namespace txlab::conformance {

struct CaseResult {
  const Case* c = nullptr;
  Finding finding;
  int64_t us = 0;
};

struct Report {
  std::string target;
  Profile profile = Profile::kCommon;
  std::vector<CaseResult> results;
  size_t count(Grade g) const;
  // Passed: nothing FAILED (and, when strict, nothing NON-STRICT).
  bool passed(bool strict) const;
};

// Runs every case whose id starts with `filter` (all when empty). Never throws: a case that
// throws is FAILED with the exception text.
Report run_suite(const Target& target, const std::string& filter = {});

std::string render_text(const Report& report, bool color = false);
nlohmann::json render_json(const Report& report);
std::string render_junit(const Report& report);
// The case list (txlab conform --list).
std::string render_list();

}  // namespace txlab::conformance
