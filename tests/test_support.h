// Helpers shared by the end-to-end tests: start a scenario's world and talk to its roles over
// real loopback HTTP.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "actors/token_client.h"
#include "sim/http/form.h"
#include "sim/jose/jwt_verifier.h"
#include "world/world.h"

namespace txlab::testing {

inline std::string scenario_path(const std::string& name) {
  return std::string(TXLAB_SOURCE_DIR) + "/scenarios/" + name + ".yaml";
}

inline std::unique_ptr<World> start_world(Scenario s, World::RoleDefects defects = {}) {
  auto w = std::make_unique<World>(std::move(s), 1, std::move(defects));
  w->start();
  return w;
}

inline std::unique_ptr<World> start_world(const std::string& name) {
  return start_world(load_scenario(scenario_path(name)));
}

struct Reply {
  int status = 0;
  nlohmann::json body;
  http::InboundResponse raw;
};

inline Reply send(World& w, const std::string& role, http::OutboundRequest req) {
  Reply r;
  r.raw = w.transport().http().send(w.directory().url_of(role), req);
  r.status = r.raw.status;
  r.body = nlohmann::json::parse(r.raw.body, nullptr, false);
  return r;
}

// POST /token with HTTP Basic credentials (RFC 6749 §2.3.1), or none when id is empty.
inline Reply post_token(World& w, const std::string& as_role, const http::FormParams& form,
                        const std::string& id, const std::string& secret) {
  return send(w, as_role, http::form_post("/token", form, id, secret));
}

inline Reply get_bearer(World& w, const std::string& role, const std::string& path,
                        const std::string& token) {
  http::OutboundRequest req;
  req.path = path;
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  return send(w, role, req);
}

inline std::string client_credentials(World& w, const std::string& as_role, const std::string& id,
                                      const std::string& secret) {
  auto r = post_token(w, as_role, {{"grant_type", "client_credentials"}}, id, secret);
  return r.status == 200 ? r.body.value("access_token", "") : "";
}

inline http::FormParams exchange_form(const std::string& subject_token) {
  return {{"grant_type", kGrantTokenExchange},
          {"subject_token", subject_token},
          {"subject_token_type", kTypeAccessToken}};
}

inline nlohmann::json claims_of(const std::string& token) {
  auto d = jose::decode_unverified(token);
  return d ? d->second : nlohmann::json();
}

// Makes Gateway-C2PE ask AS-C2PE (RFC 7662) before forwarding, with a registration of its own.
inline void with_edge_introspection(Scenario& s) {
  for (auto& r : s.roles) {
    if (r.id == "gw-c2pe") {
      r.gateway.routes[0].introspect = true;
      r.gateway.introspection =
          ClientCredentials{"as-c2pe", "p-svc-gwedge-to-introspect", "intro-secret",
                            ClientAuthMethod::kClientSecretBasic};
    }
    if (r.id == "as-c2pe") {
      ClientRegistration c;
      c.id = "p-svc-gwedge-to-introspect";
      c.secret = "intro-secret";
      c.grants = {"client_credentials"};
      r.as.clients.push_back(c);
    }
  }
}

// Revokes a token at an AS (RFC 7009) as the client it was issued to.
inline int revoke(World& w, const std::string& as, const std::string& token, const std::string& id,
                  const std::string& secret) {
  return send(w, as, http::form_post("/revoke", {{"token", token}}, id, secret)).status;
}

}  // namespace txlab::testing
