// The conformance suite from GoogleTest: it passes against the built-in ASes of the shipped
// scenarios, grades the caller-in-act convention NON-STRICT, catches every defect in the
// catalogue, works against a server reached only by URL, and survives misbehaving servers.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <sstream>

#include "actors/as_defects.h"
#include "conformance/issuer.h"
#include "conformance/probe.h"
#include "conformance/requirements.h"
#include "conformance/suite.h"
#include "conformance/targets.h"
#include "sim/http/form.h"
#include "sim/http/server.h"
#include "sim/jwks_source.h"
#include "test_support.h"

using namespace txlab;
using namespace txlab::conformance;
using txlab::testing::scenario_path;
using txlab::testing::start_world;

namespace {

std::string failures(const Report& r) {
  std::ostringstream o;
  for (const auto& c : r.results)
    if (c.finding.grade == Grade::kFailed)
      o << c.c->info.id << ": expected " << c.finding.expected << ", got " << c.finding.actual
        << " " << c.finding.note << "\n";
  return o.str();
}

const Finding* finding(const Report& r, const std::string& id) {
  for (const auto& c : r.results)
    if (c.c->info.id == id) return &c.finding;
  return nullptr;
}

struct ShippedTarget {
  const char* scenario;
  const char* role;
};

// The self-check target: tests/data/conform-selfcheck.yaml (two trusted issuers, a wider
// exchanger scope, a client_secret_post exchanger, a client without the grant), AS-T with the
// given defects.
std::unique_ptr<World> selfcheck_world(const std::vector<std::string>& defects,
                                       const std::string& semantics = "delegation") {
  Scenario s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-selfcheck.yaml");
  for (auto& role : s.roles)
    if (role.id == "as-t") role.as.exchange->delegation = semantics == "delegation";
  return start_world(std::move(s), {{"as-t", defects}});
}

// How a test reaches tests/data/conform-remote.yaml's AS by URL only.
RemoteOptions conform_remote_options(World& w) {
  RemoteOptions o;
  o.base_url = w.directory().url_of("as-x");
  o.exchanger = {"x-svc-exchanger-to-api", "exchanger-secret"};
  o.subject_client = Credentials{"x-svc-subject-to-exchanger", "subject-secret"};
  return o;
}

class ShippedScenarioConformanceTest : public ::testing::TestWithParam<ShippedTarget> {};

}  // namespace

TEST_P(ShippedScenarioConformanceTest, NoCaseFails) {
  auto w = start_world(GetParam().scenario);
  const Report r = run_suite(target_from_world(*w, GetParam().role, Profile::kCommon));
  EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
  EXPECT_GE(r.count(Grade::kOk), 40u);
  EXPECT_EQ(r.results.size(), all_cases().size());
}

INSTANTIATE_TEST_SUITE_P(BuiltInAses, ShippedScenarioConformanceTest,
                         ::testing::Values(ShippedTarget{"broker", "as-c2p"},
                                           ShippedTarget{"broker", "as-c2pe"},
                                           ShippedTarget{"direct", "as-c2pe"},
                                           ShippedTarget{"multi-caller", "as-c2pe"}),
                         [](const auto& info) {
                           std::string n = std::string(info.param.scenario) + "_" + info.param.role;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(ConformanceProfileTest, Rfc8693Section41CallerInActIsNonStrictNeverOk) {
  auto w = start_world("broker-caller-in-act");
  const Report r = run_suite(target_from_world(*w, "as-c2p", Profile::kCommon));
  EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
  const Finding* f = finding(r, "rfc8693/4.1/sub-is-subject");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->grade, Grade::kNonStrict);
  EXPECT_NE(f->note.find("caller-in-act"), std::string::npos) << f->note;
  EXPECT_FALSE(r.passed(/*strict=*/true));
  EXPECT_TRUE(r.passed(/*strict=*/false));
  // Under the RFC's own profile the convention still contradicts §4.1, but the §4.1 MUST binds
  // the token's consumer, not the server: NON-STRICT, with Expected and Actual, never FAILED.
  const Report strict =
      run_suite(target_from_world(*w, "as-c2p", Profile::kRfc8693), "rfc8693/4.1/");
  const Finding* g = finding(strict, "rfc8693/4.1/sub-is-subject");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->grade, Grade::kNonStrict);
  EXPECT_FALSE(g->expected.empty());
  EXPECT_FALSE(g->actual.empty());
}

