// The one authorization-server implementation (AS-C, AS-C2P, AS-C2PE are instances):
// POST /token with client_credentials, RFC 8693 token exchange and refresh, client
// authentication (client_secret_basic/post, private_key_jwt, RFC 8705 mutual TLS), RFC 9068
// JWT access tokens, DPoP and certificate binding, brokering a second exchange on the back
// channel, revocation and introspection, JWKS, RFC 8414 / OIDC metadata, and an audit log.
//
// This class only wires routes to their handlers and owns the AS's state in named parts
// (actors/as_stores.h); the token endpoint's stages live in actors/token_endpoint.h.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/as_stores.h"
#include "actors/role.h"
#include "sim/jose/key.h"

namespace txlab {

namespace as_detail {
class TokenEndpoint;
struct Routes;
}  // namespace as_detail

class AuthorizationServer : public Role {
 public:
  AuthorizationServer(RoleEnv env, AuthorizationServerSpec spec);
  ~AuthorizationServer() override;

  RoleKind kind() const override { return RoleKind::kAuthorizationServer; }
  // The configured issuer, or the base URL when none is configured.
  std::string issuer() const;
  const AuthorizationServerSpec& spec() const { return spec_; }
  std::string token_endpoint() const { return base_url() + "/token"; }
  // POST /token without sockets, for benchmarks that separate the handler's cost from HTTP's.
  void token_endpoint_in_process(const http::Request& req, http::Response& res);
  // Signs `claims` as an access token of this AS (header typ at+jwt). For tests and attacks
  // that need a genuine signature on crafted claims.
  std::string sign(const nlohmann::json& claims, const std::string& typ = "at+jwt") const {
    return keys_.sign(claims, typ);
  }
  // Administration (X-Txlab-Admin over HTTP, or in-process).
  const std::string& admin_key() const { return admin_key_; }
  // Changes the policy or registrations while no request is inside (exclusive lock).
  void change_policy(const std::function<void(AuthorizationServerSpec&)>& change);

  // The named parts: signing keys (rotation), clients' credentials (secret rotation,
  // disabling), revoked tokens, and the audit log of issued tokens.
  KeyStore& key_store() const { return keys_; }  // thread-safe; rotation is an admin act
  ClientRegistry& clients() { return clients_; }
  RevocationList& revocations() { return revocations_; }
  const AuditLog& audit_log() const { return audit_; }

 private:
  friend class as_detail::TokenEndpoint;
  friend struct as_detail::Routes;

  AuthorizationServerSpec spec_;
  mutable std::shared_mutex policy_mu_;  // shared by requests, exclusive for change_policy
  mutable KeyStore keys_;
  ClientRegistry clients_;
  RevocationList revocations_;
  AuditLog audit_;
  RefreshStore refresh_;
  std::string admin_key_;
  std::unique_ptr<as_detail::TokenEndpoint> endpoint_;
};

}  // namespace txlab
