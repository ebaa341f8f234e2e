// The wire table for TokenError and EdgeError.
#include "actors/errors.h"

namespace txlab {

WireError to_wire(TokenError e) {
  switch (e) {
    case TokenError::kInvalidRequest:
      return {"invalid_request", 400};
    case TokenError::kInvalidClient:
      return {"invalid_client", 401};  // RFC 6749 §5.2
    case TokenError::kInvalidGrant:
      return {"invalid_grant", 400};
    case TokenError::kUnauthorizedClient:
      return {"unauthorized_client", 400};
    case TokenError::kUnsupportedGrantType:
      return {"unsupported_grant_type", 400};
    case TokenError::kInvalidScope:
      return {"invalid_scope", 400};
    case TokenError::kInvalidTarget:
      return {"invalid_target", 400};  // RFC 8693 §2.2.2
    case TokenError::kServerError:
      return {"server_error", 500};
    case TokenError::kTemporarilyUnavailable:
      return {"temporarily_unavailable", 503};
    case TokenError::kInvalidDpopProof:
      return {"invalid_dpop_proof", 400};  // RFC 9449 §5
    case TokenError::kUseDpopNonce:
      return {"use_dpop_nonce", 400};  // RFC 9449 §8
    case TokenError::kForbidden:
      return {"forbidden", 403};
    case TokenError::kNotFound:
      return {"not_found", 404};
  }
  return {"server_error", 500};
}

WireError to_wire(EdgeError e) {
  switch (e) {
    case EdgeError::kNoToken:
      return {"", 401};
    case EdgeError::kInvalidToken:
      return {"invalid_token", 401};
    case EdgeError::kInvalidRequest:
      return {"invalid_request", 400};
    case EdgeError::kInsufficientScope:
      return {"insufficient_scope", 403};
    case EdgeError::kExchangeDenied:
      return {"exchange_denied", 403};
    case EdgeError::kExchangeFailed:
      return {"exchange_failed", 502};
    case EdgeError::kExchangeUnavailable:
      return {"exchange_unavailable", 503};
    case EdgeError::kExchangeTimeout:
      return {"exchange_timeout", 504};
    case EdgeError::kNoRoute:
      return {"no_route", 404};
    case EdgeError::kUpstreamUnavailable:
      return {"upstream_unavailable", 503};
    case EdgeError::kUpstreamTimeout:
      return {"upstream_timeout", 504};
    case EdgeError::kUpstreamBadResponse:
      return {"upstream_bad_response", 502};
    case EdgeError::kKeysUnavailable:
      // Not the token's fault: retry later (RFC 9110 §15.6.4), not invalid_token.
      return {"temporarily_unavailable", 503};
    case EdgeError::kInvalidDpopProof:
      return {"invalid_dpop_proof", 401};  // RFC 9449 §7.1
  }
  return {"server_error", 500};
}

bool token_error_from_code(std::string_view code, TokenError* out) {
  static constexpr TokenError kAll[] = {TokenError::kInvalidRequest,
                                        TokenError::kInvalidClient,
                                        TokenError::kInvalidGrant,
                                        TokenError::kUnauthorizedClient,
                                        TokenError::kUnsupportedGrantType,
                                        TokenError::kInvalidScope,
                                        TokenError::kInvalidTarget,
                                        TokenError::kServerError,
                                        TokenError::kTemporarilyUnavailable,
                                        TokenError::kInvalidDpopProof,
                                        TokenError::kUseDpopNonce};
  for (auto e : kAll) {
    if (to_wire(e).code == code) {
      *out = e;
      return true;
    }
  }
  return false;
}

std::string safe_error_description(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 256)) {
    const bool allowed =
        c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
    out += allowed ? static_cast<char>(c) : (c == '"' ? '\'' : '?');
  }
  return out;
}

}  // namespace txlab
