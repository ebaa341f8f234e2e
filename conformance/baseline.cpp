// Baselines (see baseline.h): reading one (a baseline file or an earlier --json report),
// writing one, comparing a run with it, and the comparison as text, JSON and JUnit.
#include "conformance/baseline.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"
#include "sim/junit.h"

namespace txlab::conformance {

using Json = nlohmann::json;

std::string answer_status(const std::string& actual) {
  auto alnum = [&actual](size_t i) { return std::isalnum(static_cast<unsigned char>(actual[i])); };
  auto digit = [&actual](size_t i) { return std::isdigit(static_cast<unsigned char>(actual[i])); };
  for (size_t i = 0; i + 3 <= actual.size(); ++i) {
    if ((i > 0 && alnum(i - 1)) || (i + 3 < actual.size() && alnum(i + 3))) continue;
    if (digit(i) && digit(i + 1) && digit(i + 2) && actual[i] >= '1' && actual[i] <= '5')
      return actual.substr(i, 3);
  }
  return {};
}

namespace {

constexpr Grade kGrades[] = {Grade::kOk, Grade::kNonStrict, Grade::kInformational,
                             Grade::kUnimplemented, Grade::kFailed};

std::optional<Grade> grade_from_string(const std::string& s) {
  for (Grade g : kGrades)
    if (s == to_string(g)) return g;
  return std::nullopt;
}

std::string grade_name(Grade g) { return std::string(to_string(g)); }

// OK 4 > NON-STRICT 3 > INFORMATIONAL 2 > UNIMPLEMENTED 1 > FAILED 0.
int rank(Grade g) { return 4 - static_cast<int>(g); }

bool fails(Grade g, bool strict) {
  return g == Grade::kFailed || (strict && g == Grade::kNonStrict);
}

bool selected(const std::string& id, const std::string& only) {
  return only.empty() || id.rfind(only, 0) == 0;
}

// A refusal while reading; becomes "FILE: error: MESSAGE".
struct BadBaseline {
  std::string message;
};

std::string optional_string(const Json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) return {};
  if (!j[key].is_string()) throw BadBaseline{where + "\"" + key + "\" must be a string"};
  return j[key].get<std::string>();
}

Grade grade_of(const Json& j, const std::string& where) {
  if (!j.contains("grade") || !j["grade"].is_string())
    throw BadBaseline{where + "needs a \"grade\" string"};
  const auto g = grade_from_string(j["grade"].get<std::string>());
  if (!g)
    throw BadBaseline{where + "grade '" + j["grade"].get<std::string>() +
                      "' is not one of OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED, FAILED"};
  return *g;
}

void read_baseline_file(const Json& j, Baseline& b) {
  const Json& v = j["txlab_baseline"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1)
    throw BadBaseline{"\"txlab_baseline\" must be the format version, 1"};
  if (v.get<int64_t>() > kBaselineFormat)
    throw BadBaseline{"format " + std::to_string(v.get<int64_t>()) +
                      " is newer than this txlab reads (" + std::to_string(kBaselineFormat) + ")"};
  for (const auto& [key, value] : j.items())
    if (key != "txlab_baseline" && key != "txlab_version" && key != "target" && key != "profile" &&
        key != "only" && key != "description" && key != "cases")
      throw BadBaseline{"unknown key \"" + key + "\""};
  b.txlab_version = optional_string(j, "txlab_version", "");
  b.target = optional_string(j, "target", "");
  b.profile = optional_string(j, "profile", "");
  b.only = optional_string(j, "only", "");
  b.description = optional_string(j, "description", "");
  if (b.profile.empty()) throw BadBaseline{"needs the \"profile\" it was graded under"};
  if (!j.contains("cases") || !j["cases"].is_object())
    throw BadBaseline{"needs \"cases\": an object of case id to grade"};
  for (const auto& [id, c] : j["cases"].items()) {
    const std::string where = "case '" + id + "': ";
    if (!c.is_object()) throw BadBaseline{where + "must be an object with a \"grade\""};
    for (const auto& [key, value] : c.items())
      if (key != "grade" && key != "cause" && key != "status" && key != "reason")
        throw BadBaseline{where + "unknown key \"" + key + "\""};
    b.cases[id] = {grade_of(c, where), optional_string(c, "cause", where),
                   optional_string(c, "status", where), optional_string(c, "reason", where)};
  }
}

void read_report(const Json& j, Baseline& b) {
  b.from_report = true;
  const std::string verdict = optional_string(j, "verdict", "");
  if (verdict != "graded")
    throw BadBaseline{"its run was not graded (" + (verdict.empty() ? "no verdict" : verdict) +
                      "): it cannot be a baseline"};
  b.target = optional_string(j, "target", "");
  b.profile = optional_string(j, "profile", "");
  if (b.profile.empty()) throw BadBaseline{"the report names no \"profile\""};
  for (const auto& c : j["cases"]) {
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string())
      throw BadBaseline{"a case of the report has no \"id\""};
    const std::string id = c["id"].get<std::string>(), where = "case '" + id + "': ";
    BaselineCase bc{grade_of(c, where), optional_string(c, "cause", where), "", ""};
    if (bc.grade == Grade::kFailed) bc.status = answer_status(optional_string(c, "actual", where));
    b.cases[id] = std::move(bc);
  }
}

}  // namespace

