// The one gateway implementation (Gateway-C2P, Gateway-C2PE): verify the inbound bearer
// token, optionally exchange it at an AS with the gateway's own client registration (RFC
// 8693), replace Authorization, and forward by route. Upstream failures become 502/503/504
// with a JSON body; nothing hangs.
#pragma once

#include <chrono>

#include <atomic>

#include <memory>
#include <optional>
#include <variant>

#include "actors/bearer_guard.h"
#include "actors/exchange_cache.h"
#include "actors/role.h"

namespace txlab {

class Gateway : public Role {
 public:
  Gateway(RoleEnv env, GatewaySpec spec);
  ~Gateway() override;
  RoleKind kind() const override { return RoleKind::kGateway; }
  // nullptr when the gateway does not cache exchanged tokens.
  const ExchangeCache* exchange_cache() const { return cache_.get(); }
  void release_connections() override { own_pool_.clear(); }

 private:
  // The request path, a coroutine on the I/O thread that parsed the request (no thread waits
  // on an upstream): guard (authenticate and verify the caller's token) -> route -> introspect
  // (when the route asks) -> exchange or cache -> forward -> relay the answer.
  boost::asio::awaitable<void> handle(const http::Request& req, http::Response& res);

  // One inbound request's time: the gateway's timeout_ms covers the exchange, introspection and
  // forward together, and each outbound call gets what is left. So the gateway answers its own
  // 504 before its caller (whose timeout is longer) gives up on it. It also carries the
  // request's call id into every outbound call.
  class Budget {
   public:
    Budget(int64_t ms, std::string call);
    int remaining_ms() const;
    bool spent() const { return remaining_ms() <= 0; }
    std::chrono::steady_clock::time_point end() const { return end_; }
    const std::string& call() const { return call_; }

   private:
    std::chrono::steady_clock::time_point end_;
    std::string call_;
  };
  boost::asio::awaitable<ExchangeCache::Result> exchange(const std::string& subject_token,
                                                         const Budget& budget);

  const Route* route_for(const std::string& path) const;  // the longest matching prefix
  // RFC 7662: the issuer's view wins over a locally valid signature (revocation).
  boost::asio::awaitable<std::optional<EdgeRefusal>> introspect(const std::string& token,
                                                                const Budget& budget);
  // The token to forward: the exchanged one (fresh or cached), or the caller's own.
  boost::asio::awaitable<std::variant<std::string, EdgeRefusal>> outbound_token(
      const std::string& inbound, const std::string& cache_key, const Budget& budget,
      bool* from_cache);
  boost::asio::awaitable<http::InboundResponse> forward(const http::Request& req,
                                                        const Route& route,
                                                        const std::string& token,
                                                        const Budget& budget);
  // Sends within the budget with bounded retries: a request that never reached the peer
  // (connect error) is always safe to retry; other transport errors only for idempotent
  // methods. Backoff doubles from 20 ms with jitter (an Asio timer: the thread is free).
  boost::asio::awaitable<http::InboundResponse> send_with_retries(
      const std::string& to, http::OutboundRequest req, const std::string& what,
      const std::string& token, const Budget& budget, bool dpop = false);

  GatewaySpec spec_;
  http::HttpClientPool own_pool_;
  Outbound own_outbound_;
  // Retry jitter: draw n is splitmix64(seed ^ n); the counter is atomic because handler threads
  // retry concurrently (a shared generator state here was a data race).
  std::atomic<uint64_t> jitter_draws_{0};
  BearerGuard guard_;
  std::unique_ptr<ExchangeCache> cache_;
};

}  // namespace txlab