// Every FAILED finding says what was expected and what came instead.
TEST(ConformanceProfileTest, EveryFailedFindingHasExpectedAndActual) {
  for (const char* defect : {"missing-jti-client-id", "omit-issued-token-type", "trust-jku",
                             "expires-in-mismatch", "scope-as-array"}) {
    auto w = selfcheck_world({defect});
    const Report r = run_suite(target_from_world(*w, "as-t", Profile::kCommon));
    for (const auto& c : r.results) {
      if (c.finding.grade != Grade::kFailed) continue;
      EXPECT_FALSE(c.finding.expected.empty()) << defect << " " << c.c->info.id;
      EXPECT_FALSE(c.finding.actual.empty()) << defect << " " << c.c->info.id;
    }
  }
}

// A FAILED case carries what it sent and what came back (for --html), secrets redacted, bounded;
// an OK case carries nothing.
TEST(ConformanceReportTest, FailedCasesCarryTheirExchangesWithSecretsRedacted) {
  auto w = selfcheck_world({"omit-issued-token-type"});
  const Target t = target_from_world(*w, "as-t", Profile::kCommon);
  const Report r = run_suite(t);
  size_t failed = 0;
  for (const auto& c : r.results) {
    if (c.finding.grade == Grade::kOk) {
      EXPECT_TRUE(c.exchanges.empty()) << c.c->info.id;
    }
    if (c.finding.grade != Grade::kFailed) continue;
    ++failed;
    ASSERT_FALSE(c.exchanges.empty()) << c.c->info.id;
    EXPECT_LE(c.exchanges.size(), Probe::kTranscriptMax);
    for (const auto& e : c.exchanges) {
      EXPECT_EQ(e.request.rfind("POST ", 0), 0u) << e.request;
      EXPECT_EQ(e.request.find(t.exchanger.secret), std::string::npos) << e.request;
      EXPECT_LE(e.request.size(), 4096u + 64);
      EXPECT_EQ(e.response.rfind("HTTP/1.1 ", 0), 0u) << e.response;
    }
    EXPECT_NE(c.exchanges.back().response.find("access_token"), std::string::npos);
  }
  EXPECT_GT(failed, 0u);
  const auto j = render_json(r);
  bool any = false;
  for (const auto& c : j["cases"]) any = any || c.contains("exchanges");
  EXPECT_TRUE(any);
}

TEST(ConformanceProfileTest, Rfc8693ProfileGradesInvalidGrantNonStrictAndInvalidRequestOk) {
  auto w = start_world("direct");
  const Report common =
      run_suite(target_from_world(*w, "as-c2pe", Profile::kCommon), "rfc8693/2.2.2/garbage");
  const Report strict =
      run_suite(target_from_world(*w, "as-c2pe", Profile::kRfc8693), "rfc8693/2.2.2/garbage");
  ASSERT_EQ(common.results.size(), 1u);
  EXPECT_EQ(common.results[0].finding.grade, Grade::kOk);
  EXPECT_EQ(strict.results[0].finding.grade, Grade::kNonStrict);

  Scenario s = load_scenario(scenario_path("direct"));
  for (auto& role : s.roles)
    if (role.id == "as-c2pe") role.as.exchange->invalid_subject_error = "invalid_request";
  auto literal = start_world(std::move(s));
  const Report lit =
      run_suite(target_from_world(*literal, "as-c2pe", Profile::kRfc8693), "rfc8693/2.2.2/");
  EXPECT_EQ(lit.count(Grade::kNonStrict), 0u);
  EXPECT_EQ(lit.count(Grade::kFailed), 0u) << failures(lit);
}

// The self-check: the suite must catch every deliberate defect of the built-in AS, each with a
// case of the section the defect breaks, and stay at 0 FAILED on the clean AS.
// Sharded (each shard is its own ctest test, in parallel and well inside the per-test timeout
// under the sanitizers): shard k takes every kShards-th defect from k.
constexpr size_t kShards = 4;
class ConformanceSelfCheckShard : public ::testing::TestWithParam<size_t> {};

