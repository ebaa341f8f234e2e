// JWS Compact Serialization (RFC 7515 §7.1): signing and raw signature verification for
// ES256, RS256, PS256 (RFC 7518 §3) and EdDSA/Ed25519 (RFC 8037).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "sim/jose/key.h"

namespace txlab::jose {

// Signs `payload` (already serialized, e.g. JSON claims) with `key`. The protected header is
// `extra_header` plus alg and kid taken from the key. Throws std::runtime_error when the key
// cannot sign (no private part).
std::string sign_compact(const Key& key, const nlohmann::json& extra_header,
                         std::string_view payload);

// Raw signature over bytes in JWS format (ES256: R||S, 64 bytes, RFC 7518 §3.4).
std::optional<std::string> sign_bytes(const Key& key, std::string_view signing_input);
// True when `signature` is a valid `alg` signature by `key` over `signing_input`. Returns
// false when `alg` does not match the key's algorithm family.
bool verify_bytes(const Key& key, Alg alg, std::string_view signing_input,
                  std::string_view signature);

struct CompactParts {
  std::string_view header_b64, payload_b64, signature_b64;
  std::string_view signing_input;  // "header.payload"
};
// Splits a compact JWS into its three parts; nullopt unless there are exactly two dots.
std::optional<CompactParts> split_compact(std::string_view token);

}  // namespace txlab::jose
