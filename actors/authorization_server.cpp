// AuthorizationServer: the routes, wired to the token endpoint's stages (token_endpoint.cpp)
// and to the read-only and administrative handlers below (JWKS, metadata, audit, admin).
#include "actors/authorization_server.h"

#include "actors/as_defects.h"
#include "actors/token_endpoint.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

namespace as_detail {

// The routes that are not the token endpoint: keys, metadata, audit, administration.
struct Routes {
  static void jwks(const AuthorizationServer& as, const http::Request& req, http::Response& res);
  static void metadata(const AuthorizationServer& as, http::Response& res);
  static void audit(const AuthorizationServer& as, http::Response& res);
  static void rotate_secret(AuthorizationServer& as, const http::Request& req, http::Response& res);
  static void key_admin(AuthorizationServer& as, const http::Request& req, http::Response& res,
                        bool rotate);
  static bool admitted(const AuthorizationServer& as, const http::Request& req,
                       http::Response& res);
  static void refuse(http::Response& res, const oauth::Refusal& r);
};

void Routes::jwks(const AuthorizationServer& as, const http::Request& req, http::Response& res) {
  Json list = Json::array();
  for (const auto& extra : defects::extra_jwks_keys(as.env_.defects)) list.push_back(extra);
  std::string etag = "\"";
  for (const auto& k : as.key_store().keys()) {
    list.push_back(k.public_jwk());
    etag += k.kid().substr(0, 8);
  }
  etag += "\"";
  // RFC 9111: max-age lets verifiers cache; the ETag lets them revalidate cheaply (304).
  res.set_header("Cache-Control", as.spec_.jwks_max_age_s > 0
                                      ? "public, max-age=" + std::to_string(as.spec_.jwks_max_age_s)
                                      : "no-cache");
  res.set_header("ETag", etag);
  if (req.header("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  reply_json(res, 200, safe_dump(Json{{"keys", list}}));
}

void Routes::metadata(const AuthorizationServer& as, http::Response& res) {
  // RFC 8414 §2 (and the OIDC discovery subset that applies to a token-only AS).
  std::vector<std::string> grants = {"client_credentials"};
  if (as.spec_.exchange) grants.push_back(kGrantTokenExchange);
  std::vector<std::string> auth_methods = {"client_secret_basic", "client_secret_post",
                                           "private_key_jwt"};
  if (as.env_.mtls) {  // RFC 8705 §2.1.1, §2.2.1
    auth_methods.push_back("tls_client_auth");
    auth_methods.push_back("self_signed_tls_client_auth");
  }
  Json body = {
      {"issuer", as.issuer()},
      {"token_endpoint", as.token_endpoint()},
      {"jwks_uri", as.base_url() + "/jwks"},
      {"grant_types_supported", grants},
      {"token_endpoint_auth_methods_supported", auth_methods},
      {"token_endpoint_auth_signing_alg_values_supported", {"ES256", "RS256", "PS256", "EdDSA"}},
      {"response_types_supported", Json::array()},
      {"subject_types_supported", {"public"}},
      {"id_token_signing_alg_values_supported", {as.spec_.alg}},
      {"dpop_signing_alg_values_supported", {"ES256", "RS256", "PS256", "EdDSA"}},  // RFC 9449 §5.1
  };
  if (as.env_.mtls) body["tls_client_certificate_bound_access_tokens"] = true;  // RFC 8705 §3.3
  reply_json(res, 200, safe_dump(body));
}

void Routes::audit(const AuthorizationServer& as, http::Response& res) {
  Json entries = Json::array();
  for (const auto& e : as.audit_.entries()) {
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

void Routes::refuse(http::Response& res, const oauth::Refusal& r) {
  const oauth::WireRefusal w = oauth::to_wire(r);
  const WireError wire = to_wire(w.error);
  Json body = {{"error", std::string(wire.code)}};
  if (!w.description.empty()) body["error_description"] = w.description;
  reply_json(res, wire.http_status, safe_dump(body));
}

bool Routes::admitted(const AuthorizationServer& as, const http::Request& req,
                      http::Response& res) {
  if (req.header("X-Txlab-Admin") == as.admin_key_) return true;
  refuse(res, {oauth::Status::kAdminKeyRequired, ""});
  return false;
}

void Routes::rotate_secret(AuthorizationServer& as, const http::Request& req, http::Response& res) {
  if (!admitted(as, req, res)) return;
  const std::string client_id = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  auto secret = as.clients_.rotate_secret(client_id);
  if (!secret) return refuse(res, {oauth::Status::kNoSuchClient, ""});
  reply_json(res, 200, safe_dump(Json{{"client_id", client_id}, {"client_secret", *secret}}));
}

void Routes::key_admin(AuthorizationServer& as, const http::Request& req, http::Response& res,
                       bool rotate) {
  if (!admitted(as, req, res)) return;
  if (rotate)
    as.keys_.rotate();
  else
    as.keys_.retire_old();
  Json kids = Json::array();
  for (const auto& k : as.keys_.keys()) kids.push_back(k.kid());
  reply_json(res, 200, safe_dump(Json{{"kids", kids}}));
}

}  // namespace as_detail

using as_detail::Routes;

AuthorizationServer::AuthorizationServer(RoleEnv env, AuthorizationServerSpec spec)
    : Role(std::move(env)),
      spec_(std::move(spec)),
      keys_(spec_.signing_key ? *spec_.signing_key
                              : jose::Key::generate(*jose::alg_from_string(spec_.alg)),
            spec_.alg),
      clients_(spec_.clients),
      audit_(spec_.audit_max_entries),
      admin_key_(as_detail::random_jti()),
      endpoint_(std::make_unique<as_detail::TokenEndpoint>(*this)) {
  auto* ep = endpoint_.get();
  on_post("/token", [ep](const auto& req, auto& res) { ep->handle_token(req, res); });
  on_post("/revoke", [ep](const auto& req, auto& res) { ep->handle_revoke(req, res); });
  on_post("/introspect", [ep](const auto& req, auto& res) { ep->handle_introspect(req, res); });
  // Keys and metadata are served from memory: no worker hand-off.
  on_get_quick("/jwks", [this](const auto& req, auto& res) { Routes::jwks(*this, req, res); });
  on_get_quick("/.well-known/oauth-authorization-server",
               [this](const auto&, auto& res) { Routes::metadata(*this, res); });
  on_get_quick("/.well-known/openid-configuration",
               [this](const auto&, auto& res) { Routes::metadata(*this, res); });
  on_get("/audit", [this](const auto&, auto& res) { Routes::audit(*this, res); });
  on_post("/admin/clients/{}/rotate-secret",
          [this](const auto& req, auto& res) { Routes::rotate_secret(*this, req, res); });
  on_post("/admin/rotate-key",
          [this](const auto& req, auto& res) { Routes::key_admin(*this, req, res, true); });
  on_post("/admin/retire-old-keys",
          [this](const auto& req, auto& res) { Routes::key_admin(*this, req, res, false); });
}

AuthorizationServer::~AuthorizationServer() { stop(); }

std::string AuthorizationServer::issuer() const {
  return spec_.issuer.empty() ? base_url() : spec_.issuer;
}

void AuthorizationServer::token_endpoint_in_process(const http::Request& req, http::Response& res) {
  endpoint_->handle_token(req, res);
}

void AuthorizationServer::change_policy(
    const std::function<void(AuthorizationServerSpec&)>& change) {
  std::unique_lock lock(policy_mu_);
  change(spec_);
}

}  // namespace txlab