std::optional<Baseline> parse_baseline(const std::string& text, const std::string& file,
                                       std::string* error) {
  Baseline b;
  b.file = file;
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann says "... parse error at line L, column C: why"; keep the why, place it ourselves.
    const size_t at = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    const size_t line = 1 + std::count(text.begin(), text.begin() + at, '\n');
    const size_t nl = text.rfind('\n', at == 0 ? 0 : at - 1);
    const size_t column = nl == std::string::npos || at == 0 ? at + 1 : at - nl;
    std::string why = e.what();
    if (const size_t colon = why.find(": "); colon != std::string::npos)
      why = why.substr(colon + 2);
    *error = file + ":" + std::to_string(line) + ":" + std::to_string(column) +
             ": error: not JSON: " + why;
    return std::nullopt;
  }
  try {
    if (!j.is_object()) throw BadBaseline{"not a txlab baseline (expected a JSON object)"};
    if (j.contains("txlab_baseline"))
      read_baseline_file(j, b);
    else if (j.contains("cases") && j["cases"].is_array())
      read_report(j, b);
    else
      throw BadBaseline{
          "not a txlab baseline: no \"txlab_baseline\", and no \"cases\" list of a --json report"};
  } catch (const BadBaseline& e) {
    *error = file + ": error: " + e.message;
    return std::nullopt;
  }
  return b;
}

std::optional<std::string> baseline_refusal(const Baseline& baseline, Profile profile) {
  if (baseline.profile == to_string(profile)) return std::nullopt;
  return baseline.file + ": error: the baseline was graded under profile " + baseline.profile +
         ", this run under " + std::string(to_string(profile)) +
         ": the profiles grade deviations differently (use --profile " + baseline.profile +
         " or write a baseline for this profile)";
}

Baseline baseline_of(const Report& report, const std::string& only,
                     const std::string& txlab_version, const Baseline* previous,
                     std::vector<std::string>* dropped) {
  Baseline b;
  b.txlab_version = txlab_version;
  b.target = report.target;
  b.profile = to_string(report.profile);
  b.only = only;
  if (previous) b.description = previous->description;
  for (const auto& r : report.results) {
    BaselineCase c{r.finding.grade, r.finding.cause, "", ""};
    if (c.grade == Grade::kFailed) c.status = answer_status(r.finding.actual);
    if (previous) {
      const auto it = previous->cases.find(r.c->info.id);
      if (it != previous->cases.end() && !it->second.reason.empty()) {
        if (it->second.grade == c.grade)
          c.reason = it->second.reason;
        else if (dropped)
          dropped->push_back(r.c->info.id);
      }
    }
    b.cases[r.c->info.id] = std::move(c);
  }
  return b;
}

std::string render_baseline(const Baseline& b) {
  std::ostringstream o;
  o << "{\n  \"txlab_baseline\": " << kBaselineFormat << ",\n";
  auto field = [&o](const char* key, const std::string& value) {
    if (!value.empty()) o << "  \"" << key << "\": " << safe_dump(Json(value)) << ",\n";
  };
  field("txlab_version", b.txlab_version);
  field("target", b.target);
  field("profile", b.profile);
  field("only", b.only);
  field("description", b.description);
  o << "  \"cases\": {";
  bool first = true;
  for (const auto& [id, c] : b.cases) {
    nlohmann::ordered_json one = {{"grade", grade_name(c.grade)}};
    if (!c.cause.empty()) one["cause"] = c.cause;
    if (!c.status.empty()) one["status"] = c.status;
    if (!c.reason.empty()) one["reason"] = c.reason;
    o << (first ? "\n" : ",\n") << "    " << safe_dump(Json(id)) << ": "
      << one.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    first = false;
  }
  o << (first ? "}\n}\n" : "\n  }\n}\n");
  return o.str();
}

