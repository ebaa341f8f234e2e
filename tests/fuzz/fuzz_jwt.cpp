// Fuzz target: JWS/JWT parsing and verification as every role runs it on a presented token
// (RFC 7515 compact form, RFC 8725 checks), plus the unverified decoder used for display.
#include <cstdint>
#include <string_view>

#include "sim/clock.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

namespace {
struct Fixture {
  txlab::Clock clock;
  txlab::jose::JwtVerifier strict{policy(true), clock};
  txlab::jose::JwtVerifier lax{policy(false), clock};
  static txlab::jose::VerifyPolicy policy(bool strict) {
    txlab::jose::VerifyPolicy p;
    p.audiences = {"api://fuzz"};
    if (!strict) {
      p.typ = std::nullopt;
      p.require_audience = false;
      p.require_exp = false;
    }
    return p;
  }
  Fixture() {
    auto keys = std::make_shared<txlab::jose::StaticKeySource>(
        std::vector<txlab::jose::Key>{txlab::jose::Key::generate(txlab::jose::Alg::kES256),
                                      txlab::jose::Key::generate(txlab::jose::Alg::kEdDSA)});
    for (auto* v : {&strict, &lax}) {
      v->trust("https://fuzz.example", keys);
      v->trust("", keys);
    }
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture f;
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  (void)f.strict.verify(token);
  (void)f.lax.verify(token);
  (void)f.lax.verify(token, {"a", "b"});
  (void)txlab::jose::decode_unverified(token);
  (void)txlab::jose::split_compact(token);
  (void)txlab::jose::parse_strict_object(token);
  return 0;
}
