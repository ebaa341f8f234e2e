// JOSE known-answer tests (RFC 7515 A.2/A.3, RFC 8037 A.4, RFC 7638 §3.1), round trips per
// algorithm, and base64url properties.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/jose/base64url.h"
#include "sim/jose/dpop.h"
#include "sim/jose/jws.h"
#include "sim/jose/key.h"

using namespace txlab::jose;
using Json = nlohmann::json;

namespace {

// RFC 7515 Appendix A.2.1: the RSA key of the RS256 example.
const Json kRfc7515RsaKey = {
    {"kty", "RSA"},
    {"n",
     "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
     "4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-"
     "pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
     "KXBdQOS-UTo7WTBEMa2R2Ca"
     "pHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
     "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54"
     "h4FRWyuXpoQ"},
    {"e", "AQAB"},
    {"d",
     "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-"
     "7YwVol2NXOoAJe46sui395IW_GO-"
     "pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_"
     "V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2Q"
     "vXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_"
     "RQyGWSeWjnczT0QU91p1DhOVR"
     "uOopznQ"},
    {"p",
     "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_"
     "Py5PJdTJNPY8cQn7ouZ2KKDcm"
     "nPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"},
    {"q",
     "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-"
     "7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-"
     "TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"},
    {"dp",
     "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-"
     "FOKnu1R6HsJeDCjn12Sk3vmAktV2"
     "zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0"},
    {"dq",
     "h_96-mK1R_"
     "7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-"
     "NKJnwgjMd2w9cjz3_-"
     "kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU"},
    {"qi",
     "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_"
     "QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOP"
     "LUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}};

// RFC 7515 A.1 payload (with its CRLFs), reused by A.2 and A.3.
const std::string kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
const std::string kRfc7515RsaSignature =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZc"
    "AcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_"
    "eSN9383LcOLn6_dO--xi12jzDwusC-eOkH"
    "WEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_"
    "IoypGlUPQGe77Rw";

// RFC 7515 Appendix A.3.1: the EC key of the ES256 example and its signature.
const Json kRfc7515EcKey = {{"kty", "EC"},
                            {"crv", "P-256"},
                            {"x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"},
                            {"y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
                            {"d", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}};
const std::string kRfc7515EcSignature =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

// RFC 8037 Appendix A.1 (key) and A.4 (JWS).
const Json kRfc8037Key = {{"kty", "OKP"},
                          {"crv", "Ed25519"},
                          {"d", "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
                          {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
const std::string kRfc8037Input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const std::string kRfc8037Signature =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

Key must_import(const Json& jwk, std::optional<Alg> alg = std::nullopt) {
  std::string err;
  auto k = Key::from_jwk(jwk, &err, alg);
  EXPECT_TRUE(k.has_value()) << err;
  return *k;
}

}  // namespace

TEST(JwsKnownAnswerTest, Rfc7515A2Rs256SignsToTheRfcSignature) {
  const Key key = must_import(kRfc7515RsaKey, Alg::kRS256);
  const std::string input = "eyJhbGciOiJSUzI1NiJ9." + kRfc7515Payload;
  auto sig = sign_bytes(key, input);
  ASSERT_TRUE(sig);
  EXPECT_EQ(base64url_encode(*sig), kRfc7515RsaSignature);  // RSASSA-PKCS1-v1_5 is deterministic
  EXPECT_TRUE(verify_bytes(key, Alg::kRS256, input, *base64url_decode(kRfc7515RsaSignature)));
}

TEST(JwsKnownAnswerTest, Rfc7515A3Es256RfcSignatureVerifies) {
  const Key key = must_import(kRfc7515EcKey);
  const std::string input = "eyJhbGciOiJFUzI1NiJ9." + kRfc7515Payload;
  EXPECT_TRUE(verify_bytes(key, Alg::kES256, input, *base64url_decode(kRfc7515EcSignature)));
  EXPECT_FALSE(verify_bytes(key, Alg::kES256, input + "x", *base64url_decode(kRfc7515EcSignature)));
  // Our own ES256 signatures (random k) verify with the same key.
  auto sig = sign_bytes(key, input);
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->size(), 64u);  // RFC 7518 §3.4: R || S, 32 octets each
  EXPECT_TRUE(verify_bytes(key, Alg::kES256, input, *sig));
}

TEST(JwsKnownAnswerTest, Rfc8037A4Ed25519SignsToTheRfcSignature) {
  const Key key = must_import(kRfc8037Key);
  auto sig = sign_bytes(key, kRfc8037Input);
  ASSERT_TRUE(sig);
  EXPECT_EQ(base64url_encode(*sig), kRfc8037Signature);
  EXPECT_TRUE(verify_bytes(key, Alg::kEdDSA, kRfc8037Input, *sig));
}

TEST(JwkThumbprintTest, Rfc7638Section31Example) {
  const Json jwk = {{"kty", "RSA"},
                    {"n",
                     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuh"
                     "DR1L6tSoc_BJECPebWKR"
                     "XjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
                     "65YGjQR0_FDW2QvzqY368QQMic"
                     "AtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                     "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr"
                     "3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
                    {"e", "AQAB"},
                    {"alg", "RS256"},
                    {"kid", "2011-04-29"}};
  const Key key = must_import(jwk);
  EXPECT_EQ(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

TEST(JwkThumbprintTest, Rfc8037A3Ed25519Thumbprint) {
  EXPECT_EQ(must_import(kRfc8037Key).thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

class JwsRoundTripTest : public ::testing::TestWithParam<Alg> {};

TEST_P(JwsRoundTripTest, SignVerifyAndTamperFails) {
  const Key key = Key::generate(GetParam());
  EXPECT_EQ(key.kid(), key.thumbprint());  // RFC 7638 thumbprint is the default kid
  const std::string token = sign_compact(key, Json{{"typ", "at+jwt"}}, R"({"sub":"svc-cfa"})");
  auto parts = split_compact(token);
  ASSERT_TRUE(parts);
  const auto sig = *base64url_decode(parts->signature_b64);
  EXPECT_TRUE(verify_bytes(key, GetParam(), parts->signing_input, sig));

  // The public JWK imports to a key that verifies, and cannot sign.
  std::string err;
  auto pub = Key::from_jwk(key.public_jwk(), &err);
  ASSERT_TRUE(pub) << err;
  EXPECT_FALSE(pub->has_private());
  EXPECT_EQ(pub->kid(), key.kid());
  EXPECT_TRUE(verify_bytes(*pub, GetParam(), parts->signing_input, sig));
  EXPECT_FALSE(sign_bytes(*pub, "x").has_value());

  // Tampered payload or signature fails.
  std::string tampered_input(parts->signing_input);
  tampered_input.back() ^= 1;
  EXPECT_FALSE(verify_bytes(*pub, GetParam(), tampered_input, sig));
  std::string tampered_sig = sig;
  tampered_sig[tampered_sig.size() / 2] ^= 0x40;
  EXPECT_FALSE(verify_bytes(*pub, GetParam(), parts->signing_input, tampered_sig));
}

INSTANTIATE_TEST_SUITE_P(EveryAlgorithm, JwsRoundTripTest,
                         ::testing::Values(Alg::kES256, Alg::kRS256, Alg::kPS256, Alg::kEdDSA),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(JwsAlgorithmBindingTest, Rfc8725KeyIsNeverUsedWithAnotherAlgorithm) {
  // An RS256 key does not verify a PS256 signature made by the same RSA key pair and vice
  // versa; an EC key never verifies with an RSA alg.
  const Key rs = Key::generate(Alg::kRS256);
  auto sig = sign_bytes(rs, "input");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify_bytes(rs, Alg::kRS256, "input", *sig));
  EXPECT_FALSE(verify_bytes(rs, Alg::kPS256, "input", *sig));
  EXPECT_FALSE(verify_bytes(rs, Alg::kHS256, "input", *sig));
  const Key ec = Key::generate(Alg::kES256);
  EXPECT_FALSE(verify_bytes(ec, Alg::kRS256, "input", *sig));
}

TEST(JwkImportTest, RejectsWeakMalformedAndUnsupportedKeys) {
  std::string err;
  // Not on the curve: change y.
  Json bad_point = kRfc7515EcKey;
  bad_point.erase("d");
  bad_point["y"] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a1";
  EXPECT_FALSE(Key::from_jwk(bad_point, &err));
  // Wrong length, unknown kty, unsupported curve, HS256 alg, non-object.
  EXPECT_FALSE(
      Key::from_jwk(Json{{"kty", "EC"}, {"crv", "P-256"}, {"x", "AAAA"}, {"y", "AAAA"}}, &err));
  EXPECT_FALSE(Key::from_jwk(Json{{"kty", "oct"}, {"k", "c2VjcmV0"}}, &err));
  EXPECT_FALSE(
      Key::from_jwk(Json{{"kty", "EC"}, {"crv", "P-384"}, {"x", "AA"}, {"y", "AA"}}, &err));
  Json hs = kRfc7515RsaKey;
  hs["alg"] = "HS256";
  EXPECT_FALSE(Key::from_jwk(hs, &err));
  EXPECT_FALSE(Key::from_jwk(Json::array(), &err));
  // RFC 7518 §3.3: RSA keys below 2048 bits are refused. A 1024-bit modulus: 128 bytes.
  Json small = {{"kty", "RSA"}, {"e", "AQAB"}, {"n", base64url_encode(std::string(128, '\xC5'))}};
  EXPECT_FALSE(Key::from_jwk(small, &err));
  EXPECT_NE(err.find("2048"), std::string::npos) << err;
}

RC_GTEST_PROP(Base64UrlProperty, RoundTripsAndIsUnpadded, (const std::string& bytes)) {
  const std::string enc = base64url_encode(bytes);
  RC_ASSERT(enc.find('=') == std::string::npos);
  RC_ASSERT(enc.find('+') == std::string::npos);
  RC_ASSERT(enc.find('/') == std::string::npos);
  const auto dec = base64url_decode(enc);
  RC_ASSERT(dec.has_value());
  RC_ASSERT(*dec == bytes);
}

RC_GTEST_PROP(Base64UrlProperty, Rfc7515Section2RejectsPaddingAndForeignAlphabet,
              (const std::string& bytes)) {
  const std::string enc = base64url_encode(bytes);
  RC_ASSERT(!base64url_decode(enc + "=").has_value());
  RC_ASSERT(!base64url_decode(enc + "+").has_value());
  RC_ASSERT(!base64url_decode(enc + "/").has_value());
}

TEST(Base64UrlTest, RejectsNonCanonicalTrailingBits) {
  EXPECT_EQ(*base64url_decode("QQ"), "A");
  EXPECT_FALSE(base64url_decode("QR"));  // same byte, non-zero leftover bits
  EXPECT_FALSE(base64url_decode("Q"));   // impossible length
}

// RFC 9449 §4.3: each check of a DPoP proof, and each refusal named.
TEST(DpopProofTest, Rfc9449Section4_3EveryCheckRefusesWhatItShould) {
  namespace dp = txlab::jose::dpop;
  const Key key = Key::generate(Alg::kES256);
  const std::string htu = "https://AS.example:443/token?x=1";
  dp::Expect e;
  e.htm = "POST";
  e.htu = "https://as.example/token";
  e.now_s = 1000;
  const std::string good = dp::make(key, "POST", htu, 1000, "j1");
  auto ok = dp::check(good, e);
  ASSERT_TRUE(ok.ok()) << dp::describe(ok.status);
  EXPECT_EQ(ok.jkt, key.thumbprint());
  EXPECT_EQ(ok.jti, "j1");
  using S = dp::Status;
  EXPECT_EQ(dp::check("a.b", e).status, S::kMalformed);
  EXPECT_EQ(dp::check(dp::make(key, "GET", htu, 1000, "j"), e).status, S::kHtmMismatch);
  EXPECT_EQ(dp::check(dp::make(key, "POST", "https://as.example/other", 1000, "j"), e).status,
            S::kHtuMismatch);
  EXPECT_EQ(dp::check(dp::make(key, "POST", htu, 1000 - 61, "j"), e).status, S::kIatOutOfWindow);
  EXPECT_EQ(dp::check(dp::make(key, "POST", htu, 1000 + 6, "j"), e).status, S::kIatOutOfWindow);
  // typ, alg and jwk from a hand-made header.
  auto forged = [&](Json header, Json claims, const Key& signer) {
    const std::string input =
        base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    return input + "." + base64url_encode(*sign_bytes(signer, input));
  };
  const Json claims = {{"jti", "x"}, {"htm", "POST"}, {"htu", htu}, {"iat", 1000}};
  EXPECT_EQ(
      dp::check(forged({{"typ", "JWT"}, {"alg", "ES256"}, {"jwk", key.public_jwk()}}, claims, key),
                e)
          .status,
      S::kBadTyp);
  EXPECT_EQ(
      dp::check(
          forged({{"typ", "dpop+jwt"}, {"alg", "none"}, {"jwk", key.public_jwk()}}, claims, key), e)
          .status,
      S::kBadAlg);
  EXPECT_EQ(dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "HS256"}, {"jwk", key.public_jwk()}},
                             claims, key),
                      e)
                .status,
            S::kBadAlg);
  EXPECT_EQ(dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "ES256"}}, claims, key), e).status,
            S::kBadJwk);
  Json priv = key.public_jwk();
  priv["d"] = "AAAA";
  EXPECT_EQ(
      dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", priv}}, claims, key), e)
          .status,
      S::kBadJwk);
  const Key other = Key::generate(Alg::kES256);
  EXPECT_EQ(dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", key.public_jwk()}},
                             claims, other),
                      e)
                .status,
            S::kBadSignature);
  EXPECT_EQ(dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", key.public_jwk()}},
                             {{"htm", "POST"}, {"htu", htu}, {"iat", 1000}}, key),
                      e)
                .status,
            S::kMissingClaim);
  EXPECT_EQ(dp::check(forged({{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", key.public_jwk()}},
                             {{"jti", "x"}, {"htm", "POST"}, {"htu", htu}, {"iat", 1e300}}, key),
                      e)
                .status,
            S::kIatOutOfWindow);
  // Nonce, ath and the token's binding.
  dp::Expect n = e;
  n.nonce = "N1";
  EXPECT_EQ(dp::check(good, n).status, S::kNonceRequired);
  EXPECT_TRUE(dp::check(dp::make(key, "POST", htu, 1000, "j", "", "N1"), n).ok());
  dp::Expect a = e;
  a.access_token = "AT";
  EXPECT_EQ(dp::check(good, a).status, S::kAthMismatch);
  EXPECT_TRUE(dp::check(dp::make(key, "POST", htu, 1000, "j", "AT"), a).ok());
  a.jkt = other.thumbprint();
  EXPECT_EQ(dp::check(dp::make(key, "POST", htu, 1000, "j", "AT"), a).status, S::kKeyMismatch);
  EXPECT_EQ(dp::normalize_htu("HTTP://Host:80/p?q#f"), "http://host/p");
  EXPECT_EQ(dp::normalize_htu("http://host:8080"), "http://host:8080/");
}
