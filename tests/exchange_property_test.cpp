// RapidCheck properties of the built-in AS's token exchange over real HTTP: every valid request
// succeeds with a well-formed response whose invariants hold (RFC 8693 §2.1, §2.2.1, §4.1), and
// every single mutation of a valid request yields exactly the expected error (RFC 8693 §2.2.2,
// RFC 6749 §5.2). Failures print the shrunk request and the seed (RC_PARAMS="seed=N").
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "conformance/judge.h"
#include "test_support.h"

using namespace txlab;
using namespace txlab::testing;
using Json = nlohmann::json;

namespace {

const char* kScenario = R"(scenario: exchange-properties
topology: custom
roles:
  as-c:
    kind: authorization_server
    issuer: https://auth.c.cloud
    clients:
      c-svc-unused-to-x: { secret: x, grants: [client_credentials], audiences: [x] }
  as-x:
    kind: authorization_server
    issuer: https://auth.x.edge
    alg: EdDSA
    exchange:
      trust: [as-c]
      max_ttl_s: 120
      max_act_depth: 4
    clients:
      x-svc-gw-to-api:
        secret: gw-secret
        grants: [token-exchange]
        audiences: [api://a, api://b, https://api.example/c]
        scope: s1 s2 s3
        subject_audiences: [gateway]
)";

const std::vector<std::string> kClientScopes = {"s1", "s2", "s3"};
const std::vector<std::string> kAllScopes = {"s1", "s2", "s3", "s4"};

Scenario scenario() { return load_scenario_text(kScenario, "exchange-properties.yaml"); }

World* g_world = nullptr;  // the world the properties run against

World& world() {
  static std::unique_ptr<World> w = start_world(scenario());
  return g_world ? *g_world : *w;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

std::set<std::string> split(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.insert(t);
  return out;
}

int act_depth(const Json& c) {
  int d = 0;
  const Json* cur = &c;
  while (cur->contains("act")) {
    cur = &(*cur)["act"];
    ++d;
  }
  return d;
}

struct Subject {
  std::vector<std::string> scopes;
  int64_t lifetime_s;
  int act_depth;
};

std::string mint_subject(const Subject& s, const Json& overrides = Json::object()) {
  const int64_t now = world().time().clock("as-c").now_s();
  Json c = {{"iss", "https://auth.c.cloud"},
            {"sub", "svc-caller"},
            {"aud", "gateway"},
            {"client_id", "svc-caller"},
            {"iat", now},
            {"exp", now + s.lifetime_s},
            {"jti", "j-" + std::to_string(std::rand())}};
  if (!s.scopes.empty()) c["scope"] = join(s.scopes);
  Json act;
  for (int i = 0; i < s.act_depth; ++i)
    act = act.is_null() ? Json{{"sub", "upstream-0"}}
                        : Json{{"sub", "upstream-" + std::to_string(i)}, {"act", act}};
  if (!act.is_null()) c["act"] = act;
  for (auto it = overrides.begin(); it != overrides.end(); ++it) c[it.key()] = it.value();
  return world().authorization_server("as-c").sign(c);
}

rc::Gen<Subject> gen_subject() {
  return rc::gen::build<Subject>(
      rc::gen::set(&Subject::scopes, rc::gen::nonEmpty(rc::gen::container<std::vector<std::string>>(
                                         rc::gen::elementOf(kAllScopes)))),
      rc::gen::set(&Subject::lifetime_s, rc::gen::inRange<int64_t>(30, 900)),
      rc::gen::set(&Subject::act_depth, rc::gen::inRange(0, 3)));
}

std::vector<std::string> dedupe(std::vector<std::string> v) {
  std::vector<std::string> out;
  for (auto& x : v)
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  return out;
}

}  // namespace

void valid_requests_property() {
  Subject subject = *gen_subject();
  subject.scopes = dedupe(subject.scopes);
  const std::vector<std::string> audiences = dedupe(*rc::gen::container<std::vector<std::string>>(
      rc::gen::element<std::string>("api://a", "api://b")));
  const bool use_resource = *rc::gen::arbitrary<bool>();
  std::vector<std::string> granted;
  for (const auto& s : subject.scopes)
    if (std::find(kClientScopes.begin(), kClientScopes.end(), s) != kClientScopes.end())
      granted.push_back(s);
  std::optional<std::vector<std::string>> requested_scope;
  if (!granted.empty() && *rc::gen::arbitrary<bool>())
    requested_scope = dedupe(*rc::gen::nonEmpty(
        rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(granted))));
  const std::string requested_type = *rc::gen::element<std::string>("", kTypeAccessToken, kTypeJwt);

