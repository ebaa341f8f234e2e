// The registry of cases, the runner and the renderings.
#include "conformance/suite.h"

#include <cctype>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "conformance/cases.h"
#include "conformance/judge.h"
#include "conformance/probe.h"
#include "sim/clock.h"
#include "sim/enum_names.h"
#include "sim/json_util.h"
#include "sim/junit.h"

namespace txlab::conformance {

using Json = nlohmann::json;

const std::vector<Case>& all_cases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> v;
    add_request_cases(v);
    add_form_cases(v);
    add_http_cases(v);
    add_response_cases(v);
    add_scope_cases(v);
    add_dpop_cases(v);
    add_mtls_cases(v);
    add_subject_cases(v);
    add_family_cases(v);
    add_class_cases(v);
    add_act_cases(v);
    add_rotation_cases(v);
    add_summary_cases(v);
    return v;
  }();
  return cases;
}

constexpr EnumName<Verdict> kVerdictNames[] = {
    {Verdict::kGraded, "graded"},
    {Verdict::kExchangeUnsupported, "token exchange not supported"},
    {Verdict::kExchangeRefused, "a valid exchange is refused"},
    {Verdict::kUnreachable, "target unreachable"},
    {Verdict::kTimedOut, "timed out"},
    {Verdict::kBudgetExhausted, "time budget exhausted"},
    {Verdict::kNoSubjectToken, "no subject token"},
};
static_assert(covers_in_order(kVerdictNames, Verdict::kNoSubjectToken));

std::string_view to_string(Verdict v) { return name_of(kVerdictNames, v, "?"); }

int exit_code(Verdict v) {
  switch (v) {
    case Verdict::kGraded:
      return 0;
    case Verdict::kExchangeUnsupported:
      return 3;
    case Verdict::kExchangeRefused:
      return 1;
    default:
      return 4;
  }
}

size_t count_selected(const std::string& only) {
  size_t n = 0;
  for (const auto& c : all_cases()) n += only.empty() || c.info.id.rfind(only, 0) == 0 ? 1 : 0;
  return n;
}

size_t Report::affected_by_causes() const {
  size_t n = 0;
  for (const auto& r : results) n += !r.finding.cause.empty() ? 1 : 0;
  return n;
}

size_t Report::count(Grade g) const {
  size_t n = 0;
  for (const auto& r : results) n += r.finding.grade == g ? 1 : 0;
  return n;
}

bool Report::passed(bool strict_mode) const {
  return verdict == Verdict::kGraded && count(Grade::kFailed) == 0 &&
         (!strict_mode || count(Grade::kNonStrict) == 0);
}