namespace {

std::string transition(std::optional<Grade> was, std::optional<Grade> now) {
  return (was ? grade_name(*was) : "-") + " -> " + (now ? grade_name(*now) : "-");
}

// A case that got lower but is held back by a cause: it goes with its cause.
struct Held {
  BaselineChange change;
  std::string cause;
  bool lower;  // graded lower (else: the same grade, another cause)
};

// The run's case R against the baseline's case WAS: where it goes in C.
void judge_case(const CaseResult& r, const BaselineCase& was, const std::set<std::string>& in_run,
                bool strict, BaselineComparison& c, std::vector<Held>& held) {
  const Finding& f = r.finding;
  BaselineChange ch{r.c->info.id, was.grade, f.grade, transition(was.grade, f.grade),
                    was.reason,   {}};
  if (fails(f.grade, strict)) {
    if (!fails(was.grade, strict) || (f.grade == Grade::kFailed && was.grade != Grade::kFailed))
      return c.worse.push_back(std::move(ch));
    if (f.grade != Grade::kFailed && was.grade == Grade::kFailed)
      return c.better.push_back(std::move(ch));
    const std::string status = f.grade == Grade::kFailed ? answer_status(f.actual) : "";
    if (f.grade == Grade::kFailed && !was.status.empty() && status != was.status) {
      ch.why = "FAILED another way: answered " + (status.empty() ? "without a status" : status) +
               ", the baseline accepts " + was.status;
      return c.worse.push_back(std::move(ch));
    }
    return c.accepted.push_back(std::move(ch));
  }
  if (rank(f.grade) > rank(was.grade)) return c.better.push_back(std::move(ch));
  if (rank(f.grade) < rank(was.grade)) {
    if (!f.cause.empty() && in_run.count(f.cause))
      return held.push_back({std::move(ch), f.cause, true});
    if ((was.grade == Grade::kOk && f.grade == Grade::kNonStrict) ||
        (was.grade == Grade::kInformational && f.grade == Grade::kUnimplemented)) {
      ch.why += was.grade == Grade::kOk ? " (counts with --strict)" : " (neither is a verdict)";
      return c.changed.push_back(std::move(ch));
    }
    ch.why += ": no longer graded" + (f.note.empty() ? std::string() : " (" + f.note + ")");
    return c.worse.push_back(std::move(ch));
  }
  if (f.cause == was.cause) return;
  if (f.cause.empty()) {
    ch.why = "no longer held back by " + was.cause;
    return c.better.push_back(std::move(ch));
  }
  ch.why = "held back by " + f.cause + (was.cause.empty() ? "" : " (was: by " + was.cause + ")");
  if (in_run.count(f.cause)) return held.push_back({std::move(ch), f.cause, false});
  c.worse.push_back(std::move(ch));
}

}  // namespace

BaselineComparison compare_with_baseline(const Baseline& baseline, const Report& report,
                                         const std::string& only) {
  BaselineComparison c;
  c.file = baseline.file;
  std::set<std::string> in_run;
  for (const auto& r : report.results) in_run.insert(r.c->info.id);
  std::vector<Held> held;
  for (const auto& r : report.results) {
    const auto it = baseline.cases.find(r.c->info.id);
    if (it != baseline.cases.end()) {
      judge_case(r, it->second, in_run, report.strict, c, held);
      continue;
    }
    BaselineChange ch{r.c->info.id, std::nullopt, r.finding.grade, "not in the baseline", "", {}};
    c.added.push_back(ch);
    if (fails(r.finding.grade, report.strict)) {
      ch.why = "not in the baseline, and " + grade_name(r.finding.grade);
      c.worse.push_back(std::move(ch));
    }
  }
  for (auto& h : held) {
    auto cause = std::find_if(c.worse.begin(), c.worse.end(),
                              [&h](const BaselineChange& w) { return w.id == h.cause; });
    if (cause != c.worse.end()) {
      cause->affected.push_back(h.change.id);
    } else if (!h.lower) {
      h.change.why += ", a cause the baseline accepts";
      c.changed.push_back(std::move(h.change));
    } else {
      h.change.why += ": held back by " + h.cause;
      c.worse.push_back(std::move(h.change));
    }
  }
  for (const auto& [id, was] : baseline.cases) {
    if (!selected(id, only)) continue;
    ++c.baseline_cases;
    if (!in_run.count(id))
      c.gone.push_back(
          {id, was.grade, std::nullopt, "in the baseline, not in this run", was.reason, {}});
  }
  return c;
}

