// ResourceServer: verify and echo the verified claims.
#include "actors/resource_server.h"

#include "sim/json_util.h"

namespace txlab {

ResourceServer::ResourceServer(RoleEnv env, ResourceServerSpec spec)
    : Role(std::move(env)),
      spec_(std::move(spec)),
      guard_(env_, outbound_, spec_.trust, spec_.audiences, spec_.required_scope, env_.defects,
             spec_.verified_token_cache, spec_.dpop) {
  guard_.set_mtls_required(spec_.mtls_required);
  on_any("/*", [this](const http::Request& req, http::Response& res) {
    auto g = guard_.check(req, res);
    if (!g.ok) return;
    const auto& c = g.jwt.claims;
    nlohmann::json saw = {{"role", id()}, {"method", req.method}, {"path", req.path}};
    for (const char* k :
         {"iss", "sub", "aud", "act", "scope", "client_id", "sub_id", "jti", "exp", "cnf"})
      if (c.contains(k)) saw[k] = c[k];
    reply_json(res, 200, safe_dump(saw));
  });
}

ResourceServer::~ResourceServer() { stop(); }

}  // namespace txlab
