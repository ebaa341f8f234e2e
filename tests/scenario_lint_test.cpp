// Lint without the runtime (issue #25 part 4): ${NAME} resolved by a lookup passed to the
// loader, not by setenv; an unset one is a warning with its position in lint mode (the value
// checked with a stand-in) and an error otherwise; --env-file's parser. And two values the loader
// used to accept: a NaN probability, any role description, a zone named in a swarm link, and a
// key given twice.
#include <gtest/gtest.h>

#include "sim/env_file.h"
#include "sim/scenario.h"

using namespace txlab;

namespace {

// An external AS whose URLs and a secret come from the environment.
const std::string kVendor = R"(scenario: vendor
topology: direct
roles:
  kc:
    kind: external_authorization_server
    issuer: ${KC}
    token_endpoint: ${KC}/protocol/openid-connect/token
    jwks_uri: ${KC}/protocol/openid-connect/certs
  a:
    kind: client
    as: kc
    client_id: anyone
    secret: ${A_SECRET}
  b:
    kind: resource_server
    trust: [kc]
    audience: b
workload:
  - { name: a calls b, from: a, to: b, expect: { status: 200 } }
)";

EnvLookup only(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string error_text(const std::string& yaml, const ScenarioLoadOptions& o) {
  try {
    load_scenario_text(yaml, "v.yaml", o);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "loaded";
}

}  // namespace

TEST(ScenarioEnvTest, TheLookupPassedInResolvesReferences) {
  ScenarioLoadOptions o;
  o.env = only({{"KC", "http://127.0.0.1:1/realms/r"}, {"A_SECRET", "s"}});
  const Scenario s = load_scenario_text(kVendor, "v.yaml", o);
  EXPECT_EQ(s.find_role("kc")->external->token_endpoint,
            "http://127.0.0.1:1/realms/r/protocol/openid-connect/token");
  EXPECT_EQ(s.find_role("a")->client.credentials.secret, "s");
  EXPECT_TRUE(s.warnings.empty());
}

TEST(ScenarioEnvTest, UnsetIsAnErrorOutsideLint) {
  ScenarioLoadOptions o;
  o.env = only({{"KC", "http://127.0.0.1:1/realms/r"}});
  EXPECT_EQ(error_text(kVendor, o),
            "v.yaml:13:13: error: environment variable 'A_SECRET' is not set");
  o.env = only({});
  EXPECT_EQ(error_text(kVendor, o).rfind("v.yaml:6:13: error: environment variable 'KC'", 0), 0u);
}

TEST(ScenarioEnvTest, UnsetIsAWarningInLintWithAStandIn) {
  ScenarioLoadOptions o;
  o.env = only({});
  o.lint = true;
  const Scenario s = load_scenario_text(kVendor, "v.yaml", o);
  ASSERT_EQ(s.warnings.size(), 4u);
  EXPECT_EQ(s.warnings[0].format("warning"),
            "v.yaml:6:13: warning: environment variable 'KC' is not set (checked with "
            "'http://unset.invalid' in its place; set it or pass --env-file to check the real "
            "value)");
  EXPECT_EQ(s.warnings[1].pos.line, 7);
  EXPECT_EQ(s.warnings[2].pos.line, 8);
  EXPECT_EQ(s.warnings[3].pos.line, 13);
  EXPECT_NE(s.warnings[3].message.find("'A_SECRET'"), std::string::npos);
  EXPECT_NE(s.warnings[3].message.find("'unset.invalid'"), std::string::npos);
  // The stand-ins keep the URL checks meaningful: one server for both URLs, http:// only.
  EXPECT_EQ(s.find_role("kc")->external->jwks_uri,
            "http://unset.invalid/protocol/openid-connect/certs");
  EXPECT_NE(error_text(std::string(kVendor).replace(kVendor.find("jwks_uri: ${KC}"), 15,
                                                    "jwks_uri: https://x"),
                       o)
                .find("must be an http:// URL"),
            std::string::npos);
  // What is not a reference stays an error in lint mode too.
  EXPECT_NE(error_text(std::string(kVendor).replace(kVendor.find("${A_SECRET}"), 11, "${}"), o)
                .find("v.yaml:13:13: error: empty ${}"),
            std::string::npos);
  EXPECT_NE(error_text(std::string(kVendor).replace(kVendor.find("${A_SECRET}"), 11, "${A"), o)
                .find("unterminated ${"),
            std::string::npos);
}

TEST(EnvFileTest, ParsesCommentsExportAndQuotes) {
  const EnvFile f = parse_env_file(
      "# a comment\n\n  export A=1\nB = 'two words'\nC=\"x#y\"\nD=a # b\nE=\nF=\"\"\r\nA=last\n",
      "e.env");
  ASSERT_FALSE(f.error) << f.error->format("error");
  EXPECT_EQ(
      f.values,
      (std::map<std::string, std::string>{
          {"A", "last"}, {"B", "two words"}, {"C", "x#y"}, {"D", "a # b"}, {"E", ""}, {"F", ""}}));
}

TEST(EnvFileTest, MalformedLinesAreErrorsWithPosition) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {Case{"A=1\nnot a line\n", "e.env:2:5: error: expected '=' after 'not'"},
                        Case{"=x\n", "e.env:1:1: error: expected NAME=VALUE"},
                        Case{"1A=x\n", "e.env:1:1: error: expected NAME=VALUE"},
                        Case{"A=\"open\n", "e.env:1:3: error: unterminated double quote"},
                        Case{"A='a'b'\n", "e.env:1:3: error: a quote inside"}}) {
    const EnvFile f = parse_env_file(c.text, "e.env");
    ASSERT_TRUE(f.error) << c.text;
    EXPECT_EQ(f.error->format("error").rfind(c.error, 0), 0u) << f.error->format("error");
    EXPECT_TRUE(f.values.empty());
  }
  EXPECT_TRUE(read_env_file("/nonexistent/e.env").error);
}

