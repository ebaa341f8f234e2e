// The seams where deliberate defects (conformance self-check only) bend the AS's behaviour.
#include "actors/as_defects.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/json_util.h"

namespace txlab {

bool is_known_defect(std::string_view name) {
  for (const auto& d : kAsDefects)
    if (d.name == name) return true;
  for (const auto& d : kAsQuirks)
    if (d.name == name) return true;
  for (const auto& d : kEdgeDefects)
    if (d.name == name) return true;
  return false;
}

}  // namespace txlab

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
  return alg && jose::is_asymmetric(*alg) &&
         jose::verify_bytes(key, *alg, t.signing_input, t.signature);
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
  return s == S::kSignatureInvalid || s == S::kKidUnknown || s == S::kKidMissing ||
         s == S::kAlgNone || s == S::kAlgNotAllowed;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// How a careless comparison sees two identifiers alike: one a prefix of the other, letter case
// and a trailing slash ignored.
bool loosely_equal(std::string a, std::string b) {
  a = lower(a);
  b = lower(b);
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return !a.empty() && !b.empty() && (a.rfind(b, 0) == 0 || b.rfind(a, 0) == 0);
}

// The first value of member `name` in a JSON object text (a first-wins parser's view).
std::optional<Json> first_member(const std::string& text, const std::string& name) {
  const std::string key = "\"" + name + "\"";
  const size_t at = text.find(key);
  if (at == std::string::npos) return std::nullopt;
  const size_t colon = text.find(':', at + key.size());
  if (colon == std::string::npos) return std::nullopt;
  size_t end = colon + 1;
  while (end < text.size() && text[end] != ',' && text[end] != '}') ++end;
  Json v = Json::parse(text.substr(colon + 1, end - colon - 1), nullptr, false);
  if (v.is_discarded()) return std::nullopt;
  return v;
}

// The P-256 group order (r and s must lie in [1, n-1]).
const unsigned char kOrder[32] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
                                  0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17,
                                  0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};
bool out_of_range(const std::string& half) {
  if (half.find_first_not_of('\0') == std::string::npos) return true;
  return half.size() == 32 && std::memcmp(half.data(), kOrder, 32) >= 0;
}

// ASN.1 DER ECDSA-Sig-Value to R || S of `width` octets each; "" when not DER.
std::string der_to_raw(const std::string& der, size_t width) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() < 8 || p[0] != 0x30 || p[1] != der.size() - 2) return {};
  std::string out;
  size_t i = 2;
  for (int n = 0; n < 2; ++n) {
    if (i + 2 > der.size() || p[i] != 0x02) return {};
    const size_t len = p[i + 1];
    if (i + 2 + len > der.size()) return {};
    std::string v = der.substr(i + 2, len);
    while (v.size() > width && v[0] == '\0') v.erase(0, 1);
    if (v.size() > width) return {};
    out += std::string(width - v.size(), '\0') + v;
    i += 2 + len;
  }
  return out;
}

