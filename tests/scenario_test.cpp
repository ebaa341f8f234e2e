// Scenario loading: the shipped scenarios load; every kind of mistake is reported with file,
// line and column and what was expected; convention breaks are warnings.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/scenario.h"

using namespace txlab;

namespace {

const std::string kMinimal = R"(scenario: minimal
topology: direct
roles:
  as-c:
    kind: authorization_server
    issuer: https://auth.c.cloud
    clients:
      c-svc-a-to-b: { secret: s, grants: [client_credentials], audiences: [api://b] }
  a:
    kind: client
    as: as-c
    client_id: c-svc-a-to-b
    secret: s
  b:
    kind: resource_server
    trust: [as-c]
    audience: api://b
workload:
  - name: a calls b
    from: a
    to: b
    expect: { status: 200 }
)";

Diagnostic error_of(const std::string& yaml) {
  try {
    load_scenario_text(yaml, "test.yaml");
  } catch (const ScenarioError& e) {
    return e.diagnostic();
  }
  ADD_FAILURE() << "expected a ScenarioError";
  return {};
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  return s.replace(pos, from.size(), to);
}

}  // namespace

TEST(ScenarioLoaderTest, ShippedScenariosLoad) {
  for (const char* name : {"broker", "direct", "multi-caller", "broker-caller-in-act"}) {
    const Scenario s =
        load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/" + name + ".yaml");
    EXPECT_EQ(s.name, name);
    EXPECT_FALSE(s.workload.empty()) << name;
  }
  const Scenario broker = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/broker.yaml");
  EXPECT_EQ(broker.roles.size(), 7u);
  const RoleSpec* c2p = broker.find_role("as-c2p");
  ASSERT_NE(c2p, nullptr);
  ASSERT_TRUE(c2p->as.exchange && c2p->as.exchange->broker);
  EXPECT_EQ(c2p->as.exchange->broker->via.as_role, "as-c2pe");
  EXPECT_EQ(c2p->as.exchange->max_ttl_s, 60);
}

TEST(ScenarioLoaderTest, MinimalScenarioLoadsWithoutWarnings) {
  const Scenario s = load_scenario_text(kMinimal, "test.yaml");
  EXPECT_EQ(s.roles.size(), 3u);
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_EQ(s.workload[0].expect.status, 200);
}

TEST(ScenarioLoaderTest, UnknownKeyNamesLineColumnAndAlternatives) {
  const auto d =
      error_of(replace(kMinimal, "    trust: [as-c]", "    trust: [as-c]\n    audiance: x"));
  EXPECT_EQ(d.file, "test.yaml");
  EXPECT_EQ(d.pos.line, 17);
  EXPECT_EQ(d.pos.column, 5);
  EXPECT_NE(d.message.find("unknown key 'audiance'"), std::string::npos) << d.message;
  EXPECT_NE(d.message.find("audience"), std::string::npos) << d.message;
}

// A key of bytes that are not UTF-8 (and a control character) is quoted as \xNN: the
// diagnostic stays valid UTF-8 text, the position and the rest of the message unchanged.
TEST(ScenarioLoaderTest, UnknownKeyOfInvalidUtf8IsQuotedPrintable) {
  const auto d = error_of(
      replace(kMinimal, "    trust: [as-c]", "    trust: [as-c]\n    \"a\xfe\x01\u00e9\": x"));
  EXPECT_EQ(d.pos.line, 17);
  const std::string line = d.format("error");
  EXPECT_NE(line.find("unknown key 'a\\xfe\\x01\u00e9'"), std::string::npos) << line;
  EXPECT_EQ(printable("ok \u00e9\u4e2d\U0001F600\n"), "ok \u00e9\u4e2d\U0001F600\n");
  EXPECT_EQ(printable("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\x7f"),
            "\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80\\x7f");
}

TEST(ScenarioLoaderTest, YamlSyntaxErrorHasPosition) {
  const auto d = error_of("scenario: x\nroles: [\n");
  EXPECT_GT(d.pos.line, 0);
  EXPECT_NE(d.message.find("YAML syntax"), std::string::npos);
}

TEST(ScenarioLoaderTest, WrongTypesAndValuesAreExplained) {
  EXPECT_NE(
      error_of(replace(kMinimal, "kind: client", "kind: clinet")).message.find("must be one of"),
      std::string::npos);
  EXPECT_NE(error_of(replace(kMinimal, "grants: [client_credentials]", "grants: [implicit]"))
                .message.find("unknown grant 'implicit'"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kMinimal, "expect: { status: 200 }", "expect: { status: abc }"))
                .message.find("integer"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kMinimal, "expect: { status: 200 }", "expect: { status: 99 }"))
                .message.find("between 100 and 599"),
            std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n").message.find("mapping"), std::string::npos);
  EXPECT_NE(error_of(replace(kMinimal, "scenario: minimal\n", "")).message.find("needs 'scenario'"),
            std::string::npos);
}

