// Running the conformance suite against a target and rendering the results: a report grouped
// by RFC section, JSON (Autobahn-like index) and JUnit XML for CI.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "conformance/case.h"

namespace txlab {
struct JunitReport;
}

namespace txlab::conformance {

struct CaseResult {
  const Case* c = nullptr;
  Finding finding;
  int64_t us = 0;
  // The case's last requests and answers (FAILED and NON-STRICT cases only; at most
  // Probe::kTranscriptMax, older ones dropped and counted).
  std::vector<WireExchange> exchanges;
  size_t exchanges_dropped = 0;
};

// The run as a whole, decided before (and while) cases run, so that a target that cannot be
// graded gets one verdict instead of a cascade of failures.
enum class Verdict {
  kGraded,               // the cases ran
  kExchangeUnsupported,  // discovery or the target itself says it has no token-exchange grant
  kExchangeRefused,      // a valid exchange is refused: nothing that builds on one can be judged
  kUnreachable,          // no HTTP answer at all (connection refused, DNS ...)
  kTimedOut,             // the target did not answer in time
  kBudgetExhausted,      // the run's time budget ran out; the remaining cases did not run
  kNoSubjectToken,       // no subject token could be obtained to start from
};
std::string_view to_string(Verdict v);
// The CLI's exit code for a verdict (0/1 for graded runs: pass/fail).
int exit_code(Verdict v);

struct Report {
  std::string target;
  Profile profile = Profile::kCommon;
  Verdict verdict = Verdict::kGraded;
  std::string verdict_detail;  // why (the preflight's answer, the discovery document ...)
  bool strict = false;         // NON-STRICT counts as failure (JSON and JUnit say so too)
  std::vector<CaseResult> results;
  size_t count(Grade g) const;
  // Cases not graded because a case they depend on FAILED (each points at its cause): the
  // summary says "N causes FAILED (N + this cases affected)".
  size_t affected_by_causes() const;
  // Passed: graded, nothing FAILED (and, when strict, nothing NON-STRICT).
  bool passed(bool strict) const;
  bool passed() const { return passed(strict); }
};

struct RunOptions {
  std::string only;  // case id prefix; empty: all
  bool strict = false;
  double budget_s = 600;  // the whole run; cases not started in time are not run
  // Called after each case (progress lines); may be empty.
  std::function<void(size_t done, size_t total, const CaseResult&)> progress;
};

// Runs every selected case. Never throws: a case that throws is FAILED with the exception text.
Report run_suite(const Target& target, const RunOptions& options);
Report run_suite(const Target& target, const std::string& only = {});
// How many cases `only` selects (0 means the filter matches nothing: a usage error).
size_t count_selected(const std::string& only);

std::string render_text(const Report& report, bool color = false);
nlohmann::json render_json(const Report& report);
std::string render_junit(const Report& report);
// The JUnit report before rendering (a test case per case, named by its id), for adjusting.
JunitReport junit_report(const Report& report);
// The case list (txlab conform --list), honouring --only.
std::string render_list(const std::string& only = {});
// The same as JSON (txlab conform --list --json FILE): per case id, section, level, whom the
// sentence binds, title, the quoted requirement and the case it depends on.
nlohmann::json render_list_json(const std::string& only = {});

}  // namespace txlab::conformance