// The bug-class defects, for the slot whose defects carry `prefix` ("" or "actor-"). The strict
// verifier refused the token with `s`; these accept it the way a careless verifier would.
std::optional<Json> class_accept(const AsDefects& d, const std::string& prefix,
                                 const TokenContext& ctx, std::string_view raw, S s) {
  auto is = [&](const char* name) { return on(d, prefix + name); };
  const std::string token(raw);
  // Serialization: extra segments ignored, the JSON serialization read as if compact.
  std::string compact = token;
  if (is("extra-segments-ignored") && s == S::kMalformed) {
    size_t dots = 0, third = std::string::npos;
    for (size_t i = 0; i < token.size(); ++i)
      if (token[i] == '.' && ++dots == 3) third = i;
    if (third != std::string::npos) compact = token.substr(0, third);
  }
  if (prefix.empty() && on(d, "jws-json-accepted") && s == S::kMalformed && !token.empty() &&
      token[0] == '{') {
    const Json j = Json::parse(token, nullptr, false);
    if (j.is_object())
      compact =
          json_str(j, "protected") + "." + json_str(j, "payload") + "." + json_str(j, "signature");
  }
  auto t = parse(compact);
  const auto split = jose::split_compact(compact);
  // A header or payload with duplicate members: the first one wins.
  Json header = t ? t->header : Json();
  Json claims = t ? t->claims : Json();
  const bool last_wins = on(d, "quirk-duplicate-members-last-wins") &&
                         (s == S::kBadPayloadJson || s == S::kBadHeaderJson);
  if (split &&
      (last_wins || (is("duplicate-claims-first-wins") && s == S::kBadPayloadJson) ||
       (prefix.empty() && on(d, "duplicate-header-first-wins") && s == S::kBadHeaderJson))) {
    const std::string htext = jose::base64url_decode(split->header_b64).value_or("");
    const std::string ptext = jose::base64url_decode(split->payload_b64).value_or("");
    header = Json::parse(htext, nullptr, false);
    claims = Json::parse(ptext, nullptr, false);
    if (header.is_discarded() || claims.is_discarded()) return std::nullopt;
    if (is("duplicate-claims-first-wins") && s == S::kBadPayloadJson)
      for (const char* m : {"exp", "iss", "aud", "nbf"})
        if (auto first = first_member(ptext, m)) claims[m] = *first;
    if (prefix.empty() && on(d, "duplicate-header-first-wins") && s == S::kBadHeaderJson)
      if (auto first = first_member(htext, "alg")) header["alg"] = *first;
  }
  if (!split || !header.is_object() || !claims.is_object()) return std::nullopt;
  const std::string input(split->signing_input);
  std::string sig = jose::base64url_decode(split->signature_b64).value_or("");
  if (prefix.empty() && on(d, "lenient-base64-signature") && s == S::kBadBase64) {
    // A decoder that skips padding and whitespace and takes the standard alphabet too.
    std::string norm;
    for (char c : split->signature_b64)
      if (c != '=' && c != ' ' && c != '\n') norm += c == '+' ? '-' : c == '/' ? '_' : c;
    sig = jose::base64url_decode(norm).value_or("");
  }
  const std::string alg = json_str(header, "alg"), kid = json_str(header, "kid");
  std::string iss = json_str(claims, "iss");
  // iss compared loosely: the trusted issuer it resembles speaks for it.
  if (is("iss-near-miss-accepted") && s == S::kIssuerNotTrusted)
    for (const auto& trusted : ctx.trusted_issuers)
      if (loosely_equal(iss, trusted)) iss = trusted;
  const bool aud_loose =
      prefix.empty() && on(d, "aud-near-miss-accepted") && s == S::kAudienceMismatch && [&] {
        const Json aud = claims.value("aud", Json());
        for (const auto& a : ctx.accepted_audiences)
          for (const auto& v : aud.is_array() ? aud : Json::array({aud}))
            if (v.is_string() && loosely_equal(v.get<std::string>(), a)) return true;
        return false;
      }();
  if (!ctx.issuer_key) return std::nullopt;
  auto key = ctx.issuer_key(iss, kid);
  if (!key) return std::nullopt;
  auto verified = [&](jose::Alg a, const std::string& signature) {
    return jose::verify_bytes(*key, a, input, signature);
  };
  const auto header_alg = jose::alg_from_string(alg);
  bool ok = header_alg && *header_alg == key->alg() && verified(key->alg(), sig);
  if (!ok && is("alg-from-key") &&
      (s == S::kKeyAlgMismatch || s == S::kAlgNotAllowed || s == S::kSignatureInvalid))
    ok = verified(key->alg(), sig);  // the key's algorithm, whatever the header says
  if (!ok && is("accept-psychic-signature") && alg == "ES256" && sig.size() == 64 &&
      (out_of_range(sig.substr(0, 32)) || out_of_range(sig.substr(32))))
    ok = true;  // CVE-2022-21449: the verifier never checked r, s in [1, n-1]
  if (!ok && prefix.empty() && on(d, "signature-trailing-bytes") && sig.size() > 64)
    ok = verified(key->alg(), sig.substr(0, sig.size() - 1));
  if (!ok && prefix.empty() && on(d, "accept-der-signature") && alg.rfind("ES", 0) == 0)
    if (std::string raw_sig = der_to_raw(sig, 32); !raw_sig.empty())
      ok = verified(key->alg(), raw_sig);
  if (!ok) return std::nullopt;
  const bool accepted_because = s == S::kMalformed || s == S::kBadBase64 ||
                                s == S::kBadHeaderJson || s == S::kBadPayloadJson ||
                                s == S::kKeyAlgMismatch || s == S::kAlgNotAllowed ||
                                s == S::kSignatureInvalid || s == S::kIssuerNotTrusted || aud_loose;
  if (!accepted_because) return std::nullopt;
  // Whatever the careless parser read must still look valid to it.
  if (claims.contains("exp") && claims["exp"].is_number() &&
      claims["exp"].get<double>() < static_cast<double>(ctx.now_s))
    return std::nullopt;
  if (last_wins) {
    // The legal reading (the lexically last member) gets every other check too.
    if (!claims.contains("exp") || !claims["exp"].is_number()) return std::nullopt;
    if (claims.contains("nbf") && (!claims["nbf"].is_number() ||
                                   claims["nbf"].get<double>() > static_cast<double>(ctx.now_s)))
      return std::nullopt;
    if (header.contains("crit")) return std::nullopt;
    if (ctx.slot == Slot::kSubject) {
      bool aud_ok = false;
      const Json aud = claims.value("aud", Json());
      for (const auto& a : ctx.accepted_audiences)
        aud_ok = aud_ok || jose::audience_contains(aud, a);
      if (!aud_ok) return std::nullopt;
    }
  }
  if (s == S::kAudienceMismatch && !aud_loose) return std::nullopt;
  return claims;
}

