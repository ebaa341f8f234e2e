// The authorization server's client-authenticated endpoints, as stages (internal to actors/):
//
//   POST /token:  read_form -> authenticate -> choose_grant -> bind -> grant -> issue -> reply
//   POST /revoke, /introspect:  read_form -> authenticate -> (their own step) -> reply
//
// Each stage returns a value or a oauth::Refusal (actors/token_status.h); reply_error is the
// one place a refusal becomes a wire answer. The grants (client_credentials here, refresh and
// token exchange in their own files) decide what to issue; issue() alone builds the token's
// claims, its cnf, the token_type and the response for every grant.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/as_defects.h"
#include "actors/as_internal.h"
#include "actors/exchange_rules.h"
#include "actors/token_status.h"

namespace txlab {

class AuthorizationServer;

namespace as_detail {

// What a grant decided to issue. issue() adds iss, iat, exp, jti, client_id and cnf.
struct Issue {
  std::string grant;  // the audit's name: "client_credentials", "token-exchange", "refresh_token"
  const ClientRegistration* client = nullptr;
  nlohmann::json claims = nlohmann::json::object();  // sub, sub_id, act ... (refresh: all kept)
  std::vector<std::string> audience;
  std::vector<std::string> scope;
  bool report_scope = false;  // scope in the response (RFC 8693 §2.2.1, RFC 6749 §5.1)
  int64_t ttl_s = 0;
  std::string issued_type = kTypeAccessToken;  // RFC 8693 §3
  bool token_type_in_response = false;         // issued_token_type (RFC 8693 §2.2.1)
  // The binding (RFC 9449 §6.1 cnf.jkt, RFC 8705 §3.1 cnf.x5t#S256) from this request.
  std::optional<std::string> dpop_jkt, cert_x5t;
  std::string jti;            // set by a grant that must know it first (refresh)
  std::string refresh_token;  // the refresh grant's rotated token, returned as is
  bool start_refresh_family = false;
  nlohmann::json subject;   // token exchange: the verified subject claims (else null)
  std::string subject_jti;  // audit
};

// A grant's outcome: a token to issue here, or a whole answer relayed from the back channel.
struct Relayed {
  std::string body;
};
using Granted = std::variant<Issue, Relayed>;

class TokenEndpoint {
 public:
  explicit TokenEndpoint(AuthorizationServer& as);
  ~TokenEndpoint();
  void handle_token(const http::Request& req, http::Response& res);
  void handle_revoke(const http::Request& req, http::Response& res);
  void handle_introspect(const http::Request& req, http::Response& res);
  // A token this AS signs, with the claims issue() gives it (the broker's intermediate token).
  std::string sign_access_token(const Issue& in, const std::string& jti, int64_t now_s,
                                bool bind_dpop);

