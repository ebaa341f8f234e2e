// Baselines (conformance/baseline.h): a run compared with the grades accepted earlier fails only
// when a case got worse, reports what got better, new and gone, reads its own files and plain
// --json reports, refuses malformed ones and other profiles; and against the built-in AS, a
// deliberate defect is worse than the clean AS's baseline while the clean AS is not.
#include "conformance/baseline.h"

#include <gtest/gtest.h>

#include <deque>
#include <tuple>

#include <nlohmann/json.hpp>

#include "conformance/targets.h"
#include "test_support.h"

using namespace txlab;
using namespace txlab::conformance;

namespace {

// Reports made of cases that exist only here: id, grade, cause and actual per case.
class Runs {
 public:
  struct Row {
    std::string id;
    Grade grade;
    std::string cause = {};
    std::string actual = {};
  };

  Report report(const std::vector<Row>& rows, bool strict = false) {
    Report r;
    r.target = "test-as";
    r.profile = Profile::kCommon;
    r.strict = strict;
    for (const auto& row : rows) {
      cases_.push_back(
          Case{CaseInfo{row.id, "RFC 0 §0", Level::kMust, "a case", "MUST", true}, nullptr});
      CaseResult cr;
      cr.c = &cases_.back();
      cr.finding = Finding{row.grade, "expected", row.actual, "", row.cause};
      r.results.push_back(cr);
    }
    return r;
  }

 private:
  std::deque<Case> cases_;  // stable addresses for CaseResult::c
};

Baseline baseline(const Report& r) {
  Baseline b = baseline_of(r, "", "0.1.0", nullptr);
  b.file = "baseline.json";
  return b;
}

std::vector<std::string> ids(const std::vector<BaselineChange>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.id);
  return out;
}

using Ids = std::vector<std::string>;

TEST(BaselineTest, TheSameRunIsNeitherWorseNorBetterAndItsFailuresAreAccepted) {
  Runs runs;
  const auto rows =
      std::vector<Runs::Row>{{"a", Grade::kOk},
                             {"b", Grade::kFailed, "", "answered 400 invalid_request"},
                             {"c", Grade::kUnimplemented, "b"}};
  const auto c = compare_with_baseline(baseline(runs.report(rows)), runs.report(rows), "");
  EXPECT_FALSE(c.got_worse());
  EXPECT_TRUE(c.better.empty() && c.changed.empty() && c.added.empty() && c.gone.empty());
  EXPECT_EQ(ids(c.accepted), Ids{"b"});
  EXPECT_EQ(c.baseline_cases, 3u);
}

TEST(BaselineTest, ACaseGradedLowerIsWorse) {
  Runs runs;
  const auto before = baseline(runs.report({{"a", Grade::kOk}, {"b", Grade::kNonStrict}}));
  const auto c = compare_with_baseline(
      before, runs.report({{"a", Grade::kFailed, "", "200"}, {"b", Grade::kFailed, "", "200"}}),
      "");
  EXPECT_EQ(ids(c.worse), (Ids{"a", "b"}));  // NON-STRICT -> FAILED is worse too
  EXPECT_EQ(c.worse[0].why, "OK -> FAILED");
}

TEST(BaselineTest, ACaseGradedHigherPassesAndIsReported) {
  Runs runs;
  const auto before =
      baseline(runs.report({{"a", Grade::kFailed, "", "400"}, {"b", Grade::kUnimplemented, "a"}}));
  const auto c =
      compare_with_baseline(before, runs.report({{"a", Grade::kOk}, {"b", Grade::kOk}}), "");
  EXPECT_FALSE(c.got_worse());
  EXPECT_EQ(ids(c.better), (Ids{"a", "b"}));
}

TEST(BaselineTest, ANewFailedCaseIsWorseAndANewPassingOneIsOnlyNew) {
  Runs runs;
  const auto before = baseline(runs.report({{"a", Grade::kOk}}));
  const auto c = compare_with_baseline(
      before,
      runs.report({{"a", Grade::kOk}, {"n1", Grade::kFailed, "", "200"}, {"n2", Grade::kOk}}), "");
  EXPECT_EQ(ids(c.worse), Ids{"n1"});
  EXPECT_EQ(ids(c.added), (Ids{"n1", "n2"}));
}

