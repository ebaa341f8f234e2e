// The keys of one issuer, fetched from its JWKS endpoint over HTTP and cached: refreshed
// after a TTL, and once on an unknown kid (rate-limited so unknown kids cannot make us
// hammer the issuer). Keys never come from token headers (RFC 8725 §3.10).
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "sim/clock.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/outbound.h"

namespace txlab {

struct JwksOptions {
  int64_t ttl_s = 300;
  int64_t min_refresh_interval_s = 10;  // at most one kid-miss refresh per interval
};

class RemoteJwks : public jose::KeySource {
 public:
  RemoteJwks(Outbound& outbound, std::string issuer_role, std::string base_url, std::string path,
             const Clock& clock, JwksOptions options = {});
  jose::KeyLookup find(const std::string& kid) override;
  size_t fetch_count() const;
  const std::string& issuer_role() const { return issuer_role_; }

 private:
  bool fetch_locked();  // mu_ held
  jose::KeyLookup lookup_locked(const std::string& kid) const;

  Outbound* outbound_;
  std::string issuer_role_, base_url_, path_;
  const Clock* clock_;
  JwksOptions options_;
  mutable std::mutex mu_;
  std::vector<jose::Key> keys_;
  bool have_keys_ = false;
  int64_t fetched_at_s_ = 0;
  int64_t last_attempt_s_ = 0;
  bool attempted_ = false;
  size_t fetches_ = 0;
};

// Parses a JWKS document; keys that are not usable signature keys are skipped.
std::vector<jose::Key> parse_jwks(const std::string& body, std::string* error);

}  // namespace txlab
