// The authorization server's named parts (see as_stores.h).
#include "actors/as_stores.h"

#include <algorithm>

#include "actors/as_internal.h"
#include "sim/jose/jws.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

KeyStore::KeyStore(jose::Key first, std::string alg) : alg_(std::move(alg)) {
  keys_.push_back(std::move(first));
}

jose::Key KeyStore::signing_key() const {
  std::lock_guard lock(mu_);
  return keys_.front();
}

std::vector<jose::Key> KeyStore::keys() const {
  std::lock_guard lock(mu_);
  return keys_;
}

void KeyStore::rotate() {
  jose::Key next = jose::Key::generate(*jose::alg_from_string(alg_));
  std::lock_guard lock(mu_);
  keys_.insert(keys_.begin(), std::move(next));
}

void KeyStore::retire_old() {
  std::lock_guard lock(mu_);
  keys_.erase(keys_.begin() + 1, keys_.end());
}

std::string KeyStore::sign(const Json& claims, const std::string& typ) const {
  return jose::sign_compact(signing_key(), typ.empty() ? Json::object() : Json{{"typ", typ}},
                            safe_dump(claims));
}

ClientRegistry::ClientRegistry(const std::vector<ClientRegistration>& clients) {
  for (const auto& c : clients) secrets_[c.id] = c.secret;
}

std::string ClientRegistry::secret(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  auto it = secrets_.find(client_id);
  return it == secrets_.end() ? std::string() : it->second;
}

std::optional<std::string> ClientRegistry::rotate_secret(const std::string& client_id) {
  std::lock_guard lock(mu_);
  auto it = secrets_.find(client_id);
  if (it == secrets_.end()) return std::nullopt;
  it->second = "rotated-" + as_detail::random_jti();
  return it->second;
}

bool ClientRegistry::set_enabled(const std::string& client_id, bool enabled) {
  std::lock_guard lock(mu_);
  if (!secrets_.count(client_id)) return false;
  if (enabled)
    disabled_.erase(client_id);
  else
    disabled_.insert(client_id);
  return true;
}

bool ClientRegistry::enabled(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  return !disabled_.count(client_id);
}

bool RevocationList::revoke(const std::string& jti) {
  std::lock_guard lock(mu_);
  return revoked_.insert(jti).second;
}

size_t RevocationList::revoke_all(const std::vector<std::string>& jtis) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& j : jtis) n += revoked_.insert(j).second ? 1 : 0;
  return n;
}

bool RevocationList::is_revoked(const std::string& jti) const {
  std::lock_guard lock(mu_);
  return revoked_.count(jti) > 0;
}

void AuditLog::record(AuditEntry entry) {
  std::lock_guard lock(mu_);
  ++issued_by_grant_[entry.grant];
  entries_.push_back(std::move(entry));
  // Bounded, so memory stays flat under load; drops are counted and reported.
  while (entries_.size() > max_entries_) {
    entries_.pop_front();
    ++dropped_;
  }
}

std::vector<AuditEntry> AuditLog::entries() const {
  std::lock_guard lock(mu_);
  return {entries_.begin(), entries_.end()};
}

size_t AuditLog::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

size_t AuditLog::issued_count(const std::string& grant) const {
  std::lock_guard lock(mu_);
  auto it = issued_by_grant_.find(grant);
  return it == issued_by_grant_.end() ? 0 : it->second;
}

std::vector<std::string> AuditLog::issued_jtis(const std::string& client_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (client_id.empty() || e.client_id == client_id) out.push_back(e.issued_jti);
  return out;
}

std::string RefreshStore::start(const std::string& client_id, const Json& claims,
                                int64_t access_ttl_s, int64_t expires_at_s, int64_t now_s) {
  Json c = claims;
  for (const char* k : {"iat", "exp", "jti"}) c.erase(k);
  const std::string family = as_detail::random_jti();
  const std::string token = "rt." + as_detail::random_jti() + as_detail::random_jti();
  Family f;
  f.client_id = client_id;
  f.claims = safe_dump(c);
  f.access_ttl_s = access_ttl_s;
  f.expires_at_s = expires_at_s;
  f.current = token;
  f.issued_jtis.push_back(json_str(claims, "jti"));
  std::lock_guard lock(mu_);
  sweep(now_s);
  families_[family] = std::move(f);
  index_[token] = family;
  return token;
}

oauth::Result<RefreshStore::Redeemed> RefreshStore::redeem(
    const std::string& presented, const std::string& client_id,
    const std::optional<std::vector<std::string>>& scope, const std::string& new_jti, int64_t now_s,
    std::vector<std::string>* revoke) {
  using oauth::Status;
  std::lock_guard lock(mu_);
  auto idx = index_.find(presented);
  if (idx == index_.end()) return oauth::Refusal{Status::kRefreshTokenUnknown, ""};
  Family& f = families_[idx->second];
  if (f.client_id != client_id) return oauth::Refusal{Status::kRefreshTokenOfOtherClient, ""};
  if (f.revoked) return oauth::Refusal{Status::kRefreshFamilyRevoked, ""};
  if (now_s >= f.expires_at_s) return oauth::Refusal{Status::kRefreshTokenExpired, ""};
  if (f.current != presented) {
    f.revoked = true;
    *revoke = f.issued_jtis;
    return oauth::Refusal{Status::kRefreshTokenReused, ""};
  }
  Json claims = Json::parse(f.claims);
  if (scope) {
    const auto granted = as_detail::split_scope(json_str(claims, "scope"));
    for (const auto& t : *scope)
      if (!as_detail::contains(granted, t)) return oauth::Refusal{Status::kRefreshScopeExceeds, t};
    claims["scope"] = as_detail::join_scope(*scope);
  }
  f.issued_jtis.push_back(new_jti);
  f.current = "rt." + as_detail::random_jti() + as_detail::random_jti();
  index_[f.current] = idx->second;
  return Redeemed{std::move(claims), f.access_ttl_s, f.current};
}

uint64_t RefreshStore::evicted() const {
  std::lock_guard lock(mu_);
  return evicted_;
}

void RefreshStore::sweep(int64_t now_s) {
  if (index_.size() >= next_sweep_) {
    for (auto it = families_.begin(); it != families_.end();)
      it = now_s >= it->second.expires_at_s ? families_.erase(it) : std::next(it);
    for (auto it = index_.begin(); it != index_.end();)
      it = families_.count(it->second) ? std::next(it) : index_.erase(it);
    next_sweep_ = std::max<size_t>(4096, 2 * index_.size());
  }
  if (families_.size() >= kMaxFamilies) evict_soonest();
}

void RefreshStore::evict_soonest() {
  // Full of live families: the tenth expiring first goes at once (amortised, counted).
  std::vector<std::pair<int64_t, std::string>> by_expiry;
  by_expiry.reserve(families_.size());
  for (const auto& [id, f] : families_) by_expiry.emplace_back(f.expires_at_s, id);
  const size_t n = std::max<size_t>(1, by_expiry.size() / 10);
  std::nth_element(by_expiry.begin(), by_expiry.begin() + static_cast<std::ptrdiff_t>(n - 1),
                   by_expiry.end());
  for (size_t i = 0; i < n; ++i) families_.erase(by_expiry[i].second);
  for (auto it = index_.begin(); it != index_.end();)
    it = families_.count(it->second) ? std::next(it) : index_.erase(it);
  evicted_ += n;
}

}  // namespace txlab
