// The token endpoint's authenticate stage: client_secret_basic and client_secret_post
// (RFC 6749 §2.3.1), private_key_jwt (RFC 7523 §2.2, §3), and the mutual-TLS methods
// tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2).
#include <algorithm>
#include <cctype>

#include <openssl/crypto.h>

#include "actors/authorization_server.h"
#include "actors/token_endpoint.h"
#include "sim/json_util.h"

namespace txlab::as_detail {

using Json = nlohmann::json;
using oauth::Refusal;
using oauth::Status;

namespace {

constexpr const char* kJwtBearerAssertion =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool equal_ignoring_case(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

const ClientRegistration* TokenEndpoint::find_client(const std::string& id) const {
  for (const auto& c : spec().clients)
    if (c.id == id)  // a disabled client fails like an unknown one
      return as_.clients_.enabled(id) ? &c : nullptr;
  return nullptr;
}

oauth::Result<const ClientRegistration*> TokenEndpoint::authenticate(const http::Request& req,
                                                                     const TokenRequest& tr) {
  const bool header = !req.header("Authorization").empty();
  const bool body_secret = tr.param("client_secret").has_value();
  const bool assertion = tr.param("client_assertion") || tr.param("client_assertion_type");
  const int methods = (header ? 1 : 0) + (body_secret ? 1 : 0) + (assertion ? 1 : 0);
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
  const bool rescue = defects::basic_failure_falls_back_to_body(env().defects) && methods == 2 &&
                      header && body_secret;
  if (methods > 1 && !rescue) return Refusal{Status::kMultipleAuthMethods, ""};
  if (assertion) return authenticate_assertion(tr);
  if (!header && !body_secret) return authenticate_tls(req, tr);
  return authenticate_secret(req, tr);
}

oauth::Result<const ClientRegistration*> TokenEndpoint::authenticate_assertion(
    const TokenRequest& tr) {
  // RFC 7523 §2.2 and §3.
  const auto assertion = tr.param("client_assertion");
  if (!assertion || tr.param("client_assertion_type") != std::string(kJwtBearerAssertion))
    return Refusal{Status::kAssertionTypeUnsupported, ""};
  auto decoded = jose::decode_unverified(*assertion);
  const std::string iss = decoded ? json_str(decoded->second, "iss") : "";
  const ClientRegistration* reg = find_client(iss);
  if (!reg || reg->auth != ClientAuthMethod::kPrivateKeyJwt)
    return Refusal{Status::kClientAuthFailed, ""};
  if (auto id = tr.param("client_id"); id && *id != reg->id)
    return Refusal{Status::kAssertionClientIdMismatch, ""};
  std::string err;
  auto key = jose::Key::from_jwk(Json::parse(reg->public_jwk, nullptr, false), &err);
  if (!key) return Refusal{Status::kClientKeyUnusable, err};
  jose::VerifyPolicy policy;
  policy.typ.reset();
  policy.audiences = {as_.token_endpoint(), issuer()};  // RFC 7523 §3 item 3
  policy.leeway_s = env().leeway_s;
  jose::JwtVerifier verifier(policy, *env().clock);
  verifier.trust(reg->id, std::make_shared<jose::StaticKeySource>(std::vector<jose::Key>{*key}));
  auto v = verifier.verify(*assertion);
  if (!v.ok()) return Refusal{Status::kAssertionInvalid, std::string(jose::describe(v.status))};
  if (json_str(v.claims, "sub") != reg->id) return Refusal{Status::kAssertionSubMismatch, ""};
  const std::string jti = json_str(v.claims, "jti");
  if (jti.empty()) return Refusal{Status::kAssertionWithoutJti, ""};
  if (!assertion_jtis_.remember(reg->id, jti, json_int(v.claims, "exp").value_or(0),
                                env().clock->now_s()))
    return Refusal{Status::kAssertionReplayed, ""};
  return reg;
}

oauth::Result<const ClientRegistration*> TokenEndpoint::authenticate_tls(const http::Request& req,
                                                                         const TokenRequest& tr) {
  // RFC 8705 §2: the client_id parameter names the client; the TLS connection authenticates.
  const auto id = tr.param("client_id");
  if (!id) return Refusal{Status::kAuthRequired, ""};
  const ClientRegistration* reg = find_client(*id);
  if (!reg) return Refusal{Status::kUnknownClient, ""};
  if (!is_tls_auth(reg->auth)) return Refusal{Status::kClientAuthFailed, ""};
  if (req.client_cert_der.empty())
    return Refusal{Status::kTlsCertificateMissing, std::string(to_string(reg->auth))};
  const auto facts = inspect_certificate(req.client_cert_der);
  if (reg->auth == ClientAuthMethod::kTlsClientAuth) {
    // §2.1: a certificate of a trusted CA whose subject is the registered one.
    if (!req.client_cert_verified && !defects::tls_chain_unchecked(env().defects))
      return Refusal{Status::kTlsCertificateUntrusted, ""};
    if (facts.subject_dn != reg->tls_client_auth_subject_dn)
      return Refusal{Status::kTlsSubjectMismatch, ""};
    return reg;
  }
  // §2.2: exactly the certificate the client registered (no chain needed).
  const TlsIdentity* registered = nullptr;
  if (env().mtls)
    if (auto it = env().mtls->self_signed.find(reg->tls_certificate_holder);
        it != env().mtls->self_signed.end())
      registered = &it->second;
  if (!registered || !facts.parsed || !constant_time_equal(facts.x5t_s256, registered->x5t_s256))
    return Refusal{Status::kTlsCertificateNotRegistered, ""};
  return reg;
}

oauth::Result<const ClientRegistration*> TokenEndpoint::authenticate_secret(
    const http::Request& req, const TokenRequest& tr) {
  const auto& d = env().defects;
  const std::string authz = req.header("Authorization");
  const auto body_secret = tr.param("client_secret");
  std::optional<http::BasicCredentials> creds;
  ClientAuthMethod method = ClientAuthMethod::kClientSecretBasic;
  if (!authz.empty()) {
    if (defects::basic_scheme_case_sensitive(d) && authz.rfind("Basic ", 0) != 0)
      return Refusal{Status::kClientAuthFailed, ""};
    creds = http::parse_basic_authorization(authz);
    if (!creds) return Refusal{Status::kMalformedBasic, ""};
    defects::on_basic_credentials(d, authz, creds->client_id, creds->client_secret);
  } else if (auto id = tr.param("client_id"); id && body_secret) {
    creds = http::BasicCredentials{*id, *body_secret};
    method = ClientAuthMethod::kClientSecretPost;
  }
  if (!creds) return Refusal{Status::kAuthRequired, ""};
  const ClientRegistration* reg = find_client(creds->client_id);
  if (!reg && defects::client_id_case_insensitive(d))
    for (const auto& c : spec().clients)  // the deliberate defect: ids compared ignoring case
      if (equal_ignoring_case(c.id, creds->client_id)) reg = find_client(c.id);
  if (!reg) return Refusal{Status::kUnknownClient, ""};
  const std::string secret = as_.clients_.secret(reg->id);
  bool secret_ok = constant_time_equal(secret, creds->client_secret) ||
                   defects::secret_accepted_anyway(d, method == ClientAuthMethod::kClientSecretPost,
                                                   creds->client_secret, secret);
  if (!secret_ok && defects::basic_failure_falls_back_to_body(d) && body_secret &&
      tr.param("client_id") == reg->id)
    secret_ok = constant_time_equal(secret, *body_secret);  // the defect
  if (reg->auth == ClientAuthMethod::kPrivateKeyJwt || is_tls_auth(reg->auth) || !secret_ok)
    return Refusal{Status::kClientAuthFailed, ""};
  if (reg->auth != method)
    return Refusal{Status::kWrongAuthMethod, std::string(to_string(reg->auth))};
  if (defects::client_id_from_body(d))
    if (auto id = tr.param("client_id"); id && *id != reg->id)
      if (const ClientRegistration* other = find_client(*id)) return other;  // the defect
  return reg;
}

}  // namespace txlab::as_detail
