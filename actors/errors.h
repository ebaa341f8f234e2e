// One status enum per layer, and the single table that maps each to the wire: OAuth `error`
// and HTTP status (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 6750 §3.1). Handlers return these;
// only this table decides codes and statuses.
#pragma once

#include <string>
#include <string_view>

namespace txlab {

// Token endpoint errors (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 8707 §2).
enum class TokenError {
  kInvalidRequest,
  kInvalidClient,
  kInvalidGrant,
  kUnauthorizedClient,
  kUnsupportedGrantType,
  kInvalidScope,
  kInvalidTarget,
  kServerError,             // misconfiguration behind the endpoint
  kTemporarilyUnavailable,  // a back-channel AS could not be reached
  kInvalidDpopProof,        // 400 (RFC 9449 §5): the DPoP proof is missing, invalid or replayed
  kUseDpopNonce,            // 400 (RFC 9449 §8): retry with the nonce in the DPoP-Nonce header
  kForbidden,               // 403: txlab's administration API without the admin key
  kNotFound,                // 404: txlab's administration API, no such client
};

// Gateway and resource-server outcomes (RFC 6750 §3.1 for the bearer side).
enum class EdgeError {
  kNoToken,              // 401, WWW-Authenticate: Bearer (no error code, RFC 6750 §3.1)
  kInvalidToken,         // 401 invalid_token
  kInvalidRequest,       // 400 invalid_request (malformed Authorization)
  kInsufficientScope,    // 403 insufficient_scope
  kExchangeDenied,       // 403: the AS refused the token exchange for this caller
  kExchangeFailed,       // 502: the AS answered in a way the gateway cannot use
  kExchangeUnavailable,  // 503: the AS could not be reached
  kExchangeTimeout,      // 504: the AS did not answer within the gateway's budget
  kNoRoute,              // 404: no route for this path
  kUpstreamUnavailable,  // 503: upstream refused the connection
  kUpstreamTimeout,      // 504: upstream did not answer in time
  kUpstreamBadResponse,  // 502: upstream broke the connection
  kKeysUnavailable,      // 503: the issuer's JWKS cannot be fetched and nothing is cached
  kInvalidDpopProof,     // 401 invalid_dpop_proof (RFC 9449 §7.1), WWW-Authenticate: DPoP
};

struct WireError {
  std::string_view code;  // OAuth / RFC 6750 error code
  int http_status;
};

WireError to_wire(TokenError e);
WireError to_wire(EdgeError e);
// An error_description (or error_uri) limited to RFC 6749 §5.2's set %x20-21 / %x23-5B /
// %x5D-7E: anything else (quotes, backslashes, control characters, non-ASCII echoed from a
// request) becomes '?', and the text is capped at 256 characters.
std::string safe_error_description(std::string_view text);
// Parses an OAuth error code back (for relaying a back-channel AS's answer).
bool token_error_from_code(std::string_view code, TokenError* out);

}  // namespace txlab
