// DPoP proofs (RFC 9449): making them, and checking one against what the request was — the
// pure part of §4.3 (the caller supplies the time, the expected nonce and access token, and
// keeps the jti replay cache).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/jose/key.h"

namespace txlab::jose::dpop {

// Why a proof is refused; one name per rule of RFC 9449 §4.3 (and §7.1 for access tokens).
enum class Status {
  kOk,
  kMalformed,       // not a compact JWS with JSON header and claims (§4.3 check 2)
  kBadTyp,          // typ is not dpop+jwt (§4.3 check 4)
  kBadAlg,          // alg none, symmetric, or not on the allow-list (§4.3 check 5)
  kBadJwk,          // no jwk, a private jwk, or one that is not a usable public key (§4.3 6, 7)
  kBadSignature,    // the signature does not verify with the header's jwk (§4.3 check 6)
  kMissingClaim,    // jti, htm, htu or iat missing or of the wrong type (§4.2, §4.3 check 3)
  kHtmMismatch,     // htm is not the request's method (§4.3 check 8)
  kHtuMismatch,     // htu is not the request's URI without query and fragment (§4.3 check 9)
  kIatOutOfWindow,  // iat too old or in the future (§4.3 check 11)
  kNonceRequired,   // the server requires a nonce and the proof has none or another (§8, §9)
  kAthMismatch,     // ath is not the hash of the presented access token (§4.3 check 12, §7.1)
  kKeyMismatch,     // the proof's key is not the one the token is bound to (cnf.jkt, §7.1)
  kReplayed,        // jti seen before within the window (§11.1; the caller's cache says so)
};
std::string_view describe(Status s);

struct Expect {
  std::string htm;  // "POST"
  std::string htu;  // the request's URI, normalized by normalize_htu
  int64_t now_s = 0;
  int64_t max_age_s = 60;                   // how old iat may be
  int64_t max_skew_s = 5;                   // how far in the future iat may be
  std::optional<std::string> nonce;         // required value, when the server issued one
  std::optional<std::string> access_token;  // presented with the proof: ath must match
  std::optional<std::string> jkt;           // the token's cnf.jkt: the proof key must match
};

struct Checked {
  Status status = Status::kMalformed;
  std::string jkt;  // RFC 7638 thumbprint of the proof's key (RFC 9449 §6.1)
  std::string jti;
  int64_t iat = 0;
  bool ok() const { return status == Status::kOk; }
};

// Checks one proof (the value of the single DPoP header). Never throws.
Checked check(std::string_view proof, const Expect& expect);

// A proof by `key` (which needs its private part): header {typ: dpop+jwt, alg, jwk}, claims
// {jti, htm, htu, iat} plus ath and nonce when given.
std::string make(const Key& key, const std::string& htm, const std::string& htu, int64_t iat,
                 const std::string& jti, const std::string& access_token = {},
                 const std::string& nonce = {});

// base64url(SHA-256(token)): the ath claim (RFC 9449 §4.2).
std::string ath_of(std::string_view access_token);
// The URI a proof names for a request: scheme and host lower-cased, the default port dropped,
// query and fragment removed (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2 and §6.2.3).
std::string normalize_htu(std::string_view uri);

}  // namespace txlab::jose::dpop
