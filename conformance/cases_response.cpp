// RFC 8693 §2.2.1 response, §2.1 requested token types; RFC 6749 §5.1 headers; RFC 9068 token
// shape.
#include <set>
#include <sstream>

#include "conformance/case_table.h"
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/jwks_source.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

bool is_access_token_answer(const Answer& a) {
  return json_str(a.body, "issued_token_type") == kTypeAccess;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Whether issued_token_type `t` can describe the issued token (RFC 8693 §3): a JWT access
// token (typ at+jwt) is an access_token or a jwt, never a refresh or ID token or SAML; "jwt"
// and "id_token" need a JWT; an ID token is not used as a bearer access token.
Finding truthful_type(const Answer& a, const std::string& t) {
  auto jwt = a.issued_jwt();
  const std::string typ = jwt ? lower(json_str(jwt->first, "typ")) : "";
  const bool at_jwt = typ == "at+jwt" || typ == "application/at+jwt";
  if (at_jwt && t != kTypeAccess && t != kTypeJwt)
    return failed("issued_token_type access_token (or jwt) for a typ at+jwt token", t);
  if ((t == kTypeJwt || t == kTypeId) && !jwt)
    return failed("a JWT, as issued_token_type " + t + " says", "a token that is not a JWT");
  if (t == kTypeId && lower(json_str(a.body, "token_type")) == "bearer")
    return failed("token_type N_A for an ID token (RFC 8693 §2.2.1)", "Bearer");
  if (t == kTypeRefresh && jwt && lower(json_str(a.body, "token_type")) == "bearer" &&
      jwt->second.contains("aud"))
    return failed("a refresh token, as issued_token_type says",
                  "a bearer JWT with an audience (an access token)");
  return ok(t);
}

// Whether the target claims RFC 9068 JWT access tokens: stated, or seen in the issued typ.
bool claims_rfc9068(const Probe& p, const Answer& a) {
  if (p.target().jwt_access_tokens) return *p.target().jwt_access_tokens;
  auto jwt = a.issued_jwt();
  const std::string typ = jwt ? lower(json_str(jwt->first, "typ")) : "";
  return typ == "at+jwt" || typ == "application/at+jwt";
}

// §2.2.1 members, judged on the answer to a valid exchange.
Finding access_token_present(Probe&, const Answer& a) {
  if (!json_str(a.body, "access_token").empty()) return ok();
  return failed("a non-empty string access_token", a.raw.substr(0, 200));
}

Finding issued_token_type_present(Probe&, const Answer& a) {
  const std::string t = json_str(a.body, "issued_token_type");
  if (t.rfind("urn:", 0) == 0 || t.find("://") != std::string::npos) return ok(t);
  return failed("issued_token_type with a token type URI", t.empty() ? "(absent)" : t);
}

Finding token_type_bearer(Probe&, const Answer& a) {
  std::string t = json_str(a.body, "token_type");
  const std::string lowered = lower(t);
  if (lowered == "bearer" || (lowered == "n_a" && !is_access_token_answer(a))) return ok(t);
  if (lowered == "dpop") return informational("DPoP-bound token (RFC 9449)");
  return failed("token_type Bearer", t.empty() ? "(absent)" : t);
}

Finding expires_in(Probe&, const Answer& a) {
  if (!a.body.contains("expires_in"))
    return non_strict("expires_in", "(absent)", "RECOMMENDED, not required");
  const Json& e = a.body["expires_in"];
  if (!e.is_number()) return failed("expires_in as a JSON number (RFC 6749 §5.1)", e.dump());
  if (e.get<double>() <= 0) return failed("a positive lifetime", e.dump());
  return ok(e.dump());
}

Finding member_types(Probe&, const Answer& a) {
  for (const char* name :
       {"access_token", "token_type", "issued_token_type", "refresh_token", "scope"})
    if (a.body.contains(name) && !a.body[name].is_string())
      return failed(std::string(name) + " as a JSON string", a.body[name].dump());
  if (a.body.contains("expires_in") && !a.body["expires_in"].is_number())
    return failed("expires_in as a JSON number", a.body["expires_in"].dump());
  return ok();
}

Finding expires_in_matches_token(Probe& p, const Answer& a) {
  if (!a.body.contains("expires_in") || !a.body["expires_in"].is_number())
    return informational("no numeric expires_in to compare");
  auto jwt = a.issued_jwt();
  if (!jwt || !jwt->second.contains("exp") || !jwt->second["exp"].is_number())
    return informational("the issued token's exp cannot be read");
  const int64_t stated = static_cast<int64_t>(a.body["expires_in"].get<double>());
  const int64_t exp = static_cast<int64_t>(jwt->second["exp"].get<double>());
  // Against the token's own iat when it has one, else against the clock.
  const int64_t from = jwt->second.contains("iat") && jwt->second["iat"].is_number()
                           ? static_cast<int64_t>(jwt->second["iat"].get<double>())
                           : target_now(p);
  const int64_t real = exp - from;
  const int64_t slack = 60;
  if (stated <= real + slack && stated >= real - slack)
    return ok("expires_in " + std::to_string(stated) + ", exp - iat " + std::to_string(real));
  // A cached answer reports what is left: exp - now.
  const int64_t left = exp - target_now(p);
  if (stated <= left + slack && stated >= left - slack)
    return ok("expires_in " + std::to_string(stated) + " = what is left");
  return failed("expires_in ≈ " + std::to_string(real) + " (the token's exp - iat)",
                "expires_in " + std::to_string(stated));
}

Finding fresh_jti(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  if (!jwt->second.contains("jti")) return informational("the issued token has no jti");
  const Json jti = jwt->second["jti"];
  const Json subject_jti = p.subject_claims().value("jti", Json());
  if (!subject_jti.is_null() && jti == subject_jti)
    return failed("a new jti", jti.dump() + " (copied from the subject token)");
  std::string err;
  auto f2 = p.valid_exchange(&err);
  if (!f2) return failed("a subject token for the request", "none", "precondition failed: " + err);
  Answer b = p.post(*f2);
  auto jwt2 = b.issued_jwt();
  if (b.status != 200 || !jwt2)
    return failed("200 with a JWT for the second exchange", b.describe());
  if (jwt2->second.value("jti", Json()) == jti)
    return failed("two exchanges, two jti values", "both " + jti.dump());
  return ok(jti.dump());
}

Finding issued_token_type_truthful(Probe&, const Answer& a) {
  const std::string t = json_str(a.body, "issued_token_type");
  if (t.empty())
    return informational(
        "no issued_token_type (graded by rfc8693/2.2.1/issued-token-type-present)");
  return truthful_type(a, t);
}

// The valid request carries no scope: any scope issued differs from the (absent) request.
Finding scope_when_different(Probe&, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT: its scope cannot be read");
  const std::string token_scope = json_str(jwt->second, "scope");
  if (token_scope.empty()) return ok("no scope issued");
  if (a.body.contains("scope")) return ok();
  return failed("scope in the response (none was requested, '" + token_scope + "' was issued)",
                "(absent)");
}

void add_member_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {
          {{"rfc8693/2.2.1/access-token-present", "RFC 8693 §2.2.1", Level::kMust,
            "access_token is REQUIRED",
            "access_token REQUIRED. The security token issued by the authorization server in "
            "response to the token exchange request."},
           judges(access_token_present)},
          {{"rfc8693/2.2.1/issued-token-type-present", "RFC 8693 §2.2.1", Level::kMust,
            "issued_token_type is REQUIRED",
            "issued_token_type REQUIRED. An identifier, as described in Section 3, for the "
            "representation of the issued security token."},
           judges(issued_token_type_present)},
          {{"rfc8693/2.2.1/token-type-bearer", "RFC 8693 §2.2.1", Level::kMust,
            "token_type is REQUIRED; Bearer for a bearer access token",
            "token_type REQUIRED. A case-insensitive value specifying the method of using the "
            "access token issued, as specified in Section 7.1 of [RFC6749]."},
           judges(token_type_bearer)},
          {{"rfc8693/2.2.1/expires-in", "RFC 8693 §2.2.1", Level::kShould,
            "expires_in is RECOMMENDED",
            "expires_in RECOMMENDED. The validity lifetime, in seconds, of the token issued by "
            "the authorization server."},
           judges(expires_in)},
          {{"rfc6749/5.1/member-types", "RFC 6749 §5.1", Level::kNone,
            "Every token response member has its JSON type (strings; expires_in a number)",
            "The parameters are serialized into a JavaScript Object Notation (JSON) structure by "
            "adding each parameter at the highest structure level. Parameter names and string "
            "values are included as JSON strings. Numerical values are included as JSON "
            "numbers."},
           judges(member_types)},
          // The lifetime expires_in states is the one the token's exp sets (RFC 7519 §4.1.4).
          {{"rfc8693/2.2.1/expires-in-matches-token", "RFC 8693 §2.2.1", Level::kShould,
            "expires_in states the issued token's real lifetime (its exp - iat)",
            "expires_in RECOMMENDED. The validity lifetime, in seconds, of the token issued by "
            "the authorization server. ... For example, the value 1800 denotes that the token "
            "will expire in thirty minutes from the time the response was generated."},
           judges(expires_in_matches_token)},
          {{"rfc7519/4.1.7/fresh-jti", "RFC 7519 §4.1.7", Level::kMust,
            "Every issued token has its own jti, never the subject token's",
            "The identifier value MUST be assigned in a manner that ensures that there is a "
            "negligible probability that the same value will be accidentally assigned to a "
            "different data object."},
           judges(fresh_jti)},
          {{"rfc8693/2.2.1/issued-token-type-truthful", "RFC 8693 §2.2.1", Level::kMust,
            "issued_token_type names what was really issued",
            "issued_token_type REQUIRED. An identifier, as described in Section 3, for the "
            "representation of the issued security token."},
           judges(issued_token_type_truthful)},
          {{"rfc8693/2.2.1/scope-when-different", "RFC 8693 §2.2.1", Level::kMust,
            "scope is returned when the issued scope differs from the request",
            "scope OPTIONAL if the scope of the issued security token is identical to the scope "
            "requested by the client; otherwise, it is REQUIRED."},
           judges(scope_when_different)},
      });
}

