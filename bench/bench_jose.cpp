// JOSE costs next to their floor: raw OpenSSL EVP sign/verify measured in the same binary,
// then our JWS sign and full JWT verification (parse, checks, signature) per algorithm. Also
// the calibration benchmark every comparison is normalised by.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <nlohmann/json.hpp>

#include "sim/clock.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

using namespace txlab;
using namespace txlab::jose;

namespace {

const Alg kAlgs[] = {Alg::kES256, Alg::kRS256, Alg::kPS256, Alg::kEdDSA};

const Key& key_for(Alg alg) {
  static const Key keys[] = {Key::generate(Alg::kES256), Key::generate(Alg::kRS256),
                             Key::generate(Alg::kPS256), Key::generate(Alg::kEdDSA)};
  return keys[static_cast<int>(alg)];
}

std::string claims_json() {
  Clock clock;
  const int64_t now = clock.now_s();
  return nlohmann::json{{"iss", "https://auth.c2pe.edge"},
                        {"sub", "svc-cfa"},
                        {"aud", "gateway-c2pe"},
                        {"exp", now + 3600},
                        {"iat", now},
                        {"jti", "bench"},
                        {"client_id", "gateway-c2p"},
                        {"scope", "orders.read"},
                        {"act", {{"sub", "gateway-c2p"}}}}
      .dump();
}

}  // namespace

// Fixed CPU work: SHA-256 over 64 KiB. Ratios are divided by this one's ratio, so a slower or
// busier machine does not read as a regression.
static void BM_Calibration(benchmark::State& state) {
  std::string data(64 * 1024, 'x');
  unsigned char d[SHA256_DIGEST_LENGTH];
  for (auto _ : state) {
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Calibration);

// The floor: EVP_DigestSign / EVP_DigestVerify on the same bytes, no JOSE around it.
static void BM_EvpRawSign(benchmark::State& state) {
  const Key& key = key_for(kAlgs[state.range(0)]);
  const std::string input(300, 'a');
  for (auto _ : state) benchmark::DoNotOptimize(sign_bytes(key, input));
  state.SetLabel(std::string(to_string(key.alg())));
}
BENCHMARK(BM_EvpRawSign)->DenseRange(0, 3);

static void BM_EvpRawVerify(benchmark::State& state) {
  const Key& key = key_for(kAlgs[state.range(0)]);
  const std::string input(300, 'a');
  const std::string sig = *sign_bytes(key, input);
  for (auto _ : state) benchmark::DoNotOptimize(verify_bytes(key, key.alg(), input, sig));
  state.SetLabel(std::string(to_string(key.alg())));
}
BENCHMARK(BM_EvpRawVerify)->DenseRange(0, 3);

static void BM_JwsSign(benchmark::State& state) {
  const Key& key = key_for(kAlgs[state.range(0)]);
  const std::string claims = claims_json();
  const nlohmann::json header = {{"typ", "at+jwt"}};
  for (auto _ : state) benchmark::DoNotOptimize(sign_compact(key, header, claims));
  state.SetLabel(std::string(to_string(key.alg())));
}
BENCHMARK(BM_JwsSign)->DenseRange(0, 3);

static void BM_JwtVerify(benchmark::State& state) {
  const Key& key = key_for(kAlgs[state.range(0)]);
  const std::string token = sign_compact(key, {{"typ", "at+jwt"}}, claims_json());
  Clock clock;
  VerifyPolicy policy;
  policy.audiences = {"gateway-c2pe"};
  JwtVerifier v(policy, clock);
  v.trust("https://auth.c2pe.edge", std::make_shared<StaticKeySource>(std::vector<Key>{key}));
  for (auto _ : state) {
    auto r = v.verify(token);
    if (!r.ok()) state.SkipWithError("verification failed");
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::string(to_string(key.alg())));
}
BENCHMARK(BM_JwtVerify)->DenseRange(0, 3);
