// JwtVerifier: every named failure, both sides of every time boundary (RFC 7519 §4.1.4-4.1.6
// with leeway), RFC 8725 hygiene (alg allow-list, no header-supplied keys, typ), audiences.
#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>
#include <limits>

#include "sim/clock.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

using namespace txlab;
using namespace txlab::jose;
using Json = nlohmann::json;

namespace {

constexpr const char* kIss = "https://auth.c2pe.edge";

class JwtVerifierTest : public ::testing::Test {
 protected:
  JwtVerifierTest() : key_(Key::generate(Alg::kES256)), other_(Key::generate(Alg::kES256)) {
    clock_.freeze();  // boundaries are probed to the second
    policy_.audiences = {"gateway-c2pe"};
    policy_.leeway_s = 30;
  }

  JwtVerifier verifier() {
    JwtVerifier v(policy_, clock_);
    v.trust(kIss, std::make_shared<StaticKeySource>(std::vector<Key>{key_}));
    return v;
  }

  Json claims() const {
    const int64_t now = clock_.now_s();
    return {{"iss", kIss},      {"sub", "svc-cfa"}, {"aud", "gateway-c2pe"},
            {"exp", now + 300}, {"iat", now},       {"jti", "j1"}};
  }

  std::string sign(const Json& c, const Json& header = Json{{"typ", "at+jwt"}}) const {
    return sign_compact(key_, header, c.dump());
  }

  // Assembles a token from raw parts, for headers our signer would never produce.
  std::string raw(const Json& header, const Json& c, const Key* signer) const {
    std::string input = base64url_encode(header.dump()) + "." + base64url_encode(c.dump());
    std::string sig = signer ? *sign_bytes(*signer, input) : std::string();
    return input + "." + base64url_encode(sig);
  }

  Clock clock_;
  VerifyPolicy policy_;
  Key key_, other_;
};

}  // namespace

TEST_F(JwtVerifierTest, ValidTokenPasses) {
  auto r = verifier().verify(sign(claims()));
  ASSERT_TRUE(r.ok()) << to_string(r.status);
  EXPECT_EQ(r.claims["sub"], "svc-cfa");
}

TEST_F(JwtVerifierTest, Rfc8725Section32AlgNoneRejected) {
  Json h = {{"alg", "none"}, {"typ", "at+jwt"}};
  EXPECT_EQ(verifier().verify(raw(h, claims(), nullptr)).status, VerifyStatus::kAlgNone);
  h["alg"] = "NoNe";
  EXPECT_EQ(verifier().verify(raw(h, claims(), nullptr)).status, VerifyStatus::kAlgNone);
}

TEST_F(JwtVerifierTest, Rfc8725Section31AlgOutsideAllowListRejected) {
  Json h = {{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", key_.kid()}};
  EXPECT_EQ(verifier().verify(raw(h, claims(), &key_)).status, VerifyStatus::kAlgNotAllowed);
  policy_.allowed_algs = {Alg::kEdDSA};
  EXPECT_EQ(verifier().verify(sign(claims())).status, VerifyStatus::kAlgNotAllowed);
}

TEST_F(JwtVerifierTest, Rfc8725HeaderAlgMustMatchTheKeysAlgorithm) {
  // ES256 key, header claims RS256 (which the policy allows): the key decides.
  Json h = {{"alg", "RS256"}, {"typ", "at+jwt"}, {"kid", key_.kid()}};
  EXPECT_EQ(verifier().verify(raw(h, claims(), &key_)).status, VerifyStatus::kKeyAlgMismatch);
}

TEST_F(JwtVerifierTest, Rfc9068Section21TypMustBeAtJwt) {
  EXPECT_EQ(verifier().verify(sign(claims(), Json{{"typ", "JWT"}})).status,
            VerifyStatus::kTypMismatch);
  EXPECT_EQ(verifier().verify(sign(claims(), Json::object())).status, VerifyStatus::kTypMismatch);
  EXPECT_TRUE(verifier().verify(sign(claims(), Json{{"typ", "application/AT+JWT"}})).ok());
}

TEST_F(JwtVerifierTest, Rfc8725Section310HeaderSuppliedKeysAreIgnored) {
  // Signed by an attacker key advertised in jwk/jku/x5u: still checked against the issuer's keys.
  Json h = {{"alg", "ES256"},
            {"typ", "at+jwt"},
            {"kid", key_.kid()},
            {"jwk", other_.public_jwk()},
            {"jku", "http://127.0.0.1:1/evil"},
            {"x5u", "http://127.0.0.1:1/evil.pem"}};
  EXPECT_EQ(verifier().verify(raw(h, claims(), &other_)).status, VerifyStatus::kSignatureInvalid);
  h["kid"] = other_.kid();
  EXPECT_EQ(verifier().verify(raw(h, claims(), &other_)).status, VerifyStatus::kKidUnknown);
}

TEST_F(JwtVerifierTest, IssuerMustBeTrustedAndPresent) {
  Json c = claims();
  c["iss"] = "https://auth.c.cloud";
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kIssuerNotTrusted);
  c.erase("iss");
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kIssuerMissing);
}

