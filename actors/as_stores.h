// The authorization server's state in named parts, each with its own lock and its own bound:
// the signing keys, the clients' credentials, the refresh-token families, the revocation list
// and the audit log. No HTTP here: the token endpoint's stages read and change these.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/token_status.h"
#include "sim/jose/key.h"
#include "sim/scenario.h"

namespace txlab {

// The AS's signing keys, newest first: rotation publishes a new key beside the old ones
// (overlap), retirement withdraws every key but the newest.
class KeyStore {
 public:
  KeyStore(jose::Key first, std::string alg);
  jose::Key signing_key() const;
  std::vector<jose::Key> keys() const;
  void rotate();
  void retire_old();
  // A compact JWS of `claims` under the newest key; `typ` "" leaves the header's typ out.
  std::string sign(const nlohmann::json& claims, const std::string& typ) const;

 private:
  const std::string alg_;
  mutable std::mutex mu_;
  std::vector<jose::Key> keys_;
};

// The clients' live credentials: their current secrets (rotatable) and which registrations are
// disabled (a revoked client fails authentication like an unknown one).
class ClientRegistry {
 public:
  explicit ClientRegistry(const std::vector<ClientRegistration>& clients);
  std::string secret(const std::string& client_id) const;  // "" for an unknown client
  // A new secret, effective at once; nullopt for an unknown client.
  std::optional<std::string> rotate_secret(const std::string& client_id);
  bool set_enabled(const std::string& client_id, bool enabled);  // false: unknown client
  bool enabled(const std::string& client_id) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> secrets_;  // client id -> current secret
  std::set<std::string> disabled_;
};

// Tokens revoked here (by jti): RFC 7009, refresh-token theft, scenario events.
class RevocationList {
 public:
  bool revoke(const std::string& jti);                      // true when it was not revoked yet
  size_t revoke_all(const std::vector<std::string>& jtis);  // how many were not revoked yet
  bool is_revoked(const std::string& jti) const;

 private:
  mutable std::mutex mu_;
  std::set<std::string> revoked_;
};

struct AuditEntry {
  std::string as;           // role id of the AS that issued
  std::string call;         // X-Txlab-Call of the request
  std::string grant;        // "client_credentials" or "token-exchange"
  std::string client_id;    // authenticated client
  std::string subject_jti;  // jti of the subject token (token exchange only)
  std::string issued_jti;
  std::vector<std::string> audience;
  int64_t at_s = 0;
};

// Every token issued, bounded: the newest `max_entries` are kept, drops are counted, and the
// count of issued tokens by grant includes the dropped ones.
class AuditLog {
 public:
  explicit AuditLog(size_t max_entries) : max_entries_(max_entries) {}
  void record(AuditEntry entry);
  std::vector<AuditEntry> entries() const;
  size_t dropped() const;
  size_t issued_count(const std::string& grant) const;
  // The jtis issued to `client_id` (to anyone when empty), for revocation.
  std::vector<std::string> issued_jtis(const std::string& client_id) const;

 private:
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::deque<AuditEntry> entries_;
  size_t dropped_ = 0;
  std::map<std::string, size_t> issued_by_grant_;
};

// Refresh-token families with rotation (RFC 6749 §6, OAuth 2.0 Security BCP §4.14): every use
// returns a new refresh token; presenting a rotated one again is theft and revokes the family.
// Bounded: expired families are swept when the index has doubled since the last sweep; beyond
// kMaxFamilies the families expiring first go (counted).
class RefreshStore {
 public:
  static constexpr size_t kMaxFamilies = 100000;
  // Starts a family for access-token `claims` (iat, exp and jti are dropped; `claims`' jti is
  // the family's first issued token); returns its first refresh token.
  std::string start(const std::string& client_id, const nlohmann::json& claims,
                    int64_t access_ttl_s, int64_t expires_at_s, int64_t now_s);
  struct Redeemed {
    nlohmann::json claims;  // the family's access-token claims to re-issue (no iat/exp/jti)
    int64_t access_ttl_s = 0;
    std::string refresh_token;  // the family's next (now only valid) refresh token
  };
  // Redeems `presented` for `client_id`, recording `new_jti` as the family's next access token;
  // `scope`, when given, narrows the re-issued claims' scope (RFC 6749 §6: never wider). On
  // reuse of a rotated token the family is revoked and its access tokens' jtis are returned in
  // *revoke (Status kRefreshTokenReused). A refusal leaves the family's current token usable.
  oauth::Result<Redeemed> redeem(const std::string& presented, const std::string& client_id,
                                 const std::optional<std::vector<std::string>>& scope,
                                 const std::string& new_jti, int64_t now_s,
                                 std::vector<std::string>* revoke);
  uint64_t evicted() const;

 private:
  struct Family {
    std::string client_id;
    std::string claims;  // JSON
    int64_t access_ttl_s = 0;
    int64_t expires_at_s = 0;
    std::string current;  // the only refresh token of the family that may be used
    bool revoked = false;
    std::vector<std::string> issued_jtis;
  };
  void sweep(int64_t now_s);  // under mu_
  void evict_soonest();       // under mu_
  mutable std::mutex mu_;
  // Hashed: a lookup per refresh and an insert per issued family, at up to kMaxFamilies.
  std::unordered_map<std::string, std::string> index_;  // every refresh token -> family id
  std::unordered_map<std::string, Family> families_;
  size_t next_sweep_ = 4096;
  uint64_t evicted_ = 0;
};

}  // namespace txlab
