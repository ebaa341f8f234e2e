// DPoP proofs (RFC 9449 §4).
#include "sim/jose/dpop.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "sim/enum_names.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"

namespace txlab::jose::dpop {

using Json = nlohmann::json;

constexpr EnumName<Status> kStatusText[] = {
    {Status::kOk, "valid"},
    {Status::kMalformed, "the DPoP proof is not a well-formed JWT"},
    {Status::kBadTyp, "the DPoP proof's typ is not dpop+jwt"},
    {Status::kBadAlg, "the DPoP proof's alg is not an accepted asymmetric algorithm"},
    {Status::kBadJwk, "the DPoP proof's jwk is missing, private or unusable"},
    {Status::kBadSignature, "the DPoP proof's signature does not verify with its jwk"},
    {Status::kMissingClaim, "the DPoP proof lacks jti, htm, htu or iat"},
    {Status::kHtmMismatch, "the DPoP proof's htm is not this request's method"},
    {Status::kHtuMismatch, "the DPoP proof's htu is not this request's URI"},
    {Status::kIatOutOfWindow, "the DPoP proof's iat is outside the accepted window"},
    {Status::kNonceRequired, "a DPoP nonce from this server is required"},
    {Status::kAthMismatch, "the DPoP proof's ath is not the hash of the access token"},
    {Status::kKeyMismatch, "the DPoP proof's key is not the key the token is bound to"},
    {Status::kReplayed, "the DPoP proof was used before"},
};
static_assert(covers_in_order(kStatusText, Status::kReplayed));

std::string_view describe(Status s) { return name_of(kStatusText, s, "invalid"); }

std::string ath_of(std::string_view access_token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(access_token.data()), access_token.size(), digest);
  return base64url_encode(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::string normalize_htu(std::string_view uri) {
  std::string u(uri.substr(0, std::min(uri.find_first_of("?#"), uri.size())));
  const size_t scheme_end = u.find("://");
  if (scheme_end == std::string::npos) return u;
  const size_t path_at = u.find('/', scheme_end + 3);
  std::string scheme = u.substr(0, scheme_end);
  std::string authority = u.substr(
      scheme_end + 3, path_at == std::string::npos ? std::string::npos : path_at - scheme_end - 3);
  std::string path = path_at == std::string::npos ? "/" : u.substr(path_at);
  for (auto* part : {&scheme, &authority})
    std::transform(part->begin(), part->end(), part->begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && authority.size() > default_port.size() &&
      authority.compare(authority.size() - default_port.size(), default_port.size(),
                        default_port) == 0)
    authority.resize(authority.size() - default_port.size());
  return scheme + "://" + authority + path;
}

Checked check(std::string_view proof, const Expect& e) {
  Checked out;
  const auto parts = split_compact(proof);
  if (!parts) return out;
  const auto header_text = base64url_decode(parts->header_b64);
  const auto claims_text = base64url_decode(parts->payload_b64);
  const auto signature = base64url_decode(parts->signature_b64);
  if (!header_text || !claims_text || !signature) return out;
  const Json header = Json::parse(*header_text, nullptr, false);
  const Json claims = Json::parse(*claims_text, nullptr, false);
  if (!header.is_object() || !claims.is_object()) return out;
  auto str = [](const Json& j, const char* k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
  };
  if (str(header, "typ") != "dpop+jwt") return {Status::kBadTyp, {}, {}, 0};
  const auto alg = alg_from_string(str(header, "alg"));
  if (!alg || !is_asymmetric(*alg)) return {Status::kBadAlg, {}, {}, 0};
  if (!header.contains("jwk") || !header["jwk"].is_object()) return {Status::kBadJwk, {}, {}, 0};
  const Json& jwk = header["jwk"];
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
    if (jwk.contains(priv)) return {Status::kBadJwk, {}, {}, 0};
  std::string error;
  const auto key = Key::from_jwk(jwk, &error, *alg);
  if (!key) return {Status::kBadJwk, {}, {}, 0};
  if (!verify_bytes(*key, *alg, parts->signing_input, *signature))
    return {Status::kBadSignature, {}, {}, 0};
  out.jkt = key->thumbprint();
  out.jti = str(claims, "jti");
  if (out.jti.empty() || str(claims, "htm").empty() || str(claims, "htu").empty() ||
      !claims.contains("iat") || !claims["iat"].is_number())
    return {Status::kMissingClaim, out.jkt, out.jti, 0};
  auto refuse = [&](Status s) {
    out.status = s;
    return out;
  };
  if (claims["iat"].is_number_float()) {
    const double d = claims["iat"].get<double>();
    if (!(d >= 0 && d < 1e12)) return refuse(Status::kIatOutOfWindow);  // no UB on huge values
    out.iat = static_cast<int64_t>(d);
  } else {
    out.iat = claims["iat"].get<int64_t>();  // an unsigned beyond int64 reads negative: refused
  }
  if (str(claims, "htm") != e.htm) return refuse(Status::kHtmMismatch);
  if (normalize_htu(str(claims, "htu")) != normalize_htu(e.htu))
    return refuse(Status::kHtuMismatch);
  // Overflow-safe window: compare differences only when both sides are sane times.
  if (out.iat < 0 || out.iat > e.now_s + e.max_skew_s || e.now_s - out.iat > e.max_age_s)
    return refuse(Status::kIatOutOfWindow);
  if (e.nonce && str(claims, "nonce") != *e.nonce) return refuse(Status::kNonceRequired);
  if (e.access_token && str(claims, "ath") != ath_of(*e.access_token))
    return refuse(Status::kAthMismatch);
  if (e.jkt && out.jkt != *e.jkt) return refuse(Status::kKeyMismatch);
  out.status = Status::kOk;
  return out;
}

std::string make(const Key& key, const std::string& htm, const std::string& htu, int64_t iat,
                 const std::string& jti, const std::string& access_token,
                 const std::string& nonce) {
  Key signer = key;
  signer.set_kid("");  // the proof carries its key, not a reference to one
  Json claims = {{"jti", jti}, {"htm", htm}, {"htu", htu}, {"iat", iat}};
  if (!access_token.empty()) claims["ath"] = ath_of(access_token);
  if (!nonce.empty()) claims["nonce"] = nonce;
  return sign_compact(signer, {{"typ", "dpop+jwt"}, {"jwk", key.public_jwk()}}, claims.dump());
}

}  // namespace txlab::jose::dpop
