// The inbound side of gateways and resource servers: extract the bearer token (RFC 6750
// §2.1), verify it against the role's trusted issuers and audiences, and answer failures with
// RFC 6750 §3 responses (401 invalid_token / 403 insufficient_scope with WWW-Authenticate).
#pragma once

#include <map>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/dpop.h"
#include "actors/errors.h"
#include "actors/role.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/jwks_source.h"

namespace txlab {

struct GuardResult {
  bool ok = false;
  std::string token;
  jose::VerifiedJwt jwt;
};

// A refusal by one stage of an edge's request path (the guard's, the gateway's), written once
// by reply_edge_error.
struct EdgeRefusal {
  EdgeError error;
  std::string description;
  bool dpop = false;  // the DPoP challenge (RFC 9449 §7.1)
};

class BearerGuard {
 public:
  BearerGuard(const RoleEnv& env, Outbound& outbound, std::vector<std::string> trust,
              std::vector<std::string> audiences, std::string required_scope = {},
              std::vector<std::string> defects = {}, bool verified_cache = false,
              DpopInbound dpop = DpopInbound::kAllowed);
  size_t dpop_replay_size() const { return dpop_replay_.size(); }
  // RFC 8705 §3: refuse every token that is not certificate-bound (before the first check).
  void set_mtls_required(bool required) { mtls_required_ = required; }

  // Verifies the request's bearer token. On failure the response is already written.
  GuardResult check(const http::Request& req, http::Response& res);

 private:
  // The stages of check(), in order; a refusal stops it and is written once.
  std::optional<EdgeRefusal> extract(const http::Request& req, std::string* token,
                                     bool* dpop_scheme) const;
  jose::VerifiedJwt verify(const std::string& token, int64_t now);
  std::optional<EdgeRefusal> accept(const jose::VerifiedJwt& jwt, bool dpop_scheme) const;
  std::optional<EdgeRefusal> sender_constraint(const http::Request& req, const std::string& token,
                                               const nlohmann::json& claims, bool dpop_scheme,
                                               int64_t now);
  std::optional<EdgeRefusal> certificate_binding(const http::Request& req,
                                                 const nlohmann::json& claims,
                                                 bool dpop_scheme) const;
  std::optional<EdgeRefusal> scope(const nlohmann::json& claims) const;
  void ensure_trust();

  const RoleEnv* env_;
  Outbound* outbound_;
  std::vector<std::string> trust_, audiences_;
  std::string required_scope_;
  std::vector<std::string> defects_;
  DpopInbound dpop_ = DpopInbound::kAllowed;
  bool mtls_required_ = false;
  DpopReplayCache dpop_replay_;
  std::map<std::string, std::map<std::string, std::string>> required_claims_;  // by issuer
  std::map<std::string, std::shared_ptr<jose::KeySource>>
      sources_;  // by issuer (the defect seam's key lookup)
  // Verified-token cache (like Envoy's jwt_cache): token hash -> verified result until exp.
  bool verified_cache_ = false;
  std::mutex cache_mu_;
  std::unordered_map<std::string, jose::VerifiedJwt> verified_;
  size_t cache_hits_ = 0;

 public:
  size_t verified_cache_hits() {
    std::lock_guard lock(cache_mu_);
    return cache_hits_;
  }
  std::once_flag once_;
  std::unique_ptr<jose::JwtVerifier> verifier_;
};

// Writes an RFC 6750 §3 error (or a gateway error with a JSON body); with `dpop`, the challenge
// uses the DPoP scheme and lists the accepted proof algorithms (RFC 9449 §7.1).
void reply_edge_error(http::Response& res, EdgeError e, const std::string& realm,
                      const std::string& description, bool dpop = false);

}  // namespace txlab
