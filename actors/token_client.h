// The client side of a token endpoint, shared by every role that asks an AS for a token:
// the client app (client_credentials), the gateway and a brokering AS (token exchange).
#pragma once

#include <string>

#include <optional>

#include "actors/dpop.h"
#include "actors/errors.h"
#include "actors/role.h"
#include "sim/http/form.h"

namespace txlab {

inline constexpr const char* kGrantTokenExchange =
    "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr const char* kTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token";
inline constexpr const char* kTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token";
inline constexpr const char* kTypeIdToken = "urn:ietf:params:oauth:token-type:id_token";
inline constexpr const char* kTypeJwt = "urn:ietf:params:oauth:token-type:jwt";

struct TokenResponse {
  int status = 0;  // HTTP status; 0 when the AS could not be reached
  http::TransportError transport = http::TransportError::kNone;
  std::string access_token;
  std::string issued_token_type;
  std::string token_type;
  int64_t expires_in = 0;
  std::string error;               // OAuth error code when status != 200 (as sent)
  std::optional<TokenError> code;  // the same, typed, when it is a code this project knows
  std::string error_description;
  std::string body;  // raw body, for relaying and diagnostics
  bool ok() const { return status == 200 && !access_token.empty(); }
};

// POSTs `params` to the AS's /token with the credentials' authentication method.
// `presented_token` (a subject token) is recorded in the trace. With `dpop`, the request
// carries a DPoP proof for the token endpoint (RFC 9449 §5), retried once with the server's
// nonce when it answers use_dpop_nonce (§8).
// Blocks the calling thread (the call id is the thread's CallScope).
TokenResponse request_token(Outbound& outbound, const Directory& directory,
                            const ClientCredentials& credentials, http::FormParams params,
                            const std::string& what, const std::string& presented_token = {},
                            int timeout_ms = 0, const DpopProver* dpop = nullptr);
// The same as a coroutine carrying the call id `call` (see Outbound::async_send). `outbound`,
// `directory`, `credentials` and `dpop` must outlive it.
boost::asio::awaitable<TokenResponse> async_request_token(
    std::string call, Outbound& outbound, const Directory& directory,
    const ClientCredentials& credentials, http::FormParams params, std::string what,
    std::string presented_token = {}, int timeout_ms = 0, const DpopProver* dpop = nullptr);

}  // namespace txlab
