// Signing and verification keys on OpenSSL 3 (EVP_PKEY), their JWK form (RFC 7517, RFC 8037)
// and their RFC 7638 thumbprint, which txlab uses as `kid` by default.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

typedef struct evp_pkey_st EVP_PKEY;

namespace txlab::jose {

// JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1). kHS256 and kNone exist only so that
// verifiers can name and reject them; txlab never signs with them.
enum class Alg { kES256, kRS256, kPS256, kEdDSA, kHS256, kNone };

std::optional<Alg> alg_from_string(std::string_view name);
std::string_view to_string(Alg alg);
bool is_asymmetric(Alg alg);

class Key {
 public:
  // Generates a fresh key pair for `alg` (ES256: P-256, RS256/PS256: RSA-2048, EdDSA: Ed25519).
  // Throws std::runtime_error if OpenSSL fails (setup path only).
  static Key generate(Alg alg);
  // Imports a JWK (public, or private when it carries `d`). `alg` is taken from the JWK's
  // "alg" member if present, else from `default_alg`. Returns nullopt and sets *error on any
  // malformed, unsupported or weak key (RSA below 2048 bits, RFC 7518 §3.3).
  static std::optional<Key> from_jwk(const nlohmann::json& jwk, std::string* error,
                                     std::optional<Alg> default_alg = std::nullopt);

  Alg alg() const { return alg_; }
  const std::string& kid() const { return kid_; }
  void set_kid(std::string kid) { kid_ = std::move(kid); }
  bool has_private() const { return has_private_; }
  EVP_PKEY* evp() const { return pkey_.get(); }

  // Public JWK with kty, crv/x/y or n/e, plus kid, alg and use=sig.
  nlohmann::json public_jwk() const;
  // RFC 7638 §3: SHA-256 over the required members in lexicographic order, base64url.
  std::string thumbprint() const;
  // The public key as SubjectPublicKeyInfo: PEM text (ends with a newline) and DER bytes.
  // Attack probes use them as the HMAC secret of the RS/ES -> HS256 confusion.
  std::string public_pem() const;
  std::string public_der() const;
  // The raw public key: the uncompressed EC point (0x04 || x || y), the RSA modulus, or the
  // 32 Ed25519 bytes.
  std::string public_raw() const;
  // A self-signed X.509 certificate for this key (DER), for x5c header probes (RFC 7515 §4.1.6).
  // Empty when the key has no private part.
  std::string self_signed_cert_der(const std::string& common_name) const;
  // Imports a PEM private or public key (PKCS#8, traditional or SubjectPublicKeyInfo). The
  // algorithm follows the key type (EC P-256: ES256, RSA: RS256 unless `rsa_alg` says PS256,
  // Ed25519: EdDSA); kid is the RFC 7638 thumbprint. nullopt and *error on anything else.
  static std::optional<Key> from_pem(const std::string& pem, std::string* error,
                                     Alg rsa_alg = Alg::kRS256);

 private:
  Key(std::shared_ptr<EVP_PKEY> pkey, Alg alg, bool has_private);
  std::shared_ptr<EVP_PKEY> pkey_;
  Alg alg_;
  bool has_private_;
  std::string kid_;
};

// Reads a private key file: a JWK (JSON object with "d"; its kid is kept) or PEM (kid: the RFC
// 7638 thumbprint). Refuses symlinks, files over 64 KiB and public-only keys; nullopt and *error.
// `preferred` names the algorithm when the key does not (a JWK without "alg", an RSA PEM).
std::optional<Key> load_private_key_file(const std::string& path, std::string* error,
                                         std::optional<Alg> preferred = std::nullopt);

// The canonical JSON of RFC 7638 §3.2 (required members only, sorted, no whitespace).
std::string thumbprint_input(const nlohmann::json& public_jwk);

}  // namespace txlab::jose
