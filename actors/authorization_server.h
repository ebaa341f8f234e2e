// The one authorization-server implementation (AS-C, AS-C2P, AS-C2PE are instances):
// POST /token with client_credentials and RFC 8693 token exchange, client authentication
// (client_secret_basic, client_secret_post), RFC 9068 JWT access tokens, exchange policy
// (trusted issuers, audiences, scope, lifetimes, act style), brokering a second exchange on
// the back channel, JWKS, RFC 8414 / OIDC metadata, and an audit log of every exchange.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
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
  // The key new tokens are signed with (the newest).
  jose::Key signing_key() const;
  // Every published key, newest first.
  std::vector<jose::Key> keys() const;
  // Key rotation: a new signing key is published next to the old ones (overlap) ...
  void rotate_key();
  // ... and later the old ones are withdrawn from the JWKS.
  void retire_old_keys();
  std::vector<AuditEntry> audit() const;
  // Entries dropped because the log is bounded (AuthorizationServerSpec::audit_max_entries).
  size_t audit_dropped() const;
  // Tokens issued so far by grant ("token-exchange", ...), dropped audit entries included.
  size_t issued_count(const std::string& grant) const;
  const AuthorizationServerSpec& spec() const { return spec_; }

  // Signs `claims` as an access token of this AS (header typ at+jwt). For tests and attacks
  // that need a genuine signature on crafted claims.
  std::string sign(const nlohmann::json& claims, const std::string& typ = "at+jwt") const;
  std::string token_endpoint() const { return base_url() + "/token"; }
  // POST /token without sockets, for benchmarks that separate the handler's cost from HTTP's.
  void token_endpoint_in_process(const http::Request& req, http::Response& res) {
    handle_token(req, res);
  }

  // Administration (the caller must present admin_key() in X-Txlab-Admin over HTTP, or be
  // in-process): rotate a client's secret; the old one stops working at once.
  std::optional<std::string> rotate_secret(const std::string& client_id);
  const std::string& admin_key() const { return admin_key_; }
  // RFC 7009: tokens revoked here (by jti).
  bool is_revoked(const std::string& jti) const;

  // Scenario events (issue: simulation). A revoked client fails authentication like an
  // unknown one (invalid_client) until restored.
  bool set_client_enabled(const std::string& client_id, bool enabled);
  bool client_enabled(const std::string& client_id) const;
  // Revokes every token this AS issued so far (to `client_id`, or to anyone when empty), as
  // RFC 7009 revocation would; returns how many.
  size_t revoke_issued(const std::string& client_id);
  // Changes the policy or registrations while no request is inside (exclusive lock).
  void change_policy(const std::function<void(AuthorizationServerSpec&)>& change);

 private:
  std::string dpop_nonce(int64_t now_s);  // RFC 9449 §8, rotated every five minutes
  struct Impl;
  void handle_token(const http::Request& req, http::Response& res);
  void handle_jwks(const http::Request& req, http::Response& res) const;
  void handle_metadata(const http::Request& req, http::Response& res) const;
  void handle_audit(const http::Request& req, http::Response& res) const;
  void handle_revoke(const http::Request& req, http::Response& res);
  void handle_introspect(const http::Request& req, http::Response& res);
  void handle_rotate_secret(const http::Request& req, http::Response& res);
  void handle_key_admin(const http::Request& req, http::Response& res, bool rotate);
  // Form parsing shared by /token, /revoke and /introspect (RFC 6749 §3.2 rules).
  bool read_form(const http::Request& req, as_detail::TokenRequest* out,
                 as_detail::Failure* failure) const;
  void reply(http::Response& res, int status, const std::string& body) const;
  void reply_error(http::Response& res, const as_detail::Failure& failure) const;
  std::string current_secret(const std::string& client_id) const;
  // Client authentication (RFC 6749 §2.3.1, RFC 7523 §2.2). Returns the registration or a failure.
  const ClientRegistration* authenticate(const http::Request& req,
                                         const as_detail::TokenRequest& tr,
                                         as_detail::Failure* failure);
  // The grants. Each returns the JSON body of a success, or sets *failure.
  std::string client_credentials(const ClientRegistration& client,
                                 const as_detail::TokenRequest& tr, as_detail::Failure* failure);
  std::string token_exchange(const ClientRegistration& client, const as_detail::TokenRequest& tr,
                             as_detail::Failure* failure);
  std::string refresh(const ClientRegistration& client, const as_detail::TokenRequest& tr,
                      as_detail::Failure* failure);
  // Starts a refresh-token family for claims issued to `client_id`; returns the first token.
  std::string new_refresh_family(const std::string& client_id, const nlohmann::json& claims,
                                 int64_t access_ttl_s);
  void ensure_trust();
  void record(const std::string& grant, const std::string& client_id,
              const std::string& subject_jti, const std::string& issued_jti,
              const std::vector<std::string>& audience);

  AuthorizationServerSpec spec_;
  mutable std::shared_mutex policy_mu_;  // shared by requests, exclusive for change_policy
  mutable std::mutex keys_mu_;
  std::vector<jose::Key> keys_;  // newest first
  std::unique_ptr<Impl> impl_;
  std::string admin_key_;
  mutable std::mutex secrets_mu_;
  std::map<std::string, std::string> secrets_;  // client id -> current secret (rotatable)
  std::set<std::string> disabled_;              // revoked client registrations
  mutable std::mutex revoked_mu_;
  std::set<std::string> revoked_;
  struct RefreshFamily {
    std::string client_id;
    std::string claims;  // JSON of the access-token claims to re-issue (minus iat/exp/jti)
    int64_t access_ttl_s = 0;
    int64_t expires_at_s = 0;
    std::string current;  // the only refresh token of the family that may be used
    bool revoked = false;
    std::vector<std::string> issued_jtis;
  };
  std::mutex refresh_mu_;
  std::map<std::string, std::string>
      refresh_index_;  // every refresh token ever issued -> family id
  std::map<std::string, RefreshFamily> families_;
  // Bounded: expired families (and their tokens' index entries) are swept when the index has
  // doubled since the last sweep; beyond kMaxRefreshFamilies the family expiring first goes.
  static constexpr size_t kMaxRefreshFamilies = 100000;
  void sweep_refresh_families(int64_t now);  // under refresh_mu_
  size_t next_refresh_sweep_ = 4096;
  uint64_t refresh_families_evicted_ = 0;
  mutable std::mutex audit_mu_;
  std::deque<AuditEntry> audit_;  // the newest spec_.audit_max_entries
  size_t audit_dropped_ = 0;
  std::map<std::string, size_t> issued_by_grant_;
};

}  // namespace txlab
