// The one JWT verifier every role uses (gateways, resource servers, ASes reading subject
// tokens). Strict by default (RFC 8725): algorithm allow-list fixed by the verifier, `typ`,
// trusted `iss` with keys only from that issuer's configured source (never jku/x5u/jwk),
// `aud`, `exp`/`nbf`/`iat` against an injected clock with leeway. Every failure has a name.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/clock.h"
#include "sim/jose/key.h"

namespace txlab::jose {

enum class VerifyStatus {
  kOk,
  kTokenTooLarge,     // longer than the verifier's bound
  kMalformed,         // not three dot-separated parts
  kBadBase64,         // a part is not strict base64url (RFC 7515 §2)
  kBadHeaderJson,     // header not a JSON object, duplicate member, or too deep
  kBadPayloadJson,    // payload not a JSON object, duplicate member, or too deep
  kAlgNone,           // "alg":"none" (RFC 8725 §3.2)
  kAlgNotAllowed,     // alg outside the verifier's allow-list (RFC 8725 §3.1)
  kCritUnsupported,   // "crit" names extensions we do not understand (RFC 7515 §4.1.11)
  kTypMismatch,       // wrong or missing "typ" (RFC 9068 §2.1, RFC 8725 §3.11)
  kIssuerMissing,     // no "iss"
  kIssuerNotTrusted,  // "iss" not in this verifier's trust list
  kKidMissing,        // no "kid" and the issuer has more than one key
  kKidUnknown,        // "kid" not among the issuer's keys (after one refresh)
  kKeysUnavailable,   // the issuer's JWKS could not be fetched and nothing is cached
  kKeyAlgMismatch,    // key exists but is bound to another algorithm
  kSignatureInvalid,  // signature does not verify
  kExpMissing,        // no "exp" (required by RFC 9068 §2.2)
  kExpired,           // now > exp + leeway (RFC 7519 §4.1.4)
  kNotYetValid,       // now < nbf - leeway (RFC 7519 §4.1.5)
  kIssuedInFuture,    // iat > now + leeway
  kBadTimeClaim,      // exp/nbf/iat present but not a number
  kAudienceMissing,   // no "aud" while the verifier requires one
  kAudienceMismatch,  // "aud" does not name this verifier (RFC 7519 §4.1.3)
};

std::string_view to_string(VerifyStatus s);
// One sentence for humans (error_description).
std::string_view describe(VerifyStatus s);

struct KeyLookup {
  std::optional<Key> key;
  bool unavailable = false;  // source could not be reached and has nothing cached
  size_t key_count = 0;      // how many keys the source holds (for the kid-less case)
};

// The keys of one issuer. Implementations: a fixed set, or a JWKS fetched over HTTP.
class KeySource {
 public:
  virtual ~KeySource() = default;
  // kid may be empty: then the key is found only when the source holds exactly one key.
  virtual KeyLookup find(const std::string& kid) = 0;
};

class StaticKeySource : public KeySource {
 public:
  explicit StaticKeySource(std::vector<Key> keys) : keys_(std::move(keys)) {}
  KeyLookup find(const std::string& kid) override;

 private:
  std::vector<Key> keys_;
};

struct VerifyPolicy {
  std::set<Alg> allowed_algs{Alg::kES256, Alg::kRS256, Alg::kPS256, Alg::kEdDSA};
  // Required "typ" (case-insensitive, "application/" prefix optional, RFC 7515 §4.1.9).
  std::optional<std::string> typ = std::string("at+jwt");
  // The token's "aud" must contain one of these. Empty means "no audience check", which
  // must be chosen explicitly with require_audience = false.
  std::vector<std::string> audiences;
  bool require_audience = true;
  bool require_exp = true;
  int64_t leeway_s = 30;
  size_t max_token_bytes = 16 * 1024;
};

struct VerifiedJwt {
  VerifyStatus status = VerifyStatus::kMalformed;
  std::string detail;  // specifics, e.g. which kid or which aud
  nlohmann::json header;
  nlohmann::json claims;
  bool ok() const { return status == VerifyStatus::kOk; }
};

class JwtVerifier {
 public:
  JwtVerifier(VerifyPolicy policy, const Clock& clock)
      : policy_(std::move(policy)), clock_(&clock) {}

  void trust(const std::string& issuer, std::shared_ptr<KeySource> keys) {
    issuers_[issuer] = std::move(keys);
  }
  // Tokens claiming `issuer` are held to this typ instead of the policy's (nullopt: none).
  void expect_typ(const std::string& issuer, std::optional<std::string> typ) {
    typ_by_issuer_[issuer] = std::move(typ);
  }
  const VerifyPolicy& policy() const { return policy_; }
  VerifyPolicy& mutable_policy() { return policy_; }

  VerifiedJwt verify(std::string_view token) const;
  // Same checks, with an audience list that overrides the policy's for this call.
  VerifiedJwt verify(std::string_view token, const std::vector<std::string>& audiences) const;
  // For verified-token caches: is the key that verified `v` still published by its issuer?
  // A cached result must not outlive the withdrawal of its key.
  bool key_still_published(const VerifiedJwt& v) const;

 private:
  VerifyPolicy policy_;
  const Clock* clock_;
  std::map<std::string, std::shared_ptr<KeySource>> issuers_;
  std::map<std::string, std::optional<std::string>> typ_by_issuer_;
};

// Parses a JSON object strictly: rejects duplicate member names (RFC 7515 §5.2 allows
// rejecting; RFC 8725 §3.x hygiene) and nesting deeper than `max_depth`.
std::optional<nlohmann::json> parse_strict_object(std::string_view text, int max_depth = 16);

// Decodes header and claims without verifying anything (for display only).
std::optional<std::pair<nlohmann::json, nlohmann::json>> decode_unverified(std::string_view token);

// HMAC-SHA256 (for crafting and checking algorithm-confusion tokens in attack tests).
std::string hmac_sha256(std::string_view key, std::string_view data);

// True when `aud` (string or array of strings) contains `value`.
bool audience_contains(const nlohmann::json& aud, const std::string& value);

}  // namespace txlab::jose
