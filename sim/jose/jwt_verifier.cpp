// JwtVerifier: the ordered checks of RFC 7515 §5.2 and RFC 7519 §7.2 plus RFC 8725/9068 hygiene.
#include "sim/jose/jwt_verifier.h"

#include <cmath>

#include <algorithm>
#include <cctype>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sim/enum_names.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"

namespace txlab::jose {

using Json = nlohmann::json;

constexpr EnumName<VerifyStatus> kVerifyStatusNames[] = {
    {VerifyStatus::kOk, "ok", "token is valid"},
    {VerifyStatus::kTokenTooLarge, "token_too_large", "token exceeds the size limit"},
    {VerifyStatus::kMalformed, "malformed", "token is not a compact JWS (three base64url parts)"},
    {VerifyStatus::kBadBase64, "bad_base64", "token part is not valid base64url"},
    {VerifyStatus::kBadHeaderJson, "bad_header_json", "JOSE header is not a valid JSON object"},
    {VerifyStatus::kBadPayloadJson, "bad_payload_json", "JWT claims are not a valid JSON object"},
    {VerifyStatus::kAlgNone, "alg_none", "unsecured JWTs (alg none) are not accepted"},
    {VerifyStatus::kAlgNotAllowed, "alg_not_allowed", "signature algorithm is not allowed"},
    {VerifyStatus::kCritUnsupported, "crit_unsupported",
     "token requires unsupported critical extensions"},
    {VerifyStatus::kTypMismatch, "typ_mismatch", "token type (typ) is not the expected one"},
    {VerifyStatus::kIssuerMissing, "issuer_missing", "token has no issuer"},
    {VerifyStatus::kIssuerNotTrusted, "issuer_not_trusted", "token issuer is not trusted here"},
    {VerifyStatus::kKidMissing, "kid_missing",
     "token has no key id and the issuer has several keys"},
    {VerifyStatus::kKidUnknown, "kid_unknown", "token key id is not among the issuer's keys"},
    {VerifyStatus::kKeysUnavailable, "keys_unavailable", "issuer keys could not be fetched"},
    {VerifyStatus::kKeyAlgMismatch, "key_alg_mismatch", "key is bound to a different algorithm"},
    {VerifyStatus::kSignatureInvalid, "signature_invalid", "signature verification failed"},
    {VerifyStatus::kExpMissing, "exp_missing", "token has no expiry"},
    {VerifyStatus::kExpired, "expired", "token is expired"},
    {VerifyStatus::kNotYetValid, "not_yet_valid", "token is not yet valid"},
    {VerifyStatus::kIssuedInFuture, "issued_in_future", "token was issued in the future"},
    {VerifyStatus::kBadTimeClaim, "bad_time_claim", "a time claim is not a number"},
    {VerifyStatus::kAudienceMissing, "audience_missing", "token has no audience"},
    {VerifyStatus::kAudienceMismatch, "audience_mismatch",
     "token audience does not include this recipient"},
};
static_assert(covers_in_order(kVerifyStatusNames, VerifyStatus::kAudienceMismatch));

std::string_view to_string(VerifyStatus s) { return name_of(kVerifyStatusNames, s, "unknown"); }

std::string_view describe(VerifyStatus s) {
  return description_of(kVerifyStatusNames, s, "unknown");
}

KeyLookup StaticKeySource::find(const std::string& kid) {
  KeyLookup out;
  out.key_count = keys_.size();
  if (kid.empty()) {
    if (keys_.size() == 1) out.key = keys_.front();
    return out;
  }
  for (const auto& k : keys_) {
    if (k.kid() == kid) {
      out.key = k;
      break;
    }
  }
  return out;
}

std::optional<Json> parse_strict_object(std::string_view text, int max_depth) {
  // Each open object keeps the set of member names seen so far.
  std::vector<std::vector<std::string>> seen;
  bool bad = false;
  auto cb = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > max_depth) bad = true;
    switch (event) {
      case Json::parse_event_t::object_start:
        seen.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!seen.empty()) seen.pop_back();
        break;
      case Json::parse_event_t::key: {
        if (!seen.empty()) {
          auto& names = seen.back();
          const auto& name = parsed.get_ref<const std::string&>();
          if (std::find(names.begin(), names.end(), name) != names.end()) bad = true;
          names.push_back(name);
        }
        break;
      }
      default:
        break;
    }
    return !bad;
  };
  Json j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (bad || j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

bool audience_contains(const Json& aud, const std::string& value) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == value;
  if (aud.is_array()) {
    for (const auto& a : aud)
      if (a.is_string() && a.get_ref<const std::string&>() == value) return true;
  }
  return false;
}

