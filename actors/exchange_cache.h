// The gateway's exchanged-token cache: keyed by everything that shapes the result (subject
// token, targets, scope, requested type, actor), an entry expires a margin before the token's
// exp, it is bounded (LRU), and concurrent identical misses run one exchange (single-flight).
// It can never hand a token to another subject or audience: those are part of the key.
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "actors/errors.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace txlab {

struct ExchangeCacheOptions {
  size_t max_entries = 10000;
  int64_t margin_s = 15;  // an entry dies this long before the token's exp
};

struct ExchangeCacheStats {
  size_t hits = 0, misses = 0, waits = 0, evictions = 0, invalidations = 0;
};

class ExchangeCache {
 public:
  struct Result {
    std::string token;
    int64_t exp_s = 0;
    bool ok = false;
    // Failed exchanges (never cached): the AS's HTTP status (0 = unreachable) and error.
    int status = 0;
    std::string error, description;
    std::optional<TokenError> code;  // `error`, typed (token_client parses it once)
    bool timed_out = false;          // status 0 because the AS did not answer in time
    std::string token_type = {};     // as the AS named it (token_type), e.g. "Bearer" or "DPoP"
  };

  explicit ExchangeCache(ExchangeCacheOptions options = {}) : options_(options) {}

  // The cache key: a hash of the subject token and every parameter of the exchange.
  static std::string key_of(const std::string& subject_token, const std::string& parameters);

  // Returns a cached token valid at `now_s`, or runs `exchange` once for all concurrent callers
  // with the same key. `from_cache` tells whether the token was already cached.
  Result get_or_exchange(const std::string& key, int64_t now_s,
                         const std::function<Result()>& exchange, bool* from_cache);
  // The same for a coroutine: the leader co_awaits `exchange`; a caller that finds the same
  // exchange in flight waits without holding its thread (a timer the leader cancels when it
  // lands the answer) until `deadline`, then gives up with a timed-out failure. Sync and async
  // callers share flights.
  boost::asio::awaitable<Result> async_get_or_exchange(
      std::string key, int64_t now_s, std::function<boost::asio::awaitable<Result>()> exchange,
      bool* from_cache, std::chrono::steady_clock::time_point deadline);
  void invalidate(const std::string& key);
  ExchangeCacheStats stats() const;
  size_t size() const;

 private:
  struct Entry {
    Result result;
    std::list<std::string>::iterator lru;
  };
  struct Flight {
    bool done = false;
    Result result;
    std::vector<std::shared_ptr<boost::asio::steady_timer>> waiters;  // async callers
  };
  // Under no lock: a cached result, or the flight to wait for (*leader false) or to run.
  std::optional<Result> begin(const std::string& key, int64_t now_s, bool* from_cache,
                              std::shared_ptr<Flight>* flight, bool* leader);
  // The leader's answer: cached when good, handed to every waiter.
  void land(const std::string& key, int64_t now_s, const std::shared_ptr<Flight>& flight,
            const Result& r);

  ExchangeCacheOptions options_;
  mutable std::mutex mu_;
  std::condition_variable landed_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
  ExchangeCacheStats stats_;
};

}  // namespace txlab
