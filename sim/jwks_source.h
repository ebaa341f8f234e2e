// The keys of one issuer, fetched from its JWKS endpoint over HTTP and cached the way a
// careful verifier should: Cache-Control max-age honoured (no-cache means "revalidate, but
// not more often than the refresh interval"), ETag revalidation (If-None-Match -> 304 keeps the
// keys), one refresh on an unknown kid — coalesced across concurrent requests and rate-limited
// per issuer — and the last good keys kept for a bounded time when the endpoint is down.
// Keys never come from token headers (RFC 8725 §3.10).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "sim/clock.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/outbound.h"
#include "sim/scenario.h"

namespace txlab {

struct JwksOptions {
  int64_t default_ttl_s = 300;          // when the response has no max-age
  int64_t max_ttl_s = 86400;            // cap on max-age
  int64_t min_refresh_interval_s = 10;  // at most one refetch per interval (kid misses, no-cache)
  int64_t max_stale_s = 600;            // serve last good keys this long past expiry on outage
  // A deliberately broken cache for the conformance self-check only: keys the issuer withdrew
  // stay usable (a refetch adds keys, never removes them).
  bool keep_withdrawn_keys = false;
};

inline JwksOptions jwks_options(const JwksSettings& s) {
  JwksOptions o;
  o.min_refresh_interval_s = s.min_refresh_interval_s;
  o.max_stale_s = s.max_stale_s;
  return o;
}

struct JwksStats {
  size_t fetches = 0;       // requests sent
  size_t not_modified = 0;  // 304 answers
  size_t failures = 0;      // no usable answer
  size_t coalesced = 0;     // lookups that waited for another thread's fetch
};

class RemoteJwks : public jose::KeySource {
 public:
  RemoteJwks(Outbound& outbound, std::string issuer_role, std::string base_url, std::string path,
             const Clock& clock, JwksOptions options = {});
  jose::KeyLookup find(const std::string& kid) override;
  JwksStats stats() const;
  size_t fetch_count() const { return stats().fetches; }
  const std::string& issuer_role() const { return issuer_role_; }

 private:
  // Fetches (or revalidates) with mu_ released; only one fetch in flight.
  void refresh(std::unique_lock<std::mutex>& lock);
  jose::KeyLookup lookup_locked(const std::string& kid) const;

  Outbound* outbound_;
  std::string issuer_role_, base_url_, path_;
  const Clock* clock_;
  JwksOptions options_;
  mutable std::mutex mu_;
  std::condition_variable fetched_;
  bool in_flight_ = false;
  std::vector<jose::Key> keys_;
  bool have_keys_ = false;
  std::string etag_;
  int64_t expires_at_s_ = 0;
  int64_t last_success_s_ = 0;
  int64_t last_attempt_s_ = 0;
  bool attempted_ = false;
  JwksStats stats_;
};

// Parses a JWKS document; keys that are not usable signature keys are skipped.
std::vector<jose::Key> parse_jwks(const std::string& body, std::string* error);
// max-age from a Cache-Control value; -1 when absent, 0 for no-cache / no-store.
int64_t cache_control_max_age(const std::string& cache_control);

}  // namespace txlab
