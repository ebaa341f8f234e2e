// The seams where deliberate defects (conformance self-check only) bend the AS's behaviour.
#include "actors/as_defects.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/json_util.h"

namespace txlab::defects {

using Json = nlohmann::json;
using S = jose::VerifyStatus;

namespace {

struct Token {
  Json header, claims;
  std::string signing_input, signature;
  bool signature_empty = false;
};

std::optional<Token> parse(std::string_view token) {
  auto parts = jose::split_compact(token);
  auto decoded = jose::decode_unverified(token);
  if (!parts || !decoded) return std::nullopt;
  Token t;
  t.header = decoded->first;
  t.claims = decoded->second;
  t.signing_input = std::string(parts->signing_input);
  t.signature_empty = parts->signature_b64.empty();
  t.signature = jose::base64url_decode(parts->signature_b64).value_or("");
  return t;
}

bool verifies(const jose::Key& key, const Token& t) {
  const auto alg = jose::alg_from_string(json_str(t.header, "alg"));
  return alg && jose::is_asymmetric(*alg) && jose::verify_bytes(key, *alg, t.signing_input, t.signature);
}

// The public key of a DER certificate.
std::optional<jose::Key> key_of_cert(const std::string& der, const std::string& alg) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!cert) return std::nullopt;
  EVP_PKEY* pkey = X509_get_pubkey(cert);
  X509_free(cert);
  if (!pkey) return std::nullopt;
  std::string pem;
  {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, static_cast<size_t>(n));
    BIO_free(bio);
  }
  EVP_PKEY_free(pkey);
  std::string err;
  return jose::Key::from_pem(pem, &err, alg == "PS256" ? jose::Alg::kPS256 : jose::Alg::kRS256);
}

std::string std_b64_decode(const std::string& s) {
  std::string url;
  for (char c : s) {
    if (c == '=') break;
    url += c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return jose::base64url_decode(url).value_or("");
}

bool on(const AsDefects& d, std::string_view name) { return has_defect(d, name); }

bool signature_status(S s) {
  return s == S::kSignatureInvalid || s == S::kKidUnknown || s == S::kKidMissing || s == S::kAlgNone || s == S::kAlgNotAllowed;
}

}  // namespace