// An exp or nbf that is not a non-negative integer is treated as absent.
bool numericdate_ignored(const AsDefects& d, const Json& claims, S s) {
  if (!on(d, "numericdate-non-integer-ignored")) return false;
  if (s != S::kExpired && s != S::kNotYetValid && s != S::kBadTimeClaim) return false;
  for (const char* m : {"exp", "nbf"}) {
    if (!claims.contains(m)) continue;
    const Json& v = claims[m];
    if (v.is_number_float() || (v.is_number_integer() && v.get<int64_t>() <= 0)) return true;
  }
  return false;
}

// The validation cache of the cache defects: token -> claims, never expired by exp.
struct ValidationCache {
  std::mutex mu;
  std::map<std::string, Json> entries;
  static constexpr size_t kMax = 4096;  // bounded; further tokens are not remembered
};
ValidationCache& validation_cache() {
  static ValidationCache c;
  return c;
}
const char* cache_defect(const TokenContext& ctx) {
  return ctx.slot == Slot::kSubject ? "validation-cache-outlives-exp"
                                    : "actor-validation-cache-outlives-exp";
}

}  // namespace

bool refuse_anyway(const AsDefects& d, const TokenContext& ctx, std::string_view token,
                   const Json& claims) {
  if (d.empty()) return false;
  auto t = parse(token);
  if (!t) return false;
  const bool subject = ctx.slot == Slot::kSubject;
  if (subject && on(d, "typ-compared-exactly") && json_str(t->header, "typ") != "at+jwt" &&
      json_str(t->header, "typ") != "JWT")
    return true;
  if (on(d, subject ? "unknown-claims-refused" : "actor-unknown-claims-refused")) {
    static const std::vector<std::string> known = {
        "iss", "sub",     "aud",       "exp", "nbf", "iat",       "jti", "scope",
        "act", "may_act", "client_id", "azp", "cnf", "auth_time", "acr", "amr"};
    for (auto it = claims.begin(); it != claims.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) return true;
    static const std::vector<std::string> known_header = {"alg", "kid", "typ", "crit"};
    for (auto it = t->header.begin(); it != t->header.end(); ++it)
      if (std::find(known_header.begin(), known_header.end(), it.key()) == known_header.end())
        return true;
  }
  return false;
}

