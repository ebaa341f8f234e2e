// RFC 8693 §2.2.1 response, §3 token types; RFC 6749 §5.1 headers; RFC 9068 token shape.
#include <set>
#include <sstream>

#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/jwks_source.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

std::set<std::string> scope_set(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.insert(t);
  return out;
}

bool is_access_token_answer(const Answer& a) { return json_str(a.body, "issued_token_type") == kTypeAccess; }

}  // namespace

void add_response_cases(std::vector<Case>& out) {
  out.push_back({{"rfc8693/2.2.1/access-token-present", "RFC 8693 §2.2.1", Level::kMust, "access_token is REQUIRED",
                  "access_token REQUIRED. The security token issued by the authorization server in response to the token exchange request."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (!json_str(a.body, "access_token").empty()) return ok();
                     return failed("a non-empty string access_token", a.raw.substr(0, 200));
                   });
                 }});

  out.push_back({{"rfc8693/2.2.1/issued-token-type-present", "RFC 8693 §2.2.1", Level::kMust, "issued_token_type is REQUIRED",
                  "issued_token_type REQUIRED. An identifier, as described in Section 3, for the representation of the issued security token."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     const std::string t = json_str(a.body, "issued_token_type");
                     if (t.rfind("urn:", 0) == 0 || t.find("://") != std::string::npos) return ok(t);
                     return failed("issued_token_type with a token type URI", t.empty() ? "(absent)" : t);
                   });
                 }});

  out.push_back({{"rfc8693/2.2.1/token-type-bearer", "RFC 8693 §2.2.1", Level::kMust,
                  "token_type is REQUIRED; Bearer for a bearer access token",
                  "token_type REQUIRED. A case-insensitive value specifying the method of using the access token issued, as specified in Section 7.1 of [RFC6749]."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     std::string t = json_str(a.body, "token_type");
                     std::string lower = t;
                     for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                     if (lower == "bearer" || (lower == "n_a" && !is_access_token_answer(a))) return ok(t);
                     if (lower == "dpop") return informational("DPoP-bound token (RFC 9449)");
                     return failed("token_type Bearer", t.empty() ? "(absent)" : t);
                   });
                 }});

  out.push_back({{"rfc8693/2.2.1/expires-in", "RFC 8693 §2.2.1", Level::kShould, "expires_in is RECOMMENDED",
                  "expires_in RECOMMENDED. The validity lifetime, in seconds, of the token issued by the authorization server."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (a.body.contains("expires_in") && a.body["expires_in"].is_number_integer()) return ok();
                     return non_strict("expires_in as a number", a.body.contains("expires_in") ? a.body["expires_in"].dump() : "(absent)",
                                       "RECOMMENDED, not required");
                   });
                 }});

  out.push_back({{"rfc8693/2.2.1/scope-when-different", "RFC 8693 §2.2.1", Level::kMust,
                  "scope is returned when the issued scope differs from the request",
                  "scope OPTIONAL if the scope of the issued security token is identical to the scope requested by the client; otherwise, it is REQUIRED."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const http::FormParams& f) {
                     (void)f;  // the valid request carries no scope
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT: its scope cannot be read");
                     const std::string token_scope = json_str(jwt->second, "scope");
                     if (token_scope.empty()) return ok("no scope issued");
                     if (a.body.contains("scope")) return ok();
                     return failed("scope in the response (none was requested, '" + token_scope + "' was issued)", "(absent)");
                   });
                 }});

  out.push_back({{"rfc6749/5.1/cache-control-no-store", "RFC 6749 §5.1", Level::kMust, "Token responses are not cached",
                  "The authorization server MUST include the HTTP \"Cache-Control\" response header field [RFC2616] with a value of \"no-store\" in any response containing tokens."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (a.cache_control.find("no-store") != std::string::npos) return ok(a.cache_control);
                     return failed("Cache-Control: no-store", a.cache_control.empty() ? "(absent)" : a.cache_control);
                   });
                 }});

  out.push_back({{"rfc6749/5.1/pragma-no-cache", "RFC 6749 §5.1", Level::kShould, "Pragma: no-cache for HTTP/1.0 caches",
                  "... as well as the \"Pragma\" response header field [RFC2616] with a value of \"no-cache\"."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (a.pragma.find("no-cache") != std::string::npos) return ok(a.pragma);
                     return non_strict("Pragma: no-cache", a.pragma.empty() ? "(absent)" : a.pragma,
                                       "RFC 6749 requires it; OAuth 2.1 drops it");
                   });
                 }});

  out.push_back({{"rfc6749/5.1/json-content-type", "RFC 6749 §5.1", Level::kMust, "Token responses are application/json",
                  "The parameters are included in the entity-body of the HTTP response using the \"application/json\" media type."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (a.content_type.rfind("application/json", 0) == 0) return ok(a.content_type);
                     return failed("Content-Type: application/json", a.content_type.empty() ? "(absent)" : a.content_type);
                   });
                 }});

  out.push_back({{"rfc6749/5.2/error-response-shape", "RFC 6749 §5.2", Level::kMust,
                  "Error responses are JSON objects with a registered-charset error code",
                  "The authorization server responds with an HTTP 400 (Bad Request) status code ... and includes the following parameters with the response: error REQUIRED ... Values for the \"error\" parameter MUST NOT include characters outside the set %x20-21 / %x23-5B / %x5D-7E."},
                 [](Probe& p) {
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     Answer a = p.post(without(f, "subject_token"));
                     if (!a.json()) return failed("a JSON object body", a.raw.substr(0, 120));
                     if (a.content_type.rfind("application/json", 0) != 0) return failed("Content-Type: application/json", a.content_type);
                     const std::string e = a.error();
                     if (e.empty()) return failed("a string error member", a.raw.substr(0, 120));
                     for (unsigned char c : e)
                       if (!(c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)))
                         return failed("error in %x20-21 / %x23-5B / %x5D-7E", e);
                     return ok(a.describe());
                   });
                 }});

  out.push_back({{"rfc8693/2.1/issued-scope-within-subject", "RFC 8693 §2.1", Level::kMust,
                  "The issued scope never exceeds the subject token's",
                  "scope OPTIONAL. A list of space-delimited, case-sensitive strings ... that allow the client to specify the desired scope of the requested security token in the context of the service or resource where the token will be used. (An exchange cannot grant more than the subject holds.)"},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     const auto subject = scope_set(json_str(p.subject_claims(), "scope"));
                     std::string extra;
                     for (const auto& s : scope_set(json_str(jwt->second, "scope")))
                       if (!subject.count(s)) extra += (extra.empty() ? "" : " ") + s;
                     if (extra.empty()) return ok();
                     return failed("scope ⊆ '" + json_str(p.subject_claims(), "scope") + "'", "also '" + extra + "'");
                   });
                 }});

  out.push_back({{"rfc8693/2.1/requested-scope-honoured", "RFC 8693 §2.1", Level::kMust,
                  "A narrower requested scope yields no more than was requested",
                  "scope OPTIONAL ... the desired scope of the requested security token."},
                 [](Probe& p) {
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     const auto subject = scope_set(json_str(p.subject_claims(), "scope"));
                     if (subject.empty()) return informational("subject token has no scope to narrow");
                     const std::string one = *subject.begin();
                     Answer a = p.post(with(f, "scope", one));
                     if (a.status == 400 && a.error() == "invalid_scope") return informational("server refused the narrower scope by policy");
                     if (a.status != 200) return failed("200", a.describe());
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     for (const auto& s : scope_set(json_str(jwt->second, "scope")))
                       if (s != one) return failed("scope '" + one + "'", json_str(jwt->second, "scope"));
                     return ok();
                   });
                 }});

  out.push_back({{"rfc8693/2.1/audience-honoured", "RFC 8693 §2.1", Level::kMust,
                  "The issued token's aud covers the requested audience and nothing else",
                  "audience OPTIONAL. The logical name of the target service where the client intends to use the requested security token."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (p.target().audience.empty()) return informational("no audience requested");
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     const Json aud = jwt->second.value("aud", Json());
                     if (!jose::audience_contains(aud, p.target().audience))
                       return failed("aud containing '" + p.target().audience + "'", aud.dump());
                     return ok(aud.dump());
                   });
                 }});

  out.push_back({{"rfc9068/2.1/typ-at-jwt", "RFC 9068 §2.1", Level::kMust, "JWT access tokens are typed at+jwt",
                  "Resource servers MUST verify that the \"typ\" header value is \"at+jwt\" or \"application/at+jwt\" and reject tokens carrying any other value."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     const std::string typ = json_str(jwt->first, "typ");
                     std::string lower = typ;
                     for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                     if (lower == "at+jwt" || lower == "application/at+jwt") return ok(typ);
                     if (is_profile(p, Profile::kKeycloak))
                       return non_strict("typ at+jwt", typ.empty() ? "(absent)" : typ, "Keycloak issues typ JWT with a typ claim of Bearer");
                     return failed("typ at+jwt", typ.empty() ? "(absent)" : typ);
                   });
                 }});

  out.push_back({{"rfc9068/2.2/required-claims", "RFC 9068 §2.2", Level::kMust,
                  "JWT access tokens carry iss, exp, aud, sub, client_id, iat and jti",
                  "iss REQUIRED ... exp REQUIRED ... aud REQUIRED ... sub REQUIRED ... client_id REQUIRED ... iat REQUIRED ... jti REQUIRED."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     std::string missing;
                     for (const char* c : {"iss", "exp", "aud", "sub", "client_id", "iat", "jti"})
                       if (!jwt->second.contains(c)) missing += (missing.empty() ? "" : ", ") + std::string(c);
                     if (missing.empty()) return ok();
                     if (is_profile(p, Profile::kKeycloak) && missing == "client_id")
                       return non_strict("client_id", "(absent)", "Keycloak names the client in azp");
                     return failed("all of iss, exp, aud, sub, client_id, iat, jti", "missing " + missing);
                   });
                 }});

  out.push_back({{"rfc9068/4/signature-verifies", "RFC 9068 §4", Level::kMust,
                  "The issued token is signed by an accepted issuer's published key, never alg none",
                  "The resource server MUST validate the signature of all incoming JWT access tokens according to [RFC7515] using the algorithm specified in the JWT \"alg\" Header Parameter. ... reject any JWT in which the value of \"alg\" is \"none\"."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     if (json_str(jwt->first, "alg") == "none") return failed("a signed token", "alg none");
                     if (p.jwks().empty()) return informational("no JWKS available to check the signature");
                     Clock clock;
                     jose::VerifyPolicy policy;
                     policy.typ.reset();
                     policy.require_audience = false;
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
                   });
                 }});

  out.push_back({{"rfc8693/2.2.1/issuer-expected", "RFC 8693 §2.2.1", Level::kMust,
                  "The issued token's iss is the AS (or the AS it brokers to)",
                  "The authorization server issues the token; its iss identifies it (RFC 7519 §4.1.1)."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (p.target().accepted_issuers.empty()) return informational("issuer unknown (no discovery metadata)");
                     auto jwt = a.issued_jwt();
                     if (!jwt) return informational("issued token is not a JWT");
                     const std::string iss = json_str(jwt->second, "iss");
                     for (const auto& i : p.target().accepted_issuers)
                       if (i == iss) return ok(iss);
                     return failed("iss one of the AS's issuers", iss);
                   });
                 }});

  auto type_case = [&](const char* id, const char* type, const char* title, bool id_token) {
    out.push_back({{id, "RFC 8693 §3", Level::kMay, title,
                    "requested_token_type OPTIONAL. An identifier, as described in Section 3, for the type of the requested security token. ... issued_token_type REQUIRED."},
                   [type, id_token](Probe& p) {
                     return with_valid_exchange(p, [&](const http::FormParams& f) {
                       Answer a = p.post(with(f, "requested_token_type", type));
                       if (a.status == 400 && (a.error() == "invalid_request" || a.error() == "invalid_target"))
                         return unimplemented("the server does not issue this token type", a.describe());
                       if (a.status != 200) return failed("200 or invalid_request (unsupported)", a.describe());
                       const std::string issued = json_str(a.body, "issued_token_type");
                       if (issued != type) return failed(std::string("issued_token_type ") + type, issued.empty() ? "(absent)" : issued);
                       if (id_token && json_str(a.body, "token_type") != "N_A")
                         return failed("token_type N_A for an ID token", json_str(a.body, "token_type"));
                       return ok(issued);
                     });
                   }});
  };
  type_case("rfc8693/3/requested-jwt", kTypeJwt, "requested_token_type jwt is honoured or refused", false);
  type_case("rfc8693/3/requested-id-token", kTypeId, "requested_token_type id_token yields token_type N_A", true);
  type_case("rfc8693/3/requested-refresh-token", kTypeRefresh, "requested_token_type refresh_token is honoured or refused", false);
}

}  // namespace txlab::conformance