namespace {

constexpr size_t kTextLines = 20;  // per list in the text section; --json has them all

void list(std::ostringstream& o, const char* title, const std::vector<BaselineChange>& items,
          bool with_reason = false) {
  if (items.empty()) return;
  o << "  " << title << " (" << items.size() << "):\n";
  for (size_t i = 0; i < items.size() && i < kTextLines; ++i) {
    const auto& ch = items[i];
    o << "    " << ch.id << ": " << ch.why << "\n";
    if (!ch.affected.empty())
      o << "        and " << ch.affected.size()
        << " cases held back by it (one cause, one FAILED)\n";
    if (with_reason && !ch.reason.empty())
      o << "        baseline: " << ch.reason.substr(0, 160) << (ch.reason.size() > 160 ? "…" : "")
        << "\n";
  }
  if (items.size() > kTextLines)
    o << "    … and " << items.size() - kTextLines << " more (see --json)\n";
}

Json changes_json(const std::vector<BaselineChange>& items) {
  Json out = Json::array();
  for (const auto& ch : items) {
    Json one = {{"id", ch.id}, {"why", ch.why}};
    one["was"] = ch.was ? Json(grade_name(*ch.was)) : Json(nullptr);
    one["now"] = ch.now ? Json(grade_name(*ch.now)) : Json(nullptr);
    if (!ch.reason.empty()) one["reason"] = ch.reason;
    if (!ch.affected.empty()) one["affected"] = ch.affected;
    out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

std::string render_baseline_text(const BaselineComparison& c) {
  std::ostringstream o;
  o << "\nbaseline " << c.file << " (" << c.baseline_cases << " cases): " << c.worse.size()
    << " worse, " << c.better.size() << " better, " << c.changed.size() << " changed, "
    << c.added.size() << " new, " << c.gone.size() << " gone; " << c.accepted.size()
    << " failing cases accepted as the baseline has them\n";
  list(o, "worse", c.worse, true);
  list(o, "better", c.better);
  list(o, "changed, not counted", c.changed);
  list(o, "new", c.added);
  list(o, "gone", c.gone);
  const size_t unexplained =
      std::count_if(c.accepted.begin(), c.accepted.end(),
                    [](const BaselineChange& a) { return a.reason.empty(); });
  if (unexplained > 0)
    o << "  " << unexplained << " of the accepted cases have no reason in the baseline\n";
  o << (c.got_worse() ? "WORSE THAN THE BASELINE (exit 1)" : "NOT WORSE THAN THE BASELINE (exit 0)")
    << "\n";
  return o.str();
}

Json render_baseline_json(const BaselineComparison& c) {
  return {{"file", c.file},
          {"cases", c.baseline_cases},
          {"passed", !c.got_worse()},
          {"worse", changes_json(c.worse)},
          {"better", changes_json(c.better)},
          {"changed", changes_json(c.changed)},
          {"new", changes_json(c.added)},
          {"gone", changes_json(c.gone)},
          {"accepted", changes_json(c.accepted)}};
}

std::string render_junit(const Report& report, const BaselineComparison& c) {
  JunitReport junit = junit_report(report);
  std::map<std::string, const BaselineChange*> worse, accepted;
  for (const auto& w : c.worse) worse[w.id] = &w;
  for (const auto& a : c.accepted) accepted[a.id] = &a;
  std::map<std::string, const CaseResult*> results;
  for (const auto& r : report.results) results[r.c->info.id] = &r;
  for (auto& suite : junit.suites)
    for (auto& tc : suite.cases) {
      if (const auto w = worse.find(tc.name); w != worse.end()) {
        const std::string text = tc.failure && tc.failure->text ? *tc.failure->text : "";
        tc.skipped.reset();
        tc.failure =
            JunitFailure{"worse than the baseline " + c.file + ": " + w->second->why, text};
        continue;
      }
      const auto a = accepted.find(tc.name);
      if (a == accepted.end() || !results.count(tc.name)) continue;
      const Finding& f = results[tc.name]->finding;
      tc.failure.reset();
      tc.properties.push_back({"baseline", "accepted"});
      if (!a->second->reason.empty())
        tc.properties.push_back({"baseline_reason", a->second->reason});
      tc.system_out = grade_name(f.grade) + ", accepted by the baseline " + c.file + ": " +
                      (a->second->reason.empty() ? "(no reason given)" : a->second->reason) +
                      "\nexpected: " + f.expected + "\nactual: " + f.actual;
    }
  return txlab::render_junit(junit);
}

}  // namespace txlab::conformance