namespace {

// One valid exchange before any case: a target without the grant, or one that does not answer,
// gets one verdict instead of a cascade.
Verdict preflight(Probe& probe, const Target& t, std::string* detail) {
  if (t.grant_types_supported &&
      std::find(t.grant_types_supported->begin(), t.grant_types_supported->end(), kGrantTe) ==
          t.grant_types_supported->end()) {
    std::string list;
    for (const auto& g : *t.grant_types_supported) list += (list.empty() ? "" : ", ") + g;
    *detail = "the discovery document's grant_types_supported lacks " + std::string(kGrantTe) +
              " (it lists: " + list + ")";
    return Verdict::kExchangeUnsupported;
  }
  std::string err;
  auto form = probe.valid_exchange(&err);
  if (!form) {
    *detail = err;
    if (err.find("timeout") != std::string::npos) return Verdict::kTimedOut;
    if (err.find("no answer") != std::string::npos) return Verdict::kUnreachable;
    return Verdict::kNoSubjectToken;
  }
  Answer a = probe.post(*form);
  if ((a.status == 400 || a.status == 401) && a.error() == "invalid_client") {
    // A server that takes client_secret_post only: the exchanger authenticates that way from here.
    Answer post = probe.post(*form, Auth::kPost);
    if (post.status == 200) {
      probe.set_default_auth(Auth::kPost);
      a = post;
    }
  }
  *detail = "a valid exchange was answered " + a.describe();
  if (a.status == 0) return a.timed_out() ? Verdict::kTimedOut : Verdict::kUnreachable;
  if (a.error() == "unsupported_grant_type") return Verdict::kExchangeUnsupported;
  if (a.status != 200) {
    *detail +=
        " (check --exchanger-client, --subject-client and --audience; "
        "rfc8693/2.1/valid-request-succeeds shows the answer)";
    return Verdict::kExchangeRefused;
  }
  return Verdict::kGraded;
}

// The first three-digit number of an `actual` text (the HTTP status it reports), or "".
std::string first_status(const std::string& actual) {
  for (size_t i = 0; i + 3 <= actual.size(); ++i)
    if (std::isdigit(static_cast<unsigned char>(actual[i])) &&
        std::isdigit(static_cast<unsigned char>(actual[i + 1])) &&
        std::isdigit(static_cast<unsigned char>(actual[i + 2])) &&
        (i == 0 || !std::isdigit(static_cast<unsigned char>(actual[i - 1]))) &&
        (i + 3 == actual.size() || !std::isdigit(static_cast<unsigned char>(actual[i + 3]))))
      return actual.substr(i, 3);
  return {};
}

// The FAILED finding of the case `c` depends on, or nullptr when it did not fail (or `c`
// depends on nothing). A cause case that was not selected runs here, once, unreported.
const Finding* cause_of(const Case& c, Probe& probe, const Report& report,
                        std::map<std::string, Finding>& causes) {
  if (c.info.depends_on.empty()) return nullptr;
  // A cause that is itself ungraded because of a cause counts as that root cause.
  auto root = [](const Finding& f) { return f.grade == Grade::kFailed || !f.cause.empty(); };
  for (const auto& r : report.results)
    if (r.c->info.id == c.info.depends_on) return root(r.finding) ? &r.finding : nullptr;
  auto it = causes.find(c.info.depends_on);
  if (it == causes.end()) {
    Finding f;
    for (const auto& other : all_cases()) {
      if (other.info.id != c.info.depends_on) continue;
      if (const Finding* up = cause_of(other, probe, report, causes)) {
        f = unimplemented("its own cause FAILED");
        f.cause = up->cause.empty() ? other.info.depends_on : up->cause;
        break;
      }
      try {
        f = bounded_by_sentence(other.info, other.check(probe));
      } catch (const std::exception&) {
        f = {};
      }
    }
    it = causes.emplace(c.info.depends_on, f).first;
  }
  return root(it->second) ? &it->second : nullptr;
}

}  // namespace

Report run_suite(const Target& target, const std::string& only) {
  RunOptions o;
  o.only = only;
  return run_suite(target, o);
}

