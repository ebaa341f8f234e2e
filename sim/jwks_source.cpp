// RemoteJwks: TTL + kid-miss refresh with a rate limit, last good keys kept on failure.
#include "sim/jwks_source.h"

#include <nlohmann/json.hpp>

namespace txlab {

std::vector<jose::Key> parse_jwks(const std::string& body, std::string* error) {
  std::vector<jose::Key> keys;
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    if (error) *error = "JWKS is not an object with a keys array";
    return keys;
  }
  for (const auto& jwk : doc["keys"]) {
    if (jwk.is_object() && jwk.value("use", "sig") != "sig") continue;
    std::string err;
    if (auto k = jose::Key::from_jwk(jwk, &err)) keys.push_back(std::move(*k));
  }
  return keys;
}

RemoteJwks::RemoteJwks(Outbound& outbound, std::string issuer_role, std::string base_url, std::string path,
                       const Clock& clock, JwksOptions options)
    : outbound_(&outbound),
      issuer_role_(std::move(issuer_role)),
      base_url_(std::move(base_url)),
      path_(std::move(path)),
      clock_(&clock),
      options_(options) {}

size_t RemoteJwks::fetch_count() const {
  std::lock_guard lock(mu_);
  return fetches_;
}

bool RemoteJwks::fetch_locked() {
  last_attempt_s_ = clock_->now_s();
  attempted_ = true;
  ++fetches_;
  http::OutboundRequest req;
  req.path = path_;
  auto res = outbound_->send(issuer_role_, base_url_, req, "GET " + path_ + " (JWKS)");
  if (res.status != 200) return false;
  std::string err;
  auto keys = parse_jwks(res.body, &err);
  if (!err.empty()) return false;
  keys_ = std::move(keys);
  have_keys_ = true;
  fetched_at_s_ = clock_->now_s();
  return true;
}

jose::KeyLookup RemoteJwks::lookup_locked(const std::string& kid) const {
  jose::KeyLookup out;
  out.key_count = keys_.size();
  for (const auto& k : keys_) {
    if ((kid.empty() && keys_.size() == 1) || (!kid.empty() && k.kid() == kid)) {
      out.key = k;
      break;
    }
  }
  return out;
}

jose::KeyLookup RemoteJwks::find(const std::string& kid) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_->now_s();
  if (!have_keys_ || now - fetched_at_s_ >= options_.ttl_s) {
    // Keep the last good keys if the refresh fails; retry an unreachable JWKS at most once
    // a second.
    if (!attempted_ || now - last_attempt_s_ >= 1) fetch_locked();
  }
  auto found = lookup_locked(kid);
  if (!found.key && !kid.empty() && (now - last_attempt_s_ >= options_.min_refresh_interval_s)) {
    fetch_locked();  // unknown kid: the issuer may have rotated (one refresh, rate-limited)
    found = lookup_locked(kid);
  }
  if (!found.key && !have_keys_) found.unavailable = true;
  return found;
}

}  // namespace txlab
