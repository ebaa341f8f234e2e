// Requests on behalf of the world's own roles.
#include "conformance/holder.h"

#include "sim/http/oauth_error.h"
#include "sim/json_util.h"
#include "sim/tls.h"
#include "world/world.h"

namespace txlab::conformance {

Presenter holder_of(World& w, const nlohmann::json& claims) {
  Presenter p;
  if (!claims.contains("cnf") || !claims["cnf"].is_object()) return p;
  const std::string jkt = json_str(claims["cnf"], "jkt");
  const std::string x5t = json_str(claims["cnf"], "x5t#S256");
  const MutualTls* m = w.transport().mutual_tls();
  for (const auto& r : w.scenario().roles) {
    if (!r.runs_here()) continue;
    if (!jkt.empty() && !p.dpop && w.role(r.id).dpop_prover().jkt() == jkt)
      p.dpop = &w.role(r.id).dpop_prover();
    if (!x5t.empty() && !p.pool && m)
      if (const TlsIdentity* id = m->client_identity(r.id); id && id->x5t_s256 == x5t)
        p.pool = &w.transport().http_as(r.id);
  }
  return p;
}

Presenter presenter_for_client(World& w, const std::string& as_role, const std::string& client_id) {
  for (const auto& r : w.scenario().roles) {
    if (!r.runs_here()) continue;
    const ClientCredentials* held = nullptr;
    auto check = [&](const ClientCredentials& c) {
      if (!held && c.as_role == as_role && c.client_id == client_id) held = &c;
    };
    if (r.kind == RoleKind::kClient) check(r.client.credentials);
    if (r.kind == RoleKind::kGateway && r.gateway.exchange) check(r.gateway.exchange->client);
    if (r.kind == RoleKind::kGateway && r.gateway.introspection) check(*r.gateway.introspection);
    if (r.kind == RoleKind::kAuthorizationServer && r.as.exchange && r.as.exchange->broker)
      check(r.as.exchange->broker->via);
    if (!held) continue;
    Presenter p;
    if (held->dpop) p.dpop = &w.role(r.id).dpop_prover();
    if (w.transport().mutual_tls()) p.pool = &w.transport().http_as(r.id);
    if (p.dpop || p.pool) return p;
  }
  return {};
}

http::OutboundRequest token_request(World& w, const std::string& as_role, const std::string& path,
                                    http::FormParams form, const std::string& client_id,
                                    const std::string& secret) {
  if (const RoleSpec* as = w.scenario().find_role(as_role))
    for (const auto& c : as->as.clients)
      if (c.id == client_id && is_tls_auth(c.auth)) {
        form.emplace_back("client_id", client_id);
        return http::form_post(path, form);
      }
  return http::form_post(path, form, client_id, secret);
}

http::InboundResponse send_proved(World& w, const std::string& base, http::OutboundRequest req,
                                  const Presenter& who, const std::string& access_token) {
  http::HttpClientPool& pool = who.pool ? *who.pool : w.transport().http();
  if (!who.dpop) return pool.send(base, req);
  const std::string path = req.path.substr(0, req.path.find('?'));
  auto attempt = [&](const std::string& nonce) {
    http::OutboundRequest r = req;
    r.headers.emplace_back("DPoP", who.dpop->proof(req.method, base + path, access_token, nonce));
    return pool.send(base, r);
  };
  auto res = attempt({});
  const std::string nonce = res.header("DPoP-Nonce");
  if (!nonce.empty() && (res.status == 400 || res.status == 401) &&
      http::parse_oauth_error(res.status, res.body, res.header("WWW-Authenticate")).error ==
          "use_dpop_nonce")
    res = attempt(nonce);
  return res;
}

}  // namespace txlab::conformance