TEST(ScenarioLoaderTest, DanglingReferencesAreErrors) {
  auto d = error_of(replace(kMinimal, "trust: [as-c]", "trust: [as-x]"));
  EXPECT_NE(d.message.find("unknown role 'as-x'"), std::string::npos) << d.message;
  EXPECT_GT(d.pos.line, 0);
  d = error_of(replace(kMinimal, "trust: [as-c]", "trust: [a]"));
  EXPECT_NE(d.message.find("which is a client, not a authorization_server"), std::string::npos)
      << d.message;
  d = error_of(replace(kMinimal, "    from: a\n", "    from: b\n"));
  EXPECT_NE(d.message.find("not a client"), std::string::npos) << d.message;
}

TEST(ScenarioLoaderTest, ClientIdConventionBreakIsAWarningWithLine) {
  const Scenario s =
      load_scenario_text(replace(replace(kMinimal, "      c-svc-a-to-b: {", "      svc-a: {"),
                                 "client_id: c-svc-a-to-b", "client_id: svc-a"),
                         "test.yaml");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0].pos.line, 8);
  EXPECT_NE(s.warnings[0].message.find("<zone>-svc-<caller>-to-<audAlias>"), std::string::npos);
  // The warning can be turned off for a scenario that keeps other names on purpose.
  const Scenario off =
      load_scenario_text("client_id_convention: off\n" +
                             replace(replace(kMinimal, "      c-svc-a-to-b: {", "      svc-a: {"),
                                     "client_id: c-svc-a-to-b", "client_id: svc-a"),
                         "test.yaml");
  EXPECT_TRUE(off.warnings.empty());
}

TEST(ScenarioLoaderTest, UnregisteredOrMismatchedCredentialsAreWarnings) {
  const Scenario s = load_scenario_text(
      replace(kMinimal, "    secret: s\n  b:", "    secret: wrong\n  b:"), "test.yaml");
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].message.find("secret"), std::string::npos);
}

TEST(ScenarioLoaderTest, MissingFileIsAnError) {
  EXPECT_THROW(load_scenario("/nonexistent/x.yaml"), ScenarioError);
}

TEST(ScenarioLoaderTest, ZoneClockOffsetsApplyAndARoleCanOverride) {
  std::string yaml = kMinimal;
  yaml.insert(yaml.find("roles:"), "zones:\n  on-prem: { clock_offset_s: 90 }\n");
  yaml = replace(yaml, "  b:\n    kind: resource_server",
                 "  b:\n    zone: on-prem\n    kind: resource_server");
  yaml = replace(yaml, "  a:\n    kind: client",
                 "  a:\n    zone: on-prem\n    clock_offset_s: -5\n    kind: client");
  const Scenario s = load_scenario_text(yaml, "test.yaml");
  EXPECT_EQ(s.clock_offset_of(*s.find_role("b")), 90);
  EXPECT_EQ(s.clock_offset_of(*s.find_role("a")), -5);
  EXPECT_EQ(s.clock_offset_of(*s.find_role("as-c")), 0);
  EXPECT_NE(error_of(replace(yaml, "clock_offset_s: 90", "clock_ofset_s: 90"))
                .message.find("unknown key 'clock_ofset_s'"),
            std::string::npos);
}

TEST(ScenarioLoaderTest, LinkFaultsAreValidated) {
  std::string yaml = kMinimal + "links:\n  - { from: a, to: b, down: 0.5, latency_ms: 20 }\n";
  const Scenario s = load_scenario_text(yaml, "test.yaml");
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_DOUBLE_EQ(s.links[0].down, 0.5);
  EXPECT_NE(error_of(kMinimal + "links:\n  - { to: b, down: 1.5 }\n").message.find("probability"),
            std::string::npos);
  EXPECT_NE(
      error_of(kMinimal + "links:\n  - { to: nobody }\n").message.find("unknown role 'nobody'"),
      std::string::npos);
  EXPECT_NE(error_of(kMinimal + "links:\n  - { to: b, down: 0.6, reset: 0.6 }\n")
                .message.find("must not exceed 1"),
            std::string::npos);
}

