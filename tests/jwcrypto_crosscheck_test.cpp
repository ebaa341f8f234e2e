// Cross-check against an independent JOSE implementation (python3-jwcrypto, from Debian):
// tokens we sign verify there, tokens it signs verify here, tampered ones fail in both.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/clock.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/jwks_source.h"

using namespace txlab;
using namespace txlab::jose;
using Json = nlohmann::json;

namespace {

const std::string kScript = std::string(TXLAB_SOURCE_DIR) + "/tests/jwcrypto_crosscheck.py";
const std::string kPython = TXLAB_PYTHON;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/txlab-xcheck-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
std::string read(const std::string& path) {
  std::stringstream s;
  s << std::ifstream(path).rdbuf();
  return s.str();
}

int run(const std::string& cmd) {
  const int rc = std::system((cmd + " 2>/dev/null >/dev/null").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Payload tampering: a well-formed payload with another `sub`, under the original signature.
std::string tamper(const std::string& token) {
  auto parts = split_compact(token);
  Json claims = Json::parse(*base64url_decode(parts->payload_b64));
  claims["sub"] = "attacker";
  return std::string(parts->header_b64) + "." + base64url_encode(claims.dump()) + "." +
         std::string(parts->signature_b64);
}

class CrossCheckTest : public ::testing::TestWithParam<Alg> {};

}  // namespace

TEST_P(CrossCheckTest, OurTokensVerifyInJwcrypto) {
  ASSERT_EQ(run(kPython + " -c 'import jwcrypto'"), 0)
      << "python3-jwcrypto missing: run scripts/install-deps.sh";
  TempDir dir;
  const Key key = Key::generate(GetParam());
  write(dir.file("jwks.json"), Json{{"keys", {key.public_jwk()}}}.dump());
  const std::string token = sign_compact(key, Json{{"typ", "at+jwt"}}, R"({"sub":"svc-cfa"})");
  write(dir.file("token"), token);
  EXPECT_EQ(
      run(kPython + " " + kScript + " verify " + dir.file("jwks.json") + " " + dir.file("token")),
      0);
  write(dir.file("token"), tamper(token));
  EXPECT_NE(
      run(kPython + " " + kScript + " verify " + dir.file("jwks.json") + " " + dir.file("token")),
      0);
}

TEST_P(CrossCheckTest, JwcryptoTokensVerifyHere) {
  ASSERT_EQ(run(kPython + " -c 'import jwcrypto'"), 0)
      << "python3-jwcrypto missing: run scripts/install-deps.sh";
  TempDir dir;
  const std::string alg(to_string(GetParam()));
  ASSERT_EQ(run(kPython + " " + kScript + " sign " + alg + " " + dir.file("jwks.json") + " " +
                dir.file("token")),
            0);
  std::string err;
  auto keys = parse_jwks(read(dir.file("jwks.json")), &err);
  ASSERT_EQ(keys.size(), 1u) << err;
  Clock clock;
  VerifyPolicy policy;
  policy.audiences = {"gateway-c2pe"};
  JwtVerifier v(policy, clock);
  v.trust("https://jwcrypto.test", std::make_shared<StaticKeySource>(keys));
  const std::string token = read(dir.file("token"));
  auto r = v.verify(token);
  EXPECT_TRUE(r.ok()) << to_string(r.status) << " " << r.detail;
  EXPECT_EQ(r.claims.value("sub", ""), "peer");
  EXPECT_EQ(v.verify(tamper(token)).status, VerifyStatus::kSignatureInvalid);
}

INSTANTIATE_TEST_SUITE_P(EveryAlgorithm, CrossCheckTest,
                         ::testing::Values(Alg::kES256, Alg::kRS256, Alg::kPS256, Alg::kEdDSA),
                         [](const auto& info) { return std::string(to_string(info.param)); });
