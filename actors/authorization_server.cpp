// AuthorizationServer: routes, the token endpoint's common part (RFC 6749 §3.2), the
// client_credentials grant (RFC 6749 §4.4) with RFC 9068 tokens, metadata, JWKS and audit.
#include "actors/authorization_server.h"

#include <openssl/rand.h>

#include <algorithm>
#include <sstream>

#include "actors/as_defects.h"
#include "actors/as_internal.h"
#include "actors/token_client.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;
using as_detail::Failure;
using as_detail::TokenRequest;

namespace as_detail {

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

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool valid_scope_token(const std::string& t) {
  for (unsigned char c : t)
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E))) return false;
  return !t.empty();
}

Json audience_claim(const std::vector<std::string>& aud) {
  return aud.size() == 1 ? Json(aud.front()) : Json(aud);
}

bool is_absolute_uri(const std::string& s) {
  // RFC 3986 §4.3: scheme ":" hier-part, no fragment (RFC 8707 §2).
  const size_t colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || s.find('#') != std::string::npos) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return colon + 1 < s.size();
}

int act_depth(const Json& act) {
  int d = 0;
  const Json* cur = &act;
  while (cur->is_object() && d < 1000) {
    ++d;
    auto it = cur->find("act");
    if (it == cur->end()) break;
    cur = &*it;
  }
  return d;
}

bool JtiCache::remember(const std::string& client, const std::string& jti, int64_t exp_s,
                        int64_t now_s) {
  std::lock_guard lock(mu_);
  Client& c = clients_[client];
  // Expired entries leave first, soonest first.
  while (!c.by_until.empty() && c.by_until.begin()->first < now_s) {
    c.seen.erase(c.by_until.begin()->second);
    c.by_until.erase(c.by_until.begin());
  }
  if (c.seen.count(jti)) return false;
  if (c.seen.size() >= kMaxPerClient) {
    c.seen.erase(c.by_until.begin()->second);
    c.by_until.erase(c.by_until.begin());
  }
  const int64_t until = std::min(exp_s, now_s + kMaxLifetimeS);
  c.seen.emplace(jti, until);
  c.by_until.emplace(until, jti);
  return true;
}

size_t JtiCache::size(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.seen.size();
}

}  // namespace as_detail

using namespace as_detail;

AuthorizationServer::AuthorizationServer(RoleEnv env, AuthorizationServerSpec spec)
    : Role(std::move(env)),
      spec_(std::move(spec)),
      keys_({spec_.signing_key ? *spec_.signing_key
                               : jose::Key::generate(*jose::alg_from_string(spec_.alg))}),
      impl_(std::make_unique<Impl>()) {
  on_post("/token", [this](const auto& req, auto& res) { handle_token(req, res); });
  // Keys and metadata are served from memory: no worker hand-off.
  on_get_quick("/jwks", [this](const auto& req, auto& res) { handle_jwks(req, res); });
  on_get_quick("/.well-known/oauth-authorization-server",
               [this](const auto& req, auto& res) { handle_metadata(req, res); });
  on_get_quick("/.well-known/openid-configuration",
               [this](const auto& req, auto& res) { handle_metadata(req, res); });
  on_get("/audit", [this](const auto& req, auto& res) { handle_audit(req, res); });
  on_post("/revoke", [this](const auto& req, auto& res) { handle_revoke(req, res); });
  on_post("/introspect", [this](const auto& req, auto& res) { handle_introspect(req, res); });
  on_post("/admin/clients/{}/rotate-secret",
          [this](const auto& req, auto& res) { handle_rotate_secret(req, res); });
  on_post("/admin/rotate-key",
          [this](const auto& req, auto& res) { handle_key_admin(req, res, true); });
  on_post("/admin/retire-old-keys",
          [this](const auto& req, auto& res) { handle_key_admin(req, res, false); });
  admin_key_ = random_jti();
  for (const auto& c : spec_.clients) secrets_[c.id] = c.secret;
  if (spec_.exchange && spec_.exchange->broker && spec_.exchange->broker->cache) {
    ExchangeCacheOptions o;
    o.margin_s = spec_.exchange->broker->cache_margin_s;
    o.max_entries = spec_.exchange->broker->cache_max_entries;
    impl_->broker_cache = std::make_unique<ExchangeCache>(o);
  }
}