TEST(EnvFileTest, TheEnvironmentWinsOverTheFile) {
  const EnvLookup env = env_with_file({{"A", "file"}, {"B", "file"}}, only({{"A", "process"}}));
  EXPECT_EQ(env("A"), "process");
  EXPECT_EQ(env("B"), "file");
  EXPECT_EQ(env("C"), std::nullopt);
}

// Two values the loader accepted before the schema work looked at every accessor.
TEST(ScenarioLoaderFixesTest, NanProbabilityRoleDescriptionsAndSwarmZonesAreRefused) {
  const std::string base = R"(scenario: p
roles:
  as:
    kind: authorization_server
  rs:
    kind: resource_server
    trust: [as]
    audience: rs
)";
  EXPECT_NE(error_text(base + "links:\n  - { to: rs, down: .nan }\n", {})
                .find("must be a probability in [0, 1]"),
            std::string::npos);
  EXPECT_EQ(error_text(base + "links:\n  - { to: rs, down: 0.5 }\n", {}), "loaded");
  // A role's description was never read, so any value passed.
  EXPECT_NE(error_text(base + "    description: [a, b]\n", {})
                .find("v.yaml:9:18: error: 'description' in role 'rs' must be a string"),
            std::string::npos)
      << error_text(base + "    description: [a, b]\n", {});
  const std::string swarm =
      base + "  c:\n    kind: client\n    as: as\n    client_id: c\n    secret: s\n" +
      "workload:\n  - { name: w, from: c, to: rs }\ntimeline:\n  swarm:\n    start: [1s, 2s]\n"
      "    length: [1s, 2s]\n    candidates:\n      - link: { to: rs, stall: 1";
  EXPECT_EQ(error_text(swarm + " }\n", {}).find("error"), std::string::npos);
  EXPECT_NE(error_text(swarm + ", from_zone: a, to_zone: b }\n", {})
                .find("a swarm link names roles (from/to), not zones"),
            std::string::npos);
}

// A key given twice: yaml-cpp reads the first, editors and schemas the last; an error at the
// second. Aliases are walked once (40 doublings would be 2^40 visits otherwise).
TEST(ScenarioLoaderFixesTest, DuplicateKeysAreErrors) {
  const std::string yaml =
      "scenario: d\nroles:\n  as:\n    kind: authorization_server\n"
      "    alg: ES256\n    kind: client\n";
  EXPECT_EQ(error_text(yaml, {}),
            "v.yaml:6:5: error: key 'kind' is given twice in one mapping (first at line 4)");
  EXPECT_EQ(error_text("scenario: d\nscenario: e\nroles: {as: {kind: authorization_server}}\n", {})
                .rfind("v.yaml:2:1: error: key 'scenario' is given twice", 0),
            0u);
  std::string laughs = "scenario: l\nroles: {as: {kind: authorization_server}}\nzones:\n";
  laughs += "  z0: &a0 {clock_offset_s: 1}\n";
  for (int i = 1; i <= 40; ++i)
    laughs += "  z" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" +
              std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
  EXPECT_NE(error_text(laughs, {}).find("zone 'z1' must be a mapping"), std::string::npos)
      << error_text(laughs, {}).substr(0, 200);
}
