// txlab conform --config (cli/conform_config.h): every conform flag is a key, values typed by
// the flag, the command line wins, ${NAME} from the environment, paths relative to the file,
// and each mistake refused with file:line:column.
#include "cli/conform_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace txlab::cli {
namespace {

const std::map<std::string, std::string> kEnv = {
    {"AS_URL", "https://as.example"}, {"SECRET", "s3cr$t"}, {"STATE", "/var/kc"}, {"EMPTY", ""}};

EnvLookup env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const auto it = kEnv.find(name);
    return it == kEnv.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

// The config TEXT of conf/c.yaml applied to ARGS; the error's format() or "".
std::string apply_text(const std::string& text, Args& args,
                       const std::vector<const Flag*>& given = {}) {
  const auto error = apply_conform_config(text, "conf/c.yaml", env(), given, args);
  return error ? error->format() : "";
}

TEST(ConformConfigTest, EveryKindOfValueIsStoredAsTheFlagWould) {
  Args a;
  ASSERT_EQ(apply_text("description: my AS in CI\n"
                       "target-url: ${AS_URL}/realms/x\n"
                       "exchanger-client: app:${SECRET}\n"
                       "profile: keycloak\n"
                       "strict: true\n"
                       "jwt-access-tokens: false\n"
                       "timeout-ms: 2500\n"
                       "seed: 7\n"
                       "serve-issuer: 8443\n"
                       "scope-beyond: [orders.write, admin]\n"
                       "issuer: ${AS_URL}\n",
                       a),
            "");
  EXPECT_EQ(a.target_url, "https://as.example/realms/x");
  EXPECT_EQ(a.exchanger, "app:s3cr$t");
  EXPECT_EQ(a.profile, "keycloak");
  EXPECT_TRUE(a.strict);
  EXPECT_FALSE(a.jwt_access_tokens);
  EXPECT_EQ(a.timeout_ms, 2500);
  EXPECT_EQ(a.seed, 7u);
  EXPECT_EQ(a.serve_issuer_port, 8443);
  EXPECT_EQ(a.scopes_beyond, (std::vector<std::string>{"orders.write", "admin"}));
  EXPECT_EQ(a.issuers,
            std::vector<std::string>{"https://as.example"});  // one string: a list of one
}

TEST(ConformConfigTest, EveryConformFlagIsAKeyAndNoOtherFlagIs) {
  for (const auto& f : flags()) {
    if (std::string(f.name) == "--config") continue;
    const std::string key = f.name + 2;
    std::string value = "x";
    if (std::holds_alternative<bool Args::*>(f.store)) value = "true";
    if (!std::holds_alternative<std::string Args::*>(f.store) &&
        !std::holds_alternative<std::vector<std::string> Args::*>(f.store) &&
        !std::holds_alternative<bool Args::*>(f.store))
      value = "1";
    Args a;
    const std::string error = apply_text(key + ": " + value + "\n", a);
    if (f.use_for(kConform))
      EXPECT_EQ(error, "") << key;
    else
      EXPECT_EQ(error, "conf/c.yaml:1:1: error: '" + key + "' (" + f.name +
                           ") does not apply to 'conform'")
          << key;
  }
}

TEST(ConformConfigTest, TheCommandLineWinsAndReplacesAList) {
  Args a;
  a.profile = "rfc8693";  // given on the line
  a.issuer_keys = {"/line.pem"};
  const std::vector<const Flag*> given = {find_flag("--profile"), find_flag("--issuer-key")};
  ASSERT_EQ(apply_text("profile: keycloak\nissuer-key: [a.pem, b.pem]\nonly: rfc8693/\n", a, given),
            "");
  EXPECT_EQ(a.profile, "rfc8693");
  EXPECT_EQ(a.issuer_keys, std::vector<std::string>{"/line.pem"});
  EXPECT_EQ(a.only, "rfc8693/");
}

TEST(ConformConfigTest, RelativePathsAreRelativeToTheConfigsDirectory) {
  Args a;
  ASSERT_EQ(apply_text("scenario: ../scenarios/broker.yaml\n"
                       "issuer-key: [k.pem, /abs/k2.pem, '${STATE}/k3.pem']\n"
                       "ca: '${STATE}/ca.pem'\n"
                       "mtls-client: app:certs/c.pem:certs/c.key\n"
                       "mtls-untrusted: u.pem:/abs/u.key\n"
                       "json: '-'\n"
                       "junit: out/conform.xml\n"
                       "baseline: baseline.json\n"
                       "audience: a/b\n",
                       a),
            "");
  EXPECT_EQ(a.scenario, "scenarios/broker.yaml");
  EXPECT_EQ(a.issuer_keys,
            (std::vector<std::string>{"conf/k.pem", "/abs/k2.pem", "/var/kc/k3.pem"}));
  EXPECT_EQ(a.ca_file, "/var/kc/ca.pem");
  EXPECT_EQ(a.mtls_client, "app:conf/certs/c.pem:conf/certs/c.key");
  EXPECT_EQ(a.mtls_untrusted, "conf/u.pem:/abs/u.key");
  EXPECT_EQ(a.json_out, "-");
  EXPECT_EQ(a.junit_out, "conf/out/conform.xml");
  EXPECT_EQ(a.baseline, "conf/baseline.json");
  EXPECT_EQ(a.audience, "a/b");  // not a path key
}

TEST(ConformConfigTest, DollarEscapesAndEnvironmentErrorsNameTheVariableAndPlace) {
  Args a;
  ASSERT_EQ(apply_text("exchanger-client: 'app:pa$$word$x${EMPTY}'\n", a), "");
  EXPECT_EQ(a.exchanger, "app:pa$word$x");
  EXPECT_EQ(apply_text("audience: api\nexchanger-client: app:${NOPE}\n", a),
            "conf/c.yaml:2:19: error: environment variable 'NOPE' is not set");
  EXPECT_EQ(apply_text("audience: ${AS_URL\n", a),
            "conf/c.yaml:1:11: error: unterminated ${ in '${AS_URL'");
  EXPECT_EQ(apply_text("audience: ${A-B}\n", a),
            "conf/c.yaml:1:11: error: '${A-B}' is not an environment variable name");
}

TEST(ConformConfigTest, MistakesAreRefusedAtTheirLineAndColumn) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"strict: true\nprofle: keycloak\n",
       "2:1: error: unknown key 'profle' (did you mean 'profile'?)"},
      {"--strict: true\n",
       "1:1: error: unknown key '--strict': write 'strict', without the "
       "leading dashes"},
      {"frobnicate: 1\n", "1:1: error: unknown key 'frobnicate' (the keys are conform's flags"},
      {"concurrency: 4\n", "1:1: error: 'concurrency' (--concurrency) does not apply to 'conform'"},
      {"config: other.yaml\n", "1:1: error: 'config' names the config file itself"},
      {"strict: yes\n", "1:9: error: 'strict' is a switch: true or false"},
      {"strict: 'true'\n", "1:9: error: 'strict' is a switch: true or false"},
      {"timeout-ms: fast\n", "1:13: error: 'timeout-ms' takes a non-negative integer"},
      {"timeout-ms: '5000'\n", "1:13: error: 'timeout-ms' takes a non-negative integer"},
      {"serve-issuer: 70000\n",
       "1:15: error: 'serve-issuer': --serve-issuer needs a port from 1 to 65535"},
      {"audience: [a, b]\n", "1:11: error: 'audience' takes a string, not a list"},
      {"issuer-key: [a.pem, {x: 1}]\n", "1:21: error: 'issuer-key' takes a string, not a mapping"},
      {"audience:\n", "1:1: error: 'audience' has no value"},
      {"audience: a\naudience: b\n", "2:1: error: duplicate key 'audience' (first at line 1)"},
      {"- target-url\n", "1:1: error: a conform config is a mapping"},
      {"target-url: [unclosed\n", "2:1: error: end of sequence flow not found"},
      {"", "error: the config is empty"},
  };
  for (const auto& [text, want] : cases) {
    Args a;
    a.audience = "unchanged";
    const std::string got = apply_text(text, a);
    EXPECT_EQ(got.rfind("conf/c.yaml:" + want, 0) == 0 || got.rfind("conf/c.yaml: " + want, 0) == 0,
              true)
        << "config:\n"
        << text << "got:  " << got << "\nwant: " << want;
    EXPECT_EQ(a.audience, "unchanged") << text;  // nothing applied from a refused file
  }
}

