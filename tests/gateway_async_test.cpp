// The gateway's request path as a coroutine: with one upstream stalled (scenario
// upstream-stall: the link gw-c2p -> gw-c2pe never answers), more calls waiting on it than the
// old worker pool had threads (32) do not keep a call on another route (exchange at as-c2pe,
// then forward to as-c2pe's /jwks) from answering before all of them. With handlers on a
// blocking worker pool, that call queued behind the stalled ones. And the exchange cache's
// single flight for coroutine callers.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "actors/exchange_cache.h"
#include "test_support.h"

namespace txlab {
namespace {

namespace net = boost::asio;

TEST(GatewayAsyncTest, StalledUpstreamDoesNotHoldUpAnotherRoute) {
  auto s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/faults/upstream-stall.yaml");
  for (auto& r : s.roles)
    if (r.id == "gw-c2p") {
      r.gateway.timeout_ms = 4000;  // the stalled calls wait this long, then 504
      r.gateway.retries = 0;
      r.gateway.routes.push_back({"/jwks", "as-c2pe", false});
    }
  auto w = testing::start_world(std::move(s));
  const std::string token = testing::client_credentials(*w, "as-c", "svc-cfa", "cfa-secret");
  ASSERT_FALSE(token.empty());
  const std::string gw = w->directory().url_of("gw-c2p");
  auto call = [&](const std::string& path) {
    http::OutboundRequest r;
    r.path = path;
    r.timeout_ms = 10000;
    r.headers.emplace_back("Authorization", "Bearer " + token);
    return r;
  };
  http::ClientOptions o;
  o.read_timeout_ms = 10000;
  http::HttpClientPool pool(o);
  net::io_context io;
  std::vector<std::pair<std::string, int>> order;  // (path, status) as the answers arrive
  for (int i = 0; i < 64; ++i)
    net::co_spawn(io, pool.async_send(gw, call("/orders/42")),
                  [&](std::exception_ptr, http::InboundResponse r) {
                    order.emplace_back("/orders/42", r.status);
                  });
  net::steady_timer later(io);
  later.expires_after(std::chrono::milliseconds(1000));  // the 64 are waiting on the stall by then
  later.async_wait([&](auto) {
    net::co_spawn(io, pool.async_send(gw, call("/jwks")),
                  [&](std::exception_ptr, http::InboundResponse r) {
                    order.emplace_back("/jwks", r.status);
                  });
  });
  io.run();
  ASSERT_EQ(order.size(), 65u);
  EXPECT_EQ(order.front(), (std::pair<std::string, int>{"/jwks", 200}));
  EXPECT_EQ(std::count(order.begin(), order.end(), std::pair<std::string, int>{"/orders/42", 504}),
            64);
}

// An exchange that takes `ms` and gives `token`, counting its runs in *runs.
net::awaitable<ExchangeCache::Result> timed_exchange(int ms, std::string token, int* runs) {
  ++*runs;
  net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(net::use_awaitable);
  ExchangeCache::Result r;
  r.ok = true;
  r.token = std::move(token);
  r.exp_s = 1000;
  co_return r;
}

// Single-flight for coroutines, on one thread: if a waiter blocked its thread, the leader
// could never finish and this test would hang.
TEST(ExchangeCacheAsyncTest, ConcurrentIdenticalMissesRunOneExchangeOnOneThread) {
  ExchangeCache cache;
  net::io_context io;
  int exchanges = 0;
  auto exchange = [&] { return timed_exchange(200, "t1", &exchanges); };
  std::vector<std::string> tokens;
  bool cached[5] = {};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int i = 0; i < 5; ++i)
    net::co_spawn(io, cache.async_get_or_exchange("k", 0, exchange, &cached[i], deadline),
                  [&](std::exception_ptr, ExchangeCache::Result r) { tokens.push_back(r.token); });
  io.run();
  EXPECT_EQ(exchanges, 1);
  EXPECT_EQ(tokens, std::vector<std::string>(5, "t1"));
  EXPECT_EQ(std::count(std::begin(cached), std::end(cached), true), 4);  // the waiters
  EXPECT_EQ(cache.stats().misses, 1u);
  EXPECT_EQ(cache.stats().waits, 4u);
  // Now cached: no exchange at all.
  bool from_cache = false;
  net::co_spawn(io, cache.async_get_or_exchange("k", 0, exchange, &from_cache, deadline),
                [&](std::exception_ptr, ExchangeCache::Result r) { EXPECT_EQ(r.token, "t1"); });
  io.restart();
  io.run();
  EXPECT_TRUE(from_cache);
  EXPECT_EQ(exchanges, 1);
}

TEST(ExchangeCacheAsyncTest, AWaiterGivesUpAtItsDeadline) {
  ExchangeCache cache;
  net::io_context io;
  int runs = 0;
  auto slow = [&] { return timed_exchange(500, "late", &runs); };
  const auto now = std::chrono::steady_clock::now();
  bool leader_cached = false, waiter_cached = false;
  std::vector<std::string> order;
  net::co_spawn(
      io, cache.async_get_or_exchange("k", 0, slow, &leader_cached, now + std::chrono::seconds(5)),
      [&](std::exception_ptr, ExchangeCache::Result r) {
        order.push_back(r.ok ? r.token : "failed");
      });
  net::co_spawn(io,
                cache.async_get_or_exchange("k", 0, slow, &waiter_cached,
                                            now + std::chrono::milliseconds(50)),
                [&](std::exception_ptr, ExchangeCache::Result r) {
                  order.push_back(r.ok ? r.token : r.timed_out ? "timed out" : "failed");
                });
  io.run();
  EXPECT_EQ(order, (std::vector<std::string>{"timed out", "late"}));
}

}  // namespace
}  // namespace txlab
