// AuthorizationServer: the token endpoint (RFC 6749 §3.2, §4.4; RFC 8693 §2), its errors
// (RFC 6749 §5.2, RFC 8693 §2.2.2), RFC 9068 access tokens, metadata and audit.
#include "actors/authorization_server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <variant>

#include "actors/errors.h"
#include "actors/token_client.h"
#include "sim/http/form.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/jwks_source.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

struct Failure {
  TokenError error;
  std::string description;
};

std::string random_jti() {
  unsigned char buf[16];
  RAND_bytes(buf, sizeof buf);
  return jose::base64url_encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}

std::vector<std::string> split_scope(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string tok; in >> tok;)
    if (std::find(out.begin(), out.end(), tok) == out.end()) out.push_back(tok);
  return out;
}

std::string join_scope(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool valid_scope_token(const std::string& t) {
  for (unsigned char c : t)
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E))) return false;
  return !t.empty();
}

Json audience_claim(const std::vector<std::string>& aud) {
  return aud.size() == 1 ? Json(aud.front()) : Json(aud);
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

struct AuthorizationServer::Impl {
  std::once_flag trust_once;
  std::vector<std::shared_ptr<RemoteJwks>> sources;
  std::unique_ptr<jose::JwtVerifier> access_verifier;  // subject_token_type access_token: typ at+jwt
  std::unique_ptr<jose::JwtVerifier> jwt_verifier;     // subject_token_type jwt: any typ
};

AuthorizationServer::AuthorizationServer(RoleEnv env, AuthorizationServerSpec spec)
    : Role(std::move(env)),
      spec_(std::move(spec)),
      key_(jose::Key::generate(*jose::alg_from_string(spec_.alg))),
      impl_(std::make_unique<Impl>()) {
  on_post("/token", [this](const auto& req, auto& res) { handle_token(req, res); });
  on_get("/jwks", [this](const auto& req, auto& res) { handle_jwks(req, res); });
  on_get("/.well-known/oauth-authorization-server", [this](const auto& req, auto& res) { handle_metadata(req, res); });
  on_get("/.well-known/openid-configuration", [this](const auto& req, auto& res) { handle_metadata(req, res); });
  on_get("/audit", [this](const auto& req, auto& res) { handle_audit(req, res); });
}

AuthorizationServer::~AuthorizationServer() { stop(); }

std::string AuthorizationServer::issuer() const { return spec_.issuer.empty() ? base_url() : spec_.issuer; }

std::vector<AuditEntry> AuthorizationServer::audit() const {
  std::lock_guard lock(audit_mu_);
  return audit_;
}

std::string AuthorizationServer::sign(const Json& claims, const std::string& typ) const {
  return jose::sign_compact(key_, Json{{"typ", typ}}, safe_dump(claims));
}

void AuthorizationServer::handle_jwks(const httplib::Request&, httplib::Response& res) const {
  Json body = {{"keys", Json::array({key_.public_jwk()})}};
  res.set_header("Cache-Control", "public, max-age=300");
  reply_json(res, 200, safe_dump(body));
}

void AuthorizationServer::handle_metadata(const httplib::Request&, httplib::Response& res) const {
  // RFC 8414 §2 (and the OIDC discovery subset that applies to a token-only AS).
  std::vector<std::string> grants = {"client_credentials"};
  if (spec_.exchange) grants.push_back(kGrantTokenExchange);
  Json body = {
      {"issuer", issuer()},
      {"token_endpoint", base_url() + "/token"},
      {"jwks_uri", base_url() + "/jwks"},
      {"grant_types_supported", grants},
      {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
      {"response_types_supported", Json::array()},
      {"subject_types_supported", {"public"}},
      {"id_token_signing_alg_values_supported", {spec_.alg}},
  };
  reply_json(res, 200, safe_dump(body));
}

void AuthorizationServer::handle_audit(const httplib::Request&, httplib::Response& res) const {
  Json entries = Json::array();
  for (const auto& e : audit()) {
    entries.push_back({{"as", e.as}, {"call", e.call}, {"grant", e.grant}, {"client_id", e.client_id},
                       {"subject_jti", e.subject_jti}, {"issued_jti", e.issued_jti}, {"audience", e.audience},
                       {"at", e.at_s}});
  }
  reply_json(res, 200, safe_dump(Json{{"entries", entries}}));
}

namespace {

void reply_error(httplib::Response& res, const Failure& f, const std::string& realm) {
  const WireError w = to_wire(f.error);
  Json body = {{"error", std::string(w.code)}};
  if (!f.description.empty()) body["error_description"] = f.description;
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  // RFC 6749 §5.2: invalid_client answered with 401 carries WWW-Authenticate.
  if (f.error == TokenError::kInvalidClient) res.set_header("WWW-Authenticate", "Basic realm=\"" + realm + "\"");
  reply_json(res, w.http_status, safe_dump(body));
}

void reply_success(httplib::Response& res, const std::string& body) {
  // RFC 6749 §5.1 / RFC 8693 §2.2.1: no caching of token responses.
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  reply_json(res, 200, body);
}

}  // namespace

void AuthorizationServer::handle_token(const httplib::Request& req, httplib::Response& res) {
  const std::string realm = issuer();
  auto fail = [&](TokenError e, std::string d) { reply_error(res, Failure{e, std::move(d)}, realm); };

  // RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded.
  const std::string ct = req.get_header_value("Content-Type");
  if (ct.rfind("application/x-www-form-urlencoded", 0) != 0)
    return fail(TokenError::kInvalidRequest, "content type must be application/x-www-form-urlencoded");
  auto form = http::parse_form(req.body);
  if (!form) return fail(TokenError::kInvalidRequest, "malformed form body");
  for (const auto& [name, value] : *form)
    if (!http::is_valid_utf8(name) || !http::is_valid_utf8(value))
      return fail(TokenError::kInvalidRequest, "form parameters must be UTF-8");

  // RFC 6749 §3.2: parameters MUST NOT be included more than once; RFC 8693 §2.1 allows
  // repeated audience and resource.
  std::set<std::string> seen;
  for (const auto& [name, value] : *form) {
    if (name == "audience" || name == "resource") continue;
    if (!seen.insert(name).second) return fail(TokenError::kInvalidRequest, "parameter '" + name + "' is repeated");
  }
  auto param = [&](const char* name) -> std::optional<std::string> {
    for (const auto& [k, v] : *form)
      if (k == name) return v;
    return std::nullopt;
  };

  // Client authentication (RFC 6749 §2.3.1): Basic or body, never both.
  std::optional<http::BasicCredentials> creds;
  ClientAuthMethod method = ClientAuthMethod::kClientSecretBasic;
  const std::string authz = req.get_header_value("Authorization");
  const auto body_secret = param("client_secret");
  if (!authz.empty()) {
    creds = http::parse_basic_authorization(authz);
    if (!creds) return fail(TokenError::kInvalidClient, "malformed Basic credentials");
    if (body_secret) return fail(TokenError::kInvalidRequest, "more than one client authentication method used");
  } else if (auto id = param("client_id"); id && body_secret) {
    creds = http::BasicCredentials{*id, *body_secret};
    method = ClientAuthMethod::kClientSecretPost;
  }
  if (!creds) return fail(TokenError::kInvalidClient, "client authentication required");
  const auto reg = std::find_if(spec_.clients.begin(), spec_.clients.end(),
                                [&](const ClientRegistration& c) { return c.id == creds->client_id; });
  if (reg == spec_.clients.end() || !constant_time_equal(reg->secret, creds->client_secret))
    return fail(TokenError::kInvalidClient, "client authentication failed");
  if (reg->auth != method)
    return fail(TokenError::kInvalidClient, "client must authenticate with " + std::string(to_string(reg->auth)));

  const auto grant = param("grant_type");
  if (!grant) return fail(TokenError::kInvalidRequest, "missing grant_type");
  std::string grant_name;
  if (*grant == "client_credentials") grant_name = "client_credentials";
  else if (*grant == kGrantTokenExchange) grant_name = "token-exchange";
  else return fail(TokenError::kUnsupportedGrantType, "grant_type '" + *grant + "' is not supported");
  if (!contains(reg->grants, grant_name))
    return fail(TokenError::kUnauthorizedClient, "client may not use grant " + grant_name);
  if (grant_name == "token-exchange" && !spec_.exchange)
    return fail(TokenError::kUnauthorizedClient, "this authorization server does not perform token exchange");

  // Scope (RFC 6749 §3.3) and audience, shared by both grants.
  std::optional<std::vector<std::string>> requested_scope;
  if (auto s = param("scope")) {
    requested_scope = split_scope(*s);
    for (const auto& t : *requested_scope)
      if (!valid_scope_token(t)) return fail(TokenError::kInvalidScope, "malformed scope token");
  }
  std::vector<std::string> audiences = http::form_values(*form, "audience");
  for (const auto& a : audiences) {
    // RFC 8693 §2.2.2: a target the client may not reach is invalid_target.
    if (!contains(reg->audiences, a)) return fail(TokenError::kInvalidTarget, "audience '" + a + "' is not allowed for this client");
  }
  if (audiences.empty()) audiences = reg->audiences;
  if (audiences.empty()) return fail(TokenError::kInvalidTarget, "no audience requested and none registered for this client");

  const int64_t now = env_.clock->now_s();
  auto record = [&](const std::string& subject_jti, const std::string& issued_jti, const std::vector<std::string>& aud) {
    std::lock_guard lock(audit_mu_);
    audit_.push_back({id(), CallScope::current(), grant_name, reg->id, subject_jti, issued_jti, aud, now});
  };

  if (grant_name == "client_credentials") {
    std::vector<std::string> scope = reg->scopes;
    if (requested_scope) {
      for (const auto& t : *requested_scope)
        if (!contains(reg->scopes, t)) return fail(TokenError::kInvalidScope, "scope '" + t + "' is not allowed for this client");
      scope = *requested_scope;
    }
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (and scope).
    const std::string jti = random_jti();
    Json claims = {{"iss", issuer()}, {"sub", reg->id}, {"aud", audience_claim(audiences)},
                   {"exp", now + spec_.access_token_ttl_s}, {"iat", now}, {"jti", jti}, {"client_id", reg->id}};
    if (!scope.empty()) claims["scope"] = join_scope(scope);
    const std::string token = sign(claims);
    record("", jti, audiences);
    Json body = {{"access_token", token}, {"token_type", "Bearer"}, {"expires_in", spec_.access_token_ttl_s}};
    if (!scope.empty()) body["scope"] = join_scope(scope);
    return reply_success(res, safe_dump(body));
  }

  // ---- RFC 8693 §2.1 token exchange ----
  const ExchangePolicy& policy = *spec_.exchange;
  const auto subject_token = param("subject_token");
  const auto subject_type = param("subject_token_type");
  if (!subject_token || subject_token->empty()) return fail(TokenError::kInvalidRequest, "missing subject_token");
  if (!subject_type || subject_type->empty()) return fail(TokenError::kInvalidRequest, "missing subject_token_type");
  if (*subject_type != kTypeAccessToken && *subject_type != kTypeJwt)
    return fail(TokenError::kInvalidRequest, "unsupported subject_token_type '" + *subject_type + "'");
  // RFC 8693 §2.1: actor_token_type is REQUIRED when actor_token is present, and MUST NOT be
  // included otherwise.
  const auto actor_token = param("actor_token");
  const auto actor_type = param("actor_token_type");
  if (actor_token && !actor_type) return fail(TokenError::kInvalidRequest, "actor_token_type is required with actor_token");
  if (actor_type && !actor_token) return fail(TokenError::kInvalidRequest, "actor_token_type without actor_token");
  if (actor_token) return fail(TokenError::kInvalidRequest, "delegation with actor_token is not enabled on this server");
  std::string issued_type = kTypeAccessToken;
  if (auto rt = param("requested_token_type")) {
    if (*rt == kTypeJwt) issued_type = kTypeJwt;
    else if (*rt != kTypeAccessToken) return fail(TokenError::kInvalidRequest, "unsupported requested_token_type '" + *rt + "'");
  }

  std::call_once(impl_->trust_once, [&] {
    jose::VerifyPolicy access;
    access.leeway_s = env_.leeway_s;
    jose::VerifyPolicy any_jwt = access;
    any_jwt.typ.reset();
    impl_->access_verifier = std::make_unique<jose::JwtVerifier>(access, *env_.clock);
    impl_->jwt_verifier = std::make_unique<jose::JwtVerifier>(any_jwt, *env_.clock);
    for (const auto& role : policy.trust) {
      auto src = std::make_shared<RemoteJwks>(outbound_, role, env_.directory.url_of(role), "/jwks", *env_.clock);
      const std::string iss = env_.directory.issuer_of(role);
      impl_->access_verifier->trust(iss, src);
      impl_->jwt_verifier->trust(iss, src);
      impl_->sources.push_back(src);
    }
  });

  // The subject token must be meant for this exchange: its aud names the requesting client,
  // this AS, or an audience the client's registration lists as its own.
  TokenError subject_error = policy.invalid_subject_error == "invalid_request" ? TokenError::kInvalidRequest
                                                                               : TokenError::kInvalidGrant;
  const auto& verifier = *subject_type == kTypeAccessToken ? *impl_->access_verifier : *impl_->jwt_verifier;
  std::vector<std::string> accepted_aud = {reg->id, issuer()};
  accepted_aud.insert(accepted_aud.end(), reg->subject_audiences.begin(), reg->subject_audiences.end());
  const auto subject = verifier.verify(*subject_token, accepted_aud);
  if (!subject.ok()) {
    std::string d = "subject_token: " + std::string(jose::describe(subject.status));
    if (!subject.detail.empty()) d += " (" + subject.detail + ")";
    return fail(subject_error, d);
  }
  const Json& sc = subject.claims;

  // Scope: issued ⊆ subject ∩ client (RFC 8693 §2.1 scope, RFC 6749 §3.3).
  std::vector<std::string> allowed_scope;
  for (const auto& t : split_scope(json_str(sc, "scope")))
    if (contains(reg->scopes, t)) allowed_scope.push_back(t);
  std::vector<std::string> scope = allowed_scope;
  if (requested_scope) {
    for (const auto& t : *requested_scope)
      if (!contains(allowed_scope, t)) return fail(TokenError::kInvalidScope, "scope '" + t + "' exceeds the subject token or the client's registration");
    scope = *requested_scope;
  }

  // Lifetime: policy cap, and never beyond the subject token unless policy says so.
  int64_t ttl = policy.max_ttl_s;
  if (policy.cap_to_subject_exp) {
    const int64_t subject_exp = json_int(sc, "exp").value_or(now);
    ttl = std::min(ttl, subject_exp - now);
    if (ttl <= 0) return fail(subject_error, "subject_token expires too soon to be exchanged");
  }

  // Claims of the new token, per the AS's act style.
  auto exchanged_claims = [&](const std::vector<std::string>& aud, int64_t lifetime, const std::string& jti) {
    Json c = {{"iss", issuer()}, {"aud", audience_claim(aud)}, {"exp", now + lifetime}, {"iat", now},
              {"jti", jti}, {"client_id", reg->id}};
    if (!scope.empty()) c["scope"] = join_scope(scope);
    if (policy.act_style == ActStyle::kRfc8693) {
      // RFC 8693 §4.1: sub stays the subject; act names the current actor, earlier actors nest.
      c["sub"] = sc.value("sub", Json());
      Json act = {{"sub", reg->id}};
      if (sc.contains("act")) act["act"] = sc["act"];
      c["act"] = act;
      // RFC 9493: keep the original caller's issuer.
      c["sub_id"] = sc.contains("sub_id") ? sc["sub_id"]
                                          : Json{{"format", "iss_sub"}, {"iss", sc.value("iss", Json())}, {"sub", sc.value("sub", Json())}};
    } else {
      // The notes' inverted convention: sub = the exchanging client, act = the caller.
      c["sub"] = reg->id;
      Json act = {{"sub", sc.value("sub", Json())}, {"iss", sc.value("iss", Json())}};
      if (sc.contains("act")) act["act"] = sc["act"];
      c["act"] = act;
    }
    return c;
  };
  const std::string subject_jti = json_str(sc, "jti");

  // Brokered exchange: issue the intermediate token for the next AS and exchange it there on
  // the back channel (the broker topology's AT2 -> AT3).
  if (policy.broker) {
    const auto& rule = *policy.broker;
    const size_t brokered = std::count_if(audiences.begin(), audiences.end(), [&](const auto& a) { return contains(rule.audiences, a); });
    if (brokered > 0 && brokered != audiences.size())
      return fail(TokenError::kInvalidTarget, "cannot mix audiences served by '" + rule.via.as_role + "' with local ones");
    if (brokered > 0) {
      const std::vector<std::string> next_aud = {env_.directory.issuer_of(rule.via.as_role)};
      const std::string jti = random_jti();
      const std::string intermediate = sign(exchanged_claims(next_aud, ttl, jti));
      record(subject_jti, jti, next_aud);
      http::FormParams p = {{"grant_type", kGrantTokenExchange},
                            {"subject_token", intermediate},
                            {"subject_token_type", kTypeAccessToken},
                            {"requested_token_type", issued_type}};
      for (const auto& a : audiences) p.emplace_back("audience", a);
      if (!scope.empty()) p.emplace_back("scope", join_scope(scope));
      auto next = request_token(outbound_, env_.directory, rule.via, std::move(p),
                                "POST /token token-exchange (back channel)", intermediate);
      if (next.ok()) return reply_success(res, next.body);
      if (next.status == 0)
        return fail(TokenError::kTemporarilyUnavailable, "back-channel AS '" + rule.via.as_role + "' unreachable");
      TokenError relayed;
      if (token_error_from_code(next.error, &relayed) && relayed != TokenError::kInvalidClient &&
          relayed != TokenError::kUnauthorizedClient && relayed != TokenError::kServerError)
        return fail(relayed, "back-channel exchange at '" + rule.via.as_role + "': " + next.error_description);
      return fail(TokenError::kServerError, "back-channel exchange at '" + rule.via.as_role + "' failed: " +
                                               (next.error.empty() ? "HTTP " + std::to_string(next.status) : next.error));
    }
  }

  const std::string jti = random_jti();
  const std::string token = sign(exchanged_claims(audiences, ttl, jti));
  record(subject_jti, jti, audiences);
  // RFC 8693 §2.2.1: issued_token_type is REQUIRED; scope when it differs from the request.
  Json body = {{"access_token", token}, {"issued_token_type", issued_type}, {"token_type", "Bearer"}, {"expires_in", ttl}};
  if (!scope.empty() && (!requested_scope || *requested_scope != scope)) body["scope"] = join_scope(scope);
  return reply_success(res, safe_dump(body));
}

}  // namespace txlab
