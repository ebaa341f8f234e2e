// Building a conformance Target: from a built-in AS role of a running World (subject and actor
// tokens minted with a trusted issuer's real key), or from a remote server's base URL
// (RFC 8414 / OIDC discovery, subject tokens by client_credentials at the target itself).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "conformance/case.h"

namespace txlab {
class World;
}

namespace txlab::conformance {

// Throws std::invalid_argument when the role cannot be a target (not an AS, no exchange
// policy, no client with the token-exchange grant).
Target target_from_world(World& world, const std::string& as_role, Profile profile);

struct RemoteOptions {
  std::string base_url;        // discovery under it (RFC 8414 first, then OIDC)
  std::string token_endpoint;  // overrides discovery
  std::string jwks_uri;        // overrides discovery
  Credentials exchanger;
  std::optional<Credentials> subject_client;  // default: the exchanger itself
  std::string audience;
  std::string forbidden_audience;
  Profile profile = Profile::kCommon;
  int timeout_ms = 5000;
  // Keys of issuers the target trusts (--issuer-key/--issuer, --serve-issuer).
  std::vector<IssuerKey> issuer_keys;
  nlohmann::json subject_audience;  // aud of minted subject tokens (default: exchanger and issuer)
  std::string subject_scope;        // scope of minted subject tokens
  std::optional<bool> jwt_access_tokens;
  std::optional<bool> expects_delegation;  // --semantics
  std::optional<bool> honours_may_act;     // --honours-may-act
  std::optional<Credentials> unauthorized_client;
  std::optional<Credentials> dpop_bound_client;  // --dpop-bound-client
  std::string tls_ca_pem;                        // --ca: the CA the target's https chains to
  std::optional<MtlsClient> mtls;                // --mtls-client and its other certificates
  std::vector<std::string> scopes_beyond_subject;
};

// Discovers metadata; on failure returns nullopt and sets *error.
std::optional<Target> target_from_url(const RemoteOptions& options, std::string* error);

}  // namespace txlab::conformance
