// Token acceptance under deliberate defects (conformance and attack self-checks only): after
// the strict verifier refused a subject or actor token, the shapes real verifiers get wrong may
// accept it anyway; over-strict verifiers may refuse what it accepted; validation caches may
// outlive exp. Each acceptance defect is one registered rule: its name, the slot it applies to,
// and the status of the strict verifier it excuses (see kSubjectRules, kActorRules).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <sstream>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "actors/as_defects.h"
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

namespace {

// One acceptance defect: after the strict verifier refused a token with status `s`, `accepts`
// returns the claims the defective verifier goes on with (nullopt: still refused).
using Accepts = std::optional<Json> (*)(const Token& t, const TokenContext& ctx, S s);
struct AcceptRule {
  std::string_view name;
  Accepts accepts;
};

std::optional<Json> claims_if(bool yes, const Token& t) {
  return yes ? std::optional<Json>(t.claims) : std::nullopt;
}

std::string hdr(const Token& t, const char* m) { return json_str(t.header, m); }

// A key the token itself names or carries verifies it (RFC 8725 §3.8's forgeries).
bool key_in_token_status(S s) {
  return s == S::kKidUnknown || s == S::kSignatureInvalid || s == S::kKidMissing;
}

bool verifies_with_set(const Json& set, const Token& t, const std::string& kid = {}) {
  if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) return false;
  for (const auto& jwk : set["keys"]) {
    std::string err;
    auto key = jose::Key::from_jwk(jwk, &err);
    if (key && (kid.empty() || key->kid() == kid) && verifies(*key, t)) return true;
  }
  return false;
}

std::optional<Json> leeway_half_hour(const Token& t, const TokenContext& ctx, S s) {
  if (s != S::kExpired && s != S::kNotYetValid) return std::nullopt;
  // A verifier whose leeway is half an hour (the strict one refused it with 30 s).
  const int64_t now = ctx.now_s;
  auto when = [&](const char* m) {
    return t.claims.contains(m) && t.claims[m].is_number_integer() ? t.claims[m].get<int64_t>()
                                                                   : now;
  };
  const int64_t exp = when("exp"), nbf = when("nbf");
  // Overflow-safe: exp and nbf may be any 64-bit value (the NumericDate probes send INT64_MIN).
  if (exp < now - 1800 || nbf > now + 1800) return std::nullopt;
  // ... and its lifetime rules see the token as still valid (as such a verifier would).
  Json claims = t.claims;
  if (exp < now) claims["exp"] = now + 60;
  return claims;
}

std::optional<Json> hs256_with_public_key(const Token& t, const TokenContext& ctx, S s) {
  if (s != S::kAlgNotAllowed || hdr(t, "alg") != "HS256" || !ctx.issuer_key) return std::nullopt;
  // The confusion: the issuer's public key, as PEM text, used as the HMAC secret.
  auto key = ctx.issuer_key(json_str(t.claims, "iss"), hdr(t, "kid"));
  return claims_if(key && t.signature == jose::hmac_sha256(key->public_pem(), t.signing_input), t);
}

std::optional<Json> crit_ignored(const Token& t, const TokenContext& ctx, S s) {
  if (s != S::kCritUnsupported || !ctx.issuer_key) return std::nullopt;
  auto key = ctx.issuer_key(json_str(t.claims, "iss"), hdr(t, "kid"));
  return claims_if(key && verifies(*key, t), t);
}

std::optional<Json> any_trusted_key(const Token& t, const TokenContext& ctx) {
  if (ctx.any_trusted_key)
    for (const auto& key : ctx.any_trusted_key(hdr(t, "kid")))
      if (verifies(key, t)) return t.claims;
  return std::nullopt;
}

std::optional<Json> issuer_discovery(const Token& t, const TokenContext& ctx, S s) {
  const std::string iss = json_str(t.claims, "iss");
  if (s != S::kIssuerNotTrusted || !ctx.fetch || iss.rfind("http", 0) != 0) return std::nullopt;
  const Json meta =
      Json::parse(ctx.fetch(iss + "/.well-known/openid-configuration"), nullptr, false);
  const Json set = meta.is_object()
                       ? Json::parse(ctx.fetch(json_str(meta, "jwks_uri")), nullptr, false)
                       : Json();
  return claims_if(verifies_with_set(set, t, hdr(t, "kid")), t);
}

