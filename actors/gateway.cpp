// Gateway: verify -> exchange -> forward.
#include "actors/gateway.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "actors/token_client.h"
#include "sim/http/form.h"

namespace txlab {

Gateway::Gateway(RoleEnv env, GatewaySpec spec)
    : Role(std::move(env)), spec_(std::move(spec)), guard_(env_, outbound_, spec_.trust, spec_.audiences, {}, spec_.defects) {
  on_any(R"(/.*)", [this](const auto& req, auto& res) { handle(req, res); });
}

Gateway::~Gateway() { stop(); }

void Gateway::handle(const httplib::Request& req, httplib::Response& res) {
  auto inbound = guard_.check(req, res);
  if (!inbound.ok) return;

  // Longest matching route prefix.
  const Route* route = nullptr;
  for (const auto& r : spec_.routes)
    if (req.path.rfind(r.prefix, 0) == 0 && (!route || r.prefix.size() > route->prefix.size())) route = &r;
  if (!route) return reply_edge_error(res, EdgeError::kNoRoute, id(), "no route for " + req.path);

  if (route->introspect && spec_.introspection) {
    // RFC 7662: the issuer's view wins over a locally valid signature (revocation).
    http::OutboundRequest q;
    q.method = "POST";
    q.path = "/introspect";
    q.content_type = "application/x-www-form-urlencoded";
    q.body = http::encode_form({{"token", inbound.token}});
    const auto& c = *spec_.introspection;
    q.headers.emplace_back("Authorization", http::basic_authorization(c.client_id, c.secret));
    auto r = outbound_.send(c.as_role, env_.directory.url_of(c.as_role), q, "POST /introspect");
    if (r.status == 0) return reply_edge_error(res, EdgeError::kExchangeUnavailable, id(), "introspection: AS unreachable");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (r.status != 200 || !j.is_object()) return reply_edge_error(res, EdgeError::kExchangeFailed, id(), "introspection failed");
    const bool active = j.contains("active") && j["active"].is_boolean() && j["active"].get<bool>();
    if (!active) return reply_edge_error(res, EdgeError::kInvalidToken, id(), "token is not active (revoked)");
  }

  std::string outbound_token = inbound.token;
  if (spec_.exchange) {
    const auto& ex = *spec_.exchange;
    http::FormParams p = {{"grant_type", kGrantTokenExchange},
                          {"subject_token", inbound.token},
                          {"subject_token_type", kTypeAccessToken},
                          {"requested_token_type", kTypeAccessToken}};
    for (const auto& a : ex.audiences) p.emplace_back("audience", a);
    if (!ex.scope.empty()) p.emplace_back("scope", ex.scope);
    auto t = request_token(outbound_, env_.directory, ex.client, std::move(p), "POST /token token-exchange");
    if (!t.ok()) {
      if (t.status == 0) return reply_edge_error(res, EdgeError::kExchangeUnavailable, id(), "token exchange: AS unreachable");
      if (t.status == 400 && t.error != "invalid_client" && t.error != "unauthorized_client")
        return reply_edge_error(res, EdgeError::kExchangeDenied, id(), "token exchange refused: " + t.error +
                                                                                (t.error_description.empty() ? "" : " (" + t.error_description + ")"));
      return reply_edge_error(res, EdgeError::kExchangeFailed, id(),
                              "token exchange failed: " + (t.error.empty() ? "HTTP " + std::to_string(t.status) : t.error));
    }
    outbound_token = t.access_token;
  }

  http::OutboundRequest fwd;
  fwd.method = req.method;
  fwd.path = req.target.empty() ? req.path : req.target;
  fwd.body = req.body;
  fwd.content_type = req.get_header_value("Content-Type");
  fwd.headers.emplace_back("Authorization", "Bearer " + outbound_token);
  auto up = outbound_.send(route->to, env_.directory.url_of(route->to), fwd, req.method + " " + req.path, outbound_token);
  if (up.status == 0) {
    const EdgeError e = up.error == http::TransportError::kConnect   ? EdgeError::kUpstreamUnavailable
                        : up.error == http::TransportError::kTimeout ? EdgeError::kUpstreamTimeout
                                                                      : EdgeError::kUpstreamBadResponse;
    return reply_edge_error(res, e, id(), "upstream '" + route->to + "': " + std::string(http::to_string(up.error)));
  }
  res.status = up.status;
  if (auto w = up.header("WWW-Authenticate"); !w.empty()) res.set_header("WWW-Authenticate", w);
  const std::string ct = up.header("Content-Type");
  res.set_content(up.body, ct.empty() ? "application/octet-stream" : ct);
}

}  // namespace txlab