TEST(ScenarioLoaderTest, PrivateKeyJwtClientsNeedAUsablePublicJwk) {
  const std::string yaml = replace(
      kMinimal,
      "      c-svc-a-to-b: { secret: s, grants: [client_credentials], audiences: [api://b] }",
      "      c-svc-a-to-b: { auth: private_key_jwt, public_jwk: "
      "'{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}', grants: "
      "[client_credentials], audiences: [api://b] }");
  const auto d = error_of(yaml);
  EXPECT_NE(d.message.find("not a usable public JWK"), std::string::npos) << d.message;
  EXPECT_EQ(d.pos.line, 8);
}

// Hostile scenario files are errors with file:line, never a crash (a 310-digit duration used to
// abort in stod; a 30,000-digit one overflowed the stack in std::regex).
TEST(ScenarioHostileInputTest, HugeNumbersAndIdsAreErrorsNotCrashes) {
  auto load = [](const std::string& yaml) -> std::string {
    try {
      load_scenario_text(yaml, "hostile.yaml");
      return "loaded";
    } catch (const ScenarioError& e) {
      return e.what();
    }
  };
  const std::string base = R"(scenario: h
topology: custom
roles:
  gw:
    kind: gateway
    trust: []
    audience: gw
    timeout_ms: 100
)";
  for (const std::string& digits :
       {std::string(310, '9'), std::string(30000, '7'), std::string("1e309")}) {
    const std::string yaml = R"(scenario: h
topology: custom
roles:
  as:
    kind: authorization_server
links:
  - { from: "*", to: as, down: true, at: )" +
                             digits + R"(ms }
)";
    const std::string r = load(yaml);
    EXPECT_NE(r.find("hostile.yaml:"), std::string::npos) << r.substr(0, 200);
  }
  const std::string r = load("scenario: h\ntopology: custom\nroles:\n  " + std::string(20000, 'a') +
                             ":\n    kind: authorization_server\n");
  EXPECT_NE(r.find("hostile.yaml:"), std::string::npos) << r.substr(0, 200);
  (void)base;
}

// An authorization server txlab does not run: endpoints from the environment, registrations in
// the vendor (no "not registered" warnings), no faults or events aimed at it.
const std::string kExternal = R"(scenario: vendor
topology: direct
roles:
  kc:
    kind: external_authorization_server
    issuer: ${TXLAB_TEST_KC}
    token_endpoint: ${TXLAB_TEST_KC}/protocol/openid-connect/token
    jwks_uri: ${TXLAB_TEST_KC}/protocol/openid-connect/certs
    access_token_typ: JWT
  a:
    kind: client
    as: kc
    client_id: anyone
    secret: s
  b:
    kind: resource_server
    trust: [kc]
    audience: b
workload:
  - { name: a calls b, from: a, to: b, expect: { status: 200 } }
)";

TEST(ScenarioLoaderTest, ExternalAuthorizationServerTakesItsUrlsFromTheEnvironment) {
  ::setenv("TXLAB_TEST_KC", "http://127.0.0.1:8080/realms/r", 1);
  const Scenario s = load_scenario_text(kExternal, "test.yaml");
  const RoleSpec* kc = s.find_role("kc");
  ASSERT_TRUE(kc && kc->external);
  EXPECT_EQ(kc->kind, RoleKind::kAuthorizationServer);
  EXPECT_EQ(kc->as.issuer, "http://127.0.0.1:8080/realms/r");
  EXPECT_EQ(kc->external->jwks_uri, "http://127.0.0.1:8080/realms/r/protocol/openid-connect/certs");
  EXPECT_EQ(kc->external->access_token_typ, "JWT");
  EXPECT_TRUE(s.warnings.empty()) << s.warnings.front().format("warning");

  ::unsetenv("TXLAB_TEST_KC");
  const Diagnostic unset = error_of(kExternal);
  EXPECT_EQ(unset.pos.line, 6);  // the issuer line
  EXPECT_NE(unset.message.find("environment variable 'TXLAB_TEST_KC' is not set"),
            std::string::npos)
      << unset.message;

  ::setenv("TXLAB_TEST_KC", "http://127.0.0.1:8080/realms/r", 1);
  const Diagnostic elsewhere = error_of(
      replace(kExternal, "jwks_uri: ${TXLAB_TEST_KC}", "jwks_uri: http://127.0.0.1:9999/realms/r"));
  EXPECT_NE(elsewhere.message.find("must be on one server"), std::string::npos)
      << elsewhere.message;
  const Scenario claims = load_scenario_text(
      replace(kExternal, "    access_token_typ: JWT\n",
              "    access_token_typ: JWT\n    access_token_claims: { typ: Bearer }\n"),
      "test.yaml");
  EXPECT_EQ(claims.find_role("kc")->external->access_token_claims,
            (std::map<std::string, std::string>{{"typ", "Bearer"}}));
  EXPECT_NE(error_of(replace(kExternal, "    access_token_typ: JWT\n",
                             "    access_token_typ: JWT\n    access_token_claims: { typ: [a] }\n"))
                .message.find("each value is a string"),
            std::string::npos);
  const Diagnostic linked =
      error_of(kExternal + "links:\n  - { from: a, to: kc, latency_ms: 5 }\n");
  EXPECT_NE(linked.message.find("external authorization server"), std::string::npos)
      << linked.message;
  ::unsetenv("TXLAB_TEST_KC");
}