std::optional<Json> accept_anyway(const AsDefects& d, const TokenContext& ctx, std::string_view token, const jose::VerifiedJwt& strict) {
  if (d.empty()) return std::nullopt;
  auto t = parse(token);
  if (!t) return std::nullopt;
  const S s = strict.status;
  const std::string alg = json_str(t->header, "alg");
  const std::string kid = json_str(t->header, "kid");
  const std::string iss = json_str(t->claims, "iss");
  const bool subject = ctx.slot == Slot::kSubject;
  auto accept = [&]() -> std::optional<Json> { return t->claims; };

  if (!subject) {
    if (on(d, "actor-skip-signature") && signature_status(s)) return accept();
    if (on(d, "actor-accept-expired") && s == S::kExpired) return accept();
    if (on(d, "actor-trust-any-issuer") && s == S::kIssuerNotTrusted) return accept();
    if (on(d, "actor-jwt-alg-none") && ctx.jwt_type && s == S::kAlgNone) return accept();
    if (on(d, "actor-ignore-crit") && s == S::kCritUnsupported && ctx.issuer_key) {
      auto key = ctx.issuer_key(iss, kid);
      if (key && verifies(*key, *t)) return accept();
    }
    return std::nullopt;
  }

  // The subject token.
  if (on(d, "skip-subject-aud-check") && s == S::kAudienceMismatch) return accept();
  if (on(d, "accept-alg-none-subject") && s == S::kAlgNone) return accept();
  if (on(d, "skip-signature-check") && (s == S::kSignatureInvalid || s == S::kKidUnknown)) return accept();
  if (on(d, "trust-any-issuer") && s == S::kIssuerNotTrusted) return accept();
  if (on(d, "accept-unknown-kid") && s == S::kKidUnknown) return accept();
  if (on(d, "accept-foreign-key-real-kid") && s == S::kSignatureInvalid && !kid.empty() && ctx.issuer_key && ctx.issuer_key(iss, kid))
    return accept();
  if (on(d, "accept-missing-kid") && (s == S::kSignatureInvalid || s == S::kKidMissing) && !t->header.contains("kid")) return accept();
  if (on(d, "alg-none-case-sensitive") && s == S::kAlgNone && alg != "none") return accept();
  if (on(d, "accept-empty-signature") && s == S::kSignatureInvalid && t->signature_empty) return accept();
  if (on(d, "jwt-type-skips-signature") && ctx.jwt_type && signature_status(s)) return accept();
  if (on(d, "jwt-type-skips-audience") && ctx.jwt_type && s == S::kAudienceMismatch) return accept();
  if (on(d, "accept-not-yet-valid") && s == S::kNotYetValid) return accept();
  if (on(d, "accept-missing-exp") && s == S::kExpMissing) return accept();
  if (on(d, "accept-reissued-token") && s == S::kAudienceMismatch) {
    for (const auto& a : ctx.client_audiences)
      if (jose::audience_contains(t->claims.value("aud", Json()), a)) return accept();
  }
  if (on(d, "accept-hs256-public-key") && s == S::kAlgNotAllowed && alg == "HS256" && ctx.issuer_key) {
    // The confusion: the issuer's public key, as PEM text, used as the HMAC secret.
    if (auto key = ctx.issuer_key(iss, kid); key && t->signature == jose::hmac_sha256(key->public_pem(), t->signing_input))
      return accept();
  }
  if (on(d, "ignore-crit") && s == S::kCritUnsupported && ctx.issuer_key) {
    if (auto key = ctx.issuer_key(iss, kid); key && verifies(*key, *t)) return accept();
  }
  if ((on(d, "issuer-key-mixup") && (s == S::kKidUnknown || s == S::kSignatureInvalid)) ||
      (on(d, "untrusted-issuer-trusted-key") && s == S::kIssuerNotTrusted)) {
    if (ctx.any_trusted_key)
      for (const auto& key : ctx.any_trusted_key(kid))
        if (verifies(key, *t)) return accept();
  }
  if (on(d, "trust-token-issuer-discovery") && s == S::kIssuerNotTrusted && ctx.fetch && iss.rfind("http", 0) == 0) {
    const Json meta = Json::parse(ctx.fetch(iss + "/.well-known/openid-configuration"), nullptr, false);
    const Json set = meta.is_object() ? Json::parse(ctx.fetch(json_str(meta, "jwks_uri")), nullptr, false) : Json();
    if (set.is_object() && set.contains("keys") && set["keys"].is_array())
      for (const auto& jwk : set["keys"]) {
        std::string err;
        if (auto key = jose::Key::from_jwk(jwk, &err); key && key->kid() == kid && verifies(*key, *t)) return accept();
      }
  }
  const bool key_in_token_status = s == S::kKidUnknown || s == S::kSignatureInvalid || s == S::kKidMissing;
  if (on(d, "trust-embedded-jwk") && key_in_token_status && t->header.contains("jwk")) {
    std::string err;
    if (auto key = jose::Key::from_jwk(t->header["jwk"], &err); key && verifies(*key, *t)) return accept();
  }
  if (on(d, "trust-x5c") && key_in_token_status && t->header.contains("x5c") && t->header["x5c"].is_array() &&
      !t->header["x5c"].empty() && t->header["x5c"][0].is_string()) {
    if (auto key = key_of_cert(std_b64_decode(t->header["x5c"][0].get<std::string>()), alg); key && verifies(*key, *t)) return accept();
  }
  if (on(d, "trust-jku") && key_in_token_status && t->header.contains("jku") && ctx.fetch) {
    const Json set = Json::parse(ctx.fetch(json_str(t->header, "jku")), nullptr, false);
    if (set.is_object() && set.contains("keys") && set["keys"].is_array())
      for (const auto& jwk : set["keys"]) {
        std::string err;
        if (auto key = jose::Key::from_jwk(jwk, &err); key && verifies(*key, *t)) return accept();
      }
  }
  if (on(d, "trust-x5u") && key_in_token_status && t->header.contains("x5u") && ctx.fetch) {
    const std::string pem = ctx.fetch(json_str(t->header, "x5u"));
    const auto begin = pem.find("-----BEGIN CERTIFICATE-----");
    const auto end = pem.find("-----END CERTIFICATE-----");
    if (begin != std::string::npos && end != std::string::npos && end > begin) {
      std::string b64;
      for (char c : pem.substr(begin + 27, end - begin - 27))
        if (c != '\n' && c != '\r') b64 += c;
      if (auto key = key_of_cert(std_b64_decode(b64), alg); key && verifies(*key, *t)) return accept();
    }
  }
  return std::nullopt;
}

void on_claims(const AsDefects& d, Json& claims, const Json& subject_claims) {
  if (d.empty()) return;
  if (on(d, "copy-subject-jti") && subject_claims.contains("jti")) claims["jti"] = subject_claims["jti"];
  if (on(d, "constant-jti") && claims.contains("jti")) claims["jti"] = "txlab-constant-jti";
  if (on(d, "quirk-aud-string") && claims.contains("aud") && claims["aud"].is_array() && !claims["aud"].empty())
    claims["aud"] = claims["aud"][0];
}

void on_response(const AsDefects& d, Json& body) {
  if (d.empty()) return;
  if (on(d, "expires-in-string") && body.contains("expires_in")) body["expires_in"] = body["expires_in"].dump();
  if (on(d, "expires-in-mismatch") && body.contains("expires_in")) body["expires_in"] = 86400;
  if (on(d, "issued-type-refresh-label")) body["issued_token_type"] = "urn:ietf:params:oauth:token-type:refresh_token";
  if (on(d, "issued-type-id-token-label")) body["issued_token_type"] = "urn:ietf:params:oauth:token-type:id_token";
  if (on(d, "scope-as-array") && body.contains("scope") && body["scope"].is_string()) body["scope"] = Json::array({body["scope"]});
  if (on(d, "quirk-lowercase-bearer") && json_str(body, "token_type") == "Bearer") body["token_type"] = "bearer";
  if (on(d, "quirk-no-expires-in")) body.erase("expires_in");
  if (on(d, "quirk-extra-members")) {
    body["x_txlab_note"] = "extra members are ignored by clients";
    body["not_before_policy"] = 0;
  }
}

}  // namespace txlab::defects