std::string AuthorizationServer::current_secret(const std::string& client_id) const {
  std::lock_guard lock(secrets_mu_);
  auto it = secrets_.find(client_id);
  return it == secrets_.end() ? std::string() : it->second;
}

std::optional<std::string> AuthorizationServer::rotate_secret(const std::string& client_id) {
  std::lock_guard lock(secrets_mu_);
  auto it = secrets_.find(client_id);
  if (it == secrets_.end()) return std::nullopt;
  it->second = "rotated-" + random_jti();
  return it->second;
}

bool AuthorizationServer::set_client_enabled(const std::string& client_id, bool enabled) {
  std::lock_guard lock(secrets_mu_);
  if (!secrets_.count(client_id)) return false;
  if (enabled)
    disabled_.erase(client_id);
  else
    disabled_.insert(client_id);
  return true;
}

bool AuthorizationServer::client_enabled(const std::string& client_id) const {
  std::lock_guard lock(secrets_mu_);
  return !disabled_.count(client_id);
}

size_t AuthorizationServer::revoke_issued(const std::string& client_id) {
  std::vector<std::string> jtis;
  {
    std::lock_guard lock(audit_mu_);
    for (const auto& e : audit_)
      if (client_id.empty() || e.client_id == client_id) jtis.push_back(e.issued_jti);
  }
  std::lock_guard lock(revoked_mu_);
  size_t n = 0;
  for (auto& j : jtis) n += revoked_.insert(std::move(j)).second ? 1 : 0;
  return n;
}

void AuthorizationServer::change_policy(
    const std::function<void(AuthorizationServerSpec&)>& change) {
  std::unique_lock lock(policy_mu_);
  change(spec_);
}

bool AuthorizationServer::is_revoked(const std::string& jti) const {
  std::lock_guard lock(revoked_mu_);
  return revoked_.count(jti) > 0;
}

AuthorizationServer::~AuthorizationServer() { stop(); }

std::string AuthorizationServer::dpop_nonce(int64_t now_s) {
  std::lock_guard lock(impl_->nonce_mu);
  if (impl_->nonce.empty() || now_s - impl_->nonce_since_s >= 300 || now_s < impl_->nonce_since_s) {
    impl_->nonce = random_jti();  // a fresh unpredictable value every five minutes
    impl_->nonce_since_s = now_s;
  }
  return impl_->nonce;
}

std::string AuthorizationServer::issuer() const {
  return spec_.issuer.empty() ? base_url() : spec_.issuer;
}

std::vector<AuditEntry> AuthorizationServer::audit() const {
  std::lock_guard lock(audit_mu_);
  return {audit_.begin(), audit_.end()};
}

size_t AuthorizationServer::issued_count(const std::string& grant) const {
  std::lock_guard lock(audit_mu_);
  auto it = issued_by_grant_.find(grant);
  return it == issued_by_grant_.end() ? 0 : it->second;
}

size_t AuthorizationServer::audit_dropped() const {
  std::lock_guard lock(audit_mu_);
  return audit_dropped_;
}

void AuthorizationServer::record(const std::string& grant, const std::string& client_id,
                                 const std::string& subject_jti, const std::string& issued_jti,
                                 const std::vector<std::string>& audience) {
  std::lock_guard lock(audit_mu_);
  audit_.push_back({id(), CallScope::current(), grant, client_id, subject_jti, issued_jti, audience,
                    env_.clock->now_s()});
  ++issued_by_grant_[grant];
  // Bounded, so memory stays flat under load; drops are counted and reported.
  while (audit_.size() > spec_.audit_max_entries) {
    audit_.pop_front();
    ++audit_dropped_;
  }
}

jose::Key AuthorizationServer::signing_key() const {
  std::lock_guard lock(keys_mu_);
  return keys_.front();
}

