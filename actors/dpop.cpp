// DPoP for roles.
#include "actors/dpop.h"

#include <openssl/rand.h>

#include "sim/jose/base64url.h"

namespace txlab {

DpopProver::DpopProver(const Clock& clock)
    : key_(jose::Key::generate(jose::Alg::kES256)), clock_(&clock), jkt_(key_.thumbprint()) {}

namespace {
std::string random_id() {
  unsigned char buf[16];
  RAND_bytes(buf, sizeof buf);
  return jose::base64url_encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}
}  // namespace

std::string DpopProver::proof(const std::string& htm, const std::string& htu,
                              const std::string& access_token, const std::string& nonce) const {
  return jose::dpop::make(key_, htm, htu, clock_->now_s(), random_id(), access_token, nonce);
}

std::string DpopProver::proof_at(int64_t iat, const std::string& htm, const std::string& htu,
                                 const std::string& access_token) const {
  return jose::dpop::make(key_, htm, htu, iat, random_id(), access_token);
}

std::string DpopProver::nonce_for(const std::string& server) const {
  std::lock_guard lock(nonce_mu_);
  auto it = nonces_.find(server);
  return it == nonces_.end() ? std::string() : it->second;
}

void DpopProver::remember_nonce(const std::string& server, const std::string& nonce) const {
  std::lock_guard lock(nonce_mu_);
  if (nonces_.size() >= 64 && !nonces_.count(server)) nonces_.clear();  // bounded
  nonces_[server] = nonce.substr(0, 256);
}

DpopReplayCache::Result DpopReplayCache::remember(const std::string& jkt, const std::string& jti,
                                                  int64_t until_s, int64_t now_s) {
  std::lock_guard lock(mu_);
  while (!by_until_.empty() && by_until_.begin()->first < now_s) {
    seen_.erase(by_until_.begin()->second);
    by_until_.erase(by_until_.begin());
  }
  const std::string key = jkt + " " + jti;
  if (seen_.count(key)) return Result::kReplayed;
  if (seen_.size() >= max_) {
    ++refused_full_;
    return Result::kFull;
  }
  seen_.emplace(key, until_s);
  by_until_.emplace(until_s, key);
  return Result::kFirstUse;
}

size_t DpopReplayCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

size_t DpopReplayCache::refused_full() const {
  std::lock_guard lock(mu_);
  return refused_full_;
}

std::string request_htu(const http::Request& req, const std::string& scheme) {
  return scheme + "://" + req.header("Host") + req.path;
}

jose::dpop::Checked check_request_proof(const http::Request& req, jose::dpop::Expect expect,
                                        DpopReplayCache& replay) {
  using jose::dpop::Status;
  jose::dpop::Checked out;
  if (req.header_count("DPoP") != 1) {  // none, or several (§4.3 check 1)
    out.status = Status::kMalformed;
    return out;
  }
  out = jose::dpop::check(req.header("DPoP"), expect);
  if (!out.ok()) return out;
  const auto r = replay.remember(out.jkt, out.jti, out.iat + expect.max_age_s + expect.max_skew_s,
                                 expect.now_s);
  if (r != DpopReplayCache::Result::kFirstUse) out.status = Status::kReplayed;
  return out;
}

}  // namespace txlab
