// ExchangeCache: LRU + expiry margin + single-flight (blocking and coroutine callers).
#include "actors/exchange_cache.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/sha.h>

#include <exception>

#include "sim/jose/base64url.h"

namespace txlab {

std::string ExchangeCache::key_of(const std::string& subject_token, const std::string& parameters) {
  const std::string input = subject_token + '\n' + parameters;
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), d);
  return jose::base64url_encode(std::string_view(reinterpret_cast<char*>(d), sizeof d));
}

std::optional<ExchangeCache::Result> ExchangeCache::begin(const std::string& key, int64_t now_s,
                                                          bool* from_cache,
                                                          std::shared_ptr<Flight>* flight,
                                                          bool* leader) {
  std::lock_guard lock(mu_);
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
    *flight = f->second;
    *leader = false;
    return std::nullopt;
  }
  ++stats_.misses;
  *flight = std::make_shared<Flight>();
  flights_[key] = *flight;
  *leader = true;
  return std::nullopt;
}

void ExchangeCache::land(const std::string& key, int64_t now_s,
                         const std::shared_ptr<Flight>& flight, const Result& r) {
  std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters;
  {
    std::lock_guard lock(mu_);
    flight->result = r;
    flight->done = true;
    waiters.swap(flight->waiters);
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
  }
  landed_.notify_all();
  // Each waiter's timer is cancelled on its own executor (a timer is not thread-safe).
  for (auto& w : waiters) boost::asio::post(w->get_executor(), [w] { w->cancel(); });
}

ExchangeCache::Result ExchangeCache::get_or_exchange(const std::string& key, int64_t now_s,
                                                     const std::function<Result()>& exchange,
                                                     bool* from_cache) {
  std::shared_ptr<Flight> flight;
  bool leader = false;
  if (auto hit = begin(key, now_s, from_cache, &flight, &leader)) return *hit;
  if (!leader) {
    std::unique_lock lock(mu_);
    landed_.wait(lock, [&] { return flight->done; });
    *from_cache = true;
    return flight->result;
  }
  Result r;
  try {
    r = exchange();
  } catch (...) {
    land(key, now_s, flight, Result{});  // waiters see a failure, never wait forever
    throw;
  }
  land(key, now_s, flight, r);
  return r;
}

boost::asio::awaitable<ExchangeCache::Result> ExchangeCache::async_get_or_exchange(
    std::string key, int64_t now_s, std::function<boost::asio::awaitable<Result>()> exchange,
    bool* from_cache, std::chrono::steady_clock::time_point deadline) {
  namespace net = boost::asio;
  std::shared_ptr<Flight> flight;
  bool leader = false;
  if (auto hit = begin(key, now_s, from_cache, &flight, &leader)) co_return *hit;
  if (!leader) {
    auto timer = std::make_shared<net::steady_timer>(co_await net::this_coro::executor, deadline);
    bool landed = false;
    {
      std::lock_guard lock(mu_);
      landed = flight->done;
      if (!landed) flight->waiters.push_back(timer);
    }
    if (!landed) {
      boost::system::error_code ec;
      co_await timer->async_wait(net::redirect_error(net::use_awaitable, ec));
    }
    std::lock_guard lock(mu_);
    if (!flight->done) {  // the deadline passed first
      Result late;
      late.timed_out = true;
      co_return late;
    }
    *from_cache = true;
    co_return flight->result;
  }
  Result r;
  std::exception_ptr failed;
  try {
    r = co_await exchange();
  } catch (...) {
    failed = std::current_exception();
  }
  land(key, now_s, flight, r);
  if (failed) std::rethrow_exception(failed);
  co_return r;
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
