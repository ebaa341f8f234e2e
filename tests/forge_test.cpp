// The forgeries of the probe families, without sockets: each is made from a token the issuer
// really signed, changes one thing, and is refused by the strict verifier for that one thing.
#include <gtest/gtest.h>

#include <set>

#include "conformance/forge.h"
#include "sim/clock.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

using namespace txlab;
using namespace txlab::conformance;
using Json = nlohmann::json;

namespace {

struct Fixture {
  jose::Key issuer = jose::Key::generate(jose::Alg::kES256);
  jose::Key stranger = jose::Key::generate(jose::Alg::kES256);
  Clock clock;
  forge::Materials m;
  std::string valid;
  Fixture() {
    stranger.set_kid("stranger");
    m.stranger = &stranger;
    m.stranger_cert_der = stranger.self_signed_cert_der("stranger");
    m.published = {nlohmann::ordered_json::parse(issuer.public_jwk().dump())};
    m.attacker_jwks_url = "http://127.0.0.1:9/jwks.json";
    m.attacker_x5u_url = "http://127.0.0.1:9/cert.pem";
    m.attacker_issuer = "http://127.0.0.1:9";
    const int64_t now = clock.now_s();
    valid = jose::sign_compact(issuer, {{"typ", "at+jwt"}},
                               Json{{"iss", "https://issuer"},
                                    {"sub", "alice"},
                                    {"aud", "me"},
                                    {"exp", now + 300},
                                    {"iat", now},
                                    {"scope", "read"}}
                                   .dump());
  }
  jose::VerifiedJwt verify(const std::string& token) const {
    jose::VerifyPolicy policy;
    policy.audiences = {"me"};
    jose::JwtVerifier v(policy, clock);
    v.trust("https://issuer",
            std::make_shared<jose::StaticKeySource>(std::vector<jose::Key>{issuer}));
    return v.verify(token);
  }
};

}  // namespace

TEST(ForgeTest, TheValidTokenVerifies) {
  Fixture f;
  EXPECT_TRUE(f.verify(f.valid).ok());
}

TEST(ForgeTest, EveryForgeryIsRefusedByTheStrictVerifierAndKeepsTheClaims) {
  Fixture f;
  const auto original = jose::decode_unverified(f.valid)->second;
  std::set<std::string> slugs;
  for (const auto& fg : forge::all_forgeries()) {
    EXPECT_TRUE(slugs.insert(fg.slug).second) << fg.slug;
    const auto variants = forge::make(fg.kind, f.valid, f.m);
    ASSERT_FALSE(variants.empty()) << fg.slug;
    for (const auto& v : variants) {
      EXPECT_NE(v, f.valid) << fg.slug;
      const auto r = f.verify(v);
      EXPECT_FALSE(r.ok()) << fg.slug << " verified: " << v;
      // The serialization shapes are not one compact JWS at all: nothing to decode.
      if (fg.kind == forge::Kind::kExtraSegments || fg.kind == forge::Kind::kJsonSerialization) {
        EXPECT_EQ(r.status, jose::VerifyStatus::kMalformed) << fg.slug << ": " << v;
        continue;
      }
      auto d = jose::decode_unverified(v);
      ASSERT_TRUE(d) << fg.slug;
      if (fg.kind != forge::Kind::kTamperedPayload && fg.kind != forge::Kind::kAttackerIssuer) {
        EXPECT_EQ(d->second, original) << fg.slug << ": only the signature side changes";
      }
    }
  }
}

TEST(ForgeTest, RefusalsNameTheOneThingThatChanged) {
  Fixture f;
  using S = jose::VerifyStatus;
  auto first_status = [&](forge::Kind k) {
    return f.verify(forge::make(k, f.valid, f.m).front()).status;
  };
  EXPECT_EQ(first_status(forge::Kind::kUnknownKid), S::kKidUnknown);
  EXPECT_EQ(first_status(forge::Kind::kForeignKeyRealKid), S::kSignatureInvalid);
  EXPECT_EQ(first_status(forge::Kind::kNoKid),
            S::kSignatureInvalid);  // one published key: found, wrong signature
  EXPECT_EQ(first_status(forge::Kind::kHs256PublicKey), S::kAlgNotAllowed);
  EXPECT_EQ(first_status(forge::Kind::kAlgNone), S::kAlgNone);
  EXPECT_EQ(first_status(forge::Kind::kTamperedPayload), S::kSignatureInvalid);
  EXPECT_EQ(first_status(forge::Kind::kEmptySignature), S::kSignatureInvalid);
  EXPECT_EQ(first_status(forge::Kind::kAttackerIssuer), S::kIssuerNotTrusted);
}

TEST(ForgeTest, AlgNoneComesInEveryLetterCaseWithoutSignature) {
  Fixture f;
  std::set<std::string> algs;
  for (const auto& v : forge::make(forge::Kind::kAlgNone, f.valid, f.m)) {
    algs.insert(jose::decode_unverified(v)->first["alg"].get<std::string>());
    EXPECT_EQ(v.back(), '.');
  }
  EXPECT_EQ(algs, (std::set<std::string>{"none", "None", "NONE", "nOnE"}));
}

TEST(ForgeTest, AlgorithmConfusionIsKeyedWithThePublishedKeyAsPem) {
  Fixture f;
  const auto variants = forge::make(forge::Kind::kHs256PublicKey, f.valid, f.m);
  bool pem = false;
  for (const auto& v : variants) {
    auto parts = jose::split_compact(v);
    ASSERT_TRUE(parts);
    const std::string sig = *jose::base64url_decode(parts->signature_b64);
    pem = pem || sig == jose::hmac_sha256(f.issuer.public_pem(), parts->signing_input);
  }
  EXPECT_TRUE(pem);
  EXPECT_GE(variants.size(), 4u);
  forge::Materials none = f.m;
  none.published.clear();
  EXPECT_TRUE(forge::make(forge::Kind::kHs256PublicKey, f.valid, none).empty())
      << "no published key: nothing to confuse";
}

TEST(ForgeTest, KeysInTheTokenAreTheStrangersAndItsSignatureVerifiesWithThem) {
  Fixture f;
  for (const auto& v : forge::make(forge::Kind::kEmbeddedJwk, f.valid, f.m)) {
    auto d = jose::decode_unverified(v);
    std::string err;
    auto key = jose::Key::from_jwk(d->first["jwk"], &err);
    ASSERT_TRUE(key) << err;
    auto parts = jose::split_compact(v);
    EXPECT_TRUE(jose::verify_bytes(*key, jose::Alg::kES256, parts->signing_input,
                                   *jose::base64url_decode(parts->signature_b64)));
  }
  auto jku = jose::decode_unverified(forge::make(forge::Kind::kJku, f.valid, f.m).front())->first;
  EXPECT_EQ(jku["jku"], f.m.attacker_jwks_url);
  EXPECT_EQ(jku["kid"], "stranger");
  auto x5c = jose::decode_unverified(forge::make(forge::Kind::kX5c, f.valid, f.m).front())->first;
  ASSERT_TRUE(x5c["x5c"].is_array());
  EXPECT_FALSE(x5c["x5c"][0].get<std::string>().empty());
  EXPECT_NE(forge::certificate_pem(f.m.stranger_cert_der).find("-----BEGIN CERTIFICATE-----"),
            std::string::npos);
}

TEST(ForgeTest, NotAJwsGivesNoForgeries) {
  Fixture f;
  for (const auto& fg : forge::all_forgeries())
    EXPECT_TRUE(forge::make(fg.kind, "opaque-token", f.m).empty()) << fg.slug;
}