TEST_F(JwtVerifierTest, TokenOfAnotherIssuerKeyFailsEvenWithTrustedIss) {
  // iss spoofed to a trusted value, signed by an untrusted key with a kid that collides.
  Json h = {{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", key_.kid()}};
  EXPECT_EQ(verifier().verify(raw(h, claims(), &other_)).status, VerifyStatus::kSignatureInvalid);
}

TEST_F(JwtVerifierTest, Rfc7519Section413AudienceChecked) {
  Json c = claims();
  c["aud"] = "gateway-c2p";
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kAudienceMismatch);
  c["aud"] = Json::array({"api://pba", "gateway-c2pe"});
  EXPECT_TRUE(verifier().verify(sign(c)).ok());
  c.erase("aud");
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kAudienceMissing);
}

TEST_F(JwtVerifierTest, Rfc7519Section414ExpBoundaryWithLeeway) {
  const int64_t now = clock_.now_s();
  Json c = claims();
  c["exp"] = now - 1;  // just expired, within 30 s leeway
  EXPECT_TRUE(verifier().verify(sign(c)).ok());
  c["exp"] = now - 30;  // exactly at the leeway edge: still accepted
  EXPECT_TRUE(verifier().verify(sign(c)).ok());
  c["exp"] = now - 31;  // exp + leeway + 1 s: rejected
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kExpired);
  c.erase("exp");
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kExpMissing);
  c["exp"] = "tomorrow";
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kBadTimeClaim);
}

TEST_F(JwtVerifierTest, InjectedClockDecidesExpiry) {
  const std::string token = sign(claims());  // exp = now + 300
  clock_.advance(std::chrono::seconds(300 + 30));
  EXPECT_TRUE(verifier().verify(token).ok());
  clock_.advance(std::chrono::seconds(1));
  EXPECT_EQ(verifier().verify(token).status, VerifyStatus::kExpired);
}

TEST_F(JwtVerifierTest, Rfc7519Section415NbfBoundaryWithLeeway) {
  const int64_t now = clock_.now_s();
  Json c = claims();
  c["nbf"] = now + 30;
  EXPECT_TRUE(verifier().verify(sign(c)).ok());
  c["nbf"] = now + 31;
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kNotYetValid);
}

TEST_F(JwtVerifierTest, Rfc7519Section416IatInTheFutureRejected) {
  const int64_t now = clock_.now_s();
  Json c = claims();
  c["iat"] = now + 30;
  EXPECT_TRUE(verifier().verify(sign(c)).ok());
  c["iat"] = now + 3600;
  EXPECT_EQ(verifier().verify(sign(c)).status, VerifyStatus::kIssuedInFuture);
}

TEST_F(JwtVerifierTest, MalformedTokensHaveNamedFailures) {
  auto v = verifier();
  EXPECT_EQ(v.verify("abc").status, VerifyStatus::kMalformed);
  EXPECT_EQ(v.verify("a.b.c.d").status, VerifyStatus::kMalformed);
  EXPECT_EQ(v.verify("a=.b.c").status, VerifyStatus::kBadBase64);
  EXPECT_EQ(v.verify(base64url_encode("[1]") + ".e30.").status, VerifyStatus::kBadHeaderJson);
  EXPECT_EQ(v.verify(std::string(20000, 'a')).status, VerifyStatus::kTokenTooLarge);
  // Duplicate member names in the header (RFC 7515 §5.2: reject).
  const std::string dup_header = R"({"alg":"ES256","alg":"none","typ":"at+jwt"})";
  EXPECT_EQ(v.verify(base64url_encode(dup_header) + ".e30.").status, VerifyStatus::kBadHeaderJson);
  // Deep nesting in the payload.
  std::string deep = R"({"a":)";
  for (int i = 0; i < 50; ++i) deep += "[";
  for (int i = 0; i < 50; ++i) deep += "]";
  deep += "}";
  const std::string input =
      base64url_encode(R"({"alg":"ES256","typ":"at+jwt"})") + "." + base64url_encode(deep);
  EXPECT_EQ(v.verify(input + "." + base64url_encode(*sign_bytes(key_, input))).status,
            VerifyStatus::kBadPayloadJson);
}