TEST_P(ConformanceSelfCheckShard, EveryDefectIsCaughtByACaseThatNamesTheRuleItBreaks) {
  auto clean = selfcheck_world({});
  const Report base = run_suite(target_from_world(*clean, "as-t", Profile::kCommon));
  ASSERT_EQ(base.count(Grade::kFailed), 0u) << "the baseline must be clean:\n" << failures(base);
  EXPECT_EQ(base.count(Grade::kInformational), 0u) << "every case applies to the self-check target";
  std::ostringstream table;
  table << "defect -> cases that reported it (FAILED, or the grade its rule allows)\n";
  size_t caught = 0, tried = 0;
  for (size_t k = GetParam(); k < std::size(kAsDefects); k += kShards) {
    const auto& d = kAsDefects[k];
    ++tried;
    auto w = selfcheck_world({std::string(d.name)});
    const Report r = run_suite(target_from_world(*w, "as-t", Profile::kCommon));
    // A defect that breaks a MUST is FAILED; one that breaks a SHOULD, or a sentence binding
    // another party, NON-STRICT; an optional behaviour not implemented, UNIMPLEMENTED. Never
    // more than that: a gate that cries wolf is as bad as one that misses.
    std::string by;
    bool names_rule = false;
    ASSERT_EQ(r.results.size(), base.results.size());
    for (size_t i = 0; i < r.results.size(); ++i) {
      const auto& c = r.results[i];
      // Caught: a case graded as the rule allows, where the clean server got another grade.
      if (to_string(c.finding.grade) != d.caught_as ||
          c.finding.grade == base.results[i].finding.grade)
        continue;
      by += (by.empty() ? "" : ", ") + c.c->info.id;
      names_rule = names_rule || std::string(d.breaks).find(c.c->info.section) != std::string::npos;
    }
    if (d.caught_as != "FAILED") {
      EXPECT_EQ(r.count(Grade::kFailed), 0u)
          << "defect '" << d.name << "' breaks no MUST binding the server:\n"
          << failures(r);
    }
    table << "  " << d.name << " -> " << (by.empty() ? "NOT CAUGHT" : by) << "\n";
    EXPECT_FALSE(by.empty()) << "defect '" << d.name << "' (" << d.breaks
                             << ") was not caught by any case";
    EXPECT_TRUE(by.empty() || names_rule) << "defect '" << d.name << "' (" << d.breaks
                                          << ") was caught only by cases of other sections: " << by;
    caught += by.empty() ? 0 : 1;
  }
  EXPECT_GE(std::size(kAsDefects), 60u);
  std::cout << table.str() << caught << "/" << tried << " defects of this shard caught ("
            << std::size(kAsDefects) << " in the catalogue)\n";
}
INSTANTIATE_TEST_SUITE_P(Shards, ConformanceSelfCheckShard, ::testing::Range<size_t>(0, kShards));

// Defects are data handed to the World, never part of a scenario; a typo is an error, not a
// defect that silently does nothing.
TEST(ConformanceSelfCheckTest, UnknownDefectsAndRolesAreRefused) {
  auto scenario = [] {
    return load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-selfcheck.yaml");
  };
  EXPECT_THROW(World(scenario(), 1, {{"as-t", {"no-such-defect"}}}), std::invalid_argument);
  EXPECT_THROW(World(scenario(), 1, {{"no-such-role", {"drop-act"}}}), std::invalid_argument);
  EXPECT_NO_THROW(World(scenario(), 1, {{"as-t", {"drop-act"}}}));
}

// Legal-but-unusual servers stay at 0 FAILED: every quirk at once, and impersonation only.
TEST(ConformanceSelfCheckTest, LegalButUnusualServersAreNeverFailed) {
  std::vector<std::string> quirks;
  for (const auto& q : kAsQuirks) quirks.emplace_back(q.name);
  for (const Profile profile : {Profile::kCommon, Profile::kRfc8693}) {
    auto w = selfcheck_world(quirks);
    const Report r = run_suite(target_from_world(*w, "as-t", profile));
    EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
    // The quirks are visible, so the suite really saw them.
    EXPECT_EQ(finding(r, "rfc8693/2.2.1/expires-in")->grade, Grade::kNonStrict);
    // A failed client_secret_post answered 400 invalid_client (no Authorization header: the
    // 401 is a MAY) is the legal answer it is.
    const Finding* post = finding(r, "rfc6749/5.2/wrong-secret-post");
    ASSERT_NE(post, nullptr);
    EXPECT_EQ(post->grade, Grade::kOk);
    EXPECT_NE(post->actual.find("400"), std::string::npos) << post->actual;
  }
  auto imp = selfcheck_world({}, "impersonation");
  const Report r = run_suite(target_from_world(*imp, "as-t", Profile::kCommon));
  EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
  EXPECT_EQ(finding(r, "rfc8693/4.1/act-names-actor")->grade, Grade::kOk);
  // Without delegation, actor tokens are refused: the actor families have nothing to grade.
  EXPECT_EQ(finding(r, "rfc7515/5.2/actor-access-token-unknown-kid")->grade, Grade::kUnimplemented);
}