std::optional<Json> embedded_jwk(const Token& t, const TokenContext&, S s) {
  if (!key_in_token_status(s) || !t.header.contains("jwk")) return std::nullopt;
  std::string err;
  auto key = jose::Key::from_jwk(t.header["jwk"], &err);
  return claims_if(key && verifies(*key, t), t);
}

std::optional<Json> embedded_x5c(const Token& t, const TokenContext&, S s) {
  if (!key_in_token_status(s) || !t.header.contains("x5c") || !t.header["x5c"].is_array() ||
      t.header["x5c"].empty() || !t.header["x5c"][0].is_string())
    return std::nullopt;
  auto key = key_of_cert(std_b64_decode(t.header["x5c"][0].get<std::string>()), hdr(t, "alg"));
  return claims_if(key && verifies(*key, t), t);
}

std::optional<Json> fetched_jku(const Token& t, const TokenContext& ctx, S s) {
  if (!key_in_token_status(s) || !t.header.contains("jku") || !ctx.fetch) return std::nullopt;
  return claims_if(verifies_with_set(Json::parse(ctx.fetch(hdr(t, "jku")), nullptr, false), t), t);
}

std::optional<Json> fetched_x5u(const Token& t, const TokenContext& ctx, S s) {
  if (!key_in_token_status(s) || !t.header.contains("x5u") || !ctx.fetch) return std::nullopt;
  const std::string pem = ctx.fetch(hdr(t, "x5u"));
  const auto begin = pem.find("-----BEGIN CERTIFICATE-----");
  const auto end = pem.find("-----END CERTIFICATE-----");
  if (begin == std::string::npos || end == std::string::npos || end <= begin) return std::nullopt;
  std::string b64;
  for (char c : pem.substr(begin + 27, end - begin - 27))
    if (c != '\n' && c != '\r') b64 += c;
  auto key = key_of_cert(std_b64_decode(b64), hdr(t, "alg"));
  return claims_if(key && verifies(*key, t), t);
}

// The subject token's acceptance defects, in the order they are tried.
constexpr AcceptRule kSubjectRules[] = {
    {"skip-subject-aud-check", [](const Token& t, const TokenContext&,
                                  S s) { return claims_if(s == S::kAudienceMismatch, t); }},
    {"accept-alg-none-subject",
     [](const Token& t, const TokenContext&, S s) { return claims_if(s == S::kAlgNone, t); }},
    {"skip-signature-check",
     [](const Token& t, const TokenContext&, S s) {
       return claims_if(s == S::kSignatureInvalid || s == S::kKidUnknown, t);
     }},
    {"trust-any-issuer", [](const Token& t, const TokenContext&,
                            S s) { return claims_if(s == S::kIssuerNotTrusted, t); }},
    {"accept-unknown-kid",
     [](const Token& t, const TokenContext&, S s) { return claims_if(s == S::kKidUnknown, t); }},
    {"accept-foreign-key-real-kid",
     [](const Token& t, const TokenContext& ctx, S s) {
       const std::string kid = hdr(t, "kid");
       return claims_if(s == S::kSignatureInvalid && !kid.empty() && ctx.issuer_key &&
                            ctx.issuer_key(json_str(t.claims, "iss"), kid),
                        t);
     }},
    {"accept-missing-kid",
     [](const Token& t, const TokenContext&, S s) {
       return claims_if(
           (s == S::kSignatureInvalid || s == S::kKidMissing) && !t.header.contains("kid"), t);
     }},
    {"alg-none-case-sensitive",
     [](const Token& t, const TokenContext&, S s) {
       return claims_if(s == S::kAlgNone && hdr(t, "alg") != "none", t);
     }},
    {"accept-empty-signature",
     [](const Token& t, const TokenContext&, S s) {
       return claims_if(s == S::kSignatureInvalid && t.signature_empty, t);
     }},
    {"jwt-type-skips-signature",
     [](const Token& t, const TokenContext& ctx, S s) {
       return claims_if(ctx.jwt_type && signature_status(s), t);
     }},
    {"jwt-type-skips-audience",
     [](const Token& t, const TokenContext& ctx, S s) {
       return claims_if(ctx.jwt_type && s == S::kAudienceMismatch, t);
     }},
    {"accept-not-yet-valid",
     [](const Token& t, const TokenContext&, S s) { return claims_if(s == S::kNotYetValid, t); }},
    {"leeway-thirty-minutes", leeway_half_hour},
    {"exp-string-accepted",
     [](const Token& t, const TokenContext&, S s) {
       return claims_if(
           s == S::kBadTimeClaim && t.claims.contains("exp") && t.claims["exp"].is_string(), t);
     }},
    {"accept-missing-exp",
     [](const Token& t, const TokenContext&, S s) { return claims_if(s == S::kExpMissing, t); }},
    {"accept-reissued-token",
     [](const Token& t, const TokenContext& ctx, S s) {
       bool ours = false;
       for (const auto& a : ctx.client_audiences)
         ours = ours || jose::audience_contains(t.claims.value("aud", Json()), a);
       return claims_if(s == S::kAudienceMismatch && ours, t);
     }},
    {"accept-hs256-public-key", hs256_with_public_key},
    {"ignore-crit", crit_ignored},
    {"issuer-key-mixup",
     [](const Token& t, const TokenContext& ctx, S s) {
       return s == S::kKidUnknown || s == S::kSignatureInvalid ? any_trusted_key(t, ctx)
                                                               : std::nullopt;
     }},
    {"untrusted-issuer-trusted-key",
     [](const Token& t, const TokenContext& ctx, S s) {
       return s == S::kIssuerNotTrusted ? any_trusted_key(t, ctx) : std::nullopt;
     }},
    {"trust-token-issuer-discovery", issuer_discovery},
    {"trust-embedded-jwk", embedded_jwk},
    {"trust-x5c", embedded_x5c},
    {"trust-jku", fetched_jku},
    {"trust-x5u", fetched_x5u},
};