// One run reports every mistake of independent parts (roles, calls, links), each at its line.
TEST(ScenarioLoaderTest, EveryErrorIsReportedNotOnlyTheFirst) {
  std::string yaml = replace(kMinimal, "    issuer: https://auth.c.cloud\n",
                             "    issuer: https://auth.c.cloud\n    trsut: [x]\n");
  yaml = replace(yaml, "    audience: api://b\n", "    audience: api://b\n    colour: red\n");
  yaml = replace(yaml, "    expect: { status: 200 }", "    expect: { status: 999 }");
  try {
    load_scenario_text(yaml, "test.yaml");
    FAIL() << "expected errors";
  } catch (const ScenarioError& e) {
    ASSERT_EQ(e.diagnostics().size(), 3u) << e.what();
    EXPECT_NE(e.diagnostics()[0].message.find("unknown key 'trsut'"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[0].pos.line, 7);
    EXPECT_NE(e.diagnostics()[1].message.find("unknown key 'colour'"), std::string::npos);
    EXPECT_NE(e.diagnostics()[2].message.find("status"), std::string::npos);
    // what() carries them all, one per line, each with file:line:column.
    const std::string all = e.what();
    EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 2);
    EXPECT_NE(all.find("test.yaml:7:"), std::string::npos) << all;
  }
}

// txlab serve --events / --admin: one event, the short or the YAML form, checked like a
// timeline's, errors with a position.
TEST(ScenarioEventTest, OneEventParsesAndIsCheckedAgainstTheScenario) {
  const Scenario s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/broker.yaml");
  TimelineEvent e = parse_event("down gw-c2pe", s, "event");
  EXPECT_EQ(e.kind, EventKind::kDown);
  EXPECT_EQ(e.role, "gw-c2pe");
  e = parse_event("{revoke_client: {as: as-c, client: svc-cfa}}\n", s, "event");
  EXPECT_EQ(e.kind, EventKind::kRevokeClient);
  EXPECT_EQ(e.client, "svc-cfa");
  e = parse_event("{clock_step: {zone: on-prem, by_s: -30}}", s, "event");
  EXPECT_EQ(e.by_s, -30);
  auto error_of = [&](const std::string& text) {
    try {
      parse_event(text, s, "event");
    } catch (const ScenarioError& err) {
      return std::string(err.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(error_of("rotate_key nobody").find("unknown role 'nobody'"), std::string::npos);
  EXPECT_NE(error_of("{rotate_key: gw-c2p}").find("not an authorization server"),
            std::string::npos);
  EXPECT_NE(error_of("{revoke_client: {as: as-c, client: ghost}}").find("not registered"),
            std::string::npos);
  EXPECT_NE(error_of("{rotate_key: as-c, overlap: 30s}").find("retire_keys"), std::string::npos);
  EXPECT_NE(error_of("{down: cfa}").find("is a client"), std::string::npos);
  EXPECT_NE(error_of("{rotate_key: [").find("event:"), std::string::npos);
  EXPECT_NE(error_of("[1, 2]").find("mapping"), std::string::npos);
  EXPECT_NE(error_of("{down: pba, up: pba}").find("two events"), std::string::npos);
  EXPECT_NE(error_of("nonsense here").find("event:1:"), std::string::npos);
}