void on_accepted(const AsDefects& d, const TokenContext& ctx, std::string_view token,
                 Json& claims) {
  if (!on(d, cache_defect(ctx))) return;
  auto& c = validation_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (auto it = c.entries.find(std::string(token)); it != c.entries.end()) {
    claims = it->second;  // the cached verdict, its lifetime counted from the cache
    claims["exp"] = ctx.now_s + 60;
  } else if (c.entries.size() < ValidationCache::kMax) {
    c.entries.emplace(std::string(token), claims);
  }
}

std::optional<Json> accept_anyway(const AsDefects& d, const TokenContext& ctx,
                                  std::string_view token, const jose::VerifiedJwt& strict) {
  if (d.empty()) return std::nullopt;
  if (on(d, cache_defect(ctx)) && strict.status == S::kExpired) {
    auto& c = validation_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (auto it = c.entries.find(std::string(token)); it != c.entries.end()) {
      Json claims = it->second;  // the cached verdict, and its lifetime as if still valid
      claims["exp"] = ctx.now_s + 60;
      return claims;
    }
  }
  if (auto c =
          class_accept(d, ctx.slot == Slot::kSubject ? "" : "actor-", ctx, token, strict.status))
    return c;
  auto t = parse(token);
  if (!t) return std::nullopt;
  const S s = strict.status;
  if (ctx.slot == Slot::kSubject && numericdate_ignored(d, t->claims, s)) {
    Json claims = t->claims;  // the careless parser read them as absent
    for (const char* m : {"exp", "nbf"})
      if (claims.contains(m) && (claims[m].is_number_float() ||
                                 (claims[m].is_number_integer() && claims[m].get<int64_t>() <= 0)))
        claims.erase(m);
    return claims;
  }
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
  if (on(d, "skip-signature-check") && (s == S::kSignatureInvalid || s == S::kKidUnknown))
    return accept();
  if (on(d, "trust-any-issuer") && s == S::kIssuerNotTrusted) return accept();
  if (on(d, "accept-unknown-kid") && s == S::kKidUnknown) return accept();
  if (on(d, "accept-foreign-key-real-kid") && s == S::kSignatureInvalid && !kid.empty() &&
      ctx.issuer_key && ctx.issuer_key(iss, kid))
    return accept();
  if (on(d, "accept-missing-kid") && (s == S::kSignatureInvalid || s == S::kKidMissing) &&
      !t->header.contains("kid"))
    return accept();
  if (on(d, "alg-none-case-sensitive") && s == S::kAlgNone && alg != "none") return accept();
  if (on(d, "accept-empty-signature") && s == S::kSignatureInvalid && t->signature_empty)
    return accept();
  if (on(d, "jwt-type-skips-signature") && ctx.jwt_type && signature_status(s)) return accept();
  if (on(d, "jwt-type-skips-audience") && ctx.jwt_type && s == S::kAudienceMismatch)
    return accept();
  if (on(d, "accept-not-yet-valid") && s == S::kNotYetValid) return accept();
  if (on(d, "leeway-thirty-minutes") && (s == S::kExpired || s == S::kNotYetValid)) {
    // A verifier whose leeway is half an hour (the strict one refused it with 30 s).
    const int64_t now = ctx.now_s;
    const auto exp = t->claims.contains("exp") && t->claims["exp"].is_number_integer()
                         ? t->claims["exp"].get<int64_t>()
                         : now;
    const auto nbf = t->claims.contains("nbf") && t->claims["nbf"].is_number_integer()
                         ? t->claims["nbf"].get<int64_t>()
                         : now;
    // Overflow-safe: exp and nbf may be any 64-bit value (the NumericDate probes send INT64_MIN).
    if (exp >= now - 1800 && nbf <= now + 1800) {
      // ... and its lifetime rules see the token as still valid (as such a verifier would).
      Json claims = t->claims;
      if (exp < now) claims["exp"] = now + 60;
      return claims;
    }
  }
  if (on(d, "exp-string-accepted") && s == S::kBadTimeClaim && t->claims.contains("exp") &&
      t->claims["exp"].is_string())
    return accept();
  if (on(d, "accept-missing-exp") && s == S::kExpMissing) return accept();
  if (on(d, "accept-reissued-token") && s == S::kAudienceMismatch) {
    for (const auto& a : ctx.client_audiences)
      if (jose::audience_contains(t->claims.value("aud", Json()), a)) return accept();
  }
  if (on(d, "accept-hs256-public-key") && s == S::kAlgNotAllowed && alg == "HS256" &&
      ctx.issuer_key) {
    // The confusion: the issuer's public key, as PEM text, used as the HMAC secret.
    if (auto key = ctx.issuer_key(iss, kid);
        key && t->signature == jose::hmac_sha256(key->public_pem(), t->signing_input))
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
  if (on(d, "trust-token-issuer-discovery") && s == S::kIssuerNotTrusted && ctx.fetch &&
      iss.rfind("http", 0) == 0) {
    const Json meta =
        Json::parse(ctx.fetch(iss + "/.well-known/openid-configuration"), nullptr, false);
    const Json set = meta.is_object()
                         ? Json::parse(ctx.fetch(json_str(meta, "jwks_uri")), nullptr, false)
                         : Json();
    if (set.is_object() && set.contains("keys") && set["keys"].is_array())
      for (const auto& jwk : set["keys"]) {
        std::string err;
        if (auto key = jose::Key::from_jwk(jwk, &err);
            key && key->kid() == kid && verifies(*key, *t))
          return accept();
      }
  }
  const bool key_in_token_status =
      s == S::kKidUnknown || s == S::kSignatureInvalid || s == S::kKidMissing;
  if (on(d, "trust-embedded-jwk") && key_in_token_status && t->header.contains("jwk")) {
    std::string err;
    if (auto key = jose::Key::from_jwk(t->header["jwk"], &err); key && verifies(*key, *t))
      return accept();
  }
  if (on(d, "trust-x5c") && key_in_token_status && t->header.contains("x5c") &&
      t->header["x5c"].is_array() && !t->header["x5c"].empty() && t->header["x5c"][0].is_string()) {
    if (auto key = key_of_cert(std_b64_decode(t->header["x5c"][0].get<std::string>()), alg);
        key && verifies(*key, *t))
      return accept();
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
      if (auto key = key_of_cert(std_b64_decode(b64), alg); key && verifies(*key, *t))
        return accept();
    }
  }
  return std::nullopt;
}