// RFC 6749 §5.1 headers and §5.2 error shape.
Finding cache_control_no_store(Probe&, const Answer& a) {
  if (a.cache_control.find("no-store") != std::string::npos) return ok(a.cache_control);
  return failed("Cache-Control: no-store", a.cache_control.empty() ? "(absent)" : a.cache_control);
}

Finding pragma_no_cache(Probe&, const Answer& a) {
  if (a.pragma.find("no-cache") != std::string::npos) return ok(a.pragma);
  return non_strict("Pragma: no-cache", a.pragma.empty() ? "(absent)" : a.pragma,
                    "RFC 6749 §5.1 requires it, but RFC 9111 §5.4 deprecates Pragma and OAuth 2.1 "
                    "drops it");
}

Finding json_content_type(Probe&, const Answer& a) {
  if (a.content_type.rfind("application/json", 0) == 0) return ok(a.content_type);
  return failed("Content-Type: application/json",
                a.content_type.empty() ? "(absent)" : a.content_type);
}

Finding error_response_shape(const Probe&, const Answer& a) {
  if (!a.json()) return failed("a JSON object body", a.raw.substr(0, 120));
  if (a.content_type.rfind("application/json", 0) != 0)
    return failed("Content-Type: application/json", a.content_type);
  const std::string e = a.error();
  if (e.empty()) return failed("a string error member", a.raw.substr(0, 120));
  for (unsigned char c : e)
    if (!(c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)))
      return failed("error in %x20-21 / %x23-5B / %x5D-7E", e);
  return ok(a.describe());
}