std::optional<std::pair<Json, Json>> decode_unverified(std::string_view token) {
  auto parts = split_compact(token);
  if (!parts) return std::nullopt;
  auto h = base64url_decode(parts->header_b64);
  auto p = base64url_decode(parts->payload_b64);
  if (!h || !p) return std::nullopt;
  auto hj = parse_strict_object(*h);
  auto pj = parse_strict_object(*p);
  if (!hj || !pj) return std::nullopt;
  return std::make_pair(std::move(*hj), std::move(*pj));
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool typ_matches(const std::string& actual, const std::string& expected) {
  std::string a = lower(actual);
  const std::string e = lower(expected);
  if (a.rfind("application/", 0) == 0) a = a.substr(12);
  return a == e;
}

VerifiedJwt fail(VerifyStatus s, std::string detail = {});

}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

namespace {

VerifiedJwt fail(VerifyStatus s, std::string detail) {
  VerifiedJwt v;
  v.status = s;
  v.detail = std::move(detail);
  return v;
}

}  // namespace

VerifiedJwt JwtVerifier::verify(std::string_view token) const {
  return verify(token, policy_.audiences);
}

VerifiedJwt JwtVerifier::verify(std::string_view token,
                                const std::vector<std::string>& audiences) const {
  if (token.size() > policy_.max_token_bytes) return fail(VerifyStatus::kTokenTooLarge);
  auto parts = split_compact(token);
  if (!parts) return fail(VerifyStatus::kMalformed);
  auto header_raw = base64url_decode(parts->header_b64);
  auto payload_raw = base64url_decode(parts->payload_b64);
  auto sig = base64url_decode(parts->signature_b64);
  if (!header_raw || !payload_raw || !sig) return fail(VerifyStatus::kBadBase64);
  auto header = parse_strict_object(*header_raw);
  if (!header) return fail(VerifyStatus::kBadHeaderJson);

  // RFC 8725 §3.1: the verifier decides the algorithm; the header only has to agree.
  const auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string())
    return fail(VerifyStatus::kAlgNotAllowed, "no alg");
  const std::string alg_name = alg_it->get<std::string>();
  if (lower(alg_name) == "none") return fail(VerifyStatus::kAlgNone);
  const auto alg = alg_from_string(alg_name);
  if (!alg || !policy_.allowed_algs.count(*alg))
    return fail(VerifyStatus::kAlgNotAllowed, alg_name);
  if (header->contains("crit")) return fail(VerifyStatus::kCritUnsupported);
  auto claims = parse_strict_object(*payload_raw);
  // The expected typ: the policy's, unless the (claimed) issuer is configured with its own
  // (an external AS that types its access tokens "JWT"); claimed is enough, since only that
  // issuer's keys can verify the token afterwards.
  const std::optional<std::string>* typ = &policy_.typ;
  if (claims)
    if (auto i = claims->find("iss"); i != claims->end() && i->is_string())
      if (auto o = typ_by_issuer_.find(i->get<std::string>()); o != typ_by_issuer_.end())
        typ = &o->second;
  if (*typ) {
    auto t = header->find("typ");
    if (t == header->end() || !t->is_string() || !typ_matches(t->get<std::string>(), **typ))
      return fail(VerifyStatus::kTypMismatch,
                  t != header->end() && t->is_string() ? t->get<std::string>() : "(none)");
  }

  if (!claims) return fail(VerifyStatus::kBadPayloadJson);
  const auto iss_it = claims->find("iss");
  if (iss_it == claims->end() || !iss_it->is_string()) return fail(VerifyStatus::kIssuerMissing);
  const std::string iss = iss_it->get<std::string>();
  auto src = issuers_.find(iss);
  if (src == issuers_.end()) return fail(VerifyStatus::kIssuerNotTrusted, iss);

  // Keys come only from the issuer's configured source: jku, x5u, jwk and x5c are ignored
  // (RFC 8725 §3.10 — never trust header-supplied key locations).
  std::string kid;
  if (auto k = header->find("kid"); k != header->end()) {
    if (!k->is_string()) return fail(VerifyStatus::kKidUnknown, "kid is not a string");
    kid = k->get<std::string>();
  }
  KeyLookup lookup = src->second->find(kid);
  if (!lookup.key) {
    if (lookup.unavailable) return fail(VerifyStatus::kKeysUnavailable, iss);
    if (kid.empty()) return fail(VerifyStatus::kKidMissing);
    return fail(VerifyStatus::kKidUnknown, kid);
  }
  if (lookup.key->alg() != *alg) return fail(VerifyStatus::kKeyAlgMismatch, alg_name);
  if (!verify_bytes(*lookup.key, *alg, parts->signing_input, *sig))
    return fail(VerifyStatus::kSignatureInvalid);

  // RFC 7519 §4.1.4/4.1.5 with leeway; iat far in the future is also refused.
  const int64_t now = clock_->now_s();
  // NumericDate (RFC 7519 §2): any JSON number. Compared in 128-bit arithmetic so that exp =
  // 2^63-1, a huge unsigned or a leeway near the limits cannot overflow; non-finite doubles and
  // values beyond ±2^62 are refused as malformed.
  auto number = [&](const char* name, __int128* out) -> std::optional<bool> {
    auto it = claims->find(name);
    if (it == claims->end()) return false;
    if (!it->is_number()) return std::nullopt;
    constexpr double kLimit = 4.6e18;  // < 2^62
    if (it->is_number_unsigned()) {
      *out = static_cast<__int128>(it->get<uint64_t>());
    } else if (it->is_number_integer()) {
      *out = static_cast<__int128>(it->get<int64_t>());
    } else {
      const double d = it->get<double>();
      if (!std::isfinite(d) || d > kLimit || d < -kLimit) return std::nullopt;
      *out = static_cast<__int128>(static_cast<int64_t>(d));
    }
    return true;
  };
  __int128 exp = 0, nbf = 0, iat = 0;
  auto has_exp = number("exp", &exp), has_nbf = number("nbf", &nbf), has_iat = number("iat", &iat);
  if (!has_exp || !has_nbf || !has_iat) return fail(VerifyStatus::kBadTimeClaim);
  const __int128 t = now, leeway = policy_.leeway_s;
  if (!*has_exp && policy_.require_exp) return fail(VerifyStatus::kExpMissing);
  if (*has_exp && t > exp + leeway) return fail(VerifyStatus::kExpired);
  if (*has_nbf && t < nbf - leeway) return fail(VerifyStatus::kNotYetValid);
  if (*has_iat && iat > t + leeway) return fail(VerifyStatus::kIssuedInFuture);

  if (policy_.require_audience) {
    auto aud = claims->find("aud");
    if (aud == claims->end()) return fail(VerifyStatus::kAudienceMissing);
    bool match = false;
    for (const auto& a : audiences) match = match || audience_contains(*aud, a);
    if (!match) return fail(VerifyStatus::kAudienceMismatch, aud->dump());
  }

  VerifiedJwt v;
  v.status = VerifyStatus::kOk;
  v.header = std::move(*header);
  v.claims = std::move(*claims);
  return v;
}

bool JwtVerifier::key_still_published(const VerifiedJwt& v) const {
  if (!v.ok()) return false;
  auto str = [](const nlohmann::json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                                              : std::string();
  };
  auto it = issuers_.find(str(v.claims, "iss"));
  if (it == issuers_.end()) return false;
  const std::string kid = str(v.header, "kid");
  const KeyLookup found = it->second->find(kid);
  return found.key.has_value();
}

}  // namespace txlab::jose
