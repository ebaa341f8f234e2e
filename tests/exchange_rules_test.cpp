// The token-exchange grant's pure rules without sockets, one test per rule, named by the RFC
// section it enforces; and the one table that maps each refusal to the wire.
#include <gtest/gtest.h>

#include "actors/exchange_rules.h"

using namespace txlab;
using namespace txlab::exchange;
using Json = nlohmann::json;

namespace {

http::FormParams valid_form() {
  return {{"grant_type", kGrantTokenExchange},
          {"subject_token", "t"},
          {"subject_token_type", kTypeAccessToken}};
}

Status refusal_of(const Result<Request>& r) { return std::get<Refusal>(r).status; }

Request parsed(const http::FormParams& f, ParsePolicy p = {}) {
  auto r = parse(f, p);
  EXPECT_TRUE(std::holds_alternative<Request>(r)) << to_string(std::get<Refusal>(r).status);
  return std::get<Request>(r);
}

ClientRegistration client() {
  ClientRegistration c;
  c.id = "gw";
  c.audiences = {"api://a", "https://api.example/v1"};
  c.scopes = {"read", "write"};
  return c;
}

ExchangePolicy policy() {
  ExchangePolicy p;
  p.max_ttl_s = 300;
  return p;
}

Result<Decision> run_decide(const Json& subject, const Request& r = Request{},
                            const Json* actor = nullptr, ExchangePolicy p = policy(),
                            int64_t now = 1000) {
  const ClientRegistration c = client();
  return decide({r, c, p, subject, actor, now});
}

}  // namespace

TEST(ExchangeParseTest, Rfc8693Section21ValidRequestParses) {
  Request r = parsed(valid_form());
  EXPECT_EQ(r.subject_token, "t");
  EXPECT_EQ(r.issued_type, kTypeAccessToken);
  EXPECT_FALSE(r.scope);
}

TEST(ExchangeParseTest, Rfc8693Section21SubjectTokenAndTypeAreRequired) {
  auto f = valid_form();
  f.erase(f.begin() + 1);
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kMissingSubjectToken);
  f = valid_form();
  f.pop_back();
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kMissingSubjectTokenType);
  f = valid_form();
  f.back().second = "urn:ietf:params:oauth:token-type:saml2";
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kUnsupportedSubjectTokenType);
}

TEST(ExchangeParseTest, Rfc8693Section21ActorTokenAndItsTypeComeTogether) {
  auto f = valid_form();
  f.emplace_back("actor_token", "a");
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kActorTokenTypeRequired);
  f = valid_form();
  f.emplace_back("actor_token_type", kTypeAccessToken);
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kActorTokenTypeWithoutToken);
  f = valid_form();
  f.emplace_back("actor_token", "a");
  f.emplace_back("actor_token_type", "urn:x");
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kUnsupportedActorTokenType);
}

TEST(ExchangeParseTest, Rfc8693Section11ImpersonationOnlyRefusesActorTokens) {
  auto f = valid_form();
  f.emplace_back("actor_token", "a");
  f.emplace_back("actor_token_type", kTypeJwt);
  EXPECT_EQ(refusal_of(parse(f, {/*delegation=*/false, false})), Status::kActorTokenNotAccepted);
  EXPECT_EQ(*parsed(f).actor_type, kTypeJwt);
}

TEST(ExchangeParseTest, Rfc8693Section3RequestedTokenTypes) {
  auto f = valid_form();
  f.emplace_back("requested_token_type", kTypeIdToken);
  EXPECT_EQ(parsed(f).issued_type, kTypeIdToken);
  f.back().second = kTypeRefreshToken;
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kUnsupportedRequestedTokenType)
      << "refresh tokens only where policy issues them";
  EXPECT_EQ(parsed(f, {true, /*refresh_tokens=*/true}).issued_type, kTypeRefreshToken);
  f.back().second = "urn:txlab:unknown";
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kUnsupportedRequestedTokenType);
}

