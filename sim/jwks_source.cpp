// RemoteJwks: HTTP caching semantics for JWKS, single-flight refresh, bounded staleness.
#include "sim/jwks_source.h"

#include <algorithm>
#include <cctype>

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
    if (jwk.is_object() && jwk.contains("use") && jwk["use"] != "sig") continue;
    std::string err;
    if (auto k = jose::Key::from_jwk(jwk, &err)) keys.push_back(std::move(*k));
  }
  return keys;
}

int64_t cache_control_max_age(const std::string& cc) {
  std::string lower = cc;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.find("no-cache") != std::string::npos || lower.find("no-store") != std::string::npos)
    return 0;
  // RFC 9111 §5.2.2.1 delta-seconds, read by hand (no regex, no stoll on untrusted input):
  // digits beyond what fits saturate at a year.
  const auto at = lower.find("max-age");
  if (at == std::string::npos) return -1;
  size_t i = at + 7;
  while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t')) ++i;
  if (i >= lower.size() || lower[i] != '=') return -1;
  ++i;
  while (i < lower.size() && (lower[i] == ' ' || lower[i] == '\t' || lower[i] == '"')) ++i;
  if (i >= lower.size() || !std::isdigit(static_cast<unsigned char>(lower[i]))) return -1;
  constexpr int64_t kYear = 365LL * 24 * 3600;
  int64_t v = 0;
  for (; i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])); ++i)
    v = std::min<int64_t>(kYear, v * 10 + (lower[i] - '0'));
  return v;
}

RemoteJwks::RemoteJwks(Outbound& outbound, std::string issuer_role, std::string base_url,
                       std::string path, const Clock& clock, JwksOptions options)
    : outbound_(&outbound),
      issuer_role_(std::move(issuer_role)),
      base_url_(std::move(base_url)),
      path_(std::move(path)),
      clock_(&clock),
      options_(options) {}

JwksStats RemoteJwks::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void RemoteJwks::refresh(std::unique_lock<std::mutex>& lock) {
  if (in_flight_) {
    // Another thread is fetching: wait for its answer instead of sending our own.
    ++stats_.coalesced;
    fetched_.wait_for(lock, std::chrono::seconds(10), [&] { return !in_flight_; });
    return;
  }
  in_flight_ = true;
  attempted_ = true;
  last_attempt_s_ = clock_->now_s();
  ++stats_.fetches;
  const std::string etag = etag_;
  lock.unlock();

  http::OutboundRequest req;
  req.path = path_;
  if (!etag.empty()) req.headers.emplace_back("If-None-Match", etag);
  auto res = outbound_->send(issuer_role_, base_url_, req, "GET " + path_ + " (JWKS)");
  std::vector<jose::Key> keys;
  std::string err;
  if (res.status == 200) keys = parse_jwks(res.body, &err);

  lock.lock();
  const int64_t now = clock_->now_s();
  auto ttl_from = [&](const std::string& cc) {
    const int64_t age = cache_control_max_age(cc);
    if (age < 0) return options_.default_ttl_s;
    // no-cache: revalidate, but never more often than the refresh interval (do not hammer).
    return std::clamp(age, options_.min_refresh_interval_s, options_.max_ttl_s);
  };
  if (res.status == 304 && have_keys_) {
    ++stats_.not_modified;
    expires_at_s_ = now + ttl_from(res.header("Cache-Control"));
    last_success_s_ = now;
  } else if (res.status == 200 && err.empty()) {
    if (options_.keep_withdrawn_keys)
      for (auto& old : keys_)
        if (std::none_of(keys.begin(), keys.end(),
                         [&](const jose::Key& k) { return k.kid() == old.kid(); }))
          keys.push_back(std::move(old));
    keys_ = std::move(keys);
    have_keys_ = true;
    etag_ = res.header("ETag");
    expires_at_s_ = now + ttl_from(res.header("Cache-Control"));
    last_success_s_ = now;
  } else {
    ++stats_.failures;  // keep the last good keys (bounded by max_stale_s)
  }
  in_flight_ = false;
  fetched_.notify_all();
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
  std::unique_lock lock(mu_);
  const int64_t now = clock_->now_s();
  const bool may_retry = !attempted_ || now - last_attempt_s_ >= 1;
  if ((!have_keys_ || now >= expires_at_s_) && (may_retry || in_flight_)) refresh(lock);
  auto found = lookup_locked(kid);
  if (!found.key && !kid.empty() &&
      (clock_->now_s() - last_attempt_s_ >= options_.min_refresh_interval_s || in_flight_)) {
    refresh(lock);  // unknown kid: the issuer may have rotated (one refresh, rate-limited)
    found = lookup_locked(kid);
  }
  // Stale keys are served only for a bounded time after they expired.
  if (have_keys_ && clock_->now_s() > expires_at_s_ + options_.max_stale_s) {
    found.key.reset();
    found.unavailable = true;
  }
  if (!found.key && !have_keys_) found.unavailable = true;
  return found;
}

}  // namespace txlab