// The actor token's acceptance defects.
constexpr AcceptRule kActorRules[] = {
    {"actor-skip-signature",
     [](const Token& t, const TokenContext&, S s) { return claims_if(signature_status(s), t); }},
    {"actor-accept-expired",
     [](const Token& t, const TokenContext&, S s) { return claims_if(s == S::kExpired, t); }},
    {"actor-trust-any-issuer", [](const Token& t, const TokenContext&,
                                  S s) { return claims_if(s == S::kIssuerNotTrusted, t); }},
    {"actor-jwt-alg-none", [](const Token& t, const TokenContext& ctx,
                              S s) { return claims_if(ctx.jwt_type && s == S::kAlgNone, t); }},
    {"actor-ignore-crit", crit_ignored},
};

std::optional<Json> from_validation_cache(const TokenContext& ctx, std::string_view token) {
  auto& c = validation_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.entries.find(std::string(token));
  if (it == c.entries.end()) return std::nullopt;
  Json claims = it->second;  // the cached verdict, and its lifetime as if still valid
  claims["exp"] = ctx.now_s + 60;
  return claims;
}

}  // namespace

std::optional<Json> accept_anyway(const AsDefects& d, const TokenContext& ctx,
                                  std::string_view token, const jose::VerifiedJwt& strict) {
  if (d.empty()) return std::nullopt;
  const bool subject = ctx.slot == Slot::kSubject;
  if (on(d, cache_defect(ctx)) && strict.status == S::kExpired)
    if (auto c = from_validation_cache(ctx, token)) return c;
  if (auto c = class_accept(d, subject ? "" : "actor-", ctx, token, strict.status)) return c;
  auto t = parse(token);
  if (!t) return std::nullopt;
  if (subject && numericdate_ignored(d, t->claims, strict.status)) {
    Json claims = t->claims;  // the careless parser read them as absent
    for (const char* m : {"exp", "nbf"})
      if (claims.contains(m) && (claims[m].is_number_float() ||
                                 (claims[m].is_number_integer() && claims[m].get<int64_t>() <= 0)))
        claims.erase(m);
    return claims;
  }
  const auto& rules = subject ? std::span<const AcceptRule>(kSubjectRules)
                              : std::span<const AcceptRule>(kActorRules);
  for (const auto& rule : rules)
    if (on(d, rule.name))
      if (auto claims = rule.accepts(*t, ctx, strict.status)) return claims;
  return std::nullopt;
}

std::optional<Json> edge_accept_anyway(
    const std::vector<std::string>& d, std::string_view token, const jose::VerifiedJwt& strict,
    const std::function<std::optional<jose::Key>(const std::string&, const std::string&)>& key) {
  if (!on(d, defect_name::kAlgFromHeader)) return std::nullopt;
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

}  // namespace txlab::defects
