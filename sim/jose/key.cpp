// Key generation, JWK import/export and RFC 7638 thumbprints with OpenSSL 3 EVP.
#include "sim/jose/key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sim/enum_names.h"
#include "sim/jose/base64url.h"

namespace txlab::jose {
namespace {

using Json = nlohmann::json;

struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

std::shared_ptr<EVP_PKEY> wrap(EVP_PKEY* p) { return {p, EVP_PKEY_free}; }

std::string bn_bytes(const BIGNUM* bn, int pad_to = 0) {
  const int n = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<size_t>(n), '\0');
  if (pad_to > 0) {
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), n);
  } else {
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  }
  return out;
}

BnPtr get_bn(EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return BnPtr(bn);
}

// Decodes a base64url member; empty optional when missing or malformed.
std::optional<std::string> member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) return std::nullopt;
  return base64url_decode(it->get<std::string>());
}

bool push_bn(OSSL_PARAM_BLD* bld, const char* name, const std::string& bytes,
             std::vector<BnPtr>& keep) {
  BIGNUM* bn = BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr);
  if (!bn) return false;
  keep.emplace_back(bn);
  return OSSL_PARAM_BLD_push_BN(bld, name, bn) == 1;
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld, bool priv) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx && params && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
      pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

bool public_key_is_valid(EVP_PKEY* pkey) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  const bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

std::optional<Key> fail(std::string* error, std::string msg) {
  if (error) *error = std::move(msg);
  return std::nullopt;
}

}  // namespace

constexpr EnumName<Alg> kAlgNames[] = {
    {Alg::kES256, "ES256"}, {Alg::kRS256, "RS256"}, {Alg::kPS256, "PS256"},
    {Alg::kEdDSA, "EdDSA"}, {Alg::kHS256, "HS256"}, {Alg::kNone, "none"},
};
static_assert(covers_in_order(kAlgNames, Alg::kNone));

std::optional<Alg> alg_from_string(std::string_view name) { return value_of(kAlgNames, name); }

std::string_view to_string(Alg alg) { return name_of(kAlgNames, alg, "?"); }

bool is_asymmetric(Alg alg) { return alg != Alg::kHS256 && alg != Alg::kNone; }

Key::Key(std::shared_ptr<EVP_PKEY> pkey, Alg alg, bool has_private)
    : pkey_(std::move(pkey)), alg_(alg), has_private_(has_private) {}

Key Key::generate(Alg alg) {
  EVP_PKEY* p = nullptr;
  switch (alg) {
    case Alg::kES256:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case Alg::kRS256:
    case Alg::kPS256:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
      break;
    case Alg::kEdDSA:
      p = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    default:
      throw std::runtime_error("cannot generate a key for " + std::string(to_string(alg)));
  }
  if (!p) throw std::runtime_error("OpenSSL key generation failed");
  Key k(wrap(p), alg, true);
  k.kid_ = k.thumbprint();
  return k;
}