Report run_suite(const Target& target, const RunOptions& options) {
  Report report;
  report.target = target.name.empty() ? target.token_endpoint : target.name;
  report.profile = target.profile;
  report.strict = options.strict;
  Probe probe(target);
  const auto auth_note = [&probe] {
    return probe.default_auth() == Auth::kPost
               ? " (the exchanger authenticates with client_secret_post)"
           : probe.default_auth() == Auth::kTls
               ? " (the exchanger authenticates with its certificate, RFC 8705)"
               : "";
  };
  std::vector<const Case*> selected;
  for (const auto& c : all_cases())
    if (options.only.empty() || c.info.id.rfind(options.only, 0) == 0) selected.push_back(&c);
  const int64_t start = monotonic_us();
  report.verdict = preflight(probe, target, &report.verdict_detail);
  report.verdict_detail += auth_note();
  int stalled = 0;
  std::map<std::string, Finding> causes;  // cause cases run for their dependents, not selected
  for (size_t i = 0; i < selected.size(); ++i) {
    const Case& c = *selected[i];
    CaseResult r;
    r.c = &c;
    const bool partial = report.verdict == Verdict::kExchangeUnsupported ||
                         report.verdict == Verdict::kExchangeRefused;
    const bool run = report.verdict == Verdict::kGraded || (partial && !c.info.needs_exchange) ||
                     (report.verdict == Verdict::kExchangeRefused &&
                      c.info.id == "rfc8693/2.1/valid-request-succeeds");
    if (report.verdict == Verdict::kGraded && (monotonic_us() - start) / 1e6 > options.budget_s) {
      report.verdict = Verdict::kBudgetExhausted;
      report.verdict_detail = "the run's budget of " +
                              std::to_string(static_cast<int>(options.budget_s)) +
                              " s ran out after " + std::to_string(i) + " of " +
                              std::to_string(selected.size()) + " cases (--budget)";
    }
    const Finding* cause =
        run && report.verdict == Verdict::kGraded ? cause_of(c, probe, report, causes) : nullptr;
    if (!run || report.verdict == Verdict::kBudgetExhausted) {
      r.finding = unimplemented("not run: " + std::string(to_string(report.verdict)));
    } else if (cause) {
      const std::string root = cause->cause.empty() ? c.info.depends_on : cause->cause;
      r.finding = unimplemented("not graded: it depends on " + root +
                                ", which FAILED (one cause, one FAILED)" +
                                (cause->cause.empty() ? ": " + cause->note : std::string()));
      r.finding.cause = root;
    } else {
      const size_t requests = probe.requests(), timeouts = probe.timeouts();
      const int64_t case_start = monotonic_us();
      probe.begin_case();
      try {
        r.finding = bounded_by_sentence(c.info, c.check(probe));
      } catch (const std::exception& e) {
        r.finding = {Grade::kFailed, "a gradable answer", std::string("case aborted: ") + e.what(),
                     ""};
      }
      r.us = monotonic_us() - case_start;
      if (r.finding.grade == Grade::kFailed && !c.info.same_cause_as.empty())
        for (const auto& earlier : report.results) {
          if (earlier.c->info.id != c.info.same_cause_as) continue;
          const Finding& f = earlier.finding;
          if (f.grade != Grade::kFailed && f.cause.empty()) break;
          // The same way: the same HTTP status came back (a 200 here and a 401 without a
          // challenge there are two bugs, not one).
          if (f.grade == Grade::kFailed && first_status(f.actual) != first_status(r.finding.actual))
            break;
          r.finding.grade = Grade::kUnimplemented;
          r.finding.cause = f.cause.empty() ? c.info.same_cause_as : f.cause;
          r.finding.note = "fails the same way as " + r.finding.cause + " (one cause, one FAILED)" +
                           (r.finding.note.empty() ? "" : ": " + r.finding.note);
        }
      const size_t sent = probe.requests() - requests, late = probe.timeouts() - timeouts;
      if (late > 0) {
        r.finding =
            failed("an answer within " + std::to_string(target.timeout_ms) + " ms", "timed out",
                   std::to_string(late) + " of " + std::to_string(sent) +
                       " requests of this case timed out");
      }
      if (r.finding.grade == Grade::kFailed || r.finding.grade == Grade::kNonStrict)
        r.exchanges = probe.take_transcript(&r.exchanges_dropped);
      // A target that stops answering ends the run with one verdict, not a failure per case.
      stalled = late > 0 && late == sent ? stalled + 1 : 0;
      if (stalled >= 2 && report.verdict == Verdict::kGraded) {
        report.verdict = Verdict::kTimedOut;
        report.verdict_detail = "every request of two cases in a row timed out (" + c.info.id + ")";
      }
    }
    report.results.push_back(std::move(r));
    if (options.progress) options.progress(i + 1, selected.size(), report.results.back());
    if (report.verdict == Verdict::kTimedOut) {
      for (size_t j = i + 1; j < selected.size(); ++j) {
        CaseResult rest;
        rest.c = selected[j];
        rest.finding = unimplemented("not run: the target timed out");
        report.results.push_back(std::move(rest));
      }
      break;
    }
  }
  return report;
}

namespace {

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

const char* color_of(Grade g) {
  switch (g) {
    case Grade::kOk:
      return "\033[32m";
    case Grade::kFailed:
      return "\033[31m";
    case Grade::kNonStrict:
      return "\033[33m";
    default:
      return "\033[36m";
  }
}

}  // namespace