void add_header_cases(std::vector<Case>& out) {
  add_rows(out,
           {
               {{"rfc6749/5.1/cache-control-no-store", "RFC 6749 §5.1", Level::kMust,
                 "Token responses are not cached",
                 "The authorization server MUST include the HTTP \"Cache-Control\" response "
                 "header field [RFC2616] with a value of \"no-store\" in any response containing "
                 "tokens, credentials, or other sensitive information ..."},
                judges(cache_control_no_store)},
               {{"rfc6749/5.1/pragma-no-cache", "RFC 6749 §5.1", Level::kMust,
                 "Pragma: no-cache for HTTP/1.0 caches",
                 "The authorization server MUST include the HTTP \"Cache-Control\" response "
                 "header field [RFC2616] with a value of \"no-store\" in any response containing "
                 "tokens, credentials, or other sensitive information, as well as the "
                 "\"Pragma\" response header field [RFC2616] with a value of \"no-cache\"."},
                judges(pragma_no_cache)},
               {{"rfc6749/5.1/json-content-type", "RFC 6749 §5.1", Level::kNone,
                 "Token responses are application/json",
                 "The parameters are included in the entity-body of the HTTP response using the "
                 "\"application/json\" media type."},
                judges(json_content_type)},
               {{"rfc6749/5.2/error-response-shape", "RFC 6749 §5.2", Level::kMust,
                 "Error responses are JSON objects with a registered-charset error code",
                 "The authorization server responds with an HTTP 400 (Bad Request) status "
                 "code ... and includes the following parameters with the response: error "
                 "REQUIRED ... Values for the \"error\" parameter MUST NOT include "
                 "characters outside the set %x20-21 / %x23-5B / %x5D-7E."},
                sends(removes("subject_token"), error_response_shape)},
           });
}