namespace {
// A member that must be a string: "" when absent or of another type (never a type_error).
std::string string_member(const Json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

std::optional<Key> Key::from_jwk(const Json& jwk, std::string* error,
                                 std::optional<Alg> default_alg) {
  if (!jwk.is_object()) return fail(error, "JWK is not a JSON object");
  const auto kty = string_member(jwk, "kty");
  std::optional<Alg> alg = default_alg;
  if (auto it = jwk.find("alg"); it != jwk.end()) {
    if (!it->is_string()) return fail(error, "JWK alg is not a string");
    alg = alg_from_string(it->get<std::string>());
    if (!alg || !is_asymmetric(*alg)) return fail(error, "JWK alg not supported");
  }
  const bool priv = jwk.contains("d");
  EVP_PKEY* pkey = nullptr;

  if (kty == "EC") {
    if (string_member(jwk, "crv") != "P-256")
      return fail(error, "EC key: only crv P-256 is supported");
    auto x = member(jwk, "x"), y = member(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32)
      return fail(error, "EC key: x and y must be 32-byte base64url values");
    if (!alg) alg = Alg::kES256;
    if (*alg != Alg::kES256) return fail(error, "EC P-256 key used with a non-ES256 alg");
    std::string point = "\x04" + *x + *y;
    std::vector<BnPtr> keep;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    bool ok =
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) == 1;
    if (ok && priv) {
      auto d = member(jwk, "d");
      ok = d && d->size() == 32 && push_bn(bld, OSSL_PKEY_PARAM_PRIV_KEY, *d, keep);
    }
    if (ok) pkey = from_params("EC", bld, priv);
    OSSL_PARAM_BLD_free(bld);
  } else if (kty == "RSA") {
    auto n = member(jwk, "n"), e = member(jwk, "e");
    if (!n || !e || n->empty() || e->empty()) return fail(error, "RSA key: n and e required");
    if (!alg) alg = Alg::kRS256;
    if (*alg != Alg::kRS256 && *alg != Alg::kPS256)
      return fail(error, "RSA key used with a non-RSA alg");
    std::vector<BnPtr> keep;
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    bool ok = push_bn(bld, OSSL_PKEY_PARAM_RSA_N, *n, keep) &&
              push_bn(bld, OSSL_PKEY_PARAM_RSA_E, *e, keep);
    if (ok && priv) {
      const std::pair<const char*, const char*> parts[] = {
          {"d", OSSL_PKEY_PARAM_RSA_D},          {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
          {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},    {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
          {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2}, {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1}};
      for (const auto& [jname, pname] : parts) {
        auto v = member(jwk, jname);
        if (!v) {
          ok = false;
          break;
        }
        ok = ok && push_bn(bld, pname, *v, keep);
      }
    }
    if (ok) pkey = from_params("RSA", bld, priv);
    OSSL_PARAM_BLD_free(bld);
    if (pkey && EVP_PKEY_get_bits(pkey) < 2048) {
      EVP_PKEY_free(pkey);
      return fail(error, "RSA key shorter than 2048 bits (RFC 7518 §3.3)");
    }
  } else if (kty == "OKP") {
    if (string_member(jwk, "crv") != "Ed25519")
      return fail(error, "OKP key: only crv Ed25519 is supported");
    auto x = member(jwk, "x");
    if (!x || x->size() != 32) return fail(error, "OKP key: x must be 32 bytes");
    if (!alg) alg = Alg::kEdDSA;
    if (*alg != Alg::kEdDSA) return fail(error, "Ed25519 key used with a non-EdDSA alg");
    if (priv) {
      auto d = member(jwk, "d");
      if (!d || d->size() != 32) return fail(error, "OKP key: d must be 32 bytes");
      pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(d->data()), 32);
    } else {
      pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                         reinterpret_cast<const unsigned char*>(x->data()), 32);
    }
  } else {
    return fail(error, "unsupported kty '" + kty + "'");
  }

  if (!pkey) return fail(error, "key material rejected by OpenSSL");
  if (!public_key_is_valid(pkey)) {
    EVP_PKEY_free(pkey);
    return fail(error, "public key failed validation (not on curve or malformed)");
  }
  Key k(wrap(pkey), *alg, priv);
  if (auto it = jwk.find("kid"); it != jwk.end() && it->is_string()) {
    k.kid_ = it->get<std::string>();
  } else {
    k.kid_ = k.thumbprint();
  }
  return k;
}

Json Key::public_jwk() const {
  Json j;
  EVP_PKEY* p = pkey_.get();
  switch (alg_) {
    case Alg::kES256: {
      auto x = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_X), y = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_Y);
      j = {{"kty", "EC"},
           {"crv", "P-256"},
           {"x", base64url_encode(bn_bytes(x.get(), 32))},
           {"y", base64url_encode(bn_bytes(y.get(), 32))}};
      break;
    }
    case Alg::kRS256:
    case Alg::kPS256: {
      auto n = get_bn(p, OSSL_PKEY_PARAM_RSA_N), e = get_bn(p, OSSL_PKEY_PARAM_RSA_E);
      j = {{"kty", "RSA"},
           {"n", base64url_encode(bn_bytes(n.get()))},
           {"e", base64url_encode(bn_bytes(e.get()))}};
      break;
    }
    case Alg::kEdDSA: {
      std::string raw(32, '\0');
      size_t len = raw.size();
      EVP_PKEY_get_raw_public_key(p, reinterpret_cast<unsigned char*>(raw.data()), &len);
      raw.resize(len);
      j = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(raw)}};
      break;
    }
    default:
      break;
  }
  if (!kid_.empty()) j["kid"] = kid_;
  j["alg"] = std::string(to_string(alg_));
  j["use"] = "sig";
  return j;
}

std::string thumbprint_input(const Json& jwk) {
  // RFC 7638 §3.2: only the required members, lexicographic order, no whitespace.
  // nlohmann::json objects are ordered by key, so dump() yields exactly that.
  Json req = Json::object();
  const auto kty = string_member(jwk, "kty");
  const char* const* names = nullptr;
  static const char* const kEc[] = {"crv", "kty", "x", "y", nullptr};
  static const char* const kRsa[] = {"e", "kty", "n", nullptr};
  static const char* const kOkp[] = {"crv", "kty", "x", nullptr};
  if (kty == "EC")
    names = kEc;
  else if (kty == "RSA")
    names = kRsa;
  else if (kty == "OKP")
    names = kOkp;
  else
    return {};
  for (; *names; ++names) {
    if (auto it = jwk.find(*names); it != jwk.end()) req[*names] = *it;
  }
  return req.dump();
}

