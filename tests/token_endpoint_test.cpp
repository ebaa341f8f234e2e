// The AS token endpoint over HTTP: client authentication (RFC 6749 §2.3.1), the error table
// (RFC 6749 §5.2, RFC 8693 §2.2.2), response shape (RFC 8693 §2.2.1, RFC 9068), metadata
// (RFC 8414) and JWKS.
#include <gtest/gtest.h>

#include <limits>

#include <set>

#include "actors/as_internal.h"
#include "actors/dpop.h"
#include "actors/token_status.h"
#include "sim/jose/jws.h"
#include "test_support.h"

using namespace txlab;
using namespace txlab::testing;
using Json = nlohmann::json;

namespace {

class TokenEndpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { world_ = start_world("broker").release(); }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  World& w() { return *world_; }
  std::string at1() { return client_credentials(w(), "as-c", "svc-cfa", "cfa-secret"); }
  Reply exchange(http::FormParams form, const std::string& secret = "gw-c2p-secret") {
    return post_token(w(), "as-c2p", form, "gateway-c2p", secret);
  }
  static World* world_;
};
World* TokenEndpointTest::world_ = nullptr;

}  // namespace

TEST_F(TokenEndpointTest, Rfc9068ClientCredentialsTokenShape) {
  auto r = post_token(w(), "as-c", {{"grant_type", "client_credentials"}}, "svc-cfa", "cfa-secret");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.raw.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.body["token_type"], "Bearer");
  auto d = jose::decode_unverified(r.body["access_token"].get<std::string>());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->first["typ"], "at+jwt");
  EXPECT_EQ(d->first["alg"], "ES256");
  for (const char* claim : {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"})
    EXPECT_TRUE(d->second.contains(claim)) << claim;
  EXPECT_EQ(d->second["scope"], "orders.read orders.write");
}

TEST_F(TokenEndpointTest, Rfc8693Section221SuccessfulExchangeResponse) {
  auto form = exchange_form(at1());
  auto r = post_token(w(), "as-c2pe", form, "c2p-svc-broker-to-c2pe", "broker-secret");
  EXPECT_EQ(r.status, 400);  // AT1 is not trusted at the edge AS in broker mode
  r = exchange(form);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.body["issued_token_type"], kTypeAccessToken);
  EXPECT_EQ(r.body["token_type"], "Bearer");
  EXPECT_TRUE(r.body["expires_in"].is_number());
  EXPECT_EQ(r.raw.header("Cache-Control"), "no-store");
  EXPECT_EQ(r.raw.header("Pragma"), "no-cache");
  EXPECT_NE(r.raw.header("Content-Type").find("application/json"), std::string::npos);
}

