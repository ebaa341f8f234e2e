// Form decoding (RFC 6749 appendix B) and client credentials in HTTP Basic (RFC 6749 §2.3.1).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "sim/http/form.h"
#include "sim/http/oauth_error.h"

using namespace txlab::http;

TEST(FormTest, Rfc6749AppendixBDecodesPlusAndPercent) {
  auto f = parse_form(
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&scope=a+b&audience=x&"
      "audience=y");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 4u);
  EXPECT_EQ((*f)[0].second, "urn:ietf:params:oauth:grant-type:token-exchange");
  EXPECT_EQ((*f)[1].second, "a b");
  EXPECT_EQ(form_values(*f, "audience"), (std::vector<std::string>{"x", "y"}));
}

TEST(FormTest, MalformedEscapesAreRejected) {
  EXPECT_FALSE(parse_form("a=%"));
  EXPECT_FALSE(parse_form("a=%4"));
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_TRUE(parse_form("a=&&b"));  // empty pairs are skipped, empty values kept
}

RC_GTEST_PROP(FormProperty, EncodeThenParseRoundTrips,
              (const std::vector<std::pair<std::string, std::string>>& params)) {
  FormParams p(params.begin(), params.end());
  RC_PRE(std::all_of(p.begin(), p.end(), [](const auto& kv) { return !kv.first.empty(); }));
  const auto parsed = parse_form(encode_form(p));
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(*parsed == p);
}

TEST(BasicAuthTest, Rfc6749Section231CredentialsAreFormUrlDecoded) {
  // openid-client encodes "-" as %2D; "c-svc-a1-to-b:s3cr3t/+" must come back exactly.
  const std::string header = "Basic " + base64_encode("c%2Dsvc%2Da1%2Dto%2Db:s3cr3t%2F%2B");
  auto c = parse_basic_authorization(header);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "c-svc-a1-to-b");
  EXPECT_EQ(c->client_secret, "s3cr3t/+");
}

TEST(BasicAuthTest, RoundTripsThroughOurEncoder) {
  auto c = parse_basic_authorization(basic_authorization("id with:colon", "p@ss word%"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->client_id, "id with:colon");
  EXPECT_EQ(c->client_secret, "p@ss word%");
}

TEST(BasicAuthTest, MalformedHeadersAreRejected) {
  EXPECT_FALSE(parse_basic_authorization("Bearer abc"));
  EXPECT_FALSE(parse_basic_authorization("Basic !!!"));
  EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode("no-colon")));
  EXPECT_FALSE(parse_basic_authorization("Basic " + base64_encode(":secret-without-id")));
  EXPECT_TRUE(
      parse_basic_authorization("basic " + base64_encode("a:b")));  // scheme is case-insensitive
}

TEST(BearerTest, Rfc6750Section21ExtractsOneToken) {
  EXPECT_EQ(*parse_bearer_authorization("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(*parse_bearer_authorization("bearer abc"), "abc");
  EXPECT_FALSE(parse_bearer_authorization("Bearer"));
  EXPECT_FALSE(parse_bearer_authorization("Bearer a b"));
  EXPECT_FALSE(parse_bearer_authorization("Basic abc"));
}

RC_GTEST_PROP(Base64Property, StandardBase64RoundTrips, (const std::string& bytes)) {
  RC_ASSERT(*base64_decode(base64_encode(bytes)) == bytes);
}

TEST(Utf8Test, AcceptsWellFormedRejectsBroken) {
  EXPECT_TRUE(is_valid_utf8("svc-cfa"));
  EXPECT_TRUE(is_valid_utf8("\xE9\x9B\xB2"));       // 雲
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x94\x91"));   // 🔑
  EXPECT_FALSE(is_valid_utf8("\xED"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

// The one reader of OAuth errors (RFC 6749 §5.2 bodies, RFC 6750 §3 / RFC 7235 §4.1 challenges).
TEST(OAuthErrorTest, Rfc6750Section3ChallengeParamsAreReadWithQuotedStringsUnescaped) {
  auto cs = txlab::http::parse_www_authenticate(
      R"(Bearer realm="gw", error="invalid_token", error_description="the \"kid\" is unknown, sorry", Basic realm="as")");
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].scheme, "Bearer");
  EXPECT_EQ(cs[0].param("ERROR"), "invalid_token");
  EXPECT_EQ(cs[0].param("error_description"), "the \"kid\" is unknown, sorry");
  EXPECT_EQ(cs[1].scheme, "Basic");
  EXPECT_EQ(cs[1].param("realm"), "as");
  EXPECT_EQ(txlab::http::parse_www_authenticate("Bearer").at(0).scheme, "Bearer");
  EXPECT_EQ(
      txlab::http::parse_www_authenticate("Bearer error=invalid_request").at(0).param("error"),
      "invalid_request");
  EXPECT_EQ(txlab::http::parse_www_authenticate("Negotiate abc123==, Basic realm=x")
                .back()
                .param("realm"),
            "x");
}

TEST(OAuthErrorTest, Rfc6749Section52BodyFirstThenTheChallenge) {
  auto e = txlab::http::parse_oauth_error(
      400, R"({"error":"invalid_grant","error_description":"expired"})", R"(Basic realm="x")");
  EXPECT_EQ(e.error, "invalid_grant");
  EXPECT_EQ(e.description, "expired");
  EXPECT_EQ(e.scheme, "Basic");
  auto b = txlab::http::parse_oauth_error(401, "not json",
                                          R"(Bearer realm="gw", error="insufficient_scope")");
  EXPECT_EQ(b.error, "insufficient_scope");
  EXPECT_TRUE(b.present());
  EXPECT_FALSE(txlab::http::parse_oauth_error(200, "{}", "").present());
}

TEST(OAuthErrorTest, HostileHeadersAreBoundedNotACrash) {
  std::string huge = "Bearer ";
  for (int i = 0; i < 100000; ++i) huge += "a=b, ";
  auto cs = txlab::http::parse_www_authenticate(huge);
  EXPECT_LE(cs.size(), 16u);
  EXPECT_NO_THROW(txlab::http::parse_www_authenticate(std::string(50000, '"')));
  EXPECT_NO_THROW(txlab::http::parse_www_authenticate(R"(Bearer error="unterminated)"));
  EXPECT_EQ(
      txlab::http::parse_www_authenticate(R"(Bearer error="unterminated)").at(0).param("error"),
      "unterminated");
  EXPECT_NO_THROW(txlab::http::parse_oauth_error(400, std::string(100000, '{'), ",,,=,=\"\\"));
}
