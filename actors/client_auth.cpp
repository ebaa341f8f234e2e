// Token endpoint client authentication: client_secret_basic and client_secret_post
// (RFC 6749 §2.3.1), private_key_jwt (RFC 7523 §2.2, §3), and the mutual-TLS methods
// tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2).
#include <algorithm>
#include <cctype>

#include <openssl/crypto.h>

#include "actors/as_defects.h"
#include "actors/as_internal.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;
using as_detail::Failure;
using as_detail::TokenRequest;

namespace {

constexpr const char* kJwtBearerAssertion =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

bool constant_time_equal(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

const ClientRegistration* AuthorizationServer::authenticate(const http::Request& req,
                                                            const TokenRequest& tr,
                                                            Failure* failure) {
  auto fail = [&](TokenError e, std::string d) -> const ClientRegistration* {
    *failure = {e, std::move(d)};
    return nullptr;
  };
  auto find = [&](const std::string& id) -> const ClientRegistration* {
    for (const auto& c : spec_.clients)
      if (c.id == id)
        return client_enabled(id) ? &c : nullptr;  // a revoked client fails like an unknown one
    return nullptr;
  };

  const std::string authz = req.header("Authorization");
  const auto body_secret = tr.param("client_secret");
  const auto assertion = tr.param("client_assertion");
  const auto assertion_type = tr.param("client_assertion_type");
  const int methods =
      (!authz.empty() ? 1 : 0) + (body_secret ? 1 : 0) + (assertion || assertion_type ? 1 : 0);
  // RFC 6749 §2.3: a client MUST NOT use more than one authentication method per request.
  const bool body_rescues = has_defect(env_.defects, "basic-failure-falls-back-to-body");
  if (methods > 1 && !(body_rescues && methods == 2 && !authz.empty() && body_secret))
    return fail(TokenError::kInvalidRequest, "more than one client authentication method used");

  if (assertion || assertion_type) {
    // RFC 7523 §2.2 and §3.
    if (!assertion || assertion_type != std::string(kJwtBearerAssertion))
      return fail(TokenError::kInvalidClient,
                  "client_assertion_type must be " + std::string(kJwtBearerAssertion));
    auto decoded = jose::decode_unverified(*assertion);
    const std::string iss = decoded ? json_str(decoded->second, "iss") : "";
    const ClientRegistration* reg = find(iss);
    if (!reg || reg->auth != ClientAuthMethod::kPrivateKeyJwt)
      return fail(TokenError::kInvalidClient, "client authentication failed");
    if (auto id = tr.param("client_id"); id && *id != reg->id)
      return fail(TokenError::kInvalidClient, "client_id does not match the assertion");
    std::string err;
    auto key = jose::Key::from_jwk(Json::parse(reg->public_jwk, nullptr, false), &err);
    if (!key) return fail(TokenError::kInvalidClient, "client key unusable: " + err);
    jose::VerifyPolicy policy;
    policy.typ.reset();
    policy.audiences = {token_endpoint(), issuer()};  // RFC 7523 §3 item 3
    policy.leeway_s = env_.leeway_s;
    jose::JwtVerifier verifier(policy, *env_.clock);
    verifier.trust(reg->id, std::make_shared<jose::StaticKeySource>(std::vector<jose::Key>{*key}));
    auto v = verifier.verify(*assertion);
    if (!v.ok())
      return fail(TokenError::kInvalidClient,
                  "client assertion: " + std::string(jose::describe(v.status)));
    if (json_str(v.claims, "sub") != reg->id)
      return fail(TokenError::kInvalidClient, "client assertion sub must equal iss");
    const std::string jti = json_str(v.claims, "jti");
    if (jti.empty()) return fail(TokenError::kInvalidClient, "client assertion needs jti");
    if (!impl_->assertion_jtis.remember(reg->id, jti, json_int(v.claims, "exp").value_or(0),
                                        env_.clock->now_s()))
      return fail(TokenError::kInvalidClient, "client assertion replayed");
    return reg;
  }

  if (authz.empty() && !body_secret) {
    // RFC 8705 §2: the client_id parameter names the client; the TLS connection authenticates.
    const auto id = tr.param("client_id");
    if (!id) return fail(TokenError::kInvalidClient, "client authentication required");
    const ClientRegistration* reg = find(*id);
    if (!reg || !is_tls_auth(reg->auth)) {
      *failure = {TokenError::kInvalidClient, "client authentication failed", !reg};
      return nullptr;
    }
    if (req.client_cert_der.empty())
      return fail(TokenError::kInvalidClient,
                  "client authentication failed: " + std::string(to_string(reg->auth)) +
                      " needs the client's certificate on the TLS connection (RFC 8705 §2)");
    const auto facts = inspect_certificate(req.client_cert_der);
    if (reg->auth == ClientAuthMethod::kTlsClientAuth) {
      // §2.1: a certificate of a trusted CA whose subject is the registered one.
      if (!req.client_cert_verified && !defects::tls_chain_unchecked(env_.defects))
        return fail(TokenError::kInvalidClient,
                    "client authentication failed: the certificate does not chain to a trusted "
                    "CA (RFC 8705 §2.1)");
      if (facts.subject_dn != reg->tls_client_auth_subject_dn)
        return fail(TokenError::kInvalidClient,
                    "client authentication failed: the certificate's subject is not the "
                    "registered tls_client_auth_subject_dn (RFC 8705 §2.1.2)");
      return reg;
    }
    // §2.2: exactly the certificate the client registered (no chain needed).
    const TlsIdentity* registered = nullptr;
    if (env_.mtls)
      if (auto it = env_.mtls->self_signed.find(reg->tls_certificate_holder);
          it != env_.mtls->self_signed.end())
        registered = &it->second;
    if (!registered || !facts.parsed || facts.x5t_s256.size() != registered->x5t_s256.size() ||
        !constant_time_equal(facts.x5t_s256, registered->x5t_s256))
      return fail(TokenError::kInvalidClient,
                  "client authentication failed: not the certificate registered for "
                  "self_signed_tls_client_auth (RFC 8705 §2.2)");
    return reg;
  }

  std::optional<http::BasicCredentials> creds;
  ClientAuthMethod method = ClientAuthMethod::kClientSecretBasic;
  if (!authz.empty()) {
    if (defects::basic_scheme_case_sensitive(env_.defects) && authz.rfind("Basic ", 0) != 0)
      return fail(TokenError::kInvalidClient, "client authentication failed");
    creds = http::parse_basic_authorization(authz);
    if (!creds) return fail(TokenError::kInvalidClient, "malformed Basic credentials");
    defects::on_basic_credentials(env_.defects, authz, creds->client_id, creds->client_secret);
  } else if (auto id = tr.param("client_id"); id && body_secret) {
    creds = http::BasicCredentials{*id, *body_secret};
    method = ClientAuthMethod::kClientSecretPost;
  }
  if (!creds) return fail(TokenError::kInvalidClient, "client authentication required");
  const ClientRegistration* reg = find(creds->client_id);
  if (!reg && has_defect(env_.defects, "client-id-case-insensitive"))
    for (const auto& c : spec_.clients)  // the deliberate defect: ids compared ignoring case
      if (c.id.size() == creds->client_id.size() &&
          std::equal(c.id.begin(), c.id.end(), creds->client_id.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          }))
        reg = find(c.id);
  if (!reg) {
    *failure = {TokenError::kInvalidClient, "client authentication failed", true};
    return nullptr;
  }
  bool secret_ok =
      constant_time_equal(current_secret(reg->id), creds->client_secret) ||
      defects::secret_accepted_anyway(env_.defects, method == ClientAuthMethod::kClientSecretPost,
                                      creds->client_secret, current_secret(reg->id));
  if (!secret_ok && body_rescues && body_secret && tr.param("client_id") == reg->id)
    secret_ok = constant_time_equal(current_secret(reg->id), *body_secret);  // the defect
  if (reg->auth == ClientAuthMethod::kPrivateKeyJwt || is_tls_auth(reg->auth) || !secret_ok)
    return fail(TokenError::kInvalidClient, "client authentication failed");
  if (reg->auth != method)
    return fail(TokenError::kInvalidClient,
                "client must authenticate with " + std::string(to_string(reg->auth)));
  if (has_defect(env_.defects, "client-id-from-body"))
    if (auto id = tr.param("client_id"); id && *id != reg->id)
      if (const ClientRegistration* other = find(*id)) return other;  // the deliberate defect
  return reg;
}

}  // namespace txlab
