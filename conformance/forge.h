// Forged tokens for the negative probe families: every shape a signature check can be fooled
// by (RFC 7515 §4.1 header parameters, RFC 8725 §2/§3 attacks). Each forgery starts from a
// token the target itself would accept and changes one thing, so a refusal can only be due to
// that one thing. Pure functions: no I/O, unit-tested without sockets.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/jose/key.h"

namespace txlab::conformance::forge {

// What forgeries are made from.
struct Materials {
  const jose::Key* stranger = nullptr;  // an ES256 key nobody trusts (private)
  std::string stranger_cert_der;        // a self-signed certificate for it (x5c / x5u)
  std::vector<nlohmann::ordered_json>
      published;                  // the issuer's JWKS keys, members in published order
  std::string attacker_jwks_url;  // serves {"keys":[stranger]} (jku)
  std::string attacker_x5u_url;   // serves the stranger's certificate as PEM (x5u)
  std::string
      attacker_issuer;  // serves RFC 8414 / OIDC discovery whose jwks_uri has the stranger's key
};

enum class Kind {
  kUnknownKid,         // signed by the stranger, a kid the issuer never published
  kForeignKeyRealKid,  // signed by the stranger, the issuer's real kid
  kNoKid,              // signed by the stranger, no kid at all
  kHs256PublicKey,     // HS256 keyed with the issuer's public key (PEM, DER, JWK text)
  kEmbeddedJwk,        // the stranger's key carried in the jwk header (RFC 7515 §4.1.3)
  kJku,                // the stranger's JWKS URL in jku (RFC 7515 §4.1.2)
  kX5u,                // the stranger's certificate URL in x5u (RFC 7515 §4.1.5)
  kX5c,                // the stranger's certificate in x5c (RFC 7515 §4.1.6)
  kAlgNone,            // alg none in several letter cases, empty signature (RFC 7518 §3.6)
  kTamperedPayload,    // the issuer's signature kept, claims changed (RFC 7515 §5.2)
  kEmptySignature,     // the issuer's header and claims, no signature bytes
  kAttackerIssuer,  // iss = the attacker's own issuer (discovery + JWKS on loopback), signed by it
  // Signature edge cases, made from the valid token without any key:
  kPsychicSignature,    // ECDSA r = s = 0, and r = s = n (CVE-2022-21449), the real kid
  kTruncatedSignature,  // the valid signature one octet short, and one octet long
  kDerSignature,        // the valid ECDSA signature re-encoded as ASN.1 DER (RFC 7518 §3.4)
  // Serialization differentials: the valid token, not as one JWS Compact Serialization.
  kExtraSegments,       // a fourth (and fifth) segment appended
  kJsonSerialization,   // the same JWS in the flattened and general JSON serializations
  kNonCanonicalBase64,  // the signature segment padded, in the standard alphabet, with a space
};

struct Forgery {
  Kind kind;
  const char* slug;         // id part: "alg-none"
  const char* section;      // "RFC 8725 §3.2"
  const char* title;        // "alg none in any letter case"
  const char* requirement;  // quoted text
};

// Every forgery kind, in report order.
const std::vector<Forgery>& all_forgeries();

// The variants of `kind` made from `valid` (a compact JWS the target accepts). Empty when the
// materials do not allow this kind (e.g. no published key for algorithm confusion).
std::vector<std::string> make(Kind kind, const std::string& valid, const Materials& m);

// Signs header+claims with `key` (alg and kid taken from `header` as given; "alg" is set from the
// key unless the header already names one).
std::string sign_with(const jose::Key& key, const nlohmann::json& header,
                      const nlohmann::json& claims);

// Signs exactly these header and payload JSON texts (duplicate members, number spellings that a
// JSON library would normalize) with `key`.
std::string sign_raw(const jose::Key& key, const std::string& header_json,
                     const std::string& payload_json);

// Near misses of a value compared for equality: a prefix, a suffix, a substring, another letter
// case, a trailing slash added or removed, one character percent-encoded, one character changed.
// Each is a different string (RFC 7519 §2: StringOrURI values compare with no transformations);
// (label, variant) pairs, none equal to `value`, no duplicates.
std::vector<std::pair<std::string, std::string>> near_misses(const std::string& value);

// PEM text of a DER certificate (for an x5u document).
std::string certificate_pem(const std::string& der);

// The published key (from Materials::published) a token's kid names, or the first one.
const nlohmann::ordered_json* published_key_for(const std::string& token, const Materials& m);

}  // namespace txlab::conformance::forge
