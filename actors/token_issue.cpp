// The token endpoint's issue stage, one for every grant: the access token's claims (RFC 9068
// §2.2), its binding (RFC 9449 §6.1 cnf.jkt, RFC 8705 §3.1 cnf.x5t#S256), token_type (RFC 9449
// §5: DPoP for a DPoP-bound token), the requested token type (RFC 8693 §3: access, refresh or
// ID token), the audit record and the response (RFC 6749 §5.1, RFC 8693 §2.2.1).
#include "actors/authorization_server.h"
#include "actors/token_endpoint.h"
#include "sim/json_util.h"

namespace txlab::as_detail {

using Json = nlohmann::json;

Json TokenEndpoint::access_claims(const Issue& in, const std::string& jti, int64_t now_s,
                                  bool bind_dpop) const {
  Json c = {{"iss", issuer()},
            {"aud", audience_claim(in.audience)},
            {"exp", now_s + in.ttl_s},
            {"iat", now_s},
            {"jti", jti},
            {"client_id", in.client->id}};
  if (!in.scope.empty()) c["scope"] = join_scope(in.scope);
  for (const auto& [k, v] : in.claims.items())
    if (k != "iat" && k != "exp" && k != "jti") c[k] = v;
  TokenRequest binding;
  binding.dpop_jkt = in.dpop_jkt;
  binding.cert_x5t = in.cert_x5t;
  if (auto cnf = cnf_claim(binding, bind_dpop); !cnf.is_null()) c["cnf"] = cnf;
  if (in.grant == "token-exchange")
    defects::on_claims(env().defects, c, in.subject.is_object() ? in.subject : Json::object(),
                       in.client->id);
  return c;
}

std::string TokenEndpoint::sign_access_token(const Issue& in, const std::string& jti, int64_t now_s,
                                             bool bind_dpop) {
  return as_.keys_.sign(access_claims(in, jti, now_s, bind_dpop), "at+jwt");
}

std::string TokenEndpoint::issue(Issue in) {
  const int64_t now = env().clock->now_s();
  const std::string jti = in.jti.empty() ? random_jti() : in.jti;
  const bool exchange = in.grant == "token-exchange";
  std::string token;
  std::string token_type = in.dpop_jkt ? "DPoP" : "Bearer";  // RFC 9449 §5
  std::string refresh_token = in.refresh_token;
  if (in.issued_type == kTypeIdToken) {
    // RFC 8693 §3 / §2.2.1: an ID token is not an access token: token_type N_A.
    const Json sub = in.subject.is_object() ? in.subject.value("sub", Json()) : Json();
    const Json c = {{"iss", issuer()},       {"sub", sub}, {"aud", in.client->id},
                    {"exp", now + in.ttl_s}, {"iat", now}, {"jti", jti}};
    token = as_.keys_.sign(c, "JWT");
    token_type = "N_A";
  } else {
    const Json c = access_claims(in, jti, now, true);
    token = as_.keys_.sign(c, exchange ? defects::access_token_typ(env().defects) : "at+jwt");
    if (in.start_refresh_family) {
      refresh_token =
          as_.refresh_.start(in.client->id, c, in.ttl_s, now + spec().exchange->refresh_ttl_s, now);
      if (in.issued_type == kTypeRefreshToken) {
        // RFC 8693 §3: a refresh token was asked for; it is not an access token.
        token = refresh_token;
        refresh_token.clear();
        token_type = "N_A";
      }
    }
  }
  as_.audit_.record({as_.id(), CallScope::current(), in.grant, in.client->id, in.subject_jti, jti,
                     in.audience, now});
  Json body = {{"access_token", token}, {"token_type", token_type}, {"expires_in", in.ttl_s}};
  // RFC 8693 §2.2.1: issued_token_type is REQUIRED; scope when it differs from the request.
  if (in.token_type_in_response) body["issued_token_type"] = in.issued_type;
  if (in.report_scope) body["scope"] = join_scope(in.scope);
  if (!refresh_token.empty()) body["refresh_token"] = refresh_token;
  if (exchange) defects::on_response(env().defects, body);
  return safe_dump(body);
}

}  // namespace txlab::as_detail
