// JWS signing/verification on OpenSSL EVP, including the DER <-> R||S conversion for ES256.
#include "sim/jose/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "sim/jose/base64url.h"

namespace txlab::jose {
namespace {

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* digest_for(Alg alg) { return alg == Alg::kEdDSA ? nullptr : EVP_sha256(); }

// RFC 8725 §3.1 / §2.1: a key is bound to one algorithm; never let the token pick another.
bool key_allows(Alg key_alg, Alg alg) { return key_alg == alg; }

bool configure_pss(EVP_PKEY_CTX* pctx) {
  // RFC 7518 §3.5: PS256 = RSASSA-PSS with SHA-256, MGF1 with SHA-256, salt = hash length.
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0;
}

std::optional<std::string> der_to_raw(const unsigned char* der, size_t len) {
  const unsigned char* p = der;
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len));
  if (!sig) return std::nullopt;
  const BIGNUM *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string raw(64, '\0');
  BN_bn2binpad(r, reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return raw;
}

std::optional<std::string> raw_to_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  std::optional<std::string> out;
  if (len > 0) out = std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  return out;
}

}  // namespace

std::optional<std::string> sign_bytes(const Key& key, std::string_view input) {
  if (!key.has_private() || !is_asymmetric(key.alg())) return std::nullopt;
  MdCtx md;
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(md.ctx, &pctx, digest_for(key.alg()), nullptr, key.evp()) != 1)
    return std::nullopt;
  if (key.alg() == Alg::kPS256 && !configure_pss(pctx)) return std::nullopt;
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(md.ctx, nullptr, &len, in, input.size()) != 1) return std::nullopt;
  std::string sig(len, '\0');
  if (EVP_DigestSign(md.ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     input.size()) != 1)
    return std::nullopt;
  sig.resize(len);
  if (key.alg() == Alg::kES256) {
    return der_to_raw(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
  }
  return sig;
}

bool verify_bytes(const Key& key, Alg alg, std::string_view input, std::string_view signature) {
  if (!is_asymmetric(alg) || !key_allows(key.alg(), alg)) return false;
  std::string der;
  if (alg == Alg::kES256) {
    auto d = raw_to_der(signature);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  MdCtx md;
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(md.ctx, &pctx, digest_for(alg), nullptr, key.evp()) != 1) return false;
  if (alg == Alg::kPS256 && !configure_pss(pctx)) return false;
  return EVP_DigestVerify(md.ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

std::string sign_compact(const Key& key, const nlohmann::json& extra_header,
                         std::string_view payload) {
  nlohmann::json header = extra_header.is_object() ? extra_header : nlohmann::json::object();
  header["alg"] = std::string(to_string(key.alg()));
  if (!key.kid().empty()) header["kid"] = key.kid();
  std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload);
  auto sig = sign_bytes(key, input);
  if (!sig) throw std::runtime_error("JWS signing failed (no private key?)");
  input += ".";
  input += base64url_encode(*sig);
  return input;
}

std::optional<CompactParts> split_compact(std::string_view token) {
  const size_t d1 = token.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  const size_t d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return std::nullopt;
  CompactParts p;
  p.header_b64 = token.substr(0, d1);
  p.payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  p.signature_b64 = token.substr(d2 + 1);
  p.signing_input = token.substr(0, d2);
  return p;
}

}  // namespace txlab::jose