// The issued token itself (RFC 9068, RFC 7519), as a resource server would read it.
Finding audience_honoured(Probe& p, const Answer& a) {
  if (p.target().audience.empty()) return informational("no audience requested");
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const Json aud = jwt->second.value("aud", Json());
  if (!jose::audience_contains(aud, p.target().audience))
    return failed("aud containing '" + p.target().audience + "'", aud.dump());
  return ok(aud.dump());
}

Finding typ_at_jwt(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const std::string typ = json_str(jwt->first, "typ");
  const std::string lowered = lower(typ);
  if (lowered == "at+jwt" || lowered == "application/at+jwt") return ok(typ);
  // The MUST applies to RFC 9068 tokens, whatever the profile: a target that does not claim the
  // profile (Keycloak's typ JWT) is not judged by it.
  if (!claims_rfc9068(p, a))
    return informational("the target does not claim RFC 9068 JWT access tokens (typ " +
                         (typ.empty() ? std::string("absent") : typ) +
                         "); --jwt-access-tokens asserts it does");
  return failed("typ at+jwt", typ.empty() ? "(absent)" : typ);
}

Finding required_claims(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  // Whatever the profile: the REQUIRED claims bind RFC 9068 tokens, and only those.
  if (!claims_rfc9068(p, a))
    return informational(
        "the target does not claim RFC 9068 JWT access tokens; --jwt-access-tokens "
        "asserts it does");
  std::string missing;
  for (const char* c : {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"})
    if (!jwt->second.contains(c)) missing += (missing.empty() ? "" : ", ") + std::string(c);
  if (missing.empty()) return ok();
  return failed("all of iss, exp, aud, sub, client_id, iat, jti", "missing " + missing);
}

Finding signature_verifies(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  if (json_str(jwt->first, "alg") == "none") return failed("a signed token", "alg none");
  if (p.jwks().empty()) return informational("no JWKS available to check the signature");
  Clock clock;
  jose::VerifyPolicy policy;
  policy.typ.reset();
  policy.require_audience = false;
  policy.require_exp = false;  // exp is optional in RFC 7519; this case is about the signature
  jose::JwtVerifier v(policy, clock);
  const std::string iss = json_str(jwt->second, "iss");
  std::vector<jose::Key> keys;
  for (const auto& set : p.jwks()) {
    std::string err;
    for (auto& k : parse_jwks(set.dump(), &err)) keys.push_back(std::move(k));
  }
  v.trust(iss, std::make_shared<jose::StaticKeySource>(keys));
  auto r = v.verify(json_str(a.body, "access_token"));
  if (r.ok()) return ok(json_str(jwt->first, "alg"));
  return failed("signature valid under the published JWKS", std::string(jose::to_string(r.status)));
}

Finding issuer_expected(Probe& p, const Answer& a) {
  if (p.target().accepted_issuers.empty())
    return informational("issuer unknown (no discovery metadata)");
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const std::string iss = json_str(jwt->second, "iss");
  for (const auto& i : p.target().accepted_issuers)
    if (i == iss) return ok(iss);
  if (!claims_rfc9068(p, a))
    return informational("iss '" + iss +
                         "' is none of the AS's issuers; the target does not claim RFC "
                         "9068 JWT access tokens, whose iss is REQUIRED");
  return failed("iss one of the AS's issuers", iss);
}

Finding client_id_is_the_requester(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const Json* cid = json_path(jwt->second, "client_id");
  if (!cid || !cid->is_string())
    return unimplemented(
        "the issued token carries no client_id (graded by rfc9068/2.2/required-claims)");
  const std::string got = cid->get<std::string>();
  if (got == p.target().exchanger.id) return ok("client_id " + got);
  // A brokering AS relays a token its next AS issued to the broker's registration.
  for (const auto& i : p.target().intermediaries)
    if (got == i) return ok("client_id " + got + " (the broker's back-channel client)");
  const std::string subject_client = json_str(p.subject_claims(), "client_id");
  // A MUST for RFC 9068 tokens (client_id REQUIRED, as RFC 8693 §4.3 defines it); for other
  // JWTs the definition alone.
  if (!claims_rfc9068(p, a))
    return informational("client_id " + got + ", not the requester " + p.target().exchanger.id +
                         "; the target does not claim RFC 9068 JWT access tokens, whose "
                         "client_id is REQUIRED");
  return failed(
      "client_id " + p.target().exchanger.id,
      "client_id " + got + (got == subject_client ? " (the subject token's client)" : ""));
}

void add_issued_token_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {
          // No sentence obliges the server to address the token to the requested audience (a
          // server unwilling to SHOULD answer invalid_target, RFC 8693 §2.2.2): reported, not
          // graded.
          {{"rfc8693/2.1/audience-honoured", "RFC 8693 §2.1", Level::kNone,
            "The issued token's aud covers the requested audience",
            "audience ... The logical name of the target service where the client intends to "
            "use the requested security token."},
           judges(audience_honoured)},
          {{"rfc9068/2.1/typ-at-jwt", "RFC 9068 §2.1", Level::kMust,
            "JWT access tokens are typed at+jwt",
            "This specification registers the \"application/at+jwt\" media type, which can be "
            "used to indicate that the content is a JWT access token. JWT access tokens MUST "
            "include this media type in the \"typ\" header parameter to explicitly declare that "
            "the JWT represents an access token complying with this profile. ... Therefore, the "
            "\"typ\" value used SHOULD be \"at+jwt\"."},
           judges(typ_at_jwt)},
          {{"rfc9068/2.2/required-claims", "RFC 9068 §2.2", Level::kMust,
            "JWT access tokens carry iss, exp, aud, sub, client_id, iat and jti",
            "iss REQUIRED ... exp REQUIRED ... aud REQUIRED ... sub REQUIRED ... client_id "
            "REQUIRED ... iat REQUIRED ... jti REQUIRED."},
           judges(required_claims)},
          // Checked as a resource server would (RFC 9068 §4): under the issuer's published keys.
          {{"rfc9068/2.1/signature-verifies", "RFC 9068 §2.1", Level::kMust,
            "The issued token is signed by an accepted issuer's published key, never alg none",
            "JWT access tokens MUST be signed. ... JWT access tokens MUST NOT use \"none\" as "
            "the signing algorithm."},
           judges(signature_verifies)},
          // A MUST for RFC 9068 tokens (iss REQUIRED, as RFC 7519 defines it); for other JWTs
          // the definition alone: reported, not graded.
          {{"rfc7519/4.1.1/issuer-expected", "RFC 7519 §4.1.1", Level::kMust,
            "The issued token's iss is the AS (or the AS it brokers to)",
            "iss REQUIRED - as defined in Section 4.1.1 of [RFC7519]. (RFC 9068 §2.2) The "
            "\"iss\" (issuer) claim identifies the principal that issued the JWT."},
           judges(issuer_expected)},
          {{"rfc8693/4.3/client-id-is-the-requester", "RFC 8693 §4.3", Level::kMust,
            "The issued token's client_id is the exchanger, not the subject token's client",
            "client_id REQUIRED - as defined in Section 4.3 of [RFC8693]. (RFC 9068 §2.2) The "
            "client_id claim carries the client identifier of the OAuth 2.0 [RFC6749] client "
            "that requested the token."},
           judges(client_id_is_the_requester)},
      });
}