TEST(BaselineTest, AFailedCaseFailingAnotherWayIsWorse) {
  Runs runs;
  const auto before = baseline(runs.report({{"a", Grade::kFailed, "", "400 invalid_request"}}));
  ASSERT_EQ(before.cases.at("a").status, "400");
  const auto same = compare_with_baseline(
      before, runs.report({{"a", Grade::kFailed, "", "400 invalid_scope"}}), "");
  EXPECT_FALSE(same.got_worse());
  const auto other = compare_with_baseline(
      before, runs.report({{"a", Grade::kFailed, "", "200 and a token"}}), "");
  ASSERT_EQ(ids(other.worse), Ids{"a"});
  EXPECT_NE(other.worse[0].why.find("answered 200, the baseline accepts 400"), std::string::npos);
}

TEST(BaselineTest, TheStatusIsANumberStandingAlone) {
  EXPECT_EQ(answer_status("401 unauthorized_client, WWW-Authenticate: ''"), "401");
  EXPECT_EQ(answer_status(R"(header {"alg":"RS256","kid":"k1"}: 200)"), "200");
  EXPECT_EQ(answer_status("exp 0: 200"), "200");
  EXPECT_EQ(answer_status("4 segments, then 1234 and 099: 503"), "503");
  EXPECT_EQ(answer_status("(absent)"), "");
}

TEST(BaselineTest, ACaseHeldBackByAnotherCauseGoesWithThatCause) {
  Runs runs;
  const auto before = baseline(runs.report(
      {{"x", Grade::kFailed, "", "400"}, {"y", Grade::kOk}, {"d", Grade::kUnimplemented, "x"}}));
  // y fails now, and d is held back by y: one worse cause, d listed under it.
  const auto c = compare_with_baseline(before,
                                       runs.report({{"x", Grade::kFailed, "", "400"},
                                                    {"y", Grade::kFailed, "", "200"},
                                                    {"d", Grade::kUnimplemented, "y"}}),
                                       "");
  ASSERT_EQ(ids(c.worse), Ids{"y"});
  EXPECT_EQ(c.worse[0].affected, Ids{"d"});
  // d held back by x, an accepted cause, where the baseline had it held back by y: changed.
  const auto before2 = baseline(runs.report({{"x", Grade::kFailed, "", "400"},
                                             {"y", Grade::kFailed},
                                             {"d", Grade::kUnimplemented, "y"}}));
  const auto c2 = compare_with_baseline(
      before2,
      runs.report(
          {{"x", Grade::kFailed, "", "400"}, {"y", Grade::kOk}, {"d", Grade::kUnimplemented, "x"}}),
      "");
  EXPECT_FALSE(c2.got_worse());
  EXPECT_EQ(ids(c2.changed), Ids{"d"});
  EXPECT_EQ(ids(c2.better), Ids{"y"});
}

TEST(BaselineTest, StrictCountsNonStrictAndOtherwiseItIsOnlyChanged) {
  Runs runs;
  const auto before = baseline(runs.report({{"a", Grade::kOk}, {"b", Grade::kNonStrict}}));
  const auto now = std::vector<Runs::Row>{{"a", Grade::kNonStrict}, {"b", Grade::kNonStrict}};
  const auto lenient = compare_with_baseline(before, runs.report(now), "");
  EXPECT_FALSE(lenient.got_worse());
  EXPECT_EQ(ids(lenient.changed), Ids{"a"});
  const auto strict = compare_with_baseline(before, runs.report(now, true), "");
  EXPECT_EQ(ids(strict.worse), Ids{"a"});
  EXPECT_EQ(ids(strict.accepted), Ids{"b"});  // NON-STRICT there already: accepted
}

TEST(BaselineTest, InformationalAndUnimplementedAreNotVerdicts) {
  Runs runs;
  const auto before = baseline(runs.report({{"a", Grade::kOk}, {"b", Grade::kInformational}}));
  const auto c = compare_with_baseline(
      before, runs.report({{"a", Grade::kInformational}, {"b", Grade::kUnimplemented}}), "");
  // OK -> INFORMATIONAL: a graded case lost (a behaviour or the coverage, e.g. no issuer key).
  EXPECT_EQ(ids(c.worse), Ids{"a"});
  // INFORMATIONAL -> UNIMPLEMENTED: neither is a verdict on the server.
  EXPECT_EQ(ids(c.changed), Ids{"b"});
}