TEST_F(TokenEndpointTest, Rfc6749Section52WrongSecretIs401InvalidClientWithChallenge) {
  auto r = exchange(exchange_form(at1()), "wrong");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"], "invalid_client");
  EXPECT_EQ(r.raw.header("WWW-Authenticate").rfind("Basic realm=", 0), 0u);
  r = post_token(w(), "as-c2p", exchange_form(at1()), "", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"], "invalid_client");
  r = post_token(w(), "as-c2p", exchange_form(at1()), "nobody", "x");
  EXPECT_EQ(r.status, 401);
}

TEST_F(TokenEndpointTest, Rfc6749Section231BasicCredentialsAreUrlDecoded) {
  // "svc-cfa" sent the way openid-client encodes it: svc%2Dcfa.
  http::OutboundRequest req;
  req.method = "POST";
  req.path = "/token";
  req.content_type = "application/x-www-form-urlencoded";
  req.body = "grant_type=client_credentials";
  req.headers.emplace_back("Authorization",
                           "Basic " + http::base64_encode("svc%2Dcfa:cfa%2Dsecret"));
  EXPECT_EQ(send(w(), "as-c", req).status, 200);
}

TEST_F(TokenEndpointTest, Rfc6749Section231ClientSecretPostMustMatchRegistration) {
  // svc-cfa is registered for client_secret_basic: body credentials are refused.
  http::FormParams form = {{"grant_type", "client_credentials"},
                           {"client_id", "svc-cfa"},
                           {"client_secret", "cfa-secret"}};
  auto r = post_token(w(), "as-c", form, "", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"], "invalid_client");
  // Two methods at once is a malformed request.
  r = post_token(w(), "as-c", form, "svc-cfa", "cfa-secret");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "invalid_request");
}

TEST_F(TokenEndpointTest, Rfc6749Section52ErrorTable) {
  struct Case {
    const char* name;
    http::FormParams form;
    int status;
    const char* error;
  };
  const std::string t = at1();
  auto with = [&](std::vector<std::pair<std::string, std::string>> extra) {
    auto f = exchange_form(t);
    for (auto& e : extra) f.push_back(e);
    return f;
  };
  auto without = [&](const std::string& name) {
    auto f = exchange_form(t);
    f.erase(std::remove_if(f.begin(), f.end(), [&](auto& kv) { return kv.first == name; }),
            f.end());
    return f;
  };
  const std::vector<Case> cases = {
      {"missing grant_type", without("grant_type"), 400, "invalid_request"},
      {"unknown grant", {{"grant_type", "password"}}, 400, "unsupported_grant_type"},
      {"grant not registered", {{"grant_type", "client_credentials"}}, 400, "unauthorized_client"},
      {"rfc8693/2.1 missing subject_token", without("subject_token"), 400, "invalid_request"},
      {"rfc8693/2.1 missing subject_token_type", without("subject_token_type"), 400,
       "invalid_request"},
      {"rfc8693/2.1 unknown subject_token_type", with({}), 200, ""},
      {"rfc6749/3.2 duplicated parameter", with({{"subject_token_type", kTypeAccessToken}}), 400,
       "invalid_request"},
      {"rfc8693/2.1 actor_token without type", with({{"actor_token", t}}), 400, "invalid_request"},
      {"rfc8693/2.1 actor_token_type without token", with({{"actor_token_type", kTypeAccessToken}}),
       400, "invalid_request"},
      {"rfc8693/2.1 unsupported requested_token_type", with({{"requested_token_type", "urn:x"}}),
       400, "invalid_request"},
      {"rfc8693/2.2.2 forbidden audience", with({{"audience", "api://payroll"}}), 400,
       "invalid_target"},
      {"rfc8693/2.2.2 one of two audiences forbidden",
       with({{"audience", "api://pba"}, {"audience", "api://x"}}), 400, "invalid_target"},
      {"rfc6749/5.2 scope beyond subject", with({{"scope", "orders.write"}}), 400, "invalid_scope"},
      {"rfc6749/3.3 malformed scope", with({{"scope", "a\"b"}}), 400, "invalid_scope"},
      {"invalid UTF-8 in a parameter", with({{"audience", "\xED"}}), 400, "invalid_request"},
      {"rfc8693/2.2.2 garbage subject token",
       {{"grant_type", kGrantTokenExchange},
        {"subject_token", "x.y.z"},
        {"subject_token_type", kTypeAccessToken}},
       400,
       "invalid_grant"},
  };
  for (const auto& c : cases) {
    auto form = c.form;
    if (std::string(c.name) == "rfc8693/2.1 unknown subject_token_type") {
      for (auto& kv : form)
        if (kv.first == "subject_token_type") kv.second = "urn:ietf:params:oauth:token-type:saml2";
      auto r = exchange(form);
      EXPECT_EQ(r.status, 400) << c.name;
      EXPECT_EQ(r.body["error"], "invalid_request") << c.name;
      continue;
    }
    auto r = exchange(form);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.raw.body;
    EXPECT_EQ(r.body.value("error", ""), c.error) << c.name;
    EXPECT_EQ(r.raw.header("Cache-Control"), "no-store") << c.name;
  }
}

TEST_F(TokenEndpointTest, Rfc6749Section32FormContentTypeRequired) {
  http::OutboundRequest req;
  req.method = "POST";
  req.path = "/token";
  req.content_type = "application/json";
  req.body = R"({"grant_type":"client_credentials"})";
  req.headers.emplace_back("Authorization", http::basic_authorization("svc-cfa", "cfa-secret"));
  auto r = send(w(), "as-c", req);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "invalid_request");
}

TEST_F(TokenEndpointTest, RepeatedAudienceIsAllowedAndAllLand) {
  auto form = exchange_form(at1());
  form.emplace_back("audience", "gateway-c2pe");
  form.emplace_back("audience", "api://pba");
  auto r = exchange(form);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(claims_of(r.body["access_token"])["aud"], (Json{"gateway-c2pe", "api://pba"}));
}

TEST_F(TokenEndpointTest, Rfc8414MetadataAndJwks) {
  http::OutboundRequest req;
  req.path = "/.well-known/oauth-authorization-server";
  auto r = send(w(), "as-c2p", req);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["issuer"], "https://auth.c2p.cloud");
  EXPECT_EQ(r.body["token_endpoint"], w().directory().url_of("as-c2p") + "/token");
  EXPECT_NE(std::find(r.body["grant_types_supported"].begin(),
                      r.body["grant_types_supported"].end(), kGrantTokenExchange),
            r.body["grant_types_supported"].end());
  req.path = "/.well-known/openid-configuration";
  EXPECT_EQ(send(w(), "as-c2p", req).body["issuer"], "https://auth.c2p.cloud");
  req.path = "/jwks";
  r = send(w(), "as-c2p", req);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.body["keys"].size(), 1u);
  EXPECT_EQ(r.body["keys"][0]["kid"],
            w().authorization_server("as-c2p").key_store().signing_key().kid());
  EXPECT_FALSE(r.body["keys"][0].contains("d"));  // never private material
}