// A requested token type is issued as asked, or refused (never silently replaced).
AnswerGrader requested_type_issued(const char* type, bool id_token) {
  return [type, id_token](const Probe&, const Answer& a) {
    if (a.status >= 400 && a.status < 500 && a.json() && !a.error().empty())
      return unimplemented("the server does not issue this token type", a.describe());
    if (a.status != 200) return failed("200 or invalid_request (unsupported)", a.describe());
    const std::string issued = json_str(a.body, "issued_token_type");
    if (issued.empty())
      return informational(
          "no issued_token_type, so what was issued cannot be told (graded by "
          "rfc8693/2.2.1/issued-token-type-present)");
    if (issued != type)
      return failed(std::string("issued_token_type ") + type + " (or a refusal)", issued,
                    "a requested type is not at the server's discretion (RFC 8693 §2.1 "
                    "requested_token_type)");
    if (id_token && json_str(a.body, "token_type") != "N_A")
      return failed("token_type N_A for an ID token", json_str(a.body, "token_type"));
    return truthful_type(a, issued);
  };
}

void add_requested_type_cases(std::vector<Case>& out) {
  struct TypeRow {
    const char* id;
    const char* type;
    const char* title;
    bool id_token;
  };
  const TypeRow rows[] = {
      {"rfc8693/2.1/requested-jwt", kTypeJwt, "requested_token_type jwt is honoured or refused",
       false},
      {"rfc8693/2.1/requested-id-token", kTypeId,
       "requested_token_type id_token yields token_type N_A", true},
      {"rfc8693/2.1/requested-refresh-token", kTypeRefresh,
       "requested_token_type refresh_token is honoured or refused", false},
  };
  std::vector<Case> cases;
  for (const auto& r : rows)
    cases.push_back(
        {{r.id, "RFC 8693 §2.1", Level::kMay, r.title,
          "requested_token_type OPTIONAL. An identifier, as described in Section 3, "
          "for the type of the requested security token.",
          true, Binds::kClient},
         sends(adds("requested_token_type", r.type), requested_type_issued(r.type, r.id_token))});
  add_rows(out, cases);
}

}  // namespace

void add_response_cases(std::vector<Case>& out) {
  add_member_cases(out);
  add_header_cases(out);
  add_issued_token_cases(out);
  add_requested_type_cases(out);
}

}  // namespace txlab::conformance
