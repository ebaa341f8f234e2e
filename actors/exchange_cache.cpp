// ExchangeCache: LRU + expiry margin + single-flight.
#include "actors/exchange_cache.h"

#include <openssl/sha.h>

#include "sim/jose/base64url.h"

namespace txlab {

std::string ExchangeCache::key_of(const std::string& subject_token, const std::string& parameters) {
  const std::string input = subject_token + '\n' + parameters;
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), d);
  return jose::base64url_encode(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

ExchangeCache::Result ExchangeCache::get_or_exchange(const std::string& key, int64_t now_s,
                                                     const std::function<Result()>& exchange,
                                                     bool* from_cache) {
  std::unique_lock lock(mu_);
  *from_cache = false;
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (now_s < it->second.result.exp_s - options_.margin_s) {
      ++stats_.hits;
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      *from_cache = true;
      return it->second.result;
    }
    lru_.erase(it->second.lru);
    entries_.erase(it);
  }
  if (auto f = flights_.find(key); f != flights_.end()) {
    // Someone is exchanging this very subject for these very parameters: share the answer.
    ++stats_.waits;
    auto flight = f->second;
    landed_.wait(lock, [&] { return flight->done; });
    *from_cache = true;
    return flight->result;
  }
  ++stats_.misses;
  auto flight = std::make_shared<Flight>();
  flights_[key] = flight;
  lock.unlock();
  Result r = exchange();
  lock.lock();
  flight->result = r;
  flight->done = true;
  flights_.erase(key);
  if (r.ok && now_s < r.exp_s - options_.margin_s && options_.max_entries > 0) {
    lru_.push_front(key);
    entries_[key] = Entry{r, lru_.begin()};
    while (entries_.size() > options_.max_entries) {
      entries_.erase(lru_.back());
      lru_.pop_back();
      ++stats_.evictions;
    }
  }
  landed_.notify_all();
  return r;
}

void ExchangeCache::invalidate(const std::string& key) {
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    ++stats_.invalidations;
  }
}

ExchangeCacheStats ExchangeCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

size_t ExchangeCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace txlab