TEST_F(TokenEndpointTest, ClientCredentialsScopeAndAudienceArePolicyBound) {
  auto r = post_token(w(), "as-c", {{"grant_type", "client_credentials"}, {"scope", "admin"}},
                      "svc-cfa", "cfa-secret");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "invalid_scope");
  r = post_token(w(), "as-c", {{"grant_type", "client_credentials"}, {"audience", "gateway-c2pe"}},
                 "svc-cfa", "cfa-secret");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"], "invalid_target");
}

// RFC 7523 §2.2 / §3: private_key_jwt client authentication.
TEST(PrivateKeyJwtTest, Rfc7523SignedAssertionAuthenticatesOnceAndOnlyForThisAs) {
  const jose::Key client_key = jose::Key::generate(jose::Alg::kES256);
  Scenario s = load_scenario(scenario_path("direct"));
  for (auto& r : s.roles) {
    if (r.id != "as-c") continue;
    ClientRegistration c;
    c.id = "c-svc-jwtclient-to-gw";
    c.auth = ClientAuthMethod::kPrivateKeyJwt;
    c.public_jwk = client_key.public_jwk().dump();
    c.grants = {"client_credentials"};
    c.audiences = {"gateway-c2p"};
    r.as.clients.push_back(c);
  }
  auto w = start_world(std::move(s));
  const std::string token_endpoint = w->authorization_server("as-c").token_endpoint();
  int n = 0;
  auto assertion = [&](const std::string& aud, const std::string& sub) {
    const int64_t now = w->time().clock("as-c").now_s();
    Json c = {{"iss", "c-svc-jwtclient-to-gw"},
              {"sub", sub},
              {"aud", aud},
              {"exp", now + 60},
              {"iat", now},
              {"jti", "assertion-" + std::to_string(++n)}};
    return jose::sign_compact(client_key, Json::object(), c.dump());
  };
  auto request = [&](const std::string& a) {
    return post_token(
        *w, "as-c",
        {{"grant_type", "client_credentials"},
         {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
         {"client_assertion", a}},
        "", "");
  };
  const std::string good = assertion(token_endpoint, "c-svc-jwtclient-to-gw");
  auto r = request(good);
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(claims_of(r.body["access_token"])["client_id"], "c-svc-jwtclient-to-gw");
  // §3 item 7: a jti is accepted once.
  r = request(good);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"], "invalid_client");
  // §3 item 3: the assertion is for this AS only.
  EXPECT_EQ(request(assertion("https://another.as/token", "c-svc-jwtclient-to-gw")).status, 401);
  // §3 item 2: sub must be the client.
  EXPECT_EQ(request(assertion(token_endpoint, "someone-else")).status, 401);
  // Signed by another key.
  const jose::Key stranger = jose::Key::generate(jose::Alg::kES256);
  const int64_t now = w->time().clock("as-c").now_s();
  Json c = {{"iss", "c-svc-jwtclient-to-gw"},
            {"sub", "c-svc-jwtclient-to-gw"},
            {"aud", token_endpoint},
            {"exp", now + 60},
            {"jti", "forged"}};
  EXPECT_EQ(request(jose::sign_compact(stranger, Json::object(), c.dump())).status, 401);
  // A secret is no way in for a private_key_jwt client.
  EXPECT_EQ(
      post_token(*w, "as-c", {{"grant_type", "client_credentials"}}, "c-svc-jwtclient-to-gw", "")
          .status,
      401);
}

// RFC 7523 §3 item 7 replay cache: bounded per client; one client's flood neither refuses
// another client nor its own next assertion; a replay is still refused; a far exp is capped.
TEST(JtiCacheTest, Rfc7523Section3FloodByOneClientDoesNotLockOutOthers) {
  as_detail::JtiCache cache;
  const int64_t now = 1000;
  for (size_t i = 0; i < as_detail::JtiCache::kMaxPerClient + 500; ++i)
    ASSERT_TRUE(cache.remember("mallory", "m" + std::to_string(i), now + 300, now)) << i;
  EXPECT_EQ(cache.size("mallory"), as_detail::JtiCache::kMaxPerClient);
  EXPECT_TRUE(cache.remember("alice", "a1", now + 300, now));
  EXPECT_FALSE(cache.remember("alice", "a1", now + 300, now)) << "a replay is refused";
  EXPECT_TRUE(cache.remember("mallory", "m-next", now + 300, now))
      << "a full cache evicts, it does not refuse";
  EXPECT_FALSE(cache.remember("mallory", "m-next", now + 300, now));
  // exp = 2^63-1 cannot pin an entry: it leaves after the maximum lifetime.
  EXPECT_TRUE(cache.remember("bob", "b1", std::numeric_limits<int64_t>::max(), now));
  EXPECT_FALSE(cache.remember("bob", "b1", std::numeric_limits<int64_t>::max(), now + 10));
  EXPECT_TRUE(
      cache.remember("bob", "b2", now + 5000, now + as_detail::JtiCache::kMaxLifetimeS + 1));
  EXPECT_EQ(cache.size("bob"), 1u) << "the capped entry expired";
}

namespace {

Reply post_token_with_proof(World& w, const std::string& as, http::FormParams form,
                            const DpopProver* prover) {
  http::OutboundRequest req = http::form_post("/token", form, "gateway-c2p", "gw-c2p-secret");
  if (prover)
    req.headers.emplace_back("DPoP", prover->proof("POST", w.directory().url_of(as) + "/token"));
  return send(w, as, req);
}

}  // namespace

// RFC 9449 §5: a refreshed access token is bound to the key of the refresh request's proof and
// labelled DPoP; refreshed without a proof it is a Bearer token with no stale cnf.jkt. (The
// token endpoint once re-issued the stored claims' cnf and always answered token_type Bearer.)
TEST(RefreshGrantTest, Rfc9449Section5RefreshedTokenIsBoundToThisRequestsProof) {
  auto w = start_world("direct");
  const std::string at1 = client_credentials(*w, "as-c", "svc-cfa", "cfa-secret");
  ASSERT_FALSE(at1.empty());
  const DpopProver first(w->time().clock("gw-c2p")), second(w->time().clock("gw-c2p"));
  auto exchanged = post_token_with_proof(*w, "as-c2pe", exchange_form(at1), &first);
  ASSERT_EQ(exchanged.status, 200) << exchanged.raw.body;
  EXPECT_EQ(exchanged.body["token_type"], "DPoP");
  EXPECT_EQ(claims_of(exchanged.body["access_token"])["cnf"]["jkt"], first.jkt());
  const std::string rt = exchanged.body.value("refresh_token", "");
  ASSERT_FALSE(rt.empty());

  auto bound = post_token_with_proof(
      *w, "as-c2pe", {{"grant_type", "refresh_token"}, {"refresh_token", rt}}, &second);
  ASSERT_EQ(bound.status, 200) << bound.raw.body;
  EXPECT_EQ(bound.body["token_type"], "DPoP");
  EXPECT_EQ(claims_of(bound.body["access_token"])["cnf"]["jkt"], second.jkt());

  auto bearer = post_token_with_proof(
      *w, "as-c2pe",
      {{"grant_type", "refresh_token"}, {"refresh_token", bound.body.value("refresh_token", "")}},
      nullptr);
  ASSERT_EQ(bearer.status, 200) << bearer.raw.body;
  EXPECT_EQ(bearer.body["token_type"], "Bearer");
  EXPECT_FALSE(claims_of(bearer.body["access_token"]).contains("cnf"));
  // The same subject throughout: only the binding follows the request.
  EXPECT_EQ(claims_of(bearer.body["access_token"])["sub"],
            claims_of(exchanged.body["access_token"])["sub"]);
}

// The refusal table covers every status once, and its rows give a code and a description.
TEST(TokenStatusTableTest, EveryStatusHasANameAnOAuthErrorAndADescription) {
  std::set<std::string> names;
  for (int i = 0; i <= static_cast<int>(oauth::Status::kNoSuchClient); ++i) {
    const auto s = static_cast<oauth::Status>(i);
    const std::string name(oauth::to_string(s));
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
    const auto w = oauth::to_wire({s, "detail"});
    EXPECT_FALSE(to_wire(w.error).code.empty()) << name;
    if (s != oauth::Status::kNoSuchClient) {
      EXPECT_FALSE(w.description.empty()) << name;
    }
    EXPECT_EQ(w.description.find("{}"), std::string::npos) << name;
  }
  EXPECT_EQ(
      oauth::to_wire({oauth::Status::kSubjectTokenInvalid, "x"}, TokenError::kInvalidRequest).error,
      TokenError::kInvalidRequest);  // RFC 8693 §2.2.2's choice, by policy
}