std::vector<std::string> on_form(const AsDefects& d, http::FormParams& form) {
  std::vector<std::string> unchecked;
  if (d.empty()) return unchecked;
  auto has = [&](const char* name) {
    return std::any_of(form.begin(), form.end(), [&](const auto& kv) { return kv.first == name; });
  };
  auto erase = [&](const char* name) {
    form.erase(
        std::remove_if(form.begin(), form.end(), [&](const auto& kv) { return kv.first == name; }),
        form.end());
  };
  if (on(d, "token-type-prefix-match"))
    for (auto& [k, v] : form)
      if (k == "subject_token_type" && v != "urn:ietf:params:oauth:token-type:access_token" &&
          (v.find("access_token") != std::string::npos ||
           std::string("urn:ietf:params:oauth:token-type:access_token").rfind(v, 0) == 0))
        v = "urn:ietf:params:oauth:token-type:access_token";  // compared by substring or prefix
  if (on(d, "ignore-actor-token-type") && has("actor_token") && !has("actor_token_type"))
    form.emplace_back("actor_token_type", "urn:ietf:params:oauth:token-type:access_token");
  if (on(d, "ignore-requested-token-type")) erase("requested_token_type");
  if (on(d, "accept-relative-resource")) {
    unchecked = http::form_values(form, "resource");
    erase("resource");
  }
  return unchecked;
}

void on_targets(const AsDefects& d, const std::vector<std::string>& requested,
                ClientRegistration& client) {
  if (on(d, "allow-forbidden-audience"))
    client.audiences.insert(client.audiences.end(), requested.begin(), requested.end());
}

