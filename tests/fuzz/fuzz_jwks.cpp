// Fuzz target: JWKS documents as a role fetches them (RFC 7517 §5) and single JWKs (RFC 7517
// §4, RFC 7518 §6): unusable keys are skipped, nothing throws.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/jose/key.h"
#include "sim/jwks_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::string error;
  for (const auto& key : txlab::parse_jwks(in, &error)) {
    (void)key.thumbprint();
    (void)key.public_jwk();
  }
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_object()) {
    (void)txlab::jose::Key::from_jwk(j, &error);
    (void)txlab::jose::Key::from_jwk(j, &error, txlab::jose::Alg::kPS256);
  }
  return 0;
}