TEST(BaselineTest, GoneCasesAreReportedAndOnlySelectsTheBaselinesCases) {
  Runs runs;
  const auto before = baseline(runs.report({{"rfc1/a", Grade::kOk}, {"rfc2/b", Grade::kOk}}));
  const auto all = compare_with_baseline(before, runs.report({{"rfc1/a", Grade::kOk}}), "");
  EXPECT_EQ(ids(all.gone), Ids{"rfc2/b"});
  EXPECT_FALSE(all.got_worse());
  const auto only = compare_with_baseline(before, runs.report({{"rfc1/a", Grade::kOk}}), "rfc1/");
  EXPECT_TRUE(only.gone.empty());
  EXPECT_EQ(only.baseline_cases, 1u);
}

TEST(BaselineTest, WrittenFileReadsBackWithItsReasons) {
  Runs runs;
  Baseline b = baseline(runs.report({{"a", Grade::kFailed, "", "answered 400"},
                                     {"b", Grade::kUnimplemented, "a"},
                                     {"c", Grade::kOk}}));
  b.cases["a"].reason = "RFC 6749 §3.2: 'MUST be treated as if they were omitted'";
  b.description = "a vendor, pinned";
  const std::string text = render_baseline(b);
  EXPECT_NE(text.find("\n    \"c\": {\"grade\":\"OK\"}"), std::string::npos) << text;
  std::string error;
  const auto back = parse_baseline(text, "b.json", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->profile, "common");
  EXPECT_EQ(back->description, "a vendor, pinned");
  EXPECT_EQ(back->cases.at("a").reason, b.cases["a"].reason);
  EXPECT_EQ(back->cases.at("a").status, "400");
  EXPECT_EQ(back->cases.at("b").cause, "a");
  EXPECT_EQ(render_baseline(*back), text);
}

TEST(BaselineTest, RewritingKeepsReasonsOfUnchangedGradesOnly) {
  Runs runs;
  Baseline old = baseline(runs.report({{"a", Grade::kFailed}, {"b", Grade::kFailed}}));
  old.cases["a"].reason = "still failing";
  old.cases["b"].reason = "was failing";
  old.description = "kept";
  std::vector<std::string> dropped;
  const auto fresh = baseline_of(runs.report({{"a", Grade::kFailed}, {"b", Grade::kOk}}), "",
                                 "0.1.0", &old, &dropped);
  EXPECT_EQ(fresh.cases.at("a").reason, "still failing");
  EXPECT_EQ(fresh.cases.at("b").reason, "");
  EXPECT_EQ(dropped, Ids{"b"});
  EXPECT_EQ(fresh.description, "kept");
}

TEST(BaselineTest, AnEarlierJsonReportIsABaseline) {
  Runs runs;
  const Report r = runs.report({{"a", Grade::kFailed, "", "answered 401"}, {"b", Grade::kOk}});
  std::string error;
  const auto b = parse_baseline(render_json(r).dump(), "run.json", &error);
  ASSERT_TRUE(b) << error;
  EXPECT_TRUE(b->from_report);
  EXPECT_EQ(b->cases.at("a").status, "401");
  EXPECT_FALSE(compare_with_baseline(*b, r, "").got_worse());
  Report unreachable = r;
  unreachable.verdict = Verdict::kUnreachable;
  EXPECT_FALSE(parse_baseline(render_json(unreachable).dump(), "run.json", &error));
  EXPECT_EQ(error,
            "run.json: error: its run was not graded (target unreachable): it cannot be a "
            "baseline");
}