TEST(ExchangeParseTest, Rfc8707Section2ResourceIsAnAbsoluteUriWithoutFragment) {
  auto f = valid_form();
  f.emplace_back("resource", "relative/path");
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kResourceNotAbsolute);
  f.back().second = "https://api.example/v1#frag";
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kResourceNotAbsolute);
  f.back().second = "https://api.example/v1?q=1";
  EXPECT_EQ(parsed(f).resources.size(), 1u);
}

TEST(ExchangeParseTest, Rfc6749Section33ScopeTokensAreWellFormed) {
  auto f = valid_form();
  f.emplace_back("scope", "read bad\"quote");
  EXPECT_EQ(refusal_of(parse(f, {})), Status::kMalformedScope);
  f.back().second = "read write";
  EXPECT_EQ(*parsed(f).scope, (std::vector<std::string>{"read", "write"}));
}

TEST(ExchangeTargetsTest, Rfc8693Section222TargetsMustBeRegisteredForTheClient) {
  auto f = valid_form();
  f.emplace_back("audience", "api://a");
  f.emplace_back("resource", "https://api.example/v1");
  auto t = targets(parsed(f), client());
  ASSERT_TRUE(std::holds_alternative<std::vector<std::string>>(t));
  EXPECT_EQ(std::get<std::vector<std::string>>(t),
            (std::vector<std::string>{"https://api.example/v1", "api://a"}));
  f.emplace_back("audience", "api://other");
  EXPECT_EQ(std::get<Refusal>(targets(parsed(f), client())).status, Status::kTargetNotAllowed);
  // None requested: the registered audiences; none registered either: no target.
  EXPECT_EQ(std::get<std::vector<std::string>>(targets(parsed(valid_form()), client())),
            client().audiences);
  ClientRegistration bare = client();
  bare.audiences.clear();
  EXPECT_EQ(std::get<Refusal>(targets(parsed(valid_form()), bare)).status, Status::kNoTarget);
}

TEST(ExchangeDecideTest, Rfc8693Section44MayActNamesWhoMayAct) {
  const Json subject = {{"sub", "alice"}, {"exp", 2000}, {"may_act", {{"sub", "gw"}}}};
  EXPECT_TRUE(std::holds_alternative<Decision>(run_decide(subject)));
  const Json other = {{"sub", "alice"}, {"exp", 2000}, {"may_act", {{"sub", "someone-else"}}}};
  EXPECT_EQ(std::get<Refusal>(run_decide(other)).status, Status::kMayActRefuses);
  const Json actor = {{"sub", "someone-else"}, {"iss", "https://as"}};
  EXPECT_TRUE(std::holds_alternative<Decision>(run_decide(other, Request{}, &actor)));
}

TEST(ExchangeDecideTest, Rfc6749Section33ScopeNeverExceedsSubjectAndClient) {
  const Json subject = {{"sub", "alice"}, {"exp", 2000}, {"scope", "read admin"}};
  auto d = std::get<Decision>(run_decide(subject));
  EXPECT_EQ(d.scope, (std::vector<std::string>{"read"}))
      << "admin is not the client's, write not the subject's";
  EXPECT_TRUE(d.report_scope)
      << "none was requested and read was issued: RFC 8693 §2.2.1 scope is REQUIRED";
  Request r;
  r.scope = std::vector<std::string>{"write"};
  EXPECT_EQ(std::get<Refusal>(run_decide(subject, r)).status, Status::kScopeExceeds);
  r.scope = std::vector<std::string>{"read"};
  EXPECT_FALSE(std::get<Decision>(run_decide(subject, r)).report_scope) << "issued as requested";
}

TEST(ExchangeDecideTest, LifetimeIsCappedByPolicyAndTheSubjectsExp) {
  EXPECT_EQ(std::get<Decision>(run_decide({{"sub", "a"}, {"exp", 5000}})).ttl_s, 300);
  EXPECT_EQ(std::get<Decision>(run_decide({{"sub", "a"}, {"exp", 1100}})).ttl_s, 100);
  EXPECT_EQ(std::get<Refusal>(run_decide({{"sub", "a"}, {"exp", 1000}})).status,
            Status::kSubjectExpiresTooSoon);
  ExchangePolicy p = policy();
  p.cap_to_subject_exp = false;
  EXPECT_EQ(
      std::get<Decision>(run_decide({{"sub", "a"}, {"exp", 1100}}, Request{}, nullptr, p)).ttl_s,
      300);
}