TEST(ConformanceRemoteTest, DiscoversAndGradesAServerReachedOnlyByUrl) {
  auto w =
      start_world(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-remote.yaml"));
  RemoteOptions o = conform_remote_options(*w);
  o.audience = "api://x";
  std::string error;
  auto target = target_from_url(o, &error);
  ASSERT_TRUE(target) << error;
  EXPECT_EQ(target->issuer, "https://as-x.example");
  EXPECT_EQ(target->token_endpoint, w->directory().url_of("as-x") + "/token");
  const Report r = run_suite(*target);
  EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
  // Cases that need the issuer's key are INFORMATIONAL for a remote target, not silently OK.
  ASSERT_NE(finding(r, "rfc7519/4.1.4/subject-access-token-expired"), nullptr);
  EXPECT_EQ(finding(r, "rfc7519/4.1.4/subject-access-token-expired")->grade, Grade::kInformational);
  EXPECT_NE(finding(r, "rfc7519/4.1.4/subject-access-token-expired")->note.find("--issuer-key"),
            std::string::npos);
  EXPECT_EQ(finding(r, "rfc9068/2.1/signature-verifies")->grade, Grade::kOk);

  // Reports are usable by CI.
  const std::string junit = render_junit(r);
  EXPECT_NE(junit.find("<testsuites"), std::string::npos);
  EXPECT_NE(junit.find("rfc8693/2.2.2/unknown-audience-invalid-target"), std::string::npos);
  const auto json = render_json(r);
  EXPECT_EQ(json["cases"].size(), all_cases().size());
  EXPECT_EQ(json["counts"]["FAILED"], 0);
}

// With the issuer's key, a server reached only by URL gets the key-dependent cases too, and a
// defect only those cases can see is caught.
TEST(ConformanceRemoteTest, IssuerKeyRunsTheKeyDependentCasesAgainstAUrl) {
  for (const std::string defect : {"", "accept-not-yet-valid", "ignore-crit"}) {
    Scenario s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-remote.yaml");
    World::RoleDefects defects;
    if (!defect.empty()) defects["as-x"] = {defect};
    auto w = start_world(std::move(s), defects);
    RemoteOptions o = conform_remote_options(*w);
    o.audience = "api://x";
    o.issuer_keys = {
        {"https://as-x.example",
         std::make_shared<jose::Key>(w->authorization_server("as-x").key_store().signing_key())}};
    std::string error;
    auto target = target_from_url(o, &error);
    ASSERT_TRUE(target) << error;
    const Report r = run_suite(*target);
    EXPECT_EQ(finding(r, "rfc8693/2.1/minted-subject-accepted")->grade, Grade::kOk)
        << finding(r, "rfc8693/2.1/minted-subject-accepted")->actual;
    if (defect.empty()) {
      EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
      EXPECT_EQ(finding(r, "rfc7519/4.1.4/subject-access-token-expired")->grade, Grade::kOk);
      EXPECT_EQ(finding(r, "rfc8693/4.4/may-act-refuses-other-actor")->grade, Grade::kOk);
    } else {
      EXPECT_GT(r.count(Grade::kFailed), 0u) << defect << " was not caught through the URL";
    }
  }
}

// --serve-issuer: two issuers with discovery and JWKS on a fixed loopback port; a token signed
// with the first key verifies against the first JWKS only.
TEST(ConformanceRemoteTest, ServedIssuersPublishDiscoveryAndKeys) {
  int port = 0;
  {
    http::LoopbackServer probe;
    port = probe.start();
  }
  ServedIssuers served;
  served.start(port);
  ASSERT_EQ(served.keys().size(), 2u);
  EXPECT_EQ(served.issuer(0), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(served.issuer(1), served.issuer(0) + "/second");
  httplib::Client c("127.0.0.1", port);
  auto meta = c.Get("/second/.well-known/openid-configuration");
  ASSERT_TRUE(meta);
  EXPECT_EQ(nlohmann::json::parse(meta->body)["issuer"], served.issuer(1));
  auto jwks = c.Get("/jwks");
  ASSERT_TRUE(jwks);
  std::string err;
  auto keys = parse_jwks(jwks->body, &err);
  ASSERT_EQ(keys.size(), 1u) << err;
  EXPECT_EQ(keys[0].kid(), served.keys()[0].key->kid());
  EXPECT_NE(keys[0].kid(), served.keys()[1].key->kid());
  // Rotation (the withdrawn-key case): the JWKS then lists only the new key.
  const auto next = served.rotate(0);
  ASSERT_TRUE(next);
  auto rotated = c.Get("/jwks");
  ASSERT_TRUE(rotated);
  auto now_keys = parse_jwks(rotated->body, &err);
  ASSERT_EQ(now_keys.size(), 1u) << err;
  EXPECT_EQ(now_keys[0].kid(), next->kid());
  EXPECT_NE(now_keys[0].kid(), served.keys()[0].key->kid());
  auto second = c.Get("/second/jwks");
  ASSERT_TRUE(second);
  EXPECT_EQ(parse_jwks(second->body, &err).at(0).kid(), served.keys()[1].key->kid());
}

TEST(ConformanceRemoteTest, MissingDiscoveryIsAnErrorNotACrash) {
  http::LoopbackServer server;
  server.start();
  RemoteOptions o;
  o.base_url = server.base_url();
  o.exchanger = {"a", "b"};
  std::string error;
  EXPECT_FALSE(target_from_url(o, &error));
  EXPECT_NE(error.find("discovery"), std::string::npos) << error;
}

// A target that cannot be graded gets one verdict, not a cascade of FAILED cases.
TEST(ConformanceRobustnessTest, GarbageSlowAndWrongContentTypeServersGetOneVerdictNotACascade) {
  http::LoopbackServer server;
  server.routes().post("/garbage", [](const http::Request&, http::Response& res) {
    res.status = 200;
    res.set_content("\x01\x02 not json {", "text/plain");
  });
  server.routes().post("/html500", [](const http::Request&, http::Response& res) {
    res.status = 500;
    res.set_content("<html>oops</html>", "text/html");
  });
  server.routes().post("/slow", [](const http::Request&, http::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    res.set_content("{}", "application/json");
  });
  server.start();
  for (const std::string path : {"/garbage", "/html500", "/slow"}) {
    RemoteOptions o;
    o.token_endpoint = server.base_url() + path;
    o.exchanger = {"a", "b"};
    o.timeout_ms = 150;
    std::string error;
    auto target = target_from_url(o, &error);
    ASSERT_TRUE(target) << error;
    const Report r = run_suite(*target);
    EXPECT_EQ(r.results.size(), all_cases().size()) << path;
    EXPECT_NE(r.verdict, Verdict::kGraded) << path;
    EXPECT_EQ(r.count(Grade::kFailed), 0u) << path << ": no cascade of failures";
    EXPECT_EQ(r.count(Grade::kUnimplemented), all_cases().size()) << path;
    EXPECT_FALSE(r.passed(false)) << path;
    EXPECT_NE(exit_code(r.verdict), 0) << path;
    EXPECT_NE(render_text(r).find("VERDICT"), std::string::npos) << path;
    EXPECT_NE(render_junit(r).find("<failure"), std::string::npos)
        << path << ": JUnit agrees with the exit code";
  }
  RemoteOptions o;
  o.token_endpoint = server.base_url() + "/slow";
  o.exchanger = {"a", "b"};
  o.timeout_ms = 150;
  std::string error;
  EXPECT_EQ(run_suite(*target_from_url(o, &error)).verdict, Verdict::kTimedOut);
}

namespace {

// A server with client_credentials but no token exchange: unsupported_grant_type for it.
void serve_without_exchange(http::LoopbackServer& server, bool advertise) {
  server.routes().post("/token", [](const http::Request& req, http::Response& res) {
    res.set_header("Cache-Control", "no-store");
    const std::string auth = req.header("Authorization");
    if (auth != "Basic " + http::base64_encode("client:secret")) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"x\"");
      res.set_content(R"({"error":"invalid_client"})", "application/json");
      return;
    }
    if (req.body.find("grant_type=client_credentials") != std::string::npos) {
      res.set_content(R"({"access_token":"opaque-token","token_type":"Bearer","expires_in":60})",
                      "application/json");
      return;
    }
    res.status = 400;
    res.set_content(R"({"error":"unsupported_grant_type"})", "application/json");
  });
  server.routes().get(
      "/.well-known/oauth-authorization-server",
      [&server, advertise](const http::Request&, http::Response& res) {
        nlohmann::json meta = {{"issuer", server.base_url()},
                               {"token_endpoint", server.base_url() + "/token"}};
        if (advertise) meta["grant_types_supported"] = {"client_credentials", "authorization_code"};
        res.set_content(meta.dump(), "application/json");
      });
}

}  // namespace

