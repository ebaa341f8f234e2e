// DPoP (RFC 9449) for roles: the prover a role uses to bind and present tokens with its own
// ES256 key, the replay cache servers keep for proof jti values, and the one check both the
// token endpoint and the edges run on a request's proof.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "sim/clock.h"
#include "sim/http/message.h"
#include "sim/jose/dpop.h"
#include "sim/jose/key.h"

namespace txlab {

class DpopProver {
 public:
  // A fresh ES256 key for this role (RFC 9449 §4.2; one per role and run).
  explicit DpopProver(const Clock& clock);
  // A proof for one request: htm, htu, iat from the role's clock, a random jti; ath when an
  // access token is presented with it, nonce when the server asked for one.
  std::string proof(const std::string& htm, const std::string& htu,
                    const std::string& access_token = {}, const std::string& nonce = {}) const;
  // The same with a given iat (the attack catalogue's stale proofs).
  std::string proof_at(int64_t iat, const std::string& htm, const std::string& htu,
                       const std::string& access_token = {}) const;
  const std::string& jkt() const { return jkt_; }  // RFC 7638 thumbprint (cnf.jkt)
  // The last nonce a server handed out (RFC 9449 §8: used in the following proofs to it).
  std::string nonce_for(const std::string& server) const;
  void remember_nonce(const std::string& server, const std::string& nonce) const;

 private:
  mutable std::mutex nonce_mu_;
  mutable std::map<std::string, std::string> nonces_;  // a handful of servers per role
  jose::Key key_;
  const Clock* clock_;
  std::string jkt_;
};

// Proof jti values seen, per key, until their window ends. Bounded: when `max_entries` live
// entries are held, new proofs are refused (fail closed: a replay is worse than a retry) and
// counted.
class DpopReplayCache {
 public:
  explicit DpopReplayCache(size_t max_entries = 100000) : max_(max_entries) {}
  enum class Result { kFirstUse, kReplayed, kFull };
  Result remember(const std::string& jkt, const std::string& jti, int64_t until_s, int64_t now_s);
  size_t size() const;
  size_t refused_full() const;

 private:
  mutable std::mutex mu_;
  size_t max_;
  size_t refused_full_ = 0;
  std::unordered_map<std::string, int64_t> seen_;  // "jkt jti" -> until
  std::multimap<int64_t, std::string> by_until_;
};

// The request's URI as a DPoP proof names it (RFC 9449 §4.3 check 9): scheme, the Host header
// the client sent, and the path without the query.
std::string request_htu(const http::Request& req, const std::string& scheme = "http");

// One request's proof checked end to end: a single DPoP header (§4.3 check 1), the proof
// itself (sim/jose/dpop), then the replay cache (§11.1).
jose::dpop::Checked check_request_proof(const http::Request& req, jose::dpop::Expect expect,
                                        DpopReplayCache& replay);

}  // namespace txlab