TEST(ExchangeDecideTest, Rfc8693Section41CurrentActorOutermostEarlierActorsNested) {
  const Json subject = {{"sub", "alice"}, {"exp", 2000}, {"act", {{"sub", "upstream"}}}};
  auto d = std::get<Decision>(run_decide(subject));
  EXPECT_EQ(d.act, (Json{{"sub", "gw"}, {"act", {{"sub", "upstream"}}}}));
  const Json actor = {{"sub", "svc"}, {"iss", "https://as"}};
  EXPECT_EQ(std::get<Decision>(run_decide(subject, Request{}, &actor)).act["sub"], "svc");
}

TEST(ExchangeDecideTest, Rfc8693Section11ImpersonationIssuesNoAct) {
  ExchangePolicy p = policy();
  p.delegation = false;
  EXPECT_TRUE(
      std::get<Decision>(run_decide({{"sub", "alice"}, {"exp", 2000}}, Request{}, nullptr, p))
          .act.is_null());
}

TEST(ExchangeDecideTest, Rfc8693Section41ActChainDepthIsBounded) {
  Json deep = {{"sub", "a0"}};
  for (int i = 1; i < 6; ++i) deep = {{"sub", "a" + std::to_string(i)}, {"act", deep}};
  EXPECT_EQ(std::get<Refusal>(run_decide({{"sub", "alice"}, {"exp", 2000}, {"act", deep}})).status,
            Status::kActChainTooDeep);
}

TEST(ExchangeDecideTest, CallerInActConventionPutsTheCallerInAct) {
  ExchangePolicy p = policy();
  p.act_style = ActStyle::kCallerInAct;
  auto d = std::get<Decision>(
      run_decide({{"sub", "alice"}, {"iss", "https://c"}, {"exp", 2000}}, Request{}, nullptr, p));
  EXPECT_EQ(d.act, (Json{{"sub", "alice"}, {"iss", "https://c"}}));
}

// The one table: bad tokens get the policy's code (invalid_grant or RFC 8693 §2.2.2's
// invalid_request), targets invalid_target, scope invalid_scope, the back channel 503/relay/500.
TEST(ExchangeWireTest, EveryRefusalHasOneWireForm) {
  auto code = [](Status s, TokenError bad = TokenError::kInvalidGrant) {
    return to_wire({s, "x"}, bad).error;
  };
  EXPECT_EQ(code(Status::kMissingSubjectToken), TokenError::kInvalidRequest);
  EXPECT_EQ(code(Status::kSubjectTokenInvalid), TokenError::kInvalidGrant);
  EXPECT_EQ(code(Status::kSubjectTokenInvalid, TokenError::kInvalidRequest),
            TokenError::kInvalidRequest);
  EXPECT_EQ(code(Status::kActorTokenInvalid), TokenError::kInvalidGrant);
  EXPECT_EQ(code(Status::kMayActRefuses), TokenError::kInvalidGrant);
  EXPECT_EQ(code(Status::kTargetNotAllowed), TokenError::kInvalidTarget);
  EXPECT_EQ(code(Status::kResourceNotAbsolute), TokenError::kInvalidTarget);
  EXPECT_EQ(code(Status::kScopeExceeds), TokenError::kInvalidScope);
  EXPECT_EQ(code(Status::kBackChannelUnreachable), TokenError::kTemporarilyUnavailable);
  EXPECT_EQ(to_wire({Status::kBackChannelRefused, "x", TokenError::kInvalidTarget},
                    TokenError::kInvalidGrant)
                .error,
            TokenError::kInvalidTarget);
  EXPECT_EQ(code(Status::kBackChannelFailed), TokenError::kServerError);
  for (int s = 0; s <= static_cast<int>(Status::kBackChannelFailed); ++s) {
    const auto st = static_cast<Status>(s);
    EXPECT_NE(to_string(st), "?") << s;
    EXPECT_FALSE(to_wire({st, "detail"}, TokenError::kInvalidGrant).description.empty())
        << to_string(st);
  }
}