namespace {

// Results grouped by section, sections in order of first appearance.
template <typename T, typename SectionOf>
std::vector<std::pair<std::string, std::vector<const T*>>> by_section(const std::vector<T>& items,
                                                                      SectionOf section_of) {
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
  o << "txlab conform · " << report.target << " · profile " << to_string(report.profile)
    << (report.strict ? " · strict" : "") << "\n";
  if (report.verdict != Verdict::kGraded)
    o << "\nVERDICT: " << to_string(report.verdict) << " — " << report.verdict_detail << "\n";
  for (const auto& [section, group] :
       by_section(report.results,
                  [](const CaseResult& r) -> const std::string& { return r.c->info.section; })) {
    o << "\n" << section << "\n";
    for (const CaseResult* rp : group) {
      const CaseResult& r = *rp;
      const std::string grade(to_string(r.finding.grade));
      o << "  " << (color ? color_of(r.finding.grade) + pad(grade, 14) + "\033[0m" : pad(grade, 14))
        << pad(std::string(to_string(r.c->info.level)), 7) << r.c->info.id << "\n";
      if (r.finding.grade == Grade::kFailed || r.finding.grade == Grade::kNonStrict) {
        o << "      " << r.c->info.title << "\n";
        if (!r.finding.expected.empty()) o << "      expected: " << r.finding.expected << "\n";
        if (!r.finding.actual.empty()) o << "      actual:   " << r.finding.actual << "\n";
      }
      if (!r.finding.note.empty() && r.finding.grade != Grade::kOk)
        o << "      note:     " << r.finding.note << "\n";
    }
  }
  o << "\n"
    << report.results.size() << " cases: " << report.count(Grade::kOk) << " OK, "
    << report.count(Grade::kNonStrict) << " NON-STRICT, " << report.count(Grade::kInformational)
    << " INFORMATIONAL, " << report.count(Grade::kUnimplemented) << " UNIMPLEMENTED, "
    << report.count(Grade::kFailed) << " FAILED\n";
  if (report.count(Grade::kFailed) > 0)
    o << report.count(Grade::kFailed) << " causes FAILED ("
      << report.count(Grade::kFailed) + report.affected_by_causes() << " cases affected)\n";
  if (report.verdict != Verdict::kGraded) o << "verdict: " << to_string(report.verdict) << "\n";
  o << (report.passed() ? "PASSED" : "NOT PASSED")
    << (report.strict ? " (strict: NON-STRICT counts as failure)" : "") << "\n";
  return o.str();
}

Json render_json(const Report& report) {
  Json cases = Json::array();
  for (const auto& r : report.results) {
    cases.push_back({{"id", r.c->info.id},
                     {"section", r.c->info.section},
                     {"level", std::string(to_string(r.c->info.level))},
                     {"binds", std::string(to_string(r.c->info.binds))},
                     {"title", r.c->info.title},
                     {"requirement", r.c->info.requirement},
                     {"grade", std::string(to_string(r.finding.grade))},
                     {"expected", r.finding.expected},
                     {"actual", r.finding.actual},
                     {"note", r.finding.note},
                     {"us", r.us}});
    if (!r.finding.cause.empty()) cases.back()["cause"] = r.finding.cause;
    if (!r.exchanges.empty()) {
      Json wire = Json::array();
      for (const auto& e : r.exchanges)
        wire.push_back({{"request", e.request}, {"response", e.response}});
      cases.back()["exchanges"] = wire;
      cases.back()["exchanges_dropped"] = r.exchanges_dropped;
    }
  }
  Json counts = Json::object();
  for (Grade g : {Grade::kOk, Grade::kNonStrict, Grade::kInformational, Grade::kUnimplemented,
                  Grade::kFailed})
    counts[std::string(to_string(g))] = report.count(g);
  return {{"target", report.target},
          {"profile", std::string(to_string(report.profile))},
          {"verdict", std::string(to_string(report.verdict))},
          {"verdict_detail", report.verdict_detail},
          {"strict", report.strict},
          {"passed", report.passed()},
          {"exit_code", report.verdict == Verdict::kGraded ? (report.passed() ? 0 : 1)
                                                           : exit_code(report.verdict)},
          {"counts", counts},
          {"causes_failed", report.count(Grade::kFailed)},
          {"cases_affected", report.count(Grade::kFailed) + report.affected_by_causes()},
          {"cases", cases}};
}

namespace {

// JUnit consumers such as Jenkins split classname at its last dot into package and class:
// "txlab.RFC 8693 §2_2_2" stays one class under one package.
std::string junit_class(const std::string& section) {
  std::string out = "txlab.";
  for (char c : section) out += c == '.' ? '_' : c;
  return out;
}

JunitCase junit_case(const Report& report, const CaseResult& r, const std::string& section) {
  JunitCase c{junit_class(section), r.c->info.id, r.us / 1e6};
  const Finding& f = r.finding;
  const std::string grade(to_string(f.grade));
  if (f.grade == Grade::kFailed || (report.strict && f.grade == Grade::kNonStrict)) {
    c.failure = JunitFailure{grade + ": " + r.c->info.title,
                             "expected: " + f.expected + "\nactual: " + f.actual + "\n" + f.note};
  } else if (f.grade == Grade::kUnimplemented || f.grade == Grade::kInformational) {
    if (!f.cause.empty()) c.properties.push_back({"cause", f.cause});
    c.skipped = grade + ": " + f.note;
  } else if (f.grade == Grade::kNonStrict) {
    c.system_out = "NON-STRICT: " + f.note;
  }
  return c;
}

}  // namespace

std::string render_junit(const Report& report) { return txlab::render_junit(junit_report(report)); }

JunitReport junit_report(const Report& report) {
  JunitReport junit{"txlab conform"};
  if (report.verdict != Verdict::kGraded) {
    const std::string verdict(to_string(report.verdict));
    JunitCase c{"txlab.verdict", verdict, 0.0};
    c.failure = JunitFailure{verdict, report.verdict_detail};
    JunitSuite suite{"txlab.verdict"};
    suite.show_skipped = true;
    suite.cases.push_back(std::move(c));
    junit.suites.push_back(std::move(suite));
  }
  for (const auto& [section, rs] :
       by_section(report.results,
                  [](const CaseResult& r) -> const std::string& { return r.c->info.section; })) {
    JunitSuite suite{section};
    suite.show_skipped = true;
    for (const auto* r : rs) suite.cases.push_back(junit_case(report, *r, section));
    junit.suites.push_back(std::move(suite));
  }
  return junit;
}

Json render_list_json(const std::string& only) {
  Json cases = Json::array();
  for (const auto& c : all_cases()) {
    if (!only.empty() && c.info.id.rfind(only, 0) != 0) continue;
    cases.push_back({{"id", c.info.id},
                     {"section", c.info.section},
                     {"level", std::string(to_string(c.info.level))},
                     {"binds", std::string(to_string(c.info.binds))},
                     {"title", c.info.title},
                     {"requirement", c.info.requirement}});
    if (!c.info.depends_on.empty()) cases.back()["depends_on"] = c.info.depends_on;
    if (!c.info.same_cause_as.empty()) cases.back()["same_cause_as"] = c.info.same_cause_as;
  }
  return {{"cases", cases}};
}

std::string render_list(const std::string& only) {
  std::ostringstream o;
  std::vector<Case> cases;
  for (const auto& c : all_cases())
    if (only.empty() || c.info.id.rfind(only, 0) == 0) cases.push_back(c);
  for (const auto& [section, group] :
       by_section(cases, [](const Case& c) -> const std::string& { return c.info.section; })) {
    o << "\n" << section << "\n";
    for (const Case* c : group)
      o << "  " << pad(std::string(to_string(c->info.level)), 7) << pad(c->info.id, 58)
        << c->info.title
        << (c->info.binds == Binds::kServer
                ? std::string()
                : " [binds the " + std::string(to_string(c->info.binds)) + "]")
        << "\n";
  }
  o << "\n" << cases.size() << " cases\n";
  return o.str();
}

}  // namespace txlab::conformance