  const std::string token = mint_subject(subject);
  http::FormParams form = exchange_form(token);
  for (const auto& a : audiences) form.emplace_back("audience", a);
  if (use_resource) form.emplace_back("resource", "https://api.example/c");
  if (requested_scope) form.emplace_back("scope", join(*requested_scope));
  if (!requested_type.empty()) form.emplace_back("requested_token_type", requested_type);
  RC_LOG() << "form: " << http::encode_form(form) << "\n";

  const int64_t before = world().time().clock("as-x").now_s();
  auto r = post_token(world(), "as-x", form, "x-svc-gw-to-api", "gw-secret");
  RC_ASSERT(r.status == 200);
  RC_ASSERT(r.raw.header("Cache-Control") == "no-store");
  RC_ASSERT(r.body["issued_token_type"] ==
            (requested_type.empty() ? std::string(kTypeAccessToken) : requested_type));
  RC_ASSERT(r.body["token_type"] == "Bearer");
  const Json c = claims_of(r.body["access_token"]);
  const Json sc = claims_of(token);

  // aud ⊆ requested targets (or the client's registered audiences when none was requested).
  std::set<std::string> requested(audiences.begin(), audiences.end());
  if (use_resource) requested.insert("https://api.example/c");
  std::set<std::string> aud;
  if (c["aud"].is_string())
    aud.insert(c["aud"].get<std::string>());
  else
    for (const auto& a : c["aud"]) aud.insert(a.get<std::string>());
  if (!requested.empty())
    RC_ASSERT(aud == requested);
  else
    RC_ASSERT(aud == (std::set<std::string>{"api://a", "api://b", "https://api.example/c"}));

  // scope ⊆ subject ∩ client, and exactly the request when one was made; returned when it differs.
  const auto issued_scope = split(c.value("scope", ""));
  for (const auto& s : issued_scope) {
    RC_ASSERT(std::find(granted.begin(), granted.end(), s) != granted.end());
  }
  if (requested_scope)
    RC_ASSERT(issued_scope ==
              std::set<std::string>(requested_scope->begin(), requested_scope->end()));
  if (!requested_scope && !issued_scope.empty()) RC_ASSERT(r.body.contains("scope"));

  // exp ≤ policy cap and ≤ the subject's exp.
  RC_ASSERT(c["exp"].get<int64_t>() <= before + 120 + 2);
  RC_ASSERT(c["exp"].get<int64_t>() <= sc["exp"].get<int64_t>());
  RC_ASSERT(r.body["expires_in"].get<int64_t>() <= 120);

  // RFC 8693 §4.1: sub stays, one more act level, the client is the current actor.
  RC_ASSERT(c["sub"] == sc["sub"]);
  RC_ASSERT(act_depth(c) == act_depth(sc) + 1);
  RC_ASSERT(c["act"]["sub"] == "x-svc-gw-to-api");
  if (sc.contains("act")) RC_ASSERT(c["act"]["act"] == sc["act"]);
}

namespace {

enum class Mutation {
  kDropGrantType,
  kDropSubjectToken,
  kDropSubjectTokenType,
  kDuplicateParameter,
  kGarbleTypeUri,
  kTamperSubject,
  kExpireSubject,
  kForeignSignSubject,
  kForbiddenAudience,
  kForbiddenResource,
  kRelativeResource,
  kForbiddenScope,
  kWrongSecret,
  kUnknownGrant,
  kActorTokenWithoutType,
  kUnknownRequestedType
};

struct Expected {
  int status;
  const char* error;
};

Expected expected_for(Mutation m) {
  switch (m) {
    case Mutation::kTamperSubject:
    case Mutation::kExpireSubject:
    case Mutation::kForeignSignSubject:
      return {400, "invalid_grant"};  // the AS's configured profile
    case Mutation::kForbiddenAudience:
    case Mutation::kForbiddenResource:
    case Mutation::kRelativeResource:
      return {400, "invalid_target"};
    case Mutation::kForbiddenScope:
      return {400, "invalid_scope"};
    case Mutation::kWrongSecret:
      return {401, "invalid_client"};
    case Mutation::kUnknownGrant:
      return {400, "unsupported_grant_type"};
    default:
      return {400, "invalid_request"};
  }
}

}  // namespace