TEST(ConformConfigTest, AnUnreadableFileIsAnError) {
  Args a;
  const auto error = load_conform_config("/nonexistent/txlab.yaml", {}, a);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->format(), "/nonexistent/txlab.yaml: error: cannot read the config file");
}

// The shipped examples read, with their variables set, as the flags they mirror.
TEST(ConformConfigTest, ShippedExamplesRead) {
  ::setenv("TXLAB_KEYCLOAK_URL", "http://127.0.0.1:1/realms/txlab", 1);
  ::setenv("TXLAB_KEYCLOAK_STATE", "/tmp/kc", 1);
  ::setenv("TXLAB_SPRING_URL", "http://127.0.0.1:2", 1);
  ::setenv("TXLAB_SPRING_STATE", "/tmp/sp", 1);
  for (const char* v : {"TXLAB_KEYCLOAK_EXCHANGER_SECRET", "TXLAB_KEYCLOAK_SUBJECT_SECRET",
                        "TXLAB_KEYCLOAK_UNAUTHORIZED_SECRET", "TXLAB_KEYCLOAK_DPOP_SECRET",
                        "TXLAB_SPRING_EXCHANGER_SECRET", "TXLAB_SPRING_SUBJECT_SECRET",
                        "TXLAB_SPRING_UNAUTHORIZED_SECRET"})
    ::setenv(v, "s", 1);
  const std::string dir = std::string(TXLAB_SOURCE_DIR) + "/conformance/configs/";
  Args builtin, keycloak, spring;
  for (auto& [file, args] : std::vector<std::pair<std::string, Args*>>{
           {"builtin.yaml", &builtin}, {"keycloak.yaml", &keycloak}, {"spring.yaml", &spring}}) {
    const auto error = load_conform_config(dir + file, {}, *args);
    EXPECT_FALSE(error) << error->format();
  }
  EXPECT_EQ(builtin.scenario, std::string(TXLAB_SOURCE_DIR) + "/scenarios/broker.yaml");
  EXPECT_EQ(builtin.target_role, "as-c2p");
  EXPECT_EQ(keycloak.target_url, "http://127.0.0.1:1/realms/txlab");
  EXPECT_EQ(keycloak.profile, "keycloak");
  EXPECT_EQ(keycloak.issuer_keys, std::vector<std::string>{"/tmp/kc/signing-key.pem"});
  EXPECT_EQ(keycloak.semantics, "impersonation");
  EXPECT_EQ(spring.target_url, "http://127.0.0.1:2");
  EXPECT_EQ(spring.issuer_keys, std::vector<std::string>{"/tmp/sp/signing-key.pem"});
}

}  // namespace
}  // namespace txlab::cli
