// Proofs on behalf of the world's own roles.
#include "conformance/holder.h"

#include "sim/http/oauth_error.h"
#include "sim/json_util.h"
#include "world/world.h"

namespace txlab::conformance {

const DpopProver* holder_of(World& w, const nlohmann::json& claims) {
  if (!claims.contains("cnf") || !claims["cnf"].is_object()) return nullptr;
  const std::string jkt = json_str(claims["cnf"], "jkt");
  if (jkt.empty()) return nullptr;
  for (const auto& r : w.scenario().roles) {
    if (!r.runs_here()) continue;
    const DpopProver& p = w.role(r.id).dpop_prover();
    if (p.jkt() == jkt) return &p;
  }
  return nullptr;
}

const DpopProver* prover_for_client(World& w, const std::string& as_role,
                                    const std::string& client_id) {
  for (const auto& r : w.scenario().roles) {
    if (!r.runs_here()) continue;
    auto uses = [&](const ClientCredentials& c) {
      return c.dpop && c.as_role == as_role && c.client_id == client_id;
    };
    const bool match =
        (r.kind == RoleKind::kClient && uses(r.client.credentials)) ||
        (r.kind == RoleKind::kGateway && r.gateway.exchange && uses(r.gateway.exchange->client)) ||
        (r.kind == RoleKind::kAuthorizationServer && r.as.exchange && r.as.exchange->broker &&
         uses(r.as.exchange->broker->via));
    if (match) return &w.role(r.id).dpop_prover();
  }
  return nullptr;
}

http::InboundResponse send_proved(World& w, const std::string& base, http::OutboundRequest req,
                                  const DpopProver* prover, const std::string& access_token) {
  if (!prover) return w.http().send(base, req);
  const std::string path = req.path.substr(0, req.path.find('?'));
  auto attempt = [&](const std::string& nonce) {
    http::OutboundRequest r = req;
    r.headers.emplace_back("DPoP", prover->proof(req.method, base + path, access_token, nonce));
    return w.http().send(base, r);
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
