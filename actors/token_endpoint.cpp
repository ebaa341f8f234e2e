// The token endpoint's pipeline (token_endpoint.h): the order of the stages, reading the form
// (RFC 6749 §3.2), choosing the grant, the client_credentials grant (RFC 6749 §4.4), revocation
// (RFC 7009) and introspection (RFC 7662), and the one place a refusal becomes a wire answer.
#include "actors/token_endpoint.h"

#include <set>
#include <shared_mutex>

#include "actors/as_defects.h"
#include "actors/authorization_server.h"
#include "actors/exchange_rules.h"
#include "sim/json_util.h"

namespace txlab::as_detail {

using Json = nlohmann::json;
using oauth::Refusal;
using oauth::Status;

namespace {

template <typename T>
const Refusal* refused(const oauth::Result<T>& r) {
  return std::get_if<Refusal>(&r);
}

// Verifies a token issued by this AS (any typ, any audience), for revocation and introspection.
jose::VerifiedJwt verify_own(const std::vector<jose::Key>& keys, const std::string& issuer,
                             const Clock& clock, int64_t leeway_s, const std::string& token) {
  jose::VerifyPolicy policy;
  policy.typ.reset();
  policy.require_audience = false;
  policy.leeway_s = leeway_s;
  jose::JwtVerifier v(policy, clock);
  v.trust(issuer, std::make_shared<jose::StaticKeySource>(keys));
  return v.verify(token);
}

}  // namespace

// One row per grant: the form's grant_type, the name registrations and the audit use, the
// grant's function, and whether this AS's policy offers it (unsupported_grant_type otherwise).
struct TokenEndpoint::Grant {
  std::string_view grant_type;
  std::string_view name;
  oauth::Result<Granted> (TokenEndpoint::*run)(const ClientRegistration&, const TokenRequest&);
  bool (*offered)(const AuthorizationServerSpec&);
};

TokenEndpoint::TokenEndpoint(AuthorizationServer& as)
    : as_(as), exchange_(std::make_unique<Exchange>()) {
  const auto& x = as.spec_.exchange;
  if (x && x->broker && x->broker->cache) {
    ExchangeCacheOptions o;
    o.margin_s = x->broker->cache_margin_s;
    o.max_entries = x->broker->cache_max_entries;
    exchange_->broker_cache = std::make_unique<ExchangeCache>(o);
  }
}

TokenEndpoint::~TokenEndpoint() = default;

const RoleEnv& TokenEndpoint::env() const { return as_.env_; }
const AuthorizationServerSpec& TokenEndpoint::spec() const { return as_.spec_; }
std::string TokenEndpoint::issuer() const { return as_.issuer(); }

void TokenEndpoint::handle_token(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(as_.policy_mu_);
  auto form = read_form(req);
  if (const Refusal* r = refused(form)) return reply_error(res, *r, true);
  TokenRequest tr = std::get<TokenRequest>(std::move(form));
  auto authenticated = authenticate(req, tr);
  if (const Refusal* r = refused(authenticated))
    return reply_error(res, *r, !req.header("Authorization").empty());
  const ClientRegistration& client = *std::get<const ClientRegistration*>(authenticated);
  auto grant = choose_grant(client, tr);
  if (const Refusal* r = refused(grant)) return reply_error(res, *r, true);
  if (auto r = bind(req, client, tr, res)) return reply_error(res, *r, true);
  auto granted = (this->*std::get<const Grant*>(grant)->run)(client, tr);
  if (const Refusal* r = refused(granted)) return reply_error(res, *r, true);
  auto& outcome = std::get<Granted>(granted);
  const std::string body = std::holds_alternative<Issue>(outcome)
                               ? issue(std::get<Issue>(std::move(outcome)))
                               : std::get<Relayed>(outcome).body;
  // RFC 9449 §8.2: the nonce to use next, on every answer to a DPoP request.
  if (spec().dpop.nonce && tr.dpop_jkt)
    res.set_header("DPoP-Nonce", dpop_nonce(env().clock->now_s()));
  reply(res, 200, body);
}

oauth::Result<TokenRequest> TokenEndpoint::read_form(const http::Request& req) const {
  const auto& d = env().defects;
  // RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded (RFC 9110
  // §8.3.1: type and subtype case-insensitive, parameters such as charset allowed).
  const std::string ct = req.header("Content-Type");
  std::string media = ct.substr(0, ct.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  const bool form_type = defects::content_type_exact(d)
                             ? ct == "application/x-www-form-urlencoded"
                             : http::iequals(media, "application/x-www-form-urlencoded");
  if (!form_type) return Refusal{Status::kWrongContentType, ""};
  auto form = http::parse_form(req.body);
  if (!form && defects::malformed_body_500(d))
    throw std::runtime_error("form parser failed");  // the deliberate defect: a 500
  if (!form) return Refusal{Status::kMalformedBody, ""};
  if (defects::form_names_not_decoded(d)) defects::undecode_names(req.body, *form);
  // RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted".
  if (!defects::keeps_empty_parameters(d))
    std::erase_if(*form, [](const auto& kv) { return kv.second.empty(); });
  TokenRequest tr;
  tr.form = std::move(*form);
  if (defects::rejects_unknown_parameters(d))
    if (auto unknown = defects::unknown_parameter(tr.form))
      return Refusal{Status::kUnknownParameter, *unknown};
  for (const auto& [name, value] : tr.form)
    if (!http::is_valid_utf8(name) || !http::is_valid_utf8(value)) {
      if (defects::malformed_body_500(d)) throw std::runtime_error("not UTF-8");
      return Refusal{Status::kNotUtf8, ""};
    }
  // RFC 6749 §3.2: parameters MUST NOT be included more than once; RFC 8693 §2.1 allows
  // repeated audience and resource.
  if (!defects::accepts_duplicate_parameters(d)) {
    std::set<std::string> seen;
    for (const auto& [name, value] : tr.form) {
      if (name == "audience" || name == "resource") continue;
      if (!seen.insert(name).second) return Refusal{Status::kRepeatedParameter, name};
    }
  }
  return tr;
}

const std::vector<TokenEndpoint::Grant>& TokenEndpoint::grants() {
  static const std::vector<Grant> table = {
      {"client_credentials", "client_credentials", &TokenEndpoint::client_credentials,
       [](const AuthorizationServerSpec&) { return true; }},  // RFC 6749 §4.4
      {kGrantTokenExchange, "token-exchange", &TokenEndpoint::token_exchange,
       [](const AuthorizationServerSpec&) { return true; }},  // RFC 8693 §2.1
      {"refresh_token", "refresh_token", &TokenEndpoint::refresh,
       [](const AuthorizationServerSpec& s) {  // RFC 6749 §6
         return s.exchange && s.exchange->refresh_tokens;
       }},
  };
  return table;
}

oauth::Result<const TokenEndpoint::Grant*> TokenEndpoint::choose_grant(
    const ClientRegistration& client, const TokenRequest& tr) const {
  const auto grant_type = tr.param("grant_type");
  if (!grant_type) return Refusal{Status::kMissingGrantType, ""};
  const Grant* grant = nullptr;
  for (const auto& g : grants())
    if (g.grant_type == *grant_type && g.offered(spec())) grant = &g;
  if (!grant) return Refusal{Status::kUnsupportedGrantType, *grant_type};
  const std::string name(grant->name);
  if (!contains(client.grants, name) && !defects::grant_check_skipped(env().defects, name))
    return Refusal{Status::kGrantNotAllowed, name};
  if (grant->run == &TokenEndpoint::token_exchange && !spec().exchange)
    return Refusal{Status::kNoTokenExchange, ""};
  return grant;
}

oauth::Result<Granted> TokenEndpoint::client_credentials(const ClientRegistration& client,
                                                         const TokenRequest& tr) {
  std::vector<std::string> scope = client.scopes;
  if (auto s = tr.param("scope")) {
    auto requested = split_scope(*s);
    for (const auto& t : requested) {
      if (!valid_scope_token(t)) return Refusal{Status::kMalformedScope, ""};
      if (!contains(client.scopes, t)) return Refusal{Status::kScopeNotAllowed, t};
    }
    scope = requested;
  }
  // The targets rule of every grant (RFC 8707 §2 resources, RFC 8693 §2.1 audiences).
  exchange::Request targets_of;
  targets_of.resources = tr.values("resource");
  targets_of.audiences = tr.values("audience");
  auto targets = exchange::targets(targets_of, client);
  if (const Refusal* r = refused(targets)) return *r;
  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (and scope).
  Issue in;
  in.grant = "client_credentials";
  in.client = &client;
  in.claims = {{"sub", client.id}};
  in.audience = std::get<std::vector<std::string>>(std::move(targets));
  in.scope = scope;
  in.report_scope = !scope.empty();
  in.ttl_s = spec().access_token_ttl_s;
  in.dpop_jkt = tr.dpop_jkt;
  in.cert_x5t = tr.cert_x5t;
  return Granted{std::move(in)};
}

oauth::Result<Granted> TokenEndpoint::refresh(const ClientRegistration& client,
                                              const TokenRequest& tr) {
  // RFC 6749 §6 with rotation: every use returns a new refresh token; presenting a rotated one
  // again is treated as theft and revokes the whole family (OAuth 2.0 Security BCP §4.14).
  const auto presented = tr.param("refresh_token");
  if (!presented) return Refusal{Status::kMissingRefreshToken, ""};
  std::optional<std::vector<std::string>> scope;
  if (auto s = tr.param("scope")) scope = split_scope(*s);
  Issue in;
  in.jti = random_jti();
  std::vector<std::string> revoke;
  auto redeemed =
      as_.refresh_.redeem(*presented, client.id, scope, in.jti, env().clock->now_s(), &revoke);
  if (const Refusal* r = refused(redeemed)) {
    if (r->status == Status::kRefreshTokenReused) {
      for (const auto& jti : revoke) as_.revocations_.revoke(jti);
      as_.audit_.record({as_.id(),
                         CallScope::current(),
                         "refresh_token",
                         client.id,
                         "(reused refresh token)",
                         "(family revoked)",
                         {},
                         env().clock->now_s()});
    }
    return *r;
  }
  auto& r = std::get<RefreshStore::Redeemed>(redeemed);
  in.grant = "refresh_token";
  in.client = &client;
  in.claims = std::move(r.claims);
  // RFC 9449 §5: the new access token is bound to the key of this request's proof (and RFC
  // 8705 §3 to this connection's certificate), not to whatever the first one was bound to.
  in.claims.erase("cnf");
  in.dpop_jkt = tr.dpop_jkt;
  in.cert_x5t = tr.cert_x5t;
  if (in.claims.contains("aud")) {
    const Json& aud = in.claims["aud"];
    if (aud.is_string())
      in.audience.push_back(aud);
    else
      for (const auto& a : aud) in.audience.push_back(a);
  }
  in.scope = split_scope(json_str(in.claims, "scope"));
  in.report_scope = !in.scope.empty();
  in.ttl_s = r.access_ttl_s;
  in.token_type_in_response = true;
  in.refresh_token = r.refresh_token;
  return Granted{std::move(in)};
}

oauth::Result<TokenEndpoint::Presented> TokenEndpoint::presented_token(const http::Request& req) {
  auto form = read_form(req);
  if (const Refusal* r = refused(form)) return *r;
  const TokenRequest& tr = std::get<TokenRequest>(form);
  auto client = authenticate(req, tr);
  if (const Refusal* r = refused(client)) return *r;
  const auto token = tr.param("token");
  if (!token) return Refusal{Status::kMissingToken, ""};
  return Presented{std::get<const ClientRegistration*>(client), *token};
}

void TokenEndpoint::handle_revoke(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(as_.policy_mu_);
  // RFC 7009 §2.1: client-authenticated; the token is revoked only if it was issued to that
  // client; unknown or invalid tokens still get 200 (§2.2).
  auto presented = presented_token(req);
  if (const Refusal* r = refused(presented)) return reply_error(res, *r, true);
  const auto& [client, token] = std::get<Presented>(presented);
  auto v = verify_own(as_.keys_.keys(), issuer(), *env().clock, env().leeway_s, token);
  if (v.ok() && json_str(v.claims, "client_id") == client->id)
    as_.revocations_.revoke(json_str(v.claims, "jti"));
  reply(res, 200, "{}");
}

void TokenEndpoint::handle_introspect(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(as_.policy_mu_);
  // RFC 7662 §2.1: a protected endpoint; §2.2: {"active": false} for anything not active.
  auto presented = presented_token(req);
  if (const Refusal* r = refused(presented)) return reply_error(res, *r, true);
  auto v =
      verify_own(as_.keys_.keys(), issuer(), *env().clock, 0, std::get<Presented>(presented).token);
  if (!v.ok() || as_.revocations_.is_revoked(json_str(v.claims, "jti")))
    return reply(res, 200, R"({"active":false})");
  // RFC 9449 §6.2: a bound token introspects as DPoP with its cnf.
  const bool dpop_bound =
      v.claims.contains("cnf") && v.claims["cnf"].is_object() && v.claims["cnf"].contains("jkt");
  Json body = {{"active", true}, {"token_type", dpop_bound ? "DPoP" : "Bearer"}};
  for (const char* k : {"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
                        "act", "sub_id", "cnf"})
    if (v.claims.contains(k)) body[k] = v.claims[k];
  reply(res, 200, safe_dump(body));
}

void TokenEndpoint::reply(http::Response& res, int status, const std::string& body) const {
  defects::ReplyHeaders h;
  defects::on_reply(env().defects, h);
  if (h.cache_headers) {
    // RFC 6749 §5.1 / RFC 8693 §2.2.1: no caching of token responses.
    res.set_header("Cache-Control", h.cache_control);
    res.set_header("Pragma", "no-cache");
  }
  res.status = status;
  res.set_content(body, h.content_type);
}

TokenError TokenEndpoint::bad_token_error() const {
  // Bad subject and actor tokens: invalid_grant (common practice) or RFC 8693 §2.2.2's
  // invalid_request, as the policy says.
  TokenError bad = spec().exchange && spec().exchange->invalid_subject_error == "invalid_request"
                       ? TokenError::kInvalidRequest
                       : TokenError::kInvalidGrant;
  defects::on_bad_token_error(env().defects, bad);
  return bad;
}

void TokenEndpoint::reply_error(http::Response& res, const Refusal& r, bool basic_attempted) const {
  oauth::WireRefusal w = oauth::to_wire(r, bad_token_error());
  defects::on_refusal(env().defects, r.status, w.error);
  const WireError wire = to_wire(w.error);
  int status = wire.http_status;
  if (w.error == TokenError::kInvalidClient) {
    // RFC 6749 §5.2: invalid_client answered with 401 carries WWW-Authenticate.
    bool challenge = true;
    defects::on_client_error(env().defects, r.status == Status::kUnknownClient, basic_attempted,
                             status, challenge);
    if (challenge) res.set_header("WWW-Authenticate", "Basic realm=\"" + issuer() + "\"");
  }
  Json body = {{"error", std::string(wire.code)}};
  if (!w.description.empty())
    body["error_description"] = defects::description(env().defects, w.description);
  reply(res, status, safe_dump(body));
}

}  // namespace txlab::as_detail