void single_mutation_property() {
  const Subject subject = {{"s1", "s2"}, 300, 0};
  const auto m = *rc::gen::element(
      Mutation::kDropGrantType, Mutation::kDropSubjectToken, Mutation::kDropSubjectTokenType,
      Mutation::kDuplicateParameter, Mutation::kGarbleTypeUri, Mutation::kTamperSubject,
      Mutation::kExpireSubject, Mutation::kForeignSignSubject, Mutation::kForbiddenAudience,
      Mutation::kForbiddenResource, Mutation::kRelativeResource, Mutation::kForbiddenScope,
      Mutation::kWrongSecret, Mutation::kUnknownGrant, Mutation::kActorTokenWithoutType,
      Mutation::kUnknownRequestedType);
  const std::string junk =
      *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange('a', 'z')));
  std::string token = mint_subject(subject);
  http::FormParams form = exchange_form(token);
  form.emplace_back("audience", "api://a");
  std::string secret = "gw-secret";
  using conformance::replaced;
  using conformance::with;
  using conformance::without;
  switch (m) {
    case Mutation::kDropGrantType:
      form = without(form, "grant_type");
      break;
    case Mutation::kDropSubjectToken:
      form = without(form, "subject_token");
      break;
    case Mutation::kDropSubjectTokenType:
      form = without(form, "subject_token_type");
      break;
    case Mutation::kDuplicateParameter:
      form = with(
          form, *rc::gen::element<std::string>("subject_token_type", "grant_type", "subject_token"),
          junk);
      break;
    case Mutation::kGarbleTypeUri:
      form = replaced(form, "subject_token_type", "urn:ietf:params:oauth:token-type:x-" + junk);
      break;
    case Mutation::kTamperSubject: {
      Json c = claims_of(token);
      c["sub"] = junk;
      form = replaced(form, "subject_token", conformance::with_claims(token, c));
      break;
    }
    case Mutation::kExpireSubject: {
      const int64_t now = world().time().clock("as-c").now_s();
      form = replaced(form, "subject_token",
                      mint_subject(subject, {{"exp", now - 31 - (std::rand() % 1000)}}));
      break;
    }
    case Mutation::kForeignSignSubject: {
      auto d = jose::decode_unverified(token);
      form = replaced(form, "subject_token", conformance::signed_by_stranger(d->first, d->second));
      break;
    }
    case Mutation::kForbiddenAudience:
      form = with(form, "audience", "api://forbidden-" + junk);
      break;
    case Mutation::kForbiddenResource:
      form = with(form, "resource", "https://forbidden-" + junk + ".example/");
      break;
    case Mutation::kRelativeResource:
      form = with(form, "resource", junk + "/path");
      break;
    case Mutation::kForbiddenScope:
      form = with(form, "scope", *rc::gen::element<std::string>("s4", "s3 s4", "admin"));
      break;
    case Mutation::kWrongSecret:
      secret = "gw-secret" + junk;
      break;
    case Mutation::kUnknownGrant:
      form = replaced(form, "grant_type", "urn:" + junk);
      break;
    case Mutation::kActorTokenWithoutType:
      form = with(form, "actor_token", token);
      break;
    case Mutation::kUnknownRequestedType:
      form = with(form, "requested_token_type", "urn:" + junk);
      break;
  }
  RC_LOG() << "mutation " << static_cast<int>(m) << " form: " << http::encode_form(form) << "\n";
  auto r = post_token(world(), "as-x", form, "x-svc-gw-to-api", secret);
  const Expected e = expected_for(m);
  RC_ASSERT(r.status == e.status);
  RC_ASSERT(r.body.value("error", "") == std::string(e.error));
}

RC_GTEST_PROP(ExchangeProperty, Rfc8693Section221ValidRequestsSucceedAndInvariantsHold, ()) {
  valid_requests_property();
}

RC_GTEST_PROP(ExchangeProperty, Rfc8693Section222EachSingleMutationYieldsExactlyItsError, ()) {
  single_mutation_property();
}

// The properties can fail: against a defective AS they find a counter-example.
TEST(ExchangePropertyTest, PropertiesFailAgainstDefectiveServers) {
  for (const char* defect : {"widen-scope", "drop-act", "sub-from-client"}) {
    auto w = start_world(scenario(), {{"as-x", {defect}}});
    g_world = w.get();
    EXPECT_FALSE(rc::check(std::string("valid requests with ") + defect, valid_requests_property))
        << defect;
    g_world = nullptr;
  }
  for (const char* defect :
       {"accept-expired-subject", "allow-forbidden-audience", "skip-signature-check"}) {
    auto w = start_world(scenario(), {{"as-x", {defect}}});
    g_world = w.get();
    EXPECT_FALSE(rc::check(std::string("mutations with ") + defect, single_mutation_property))
        << defect;
    g_world = nullptr;
  }
}