std::vector<jose::Key> AuthorizationServer::keys() const {
  std::lock_guard lock(keys_mu_);
  return keys_;
}

void AuthorizationServer::rotate_key() {
  jose::Key next = jose::Key::generate(*jose::alg_from_string(spec_.alg));
  std::lock_guard lock(keys_mu_);
  keys_.insert(keys_.begin(), std::move(next));
}

void AuthorizationServer::retire_old_keys() {
  std::lock_guard lock(keys_mu_);
  keys_.erase(keys_.begin() + 1, keys_.end());
}

std::string AuthorizationServer::sign(const Json& claims, const std::string& typ) const {
  return jose::sign_compact(signing_key(), typ.empty() ? Json::object() : Json{{"typ", typ}},
                            safe_dump(claims));
}

void AuthorizationServer::handle_jwks(const http::Request& req, http::Response& res) const {
  Json list = Json::array();
  for (const auto& extra : defects::extra_jwks_keys(env_.defects)) list.push_back(extra);
  std::string etag = "\"";
  for (const auto& k : keys()) {
    list.push_back(k.public_jwk());
    etag += k.kid().substr(0, 8);
  }
  etag += "\"";
  // RFC 9111: max-age lets verifiers cache; the ETag lets them revalidate cheaply (304).
  res.set_header("Cache-Control", spec_.jwks_max_age_s > 0
                                      ? "public, max-age=" + std::to_string(spec_.jwks_max_age_s)
                                      : "no-cache");
  res.set_header("ETag", etag);
  if (req.header("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  reply_json(res, 200, safe_dump(Json{{"keys", list}}));
}

void AuthorizationServer::handle_key_admin(const http::Request& req, http::Response& res,
                                           bool rotate) {
  if (req.header("X-Txlab-Admin") != admin_key_)
    return reply_json(res, 403,
                      R"({"error":"forbidden","error_description":"X-Txlab-Admin required"})");
  if (rotate)
    rotate_key();
  else
    retire_old_keys();
  Json kids = Json::array();
  for (const auto& k : keys()) kids.push_back(k.kid());
  reply_json(res, 200, safe_dump(Json{{"kids", kids}}));
}

void AuthorizationServer::handle_metadata(const http::Request&, http::Response& res) const {
  // RFC 8414 §2 (and the OIDC discovery subset that applies to a token-only AS).
  std::vector<std::string> grants = {"client_credentials"};
  if (spec_.exchange) grants.push_back(kGrantTokenExchange);
  std::vector<std::string> auth_methods = {"client_secret_basic", "client_secret_post",
                                           "private_key_jwt"};
  if (env_.mtls) {  // RFC 8705 §2.1.1, §2.2.1
    auth_methods.push_back("tls_client_auth");
    auth_methods.push_back("self_signed_tls_client_auth");
  }
  Json body = {
      {"issuer", issuer()},
      {"token_endpoint", token_endpoint()},
      {"jwks_uri", base_url() + "/jwks"},
      {"grant_types_supported", grants},
      {"token_endpoint_auth_methods_supported", auth_methods},
      {"token_endpoint_auth_signing_alg_values_supported", {"ES256", "RS256", "PS256", "EdDSA"}},
      {"response_types_supported", Json::array()},
      {"subject_types_supported", {"public"}},
      {"id_token_signing_alg_values_supported", {spec_.alg}},
      {"dpop_signing_alg_values_supported", {"ES256", "RS256", "PS256", "EdDSA"}},  // RFC 9449 §5.1
  };
  if (env_.mtls) body["tls_client_certificate_bound_access_tokens"] = true;  // RFC 8705 §3.3
  reply_json(res, 200, safe_dump(body));
}

void AuthorizationServer::handle_audit(const http::Request&, http::Response& res) const {
  Json entries = Json::array();
  for (const auto& e : audit()) {
    entries.push_back({{"as", e.as},
                       {"call", e.call},
                       {"grant", e.grant},
                       {"client_id", e.client_id},
                       {"subject_jti", e.subject_jti},
                       {"issued_jti", e.issued_jti},
                       {"audience", e.audience},
                       {"at", e.at_s}});
  }
  reply_json(res, 200, safe_dump(Json{{"entries", entries}}));
}

void AuthorizationServer::reply(http::Response& res, int status, const std::string& body) const {
  defects::ReplyHeaders h;
  defects::on_reply(env_.defects, h);
  if (h.cache_headers) {
    // RFC 6749 §5.1 / RFC 8693 §2.2.1: no caching of token responses.
    res.set_header("Cache-Control", h.cache_control);
    res.set_header("Pragma", "no-cache");
  }
  res.status = status;
  res.set_content(body, h.content_type);
}

void AuthorizationServer::reply_error(http::Response& res, const Failure& f) const {
  WireError w = to_wire(f.error);
  int status = w.http_status;
  if (f.error == TokenError::kInvalidClient) {
    // RFC 6749 §5.2: invalid_client answered with 401 carries WWW-Authenticate.
    bool challenge = true;
    defects::on_client_error(env_.defects, f.unknown_client, f.basic_attempted, status, challenge);
    if (challenge) res.set_header("WWW-Authenticate", "Basic realm=\"" + issuer() + "\"");
  }
  Json body = {{"error", std::string(w.code)}};
  if (!f.description.empty())
    body["error_description"] = defects::description(env_.defects, f.description);
  reply(res, status, safe_dump(body));
}

bool AuthorizationServer::read_form(const http::Request& req, TokenRequest* tr,
                                    Failure* failure) const {
  auto fail = [&](std::string d) {
    *failure = {TokenError::kInvalidRequest, std::move(d)};
    return false;
  };
  // RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded (RFC 9110
  // §8.3.1: type and subtype case-insensitive, parameters such as charset allowed).
  const std::string ct = req.header("Content-Type");
  std::string media = ct.substr(0, ct.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.pop_back();
  const bool form_type = defects::content_type_exact(env_.defects)
                             ? ct == "application/x-www-form-urlencoded"
                             : http::iequals(media, "application/x-www-form-urlencoded");
  if (!form_type) return fail("content type must be application/x-www-form-urlencoded");
  auto form = http::parse_form(req.body);
  if (!form && defects::malformed_body_500(env_.defects))
    throw std::runtime_error("form parser failed");  // the deliberate defect: a 500
  if (!form) return fail("malformed form body");
  if (defects::form_names_not_decoded(env_.defects)) {
    // The deliberate defect: names taken as sent (a decoder that forgot them).
    size_t start = 0;
    for (auto& [name, value] : *form) {
      const size_t amp = req.body.find('&', start);
      const std::string pair = req.body.substr(start, amp == std::string::npos ? amp : amp - start);
      name = pair.substr(0, pair.find('='));
      start = amp == std::string::npos ? req.body.size() : amp + 1;
    }
  }
  // RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted".
  if (!defects::keeps_empty_parameters(env_.defects))
    std::erase_if(*form, [](const auto& kv) { return kv.second.empty(); });
  tr->form = std::move(*form);
  if (defects::rejects_unknown_parameters(env_.defects))
    for (const auto& [name, value] : tr->form)
      if (!std::set<std::string>{"grant_type", "subject_token", "subject_token_type", "actor_token",
                                 "actor_token_type", "requested_token_type", "audience", "resource",
                                 "scope", "client_id", "client_secret", "client_assertion",
                                 "client_assertion_type", "refresh_token", "dpop_jkt",
                                 "tls_x5t_s256"}
               .count(name))
        return fail("unknown parameter '" + name + "'");
  for (const auto& [name, value] : tr->form)
    if (!http::is_valid_utf8(name) || !http::is_valid_utf8(value)) {
      if (defects::malformed_body_500(env_.defects)) throw std::runtime_error("not UTF-8");
      return fail("form parameters must be UTF-8");
    }
  // RFC 6749 §3.2: parameters MUST NOT be included more than once; RFC 8693 §2.1 allows
  // repeated audience and resource.
  if (!defects::accepts_duplicate_parameters(env_.defects)) {
    std::set<std::string> seen;
    for (const auto& [name, value] : tr->form) {
      if (name == "audience" || name == "resource") continue;
      if (!seen.insert(name).second) return fail("parameter '" + name + "' is repeated");
    }
  }
  return true;
}

void AuthorizationServer::handle_token(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(policy_mu_);
  auto fail = [&](const Failure& f) { reply_error(res, f); };
  TokenRequest tr;
  Failure failure{TokenError::kServerError, ""};
  if (!read_form(req, &tr, &failure)) return fail(failure);

  const ClientRegistration* client = authenticate(req, tr, &failure);
  if (!client) {
    failure.basic_attempted = !req.header("Authorization").empty();
    return fail(failure);
  }

  const auto grant = tr.param("grant_type");
  if (!grant) return fail({TokenError::kInvalidRequest, "missing grant_type"});
  std::string grant_name;
  if (*grant == "client_credentials") {
    grant_name = "client_credentials";
  } else if (*grant == kGrantTokenExchange) {
    grant_name = "token-exchange";
  } else if (*grant == "refresh_token" && spec_.exchange && spec_.exchange->refresh_tokens) {
    grant_name = "refresh_token";
  } else {
    return fail({defects::unknown_grant_error(env_.defects),
                 "grant_type '" + *grant + "' is not supported"});
  }
  if (!contains(client->grants, grant_name) &&
      !defects::grant_check_skipped(env_.defects, grant_name))
    return fail({TokenError::kUnauthorizedClient, "client may not use grant " + grant_name});
  if (grant_name == "token-exchange" && !spec_.exchange)
    return fail({TokenError::kUnauthorizedClient,
                 "this authorization server does not perform token exchange"});

  // ---- DPoP (RFC 9449 §5): a valid proof binds the issued token to the client's key ----
  if (req.header_count("DPoP") > 0 ||
      (client->dpop_bound_access_tokens && !defects::dpop_bound_unenforced(env_.defects))) {
    if (req.header_count("DPoP") == 0)
      return fail(
          {TokenError::kInvalidDpopProof,
           "this client's access tokens are DPoP-bound (RFC 9449 §5.2): send a DPoP proof"});
    jose::dpop::Expect e;
    e.htm = "POST";
    e.now_s = env_.clock->now_s();
    e.max_age_s = spec_.dpop.max_age_s;
    if (spec_.dpop.nonce) e.nonce = dpop_nonce(e.now_s);
    // The URI the client sent the request to: over plain HTTP, or through a TLS front.
    e.htu = request_htu(req, "http");
    auto proof = check_request_proof(req, e, impl_->dpop_replay);
    if (proof.status == jose::dpop::Status::kHtuMismatch) {
      e.htu = request_htu(req, "https");
      proof = check_request_proof(req, e, impl_->dpop_replay);
    }
    if (!proof.ok() && defects::dpop_excused(env_.defects, proof.status) && !proof.jkt.empty())
      proof.status = jose::dpop::Status::kOk;  // a deliberate defect (self-check only)
    if (proof.status == jose::dpop::Status::kNonceRequired) {
      res.set_header("DPoP-Nonce", *e.nonce);
      return fail({TokenError::kUseDpopNonce, "use the DPoP-Nonce this server sent (RFC 9449 §8)"});
    }
    if (!proof.ok())
      return fail({TokenError::kInvalidDpopProof, std::string(jose::dpop::describe(proof.status))});
    tr.dpop_jkt = proof.jkt;
    if (const auto other = tr.param("dpop_jkt")) {
      // txlab's broker extension: a trusted broker binds the token to the key of the caller it
      // exchanges for (it verified that caller's proof itself).
      if (!client->dpop_bind_for_others)
        return fail({TokenError::kInvalidRequest,
                     "dpop_jkt: this client may not bind tokens to another key"});
      if (other->size() != 43 || !jose::base64url_decode(*other))
        return fail({TokenError::kInvalidRequest, "dpop_jkt is not a JWK SHA-256 thumbprint"});
      tr.dpop_jkt = *other;
    }
  } else if (tr.param("dpop_jkt")) {
    return fail({TokenError::kInvalidRequest, "dpop_jkt needs the client's own DPoP proof"});
  }

  // ---- certificate binding (RFC 8705 §3): to the certificate of the TLS connection ----
  if (!req.client_cert_der.empty()) {
    const auto facts = inspect_certificate(req.client_cert_der);
    if (facts.parsed)
      tr.client_x5t =
          defects::mtls_thumbprint_of_key(env_.defects) ? facts.spki_s256 : facts.x5t_s256;
  }
  if (client->certificate_bound_access_tokens) {
    if (!tr.client_x5t)
      return fail({TokenError::kInvalidRequest,
                   "this client's access tokens are certificate-bound (RFC 8705 §3): connect "
                   "with its client certificate"});
    tr.cert_x5t = tr.client_x5t;
  }
  if (const auto other = tr.param("tls_x5t_s256")) {
    // txlab's broker extension, like dpop_jkt: a trusted broker binds the token to the
    // certificate of the caller it exchanges for (that caller's connection was checked by it).
    if (!client->certificate_bind_for_others)
      return fail({TokenError::kInvalidRequest,
                   "tls_x5t_s256: this client may not bind tokens to another certificate"});
    if (!tr.client_x5t)
      return fail({TokenError::kInvalidRequest, "tls_x5t_s256 needs the client's own certificate"});
    if (other->size() != 43 || !jose::base64url_decode(*other))
      return fail(
          {TokenError::kInvalidRequest, "tls_x5t_s256 is not a certificate SHA-256 thumbprint"});
    tr.cert_x5t = *other;
  }

  const std::string body = grant_name == "client_credentials"
                               ? client_credentials(*client, tr, &failure)
                           : grant_name == "refresh_token" ? refresh(*client, tr, &failure)
                                                           : token_exchange(*client, tr, &failure);
  if (body.empty()) return fail(failure);
  // RFC 9449 §8.2: the nonce to use next, on every answer to a DPoP request.
  if (spec_.dpop.nonce && tr.dpop_jkt)
    res.set_header("DPoP-Nonce", dpop_nonce(env_.clock->now_s()));
  reply(res, 200, body);
}

namespace {

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

std::string AuthorizationServer::new_refresh_family(const std::string& client_id,
                                                    const Json& claims, int64_t access_ttl_s) {
  Json c = claims;
  for (const char* k : {"iat", "exp", "jti"}) c.erase(k);
  const std::string family = random_jti();
  const std::string token = "rt." + random_jti() + random_jti();
  std::lock_guard lock(refresh_mu_);
  sweep_refresh_families(env_.clock->now_s());
  RefreshFamily f;
  f.client_id = client_id;
  f.claims = safe_dump(c);
  f.access_ttl_s = access_ttl_s;
  f.expires_at_s = env_.clock->now_s() + spec_.exchange->refresh_ttl_s;
  f.current = token;
  f.issued_jtis.push_back(json_str(claims, "jti"));
  families_[family] = std::move(f);
  refresh_index_[token] = family;
  return token;
}

void AuthorizationServer::sweep_refresh_families(int64_t now) {
  if (refresh_index_.size() >= next_refresh_sweep_) {
    for (auto it = families_.begin(); it != families_.end();)
      it = now >= it->second.expires_at_s ? families_.erase(it) : std::next(it);
    for (auto it = refresh_index_.begin(); it != refresh_index_.end();)
      it = families_.count(it->second) ? std::next(it) : refresh_index_.erase(it);
    next_refresh_sweep_ = std::max<size_t>(4096, 2 * refresh_index_.size());
  }
  if (families_.size() < kMaxRefreshFamilies) return;
  // Full of live families: the tenth expiring first goes at once (amortised, counted).
  std::vector<std::pair<int64_t, std::string>> by_expiry;
  by_expiry.reserve(families_.size());
  for (const auto& [id, f] : families_) by_expiry.emplace_back(f.expires_at_s, id);
  const size_t n = std::max<size_t>(1, by_expiry.size() / 10);
  std::nth_element(by_expiry.begin(), by_expiry.begin() + static_cast<std::ptrdiff_t>(n - 1),
                   by_expiry.end());
  for (size_t i = 0; i < n; ++i) families_.erase(by_expiry[i].second);
  for (auto it = refresh_index_.begin(); it != refresh_index_.end();)
    it = families_.count(it->second) ? std::next(it) : refresh_index_.erase(it);
  refresh_families_evicted_ += n;
}

std::string AuthorizationServer::refresh(const ClientRegistration& client, const TokenRequest& tr,
                                         Failure* failure) {
  // RFC 6749 §6 with rotation: every use returns a new refresh token; presenting a rotated one
  // again is treated as theft and revokes the whole family (OAuth 2.0 Security BCP §4.14).
  auto fail = [&](std::string d) {
    *failure = {TokenError::kInvalidGrant, std::move(d)};
    return std::string();
  };
  if (!contains(client.grants, "refresh_token")) {
    *failure = {TokenError::kUnauthorizedClient, "client may not use grant refresh_token"};
    return {};
  }
  const auto presented = tr.param("refresh_token");
  if (!presented) {
    *failure = {TokenError::kInvalidRequest, "missing refresh_token"};
    return {};
  }
  const int64_t now = env_.clock->now_s();
  std::lock_guard lock(refresh_mu_);
  auto idx = refresh_index_.find(*presented);
  if (idx == refresh_index_.end()) return fail("unknown refresh token");
  RefreshFamily& f = families_[idx->second];
  if (f.client_id != client.id) return fail("refresh token was issued to another client");
  if (f.revoked) return fail("refresh token family revoked");
  if (now >= f.expires_at_s) return fail("refresh token expired");
  if (f.current != *presented) {
    f.revoked = true;
    {
      std::lock_guard rlock(revoked_mu_);
      for (const auto& j : f.issued_jtis) revoked_.insert(j);
    }
    record("refresh_token", client.id, "(reused refresh token)", "(family revoked)", {});
    return fail("refresh token reuse detected: the family is revoked");
  }
  Json c = Json::parse(f.claims);
  std::vector<std::string> scope = split_scope(json_str(c, "scope"));
  if (auto s = tr.param("scope")) {
    for (const auto& t : split_scope(*s))
      if (!contains(scope, t)) {
        *failure = {TokenError::kInvalidScope, "scope '" + t + "' exceeds the original grant"};
        return {};
      }
    scope = split_scope(*s);
    c["scope"] = join_scope(scope);
  }
  const std::string jti = random_jti();
  c["iat"] = now;
  c["exp"] = now + f.access_ttl_s;
  c["jti"] = jti;
  f.issued_jtis.push_back(jti);
  f.current = "rt." + random_jti() + random_jti();
  refresh_index_[f.current] = idx->second;
  std::vector<std::string> aud;
  if (c["aud"].is_string())
    aud.push_back(c["aud"]);
  else
    for (const auto& a : c["aud"]) aud.push_back(a);
  record("refresh_token", client.id, "", jti, aud);
  Json body = {{"access_token", sign(c)},
               {"token_type", "Bearer"},
               {"expires_in", f.access_ttl_s},
               {"refresh_token", f.current},
               {"issued_token_type", kTypeAccessToken}};
  if (!scope.empty()) body["scope"] = join_scope(scope);
  return safe_dump(body);
}

void AuthorizationServer::handle_revoke(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(policy_mu_);
  // RFC 7009 §2.1: client-authenticated; the token is revoked only if it was issued to that
  // client; unknown or invalid tokens still get 200 (§2.2).
  TokenRequest tr;
  Failure failure{TokenError::kServerError, ""};
  if (!read_form(req, &tr, &failure)) return reply_error(res, failure);
  const ClientRegistration* client = authenticate(req, tr, &failure);
  if (!client) return reply_error(res, failure);
  const auto token = tr.param("token");
  if (!token) return reply_error(res, {TokenError::kInvalidRequest, "missing token"});
  auto v = verify_own(keys(), issuer(), *env_.clock, env_.leeway_s, *token);
  if (v.ok() && json_str(v.claims, "client_id") == client->id) {
    std::lock_guard lock(revoked_mu_);
    revoked_.insert(json_str(v.claims, "jti"));
  }
  reply(res, 200, "{}");
}

void AuthorizationServer::handle_introspect(const http::Request& req, http::Response& res) {
  std::shared_lock policy_lock(policy_mu_);
  // RFC 7662 §2.1: a protected endpoint; §2.2: {"active": false} for anything not active.
  TokenRequest tr;
  Failure failure{TokenError::kServerError, ""};
  if (!read_form(req, &tr, &failure)) return reply_error(res, failure);
  if (!authenticate(req, tr, &failure)) return reply_error(res, failure);
  const auto token = tr.param("token");
  if (!token) return reply_error(res, {TokenError::kInvalidRequest, "missing token"});
  auto v = verify_own(keys(), issuer(), *env_.clock, 0, *token);
  if (!v.ok() || is_revoked(json_str(v.claims, "jti")))
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

void AuthorizationServer::handle_rotate_secret(const http::Request& req, http::Response& res) {
  if (req.header("X-Txlab-Admin") != admin_key_)
    return reply_json(res, 403,
                      R"({"error":"forbidden","error_description":"X-Txlab-Admin required"})");
  const std::string client_id = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  auto secret = rotate_secret(client_id);
  if (!secret) return reply_json(res, 404, R"({"error":"not_found"})");
  reply(res, 200, safe_dump(Json{{"client_id", client_id}, {"client_secret", *secret}}));
}

std::string AuthorizationServer::client_credentials(const ClientRegistration& client,
                                                    const TokenRequest& tr, Failure* failure) {
  auto fail = [&](TokenError e, std::string d) {
    *failure = {e, std::move(d)};
    return std::string();
  };
  std::vector<std::string> scope = client.scopes;
  if (auto s = tr.param("scope")) {
    auto requested = split_scope(*s);
    for (const auto& t : requested) {
      if (!valid_scope_token(t)) return fail(TokenError::kInvalidScope, "malformed scope token");
      if (!contains(client.scopes, t))
        return fail(TokenError::kInvalidScope, "scope '" + t + "' is not allowed for this client");
    }
    scope = requested;
  }
  std::vector<std::string> audiences = tr.values("audience");
  for (const auto& r : tr.values("resource")) audiences.push_back(r);
  for (const auto& a : audiences)
    if (!contains(client.audiences, a))
      return fail(TokenError::kInvalidTarget,
                  "audience '" + a + "' is not allowed for this client");
  if (audiences.empty()) audiences = client.audiences;
  if (audiences.empty())
    return fail(TokenError::kInvalidTarget,
                "no audience requested and none registered for this client");

  // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti (and scope).
  const int64_t now = env_.clock->now_s();
  const std::string jti = random_jti();
  Json claims = {{"iss", issuer()},
                 {"sub", client.id},
                 {"aud", audience_claim(audiences)},
                 {"exp", now + spec_.access_token_ttl_s},
                 {"iat", now},
                 {"jti", jti},
                 {"client_id", client.id}};
  if (!scope.empty()) claims["scope"] = join_scope(scope);
  if (auto cnf = cnf_claim(tr); !cnf.is_null()) claims["cnf"] = cnf;  // RFC 9449 §6.1, 8705 §3.1
  const std::string token = sign(claims);
  record("client_credentials", client.id, "", jti, audiences);
  Json body = {{"access_token", token},
               {"token_type", tr.dpop_jkt ? "DPoP" : "Bearer"},  // RFC 9449 §5
               {"expires_in", spec_.access_token_ttl_s}};
  if (!scope.empty()) body["scope"] = join_scope(scope);
  return safe_dump(body);
}

}  // namespace txlab