void before_decide(const AsDefects& d, const ClientRegistration& client,
                   std::vector<std::string>* requested_scope, Json& subject) {
  if (d.empty()) return;
  if (on(d, "ignore-may-act")) subject.erase("may_act");
  if (on(d, "drop-prior-act")) subject.erase("act");
  if (on(d, "accept-expired-subject")) subject.erase("exp");
  if (on(d, "widen-scope") || on(d, "grant-requested-scope")) {
    std::string all;
    for (const auto& sc : client.scopes) all += (all.empty() ? "" : " ") + sc;
    subject["scope"] = all;
  }
  if (on(d, "narrow-scope-silently") && requested_scope) {
    std::vector<std::string> held;
    std::istringstream in(json_str(subject, "scope"));
    for (std::string t; in >> t;) held.push_back(t);
    std::vector<std::string> narrowed;
    for (const auto& t : *requested_scope)
      if (std::find(held.begin(), held.end(), t) != held.end() &&
          std::find(client.scopes.begin(), client.scopes.end(), t) != client.scopes.end())
        narrowed.push_back(t);
    *requested_scope = narrowed;
  }
}

void after_decide(const AsDefects& d, bool scope_was_narrowed, Json& act, bool& report_scope) {
  if (d.empty()) return;
  if (on(d, "drop-act")) act = Json();
  if (on(d, "narrow-scope-silently") && scope_was_narrowed) report_scope = false;
}

void on_bad_token_error(const AsDefects& d, TokenError& error) {
  if (on(d, "quirk-invalid-request-for-bad-subject")) error = TokenError::kInvalidRequest;
}

void on_refusal(const AsDefects& d, oauth::Status status, TokenError& error) {
  if (d.empty()) return;
  if (on(d, "server-error-on-missing-subject") && status == oauth::Status::kMissingSubjectToken)
    error = TokenError::kServerError;
  if (on(d, "wrong-error-missing-type") && status == oauth::Status::kMissingSubjectTokenType)
    error = TokenError::kInvalidGrant;
  if (on(d, "unsupported-grant-as-invalid-request") &&
      status == oauth::Status::kUnsupportedGrantType)
    error = TokenError::kInvalidRequest;
}

std::string access_token_typ(const AsDefects& d) { return on(d, "typ-missing") ? "" : "at+jwt"; }

void on_subject_policy(const AsDefects& d, jose::VerifyPolicy& policy) {
  if (on(d, "quirk-strict-time-window")) policy.leeway_s = 0;
  if (on(d, "accept-expired-subject")) policy.leeway_s = int64_t{1} << 40;
}

void on_reply(const AsDefects& d, ReplyHeaders& h) {
  if (d.empty()) return;
  if (on(d, "no-cache-control")) h.cache_headers = false;
  if (on(d, "quirk-cache-control-no-cache-no-store")) h.cache_control = "no-cache, no-store";
  if (on(d, "text-plain-response")) h.content_type = "text/plain";
}

void on_client_error(const AsDefects& d, bool unknown_client, bool basic_attempted, int& status,
                     bool& challenge) {
  if (on(d, "quirk-post-failure-400") && !basic_attempted) {
    status = 400;
    challenge = false;
  }
  if (on(d, "invalid-client-400")) {
    status = 400;
    challenge = false;
  }
  if (on(d, "unknown-client-no-challenge") && unknown_client) challenge = false;
}

std::string description(const AsDefects& d, const std::string& raw) {
  return on(d, "raw-error-description") ? raw : safe_error_description(raw);
}

void undecode_names(const std::string& body, http::FormParams& form) {
  // The deliberate defect: names taken as sent (a decoder that forgot them).
  size_t start = 0;
  for (auto& [name, value] : form) {
    const size_t amp = body.find('&', start);
    const std::string pair = body.substr(start, amp == std::string::npos ? amp : amp - start);
    name = pair.substr(0, pair.find('='));
    start = amp == std::string::npos ? body.size() : amp + 1;
  }
}

