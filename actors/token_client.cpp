// request_token: form encoding, client authentication and response parsing.
#include "actors/token_client.h"

#include "sim/http/oauth_error.h"
#include "sim/http/run_blocking.h"
#include "sim/json_util.h"

namespace txlab {

TokenResponse request_token(Outbound& outbound, const Directory& directory,
                            const ClientCredentials& credentials, http::FormParams params,
                            const std::string& what, const std::string& presented_token,
                            int timeout_ms, const DpopProver* dpop) {
  return http::run_blocking(async_request_token(CallScope::current(), outbound, directory,
                                                credentials, std::move(params), what,
                                                presented_token, timeout_ms, dpop));
}

boost::asio::awaitable<TokenResponse> async_request_token(std::string call, Outbound& outbound,
                                                          const Directory& directory,
                                                          const ClientCredentials& credentials,
                                                          http::FormParams params, std::string what,
                                                          std::string presented_token,
                                                          int timeout_ms, const DpopProver* dpop) {
  http::OutboundRequest req;
  req.method = "POST";
  req.path = directory.entry_of(credentials.as_role).token_path;
  req.content_type = "application/x-www-form-urlencoded";
  if (is_tls_auth(credentials.auth)) {
    // RFC 8705 §2: the TLS connection authenticates; client_id names the client.
    params.emplace_back("client_id", credentials.client_id);
  } else if (credentials.auth != ClientAuthMethod::kClientSecretPost) {
    req.headers.emplace_back("Authorization",
                             http::basic_authorization(credentials.client_id, credentials.secret));
  } else {
    params.emplace_back("client_id", credentials.client_id);
    params.emplace_back("client_secret", credentials.secret);
  }
  req.body = http::encode_form(params);
  req.timeout_ms = timeout_ms;
  const std::string base = directory.url_of(credentials.as_role);
  auto with_proof = [&](const std::string& nonce) {
    http::OutboundRequest r = req;
    if (dpop) r.headers.emplace_back("DPoP", dpop->proof("POST", base + req.path, {}, nonce));
    return r;
  };
  // (No conditional expression inside a co_await's operands: GCC 12 miscompiles them.)
  std::string nonce;
  if (dpop) nonce = dpop->nonce_for(base);
  auto res = co_await outbound.async_send(call, credentials.as_role, base, with_proof(nonce), what,
                                          presented_token);
  if (dpop && !res.header("DPoP-Nonce").empty()) {
    dpop->remember_nonce(base, res.header("DPoP-Nonce"));  // for this and later proofs (§8)
    if (res.status == 400 &&
        http::parse_oauth_error(res.status, res.body, res.header("WWW-Authenticate")).error ==
            "use_dpop_nonce")
      res = co_await outbound.async_send(call, credentials.as_role, base,
                                         with_proof(res.header("DPoP-Nonce")),
                                         what + " (with the server's DPoP nonce)", presented_token);
  }
  TokenResponse out;
  out.status = res.status;
  out.transport = res.error;
  out.body = res.body;
  if (res.status != 200) {
    // Errors are read in one place (RFC 6749 §5.2 body, else the challenge) and typed here.
    const auto e = http::parse_oauth_error(res.status, res.body, res.header("WWW-Authenticate"));
    out.error = e.error;
    out.error_description = e.description;
    TokenError typed;
    if (token_error_from_code(e.error, &typed)) out.code = typed;
    co_return out;
  }
  auto j = nlohmann::json::parse(res.body, nullptr, false);
  if (!j.is_object()) co_return out;
  out.access_token = json_str(j, "access_token");
  out.issued_token_type = json_str(j, "issued_token_type");
  out.token_type = json_str(j, "token_type");
  out.expires_in = json_int(j, "expires_in").value_or(0);
  co_return out;
}

}  // namespace txlab