// A valid exchange that the target refuses (here: an audience the exchanger may not request)
// is one verdict, not a cascade of failed preconditions.
TEST(ConformanceRobustnessTest, RefusedValidExchangeIsOneVerdict) {
  auto w =
      start_world(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-remote.yaml"));
  RemoteOptions o = conform_remote_options(*w);
  o.audience = "api://not-registered";
  std::string error;
  auto target = target_from_url(o, &error);
  ASSERT_TRUE(target) << error;
  const Report r = run_suite(*target);
  EXPECT_EQ(r.verdict, Verdict::kExchangeRefused) << r.verdict_detail;
  EXPECT_NE(r.verdict_detail.find("invalid_target"), std::string::npos) << r.verdict_detail;
  EXPECT_EQ(exit_code(r.verdict), 1);
  EXPECT_EQ(finding(r, "rfc8693/2.1/valid-request-succeeds")->grade, Grade::kFailed);
  EXPECT_EQ(r.count(Grade::kFailed), 1u) << failures(r);
  EXPECT_EQ(finding(r, "rfc6749/5.2/unknown-client-401")->grade, Grade::kOk)
      << "cases that need no exchange still run";
  EXPECT_FALSE(r.passed(false));
}

// An exchanger that may only use client_secret_post: the preflight finds it and every request
// authenticates that way (a server without Basic is not a cascade of invalid_client).
TEST(ConformanceRemoteTest, ClientSecretPostOnlyExchangerIsFoundAtThePreflight) {
  auto w =
      start_world(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/tests/data/conform-remote.yaml"));
  RemoteOptions o = conform_remote_options(*w);
  o.exchanger = {"x-svc-poster-to-api", "poster-secret"};
  o.audience = "api://x";
  std::string error;
  auto target = target_from_url(o, &error);
  ASSERT_TRUE(target) << error;
  const Report r = run_suite(*target);
  EXPECT_EQ(r.verdict, Verdict::kGraded) << r.verdict_detail;
  EXPECT_NE(r.verdict_detail.find("client_secret_post"), std::string::npos) << r.verdict_detail;
  EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
  EXPECT_EQ(finding(r, "rfc8693/2.1/valid-request-succeeds")->grade, Grade::kOk);
}

TEST(ConformanceRobustnessTest, ServerWithoutTheGrantIsOneVerdictAndItsOwnExitCode) {
  for (bool advertise : {true, false}) {
    http::LoopbackServer server;
    serve_without_exchange(server, advertise);
    server.start();
    RemoteOptions o;
    o.base_url = server.base_url();
    o.exchanger = {"client", "secret"};
    std::string error;
    auto target = target_from_url(o, &error);
    ASSERT_TRUE(target) << error;
    const Report r = run_suite(*target);
    EXPECT_EQ(r.verdict, Verdict::kExchangeUnsupported) << advertise;
    EXPECT_EQ(exit_code(r.verdict), 3);
    EXPECT_NE(r.verdict_detail.find(advertise ? "grant_types_supported" : "unsupported_grant_type"),
              std::string::npos)
        << r.verdict_detail;
    // Cases that do not need the grant still run (and this server passes them); the rest are
    // UNIMPLEMENTED, never a cascade of FAILED.
    EXPECT_EQ(r.count(Grade::kFailed), 0u) << failures(r);
    EXPECT_EQ(finding(r, "rfc6749/5.2/unknown-client-401")->grade, Grade::kOk);
    EXPECT_EQ(finding(r, "rfc8693/2.1/valid-request-succeeds")->grade, Grade::kUnimplemented);
    EXPECT_FALSE(r.passed(false));
  }
}