 private:
  // Stage 1, RFC 6749 §3.2: the form, decoded and de-duplicated (token_form.cpp).
  oauth::Result<TokenRequest> read_form(const http::Request& req) const;
  // /revoke and /introspect: the form, the authenticated client and its `token` parameter.
  struct Presented {
    const ClientRegistration* client;
    std::string token;
  };
  oauth::Result<Presented> presented_token(const http::Request& req);
  // Stage 2, RFC 6749 §2.3, RFC 7523, RFC 8705 §2 (client_auth.cpp).
  oauth::Result<const ClientRegistration*> authenticate(const http::Request& req,
                                                        const TokenRequest& tr);
  oauth::Result<const ClientRegistration*> authenticate_assertion(const TokenRequest& tr);
  oauth::Result<const ClientRegistration*> authenticate_tls(const http::Request& req,
                                                            const TokenRequest& tr);
  oauth::Result<const ClientRegistration*> authenticate_secret(const http::Request& req,
                                                               const TokenRequest& tr);
  const ClientRegistration* find_client(const std::string& id) const;
  // Stage 3: which grant, and may this client use it (RFC 6749 §5.2). The grants are a table
  // (token_endpoint.cpp, grants()): adding one is a row there and its function.
  struct Grant;
  static const std::vector<Grant>& grants();
  oauth::Result<const Grant*> choose_grant(const ClientRegistration& client,
                                           const TokenRequest& tr) const;
  // Stage 4, RFC 9449 §5 and RFC 8705 §3 (token_binding.cpp): sets tr.dpop_jkt / cert_x5t.
  std::optional<oauth::Refusal> bind(const http::Request& req, const ClientRegistration& client,
                                     TokenRequest& tr, http::Response& res);
  std::optional<oauth::Refusal> bind_dpop(const http::Request& req,
                                          const ClientRegistration& client, TokenRequest& tr,
                                          http::Response& res);
  std::optional<oauth::Refusal> bind_certificate(const http::Request& req,
                                                 const ClientRegistration& client,
                                                 TokenRequest& tr) const;
  std::string dpop_nonce(int64_t now_s);  // RFC 9449 §8, rotated every five minutes
  // Stage 5: the grants.
  oauth::Result<Granted> client_credentials(const ClientRegistration& client,
                                            const TokenRequest& tr);
  oauth::Result<Granted> refresh(const ClientRegistration& client, const TokenRequest& tr);
  oauth::Result<Granted> token_exchange(const ClientRegistration& client, const TokenRequest& tr);
  // The exchange grant's steps (token_exchange_grant.cpp).
  void ensure_trust();
  defects::TokenContext defect_context(const ClientRegistration& client,
                                       const std::vector<std::string>& accepted_aud);
  oauth::Result<nlohmann::json> verify_subject(const exchange::Request& req,
                                               const ClientRegistration& client,
                                               defects::TokenContext& ctx);
  oauth::Result<std::optional<nlohmann::json>> verify_actor(const exchange::Request& req,
                                                            defects::TokenContext& ctx);
  // RFC 9449 §6.1 / RFC 8705 §3.1: a bound subject token; *cert_x5t is the binding to issue.
  std::optional<oauth::Refusal> check_bound_subject(const nlohmann::json& subject,
                                                    const TokenRequest& tr,
                                                    std::optional<std::string>* cert_x5t) const;
  oauth::Result<exchange::Decision> decide(const exchange::Request& req,
                                           const ClientRegistration& client,
                                           const nlohmann::json& subject,
                                           const std::optional<nlohmann::json>& actor);
  // The broker topology's second exchange at the next AS (AT2 -> AT3), answer relayed.
  oauth::Result<Granted> broker(const Issue& in, const exchange::Request& req);
  ExchangeCache::Result exchange_next(const Issue& in, const exchange::Request& req);
  // Stage 6 (token_issue.cpp): sign, record, answer.
  std::string issue(Issue in);
  nlohmann::json access_claims(const Issue& in, const std::string& jti, int64_t now_s,
                               bool bind_dpop) const;
  // Stage 7: the wire.
  void reply(http::Response& res, int status, const std::string& body) const;
  void reply_error(http::Response& res, const oauth::Refusal& r, bool basic_attempted) const;
  TokenError bad_token_error() const;
  // The AS's environment and parts, for the stages.
  const RoleEnv& env() const;
  const AuthorizationServerSpec& spec() const;
  std::string issuer() const;

  AuthorizationServer& as_;
  // The exchange grant's verifiers by trust, the trusted issuers' key sources, and the back
  // channel's cache (BrokerRule::cache).
  struct Exchange {
    std::once_flag trust_once;
    std::vector<std::shared_ptr<RemoteJwks>> sources;
    std::map<std::string, std::shared_ptr<jose::KeySource>> trusted_sources;  // by issuer
    std::unique_ptr<jose::JwtVerifier> access_verifier;  // subject_token_type access_token
    std::unique_ptr<jose::JwtVerifier> jwt_verifier;     // subject_token_type jwt: any typ
    std::unique_ptr<jose::JwtVerifier> actor_verifier;   // actor tokens: any typ, no aud rule
    std::unique_ptr<ExchangeCache> broker_cache;
  };
  std::unique_ptr<Exchange> exchange_;
  JtiCache assertion_jtis_;
  DpopReplayCache dpop_replay_;  // proof jti values (RFC 9449 §11.1)
  std::mutex nonce_mu_;          // the DPoP nonce (RFC 9449 §8), rotated
  std::string nonce_;
  int64_t nonce_since_s_ = 0;
};

}  // namespace as_detail

}  // namespace txlab
