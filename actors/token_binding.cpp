// The token endpoint's bind stage: a DPoP proof binds the issued token to the client's key
// (RFC 9449 §5, nonces §8), the TLS client certificate to its certificate (RFC 8705 §3), and a
// trusted broker may vouch for its caller's key or certificate (txlab's broker extensions
// dpop_jkt and tls_x5t_s256).
#include "actors/authorization_server.h"
#include "actors/token_endpoint.h"
#include "sim/jose/base64url.h"

namespace txlab::as_detail {

using oauth::Refusal;
using oauth::Status;

std::string TokenEndpoint::dpop_nonce(int64_t now_s) {
  std::lock_guard lock(nonce_mu_);
  if (nonce_.empty() || now_s - nonce_since_s_ >= 300 || now_s < nonce_since_s_) {
    nonce_ = random_jti();  // a fresh unpredictable value every five minutes
    nonce_since_s_ = now_s;
  }
  return nonce_;
}

std::optional<Refusal> TokenEndpoint::bind(const http::Request& req,
                                           const ClientRegistration& client, TokenRequest& tr,
                                           http::Response& res) {
  if (auto r = bind_dpop(req, client, tr, res)) return r;
  return bind_certificate(req, client, tr);
}

std::optional<Refusal> TokenEndpoint::bind_dpop(const http::Request& req,
                                                const ClientRegistration& client, TokenRequest& tr,
                                                http::Response& res) {
  const bool proof_sent = req.header_count("DPoP") > 0;
  const bool required =
      client.dpop_bound_access_tokens && !defects::dpop_bound_unenforced(env().defects);
  if (!proof_sent && !required) {
    if (tr.param("dpop_jkt")) return Refusal{Status::kDpopJktWithoutProof, ""};
    return std::nullopt;
  }
  if (!proof_sent) return Refusal{Status::kDpopProofRequired, ""};
  jose::dpop::Expect e;
  e.htm = "POST";
  e.now_s = env().clock->now_s();
  e.max_age_s = spec().dpop.max_age_s;
  if (spec().dpop.nonce) e.nonce = dpop_nonce(e.now_s);
  // The URI the client sent the request to: over plain HTTP, or through a TLS front.
  e.htu = request_htu(req, "http");
  auto proof = check_request_proof(req, e, dpop_replay_);
  if (proof.status == jose::dpop::Status::kHtuMismatch) {
    e.htu = request_htu(req, "https");
    proof = check_request_proof(req, e, dpop_replay_);
  }
  if (!proof.ok() && defects::dpop_excused(env().defects, proof.status) && !proof.jkt.empty())
    proof.status = jose::dpop::Status::kOk;  // a deliberate defect (self-check only)
  if (proof.status == jose::dpop::Status::kNonceRequired) {
    res.set_header("DPoP-Nonce", *e.nonce);
    return Refusal{Status::kDpopNonceRequired, ""};
  }
  if (!proof.ok())
    return Refusal{Status::kDpopProofInvalid, std::string(jose::dpop::describe(proof.status))};
  tr.dpop_jkt = proof.jkt;
  if (const auto other = tr.param("dpop_jkt")) {
    // A trusted broker binds the token to the key of the caller it exchanges for (it verified
    // that caller's proof itself).
    if (!client.dpop_bind_for_others) return Refusal{Status::kDpopJktNotAllowed, ""};
    if (other->size() != 43 || !jose::base64url_decode(*other))
      return Refusal{Status::kDpopJktMalformed, ""};
    tr.dpop_jkt = *other;
  }
  return std::nullopt;
}

std::optional<Refusal> TokenEndpoint::bind_certificate(const http::Request& req,
                                                       const ClientRegistration& client,
                                                       TokenRequest& tr) const {
  if (!req.client_cert_der.empty()) {
    const auto facts = inspect_certificate(req.client_cert_der);
    if (facts.parsed)
      tr.client_x5t =
          defects::mtls_thumbprint_of_key(env().defects) ? facts.spki_s256 : facts.x5t_s256;
  }
  if (client.certificate_bound_access_tokens) {
    if (!tr.client_x5t) return Refusal{Status::kCertificateRequired, ""};
    tr.cert_x5t = tr.client_x5t;
  }
  if (const auto other = tr.param("tls_x5t_s256")) {
    // Like dpop_jkt: a trusted broker binds the token to the certificate of the caller it
    // exchanges for (that caller's connection was checked by it).
    if (!client.certificate_bind_for_others) return Refusal{Status::kX5tNotAllowed, ""};
    if (!tr.client_x5t) return Refusal{Status::kX5tWithoutCertificate, ""};
    if (other->size() != 43 || !jose::base64url_decode(*other))
      return Refusal{Status::kX5tMalformed, ""};
    tr.cert_x5t = *other;
  }
  return std::nullopt;
}

}  // namespace txlab::as_detail