std::optional<std::string> unknown_parameter(const http::FormParams& form) {
  static const std::set<std::string> known = {"grant_type",
                                              "subject_token",
                                              "subject_token_type",
                                              "actor_token",
                                              "actor_token_type",
                                              "requested_token_type",
                                              "audience",
                                              "resource",
                                              "scope",
                                              "client_id",
                                              "client_secret",
                                              "client_assertion",
                                              "client_assertion_type",
                                              "refresh_token",
                                              "dpop_jkt",
                                              "tls_x5t_s256"};
  for (const auto& [name, value] : form)
    if (!known.count(name)) return name;
  return std::nullopt;
}

bool accepts_duplicate_parameters(const AsDefects& d) { return on(d, "accept-duplicate-params"); }

bool jwks_keeps_withdrawn_keys(const AsDefects& d) { return on(d, "jwks-keeps-withdrawn-keys"); }

std::vector<Json> extra_jwks_keys(const AsDefects& d) {
  if (!on(d, "quirk-jwks-other-keys")) return {};
  static const Json enc = [] {
    Json k = jose::Key::generate(jose::Alg::kRS256).public_jwk();
    k["kid"] = "txlab-quirk-encryption-key";
    k["use"] = "enc";
    k.erase("alg");
    return k;
  }();
  return {enc};
}

bool oversized_token_500(const AsDefects& d) { return on(d, "oversized-token-500"); }
bool basic_failure_falls_back_to_body(const AsDefects& d) {
  return on(d, "basic-failure-falls-back-to-body");
}
bool client_id_case_insensitive(const AsDefects& d) { return on(d, "client-id-case-insensitive"); }
bool client_id_from_body(const AsDefects& d) { return on(d, "client-id-from-body"); }

bool grant_check_skipped(const AsDefects& d, std::string_view grant) {
  return grant == "token-exchange" && on(d, "exchange-without-grant");
}

void on_basic_credentials(const AsDefects& d, std::string_view authorization, std::string& id,
                          std::string& secret) {
  if (!on(d, "basic-not-urldecoded")) return;
  // The defect: the credentials are compared as sent, without RFC 6749 §2.3.1 decoding.
  auto raw = http::base64_decode(authorization.substr(std::min<size_t>(6, authorization.size())));
  const size_t colon = raw ? raw->find(':') : std::string::npos;
  if (colon == std::string::npos) return;
  id = raw->substr(0, colon);
  secret = raw->substr(colon + 1);
}

bool secret_accepted_anyway(const AsDefects& d, bool post, const std::string& secret,
                            const std::string& registered) {
  return (on(d, "accept-empty-secret") && secret.empty()) ||
         (on(d, "post-secret-unchecked") && post) ||
         (on(d, "secret-prefix-compare") && !secret.empty() && registered.rfind(secret, 0) == 0);
}

void on_edge_policy(const std::vector<std::string>& d, jose::VerifyPolicy& policy) {
  if (on(d, "skip-aud")) policy.require_audience = false;
}

bool edge_jwks_union(const std::vector<std::string>& d) { return on(d, "jwks-union"); }
bool dpop_excused(const AsDefects& d, jose::dpop::Status s) {
  return (s == jose::dpop::Status::kHtuMismatch && on(d, "dpop-htu-unchecked")) ||
         (s == jose::dpop::Status::kIatOutOfWindow && on(d, "dpop-iat-unchecked"));
}
bool edge_dpop_bearer_accepted(const std::vector<std::string>& d) {
  return on(d, "dpop-bearer-accepted");
}
bool edge_dpop_proof_unchecked(const std::vector<std::string>& d) {
  return on(d, "dpop-proof-unchecked");
}
bool edge_mtls_binding_unchecked(const std::vector<std::string>& d) {
  return on(d, "mtls-binding-unchecked");
}
bool tls_chain_unchecked(const AsDefects& d) { return on(d, "tls-chain-unchecked"); }
bool rejects_unknown_parameters(const AsDefects& d) { return on(d, "reject-unknown-parameters"); }
bool keeps_empty_parameters(const AsDefects& d) { return on(d, "keep-empty-parameters"); }
bool form_names_not_decoded(const AsDefects& d) { return on(d, "form-names-not-decoded"); }
bool content_type_exact(const AsDefects& d) { return on(d, "content-type-exact"); }
bool accepts_missing_sub(const AsDefects& d) { return on(d, "accept-missing-sub"); }
bool basic_scheme_case_sensitive(const AsDefects& d) {
  return on(d, "basic-scheme-case-sensitive");
}
bool malformed_body_500(const AsDefects& d) { return on(d, "malformed-body-500"); }
bool dpop_bound_unenforced(const AsDefects& d) { return on(d, "dpop-bound-unenforced"); }
bool mtls_thumbprint_of_key(const AsDefects& d) { return on(d, "mtls-thumbprint-of-key"); }