std::string Key::thumbprint() const {
  const std::string input = thumbprint_input(public_jwk());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data && n > 0 ? data : "", n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(bio);
  return out;
}

}  // namespace

std::string Key::public_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  if (PEM_write_bio_PUBKEY(bio, pkey_.get()) != 1) {
    BIO_free(bio);
    return {};
  }
  return bio_text(bio);
}

std::string Key::public_der() const {
  unsigned char* der = nullptr;
  const int n = i2d_PUBKEY(pkey_.get(), &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string Key::public_raw() const {
  EVP_PKEY* p = pkey_.get();
  switch (alg_) {
    case Alg::kES256: {
      auto x = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_X), y = get_bn(p, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!x || !y) return {};
      return std::string(1, '\x04') + bn_bytes(x.get(), 32) + bn_bytes(y.get(), 32);
    }
    case Alg::kRS256:
    case Alg::kPS256: {
      auto n = get_bn(p, OSSL_PKEY_PARAM_RSA_N);
      return n ? bn_bytes(n.get()) : std::string();
    }
    case Alg::kEdDSA: {
      std::string raw(32, '\0');
      size_t len = raw.size();
      if (EVP_PKEY_get_raw_public_key(p, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1)
        return {};
      raw.resize(len);
      return raw;
    }
    default:
      return {};
  }
}

std::string Key::self_signed_cert_der(const std::string& common_name) const {
  if (!has_private_) return {};
  std::unique_ptr<X509, decltype(&X509_free)> c(X509_new(), X509_free);
  if (!c) return {};
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 24 * 3600);
  X509_set_pubkey(c.get(), pkey_.get());
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(c.get(), name);
  // Ed25519 signs without a separate digest.
  const EVP_MD* md = alg_ == Alg::kEdDSA ? nullptr : EVP_sha256();
  if (X509_sign(c.get(), pkey_.get(), md) <= 0) return {};
  unsigned char* der = nullptr;
  const int n = i2d_X509(c.get(), &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::optional<Key> Key::from_pem(const std::string& pem, std::string* error, Alg rsa_alg) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return fail(error, "out of memory");
  bool priv = true;
  EVP_PKEY* p = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  if (!p) {
    priv = false;
    BIO_reset(bio);
    p = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  if (!p) return fail(error, "not a PEM private or public key");
  auto key = wrap(p);
  std::optional<Alg> alg;
  if (EVP_PKEY_is_a(p, "RSA")) {
    if (EVP_PKEY_get_bits(p) < 2048)
      return fail(error, "RSA keys below 2048 bits are refused (RFC 7518 §3.3)");
    alg = rsa_alg == Alg::kPS256 ? Alg::kPS256 : Alg::kRS256;
  } else if (EVP_PKEY_is_a(p, "ED25519")) {
    alg = Alg::kEdDSA;
  } else if (EVP_PKEY_is_a(p, "EC")) {
    char curve[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(p, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) ==
            1 &&
        (std::string(curve) == "prime256v1" || std::string(curve) == "P-256"))
      alg = Alg::kES256;
  }
  if (!alg) return fail(error, "unsupported key type (EC P-256, RSA >= 2048, Ed25519)");
  Key k(key, *alg, priv);
  k.kid_ = k.thumbprint();
  return k;
}

std::optional<Key> load_private_key_file(const std::string& path, std::string* error,
                                         std::optional<Alg> preferred) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return fail(error, path + ": cannot be read");
  if (S_ISLNK(st.st_mode)) return fail(error, path + ": is a symbolic link (refused)");
  if (!S_ISREG(st.st_mode)) return fail(error, path + ": not a regular file");
  if (st.st_size > 64 * 1024) return fail(error, path + ": larger than a key file can be (64 KiB)");
  std::ifstream in(path);
  if (!in) return fail(error, path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::optional<Key> key;
  std::string err;
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && s[first] == '{') {
    Json jwk = Json::parse(s, nullptr, false);
    if (!jwk.is_object()) return fail(error, path + ": not a JSON object (JWK)");
    key = Key::from_jwk(jwk, &err, preferred);
  } else {
    key = Key::from_pem(s, &err, preferred == Alg::kPS256 ? Alg::kPS256 : Alg::kRS256);
  }
  if (!key) return fail(error, path + ": " + err);
  if (!key->has_private())
    return fail(error, path + ": a public key cannot sign; give the private key");
  return key;
}

}  // namespace txlab::jose
