// The one authorization-server implementation (AS-C, AS-C2P, AS-C2PE are instances):
// POST /token with client_credentials and RFC 8693 token exchange, client authentication
// (client_secret_basic, client_secret_post), RFC 9068 JWT access tokens, exchange policy
// (trusted issuers, audiences, scope, lifetimes, act style), brokering a second exchange on
// the back channel, JWKS, RFC 8414 / OIDC metadata, and an audit log of every exchange.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/role.h"
#include "sim/jose/key.h"

namespace txlab {

namespace as_detail {
struct Failure;
struct TokenRequest;
}  // namespace as_detail

struct AuditEntry {
  std::string as;           // role id of the AS that issued
  std::string call;         // X-Txlab-Call of the request
  std::string grant;        // "client_credentials" or "token-exchange"
  std::string client_id;    // authenticated client
  std::string subject_jti;  // jti of the subject token (token exchange only)
  std::string issued_jti;
  std::vector<std::string> audience;
  int64_t at_s = 0;
};

class AuthorizationServer : public Role {
 public:
  AuthorizationServer(RoleEnv env, AuthorizationServerSpec spec);
  ~AuthorizationServer() override;

  RoleKind kind() const override { return RoleKind::kAuthorizationServer; }
  // The configured issuer, or the base URL when none is configured.
  std::string issuer() const;
  const jose::Key& signing_key() const { return key_; }
  std::vector<AuditEntry> audit() const;
  const AuthorizationServerSpec& spec() const { return spec_; }

  // Signs `claims` as an access token of this AS (header typ at+jwt). For tests and attacks
  // that need a genuine signature on crafted claims.
  std::string sign(const nlohmann::json& claims, const std::string& typ = "at+jwt") const;
  std::string token_endpoint() const { return base_url() + "/token"; }

 private:
  struct Impl;
  void handle_token(const httplib::Request& req, httplib::Response& res);
  void handle_jwks(const httplib::Request& req, httplib::Response& res) const;
  void handle_metadata(const httplib::Request& req, httplib::Response& res) const;
  void handle_audit(const httplib::Request& req, httplib::Response& res) const;
  // Client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2). Returns the registration or a failure.
  const ClientRegistration* authenticate(const httplib::Request& req, const as_detail::TokenRequest& tr,
                                         as_detail::Failure* failure);
  // The grants. Each returns the JSON body of a success, or sets *failure.
  std::string client_credentials(const ClientRegistration& client, const as_detail::TokenRequest& tr,
                                 as_detail::Failure* failure);
  std::string token_exchange(const ClientRegistration& client, const as_detail::TokenRequest& tr,
                             as_detail::Failure* failure);
  void ensure_trust();
  void record(const std::string& grant, const std::string& client_id, const std::string& subject_jti,
              const std::string& issued_jti, const std::vector<std::string>& audience);
  bool defect(std::string_view name) const;

  AuthorizationServerSpec spec_;
  jose::Key key_;
  std::unique_ptr<Impl> impl_;
  mutable std::mutex audit_mu_;
  std::vector<AuditEntry> audit_;
};

}  // namespace txlab