std::optional<Json> edge_accept_anyway(
    const std::vector<std::string>& d, std::string_view token, const jose::VerifiedJwt& strict,
    const std::function<std::optional<jose::Key>(const std::string&, const std::string&)>& key) {
  if (!on(d, "alg-from-header")) return std::nullopt;
  auto t = parse(token);
  if (!t) return std::nullopt;
  const std::string alg = json_str(t->header, "alg");
  // The defect: the header picks the algorithm; none passes, HS256 is checked with the
  // issuer's public JWK text as the secret (the RS/ES -> HS confusion).
  if (strict.status == S::kAlgNone) return t->claims;
  if (strict.status == S::kAlgNotAllowed && alg == "HS256" && key) {
    auto k = key(json_str(t->claims, "iss"), json_str(t->header, "kid"));
    if (k && t->signature == jose::hmac_sha256(k->public_jwk().dump(), t->signing_input))
      return t->claims;
  }
  return std::nullopt;
}

void on_claims(const AsDefects& d, Json& claims, const Json& subject_claims,
               const std::string& client_id) {
  if (d.empty()) return;
  if (on(d, "missing-jti-client-id")) {
    claims.erase("jti");
    claims.erase("client_id");
  }
  if (on(d, "sub-from-client") && !client_id.empty() && claims.contains("sub_id"))
    claims["sub"] = client_id;
  if (on(d, "copy-subject-jti") && subject_claims.contains("jti"))
    claims["jti"] = subject_claims["jti"];
  if (on(d, "constant-jti") && claims.contains("jti")) claims["jti"] = "txlab-constant-jti";
  if (on(d, "client-id-of-subject") && subject_claims.contains("client_id"))
    claims["client_id"] = subject_claims["client_id"];
  if (on(d, "quirk-aud-string") && claims.contains("aud") && claims["aud"].is_array() &&
      !claims["aud"].empty())
    claims["aud"] = claims["aud"][0];
}

void on_response(const AsDefects& d, Json& body) {
  if (d.empty()) return;
  if (on(d, "expires-in-string") && body.contains("expires_in"))
    body["expires_in"] = body["expires_in"].dump();
  if (on(d, "expires-in-mismatch") && body.contains("expires_in")) body["expires_in"] = 86400;
  if (on(d, "quirk-refresh-token-in-exchange"))
    body["refresh_token"] = "txlab-quirk-refresh-" + json_str(body, "access_token").substr(0, 12);
  if (on(d, "issued-type-refresh-label"))
    body["issued_token_type"] = "urn:ietf:params:oauth:token-type:refresh_token";
  if (on(d, "issued-type-id-token-label"))
    body["issued_token_type"] = "urn:ietf:params:oauth:token-type:id_token";
  if (on(d, "scope-as-array") && body.contains("scope") && body["scope"].is_string())
    body["scope"] = Json::array({body["scope"]});
  if (on(d, "wrong-token-type")) body["token_type"] = "mac";
  if (on(d, "dpop-token-type-bearer") && body.value("token_type", "") == "DPoP")
    body["token_type"] = "Bearer";
  if (on(d, "omit-issued-token-type")) body.erase("issued_token_type");
  if (on(d, "quirk-lowercase-bearer") && json_str(body, "token_type") == "Bearer")
    body["token_type"] = "bearer";
  if (on(d, "quirk-no-expires-in")) body.erase("expires_in");
  if (on(d, "quirk-extra-members")) {
    body["x_txlab_note"] = "extra members are ignored by clients";
    body["not_before_policy"] = 0;
  }
}

}  // namespace txlab::defects