TEST(BaselineTest, MalformedFilesAreRefusedWithFileAndReason) {
  std::string error;
  EXPECT_FALSE(parse_baseline("{\n  \"txlab_baseline\": 1,\n  oops\n}", "b.json", &error));
  EXPECT_EQ(error.rfind("b.json:3:3: error: not JSON", 0), 0u) << error;
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"[]", "not a txlab baseline (expected a JSON object)"},
      {"{}", "not a txlab baseline: no"},
      {R"({"txlab_baseline": 2, "profile": "common", "cases": {}})", "format 2 is newer"},
      {R"({"txlab_baseline": 1, "cases": {}})", "needs the \"profile\""},
      {R"({"txlab_baseline": 1, "profile": "common", "cases": {"a": {"grade": "PASS"}}})",
       "case 'a': grade 'PASS' is not one of"},
      {R"({"txlab_baseline": 1, "profile": "common", "cases": {"a": {"grade": "OK", "reasn": ""}}})",
       "case 'a': unknown key \"reasn\""},
      {R"({"txlab_baseline": 1, "profile": "common", "cases": []})", "needs \"cases\""},
  };
  for (const auto& [text, why] : bad) {
    EXPECT_FALSE(parse_baseline(text, "b.json", &error)) << text;
    EXPECT_EQ(error.rfind("b.json: error: " + why, 0), 0u) << error;
  }
}

TEST(BaselineTest, ABaselineOfAnotherProfileIsRefused) {
  Runs runs;
  Baseline b = baseline(runs.report({{"a", Grade::kOk}}));
  b.profile = "keycloak";
  const auto refusal = baseline_refusal(b, Profile::kCommon);
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("graded under profile keycloak, this run under common"),
            std::string::npos);
  EXPECT_FALSE(baseline_refusal(b, Profile::kKeycloak));
}

TEST(BaselineTest, JsonAndJunitSayWhatTheComparisonSays) {
  Runs runs;
  Baseline before = baseline(runs.report({{"a", Grade::kFailed, "", "400"}, {"b", Grade::kOk}}));
  before.cases["a"].reason = "an RFC sentence";
  const Report now =
      runs.report({{"a", Grade::kFailed, "", "400"}, {"b", Grade::kFailed, "", "200"}});
  const auto c = compare_with_baseline(before, now, "");
  const auto j = render_baseline_json(c);
  EXPECT_EQ(j["worse"][0]["id"], "b");
  EXPECT_EQ(j["worse"][0]["was"], "OK");
  EXPECT_EQ(j["accepted"][0]["reason"], "an RFC sentence");
  EXPECT_EQ(j["passed"], false);
  const std::string junit = render_junit(now, c);
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("worse than the baseline baseline.json: OK -&gt; FAILED"), std::string::npos)
      << junit;
  EXPECT_NE(junit.find("value=\"an RFC sentence\""), std::string::npos) << junit;
  EXPECT_NE(render_baseline_text(c).find("WORSE THAN THE BASELINE"), std::string::npos);
}

// The gate on the built-in AS (tests/data/conform-selfcheck.yaml): a baseline of the clean AS,
// written and read back as the CLI does; the clean AS again is not worse, the AS with a
// deliberate defect is, and the worse case is the one the defect breaks.
TEST(BaselineGateTest, ADefectIsWorseThanTheCleanAsBaseline) {
  auto run = [](const std::vector<std::string>& defects) {
    Scenario s =
        load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-selfcheck.yaml");
    auto w = txlab::testing::start_world(std::move(s), {{"as-t", defects}});
    return run_suite(target_from_world(*w, "as-t", Profile::kCommon), "rfc7519/");
  };
  const Report clean = run({});
  ASSERT_EQ(clean.verdict, Verdict::kGraded);
  std::string error;
  const auto b = parse_baseline(render_baseline(baseline_of(clean, "rfc7519/", "0.1.0", nullptr)),
                                "clean.json", &error);
  ASSERT_TRUE(b) << error;
  const auto again = compare_with_baseline(*b, run({}), "rfc7519/");
  EXPECT_FALSE(again.got_worse()) << render_baseline_text(again);
  EXPECT_TRUE(again.better.empty() && again.added.empty() && again.gone.empty());
  const auto defective = compare_with_baseline(*b, run({"accept-not-yet-valid"}), "rfc7519/");
  ASSERT_TRUE(defective.got_worse());
  EXPECT_EQ(defective.worse[0].id.rfind("rfc7519/4.1.5/", 0), 0u) << defective.worse[0].id;
  EXPECT_EQ(defective.worse[0].why, "OK -> FAILED");
}

}  // namespace