TEST_F(JwtVerifierTest, Rfc7515Section4111UnknownCritRejected) {
  EXPECT_EQ(verifier().verify(sign(claims(), Json{{"typ", "at+jwt"}, {"crit", {"exp"}}})).status,
            VerifyStatus::kCritUnsupported);
}

TEST_F(JwtVerifierTest, KidRulesWithSeveralKeys) {
  JwtVerifier v(policy_, clock_);
  v.trust(kIss, std::make_shared<StaticKeySource>(std::vector<Key>{key_, other_}));
  Json h = {{"alg", "ES256"}, {"typ", "at+jwt"}};
  EXPECT_EQ(v.verify(raw(h, claims(), &key_)).status, VerifyStatus::kKidMissing);
  h["kid"] = "../../etc/passwd";
  EXPECT_EQ(v.verify(raw(h, claims(), &key_)).status, VerifyStatus::kKidUnknown);
  h["kid"] = other_.kid();
  EXPECT_TRUE(v.verify(raw(h, claims(), &other_)).ok());
}

TEST_F(JwtVerifierTest, SignatureStrippedOrTruncatedFails) {
  const std::string token = sign(claims());
  const std::string stripped = token.substr(0, token.rfind('.') + 1);
  EXPECT_EQ(verifier().verify(stripped).status, VerifyStatus::kSignatureInvalid);
  const size_t dot = token.rfind('.');
  std::string sig = *base64url_decode(token.substr(dot + 1));
  sig.resize(sig.size() - 1);
  EXPECT_EQ(verifier().verify(token.substr(0, dot + 1) + base64url_encode(sig)).status,
            VerifyStatus::kSignatureInvalid);
}

// Any single-byte change anywhere in a valid token makes it fail (or, rarely, leaves an
// equivalent base64 encoding — impossible here because decoding is canonical).
RC_GTEST_PROP(JwtVerifierProperty, AnyByteFlipInvalidatesTheToken, ()) {
  Clock clock;
  const Key key = Key::generate(Alg::kEdDSA);
  VerifyPolicy policy;
  policy.audiences = {"gateway-c2pe"};
  JwtVerifier v(policy, clock);
  v.trust(kIss, std::make_shared<StaticKeySource>(std::vector<Key>{key}));
  const int64_t now = clock.now_s();
  const Json c = {
      {"iss", kIss},
      {"sub", *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange('!', '~')))},
      {"aud", "gateway-c2pe"},
      {"exp", now + 60}};
  std::string token = sign_compact(key, Json{{"typ", "at+jwt"}}, c.dump());
  RC_ASSERT(v.verify(token).ok());
  const size_t pos = *rc::gen::inRange<size_t>(0, token.size());
  const char replacement = *rc::gen::element('A', 'z', '0', '-', '_', '.');
  RC_PRE(token[pos] != replacement);
  token[pos] = replacement;
  RC_ASSERT(!v.verify(token).ok());
}

// RFC 7519 §2 NumericDate at the limits: no overflow (UBSan aborted on exp = 2^63-1 before),
// huge or non-finite values are malformed, the extremes still mean what they say.
TEST_F(JwtVerifierTest, Rfc7519Section2TimeClaimsAtTheLimitsNeverOverflow) {
  auto with = [&](const char* name, const Json& v) {
    Json c = claims();
    c[name] = v;
    return verifier().verify(sign(c)).status;
  };
  EXPECT_EQ(with("exp", std::numeric_limits<int64_t>::max()), VerifyStatus::kOk);
  EXPECT_EQ(with("exp", std::numeric_limits<uint64_t>::max()), VerifyStatus::kOk);
  EXPECT_EQ(with("exp", std::numeric_limits<int64_t>::min()), VerifyStatus::kExpired);
  EXPECT_EQ(with("nbf", std::numeric_limits<int64_t>::min()), VerifyStatus::kOk);
  EXPECT_EQ(with("nbf", std::numeric_limits<int64_t>::max()), VerifyStatus::kNotYetValid);
  EXPECT_EQ(with("iat", std::numeric_limits<int64_t>::max()), VerifyStatus::kIssuedInFuture);
  EXPECT_EQ(with("exp", 1e300), VerifyStatus::kBadTimeClaim);
  EXPECT_EQ(with("exp", -1e300), VerifyStatus::kBadTimeClaim);
  policy_.leeway_s = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(with("exp", std::numeric_limits<int64_t>::max()), VerifyStatus::kOk);
  EXPECT_EQ(with("nbf", std::numeric_limits<int64_t>::min()), VerifyStatus::kOk);
}
