// LoopbackServer's async routes: a coroutine handler runs on the I/O thread that parsed the
// request and waits (timers, async_send) without holding a thread; errors become 500 and are
// counted, running handlers are bounded (503 beyond), stop() waits for them, restart serves
// them again. And the point of it all: requests waiting on a stalled upstream, more than the
// worker pool has threads, do not keep another route from answering.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "sim/http/client_pool.h"
#include "sim/http/server.h"

namespace txlab {
namespace {

namespace net = boost::asio;

net::awaitable<void> sleep_ms(int ms) {
  net::steady_timer t(co_await net::this_coro::executor);
  t.expires_after(std::chrono::milliseconds(ms));
  co_await t.async_wait(net::use_awaitable);
}

http::OutboundRequest get(std::string path) {
  http::OutboundRequest r;
  r.path = std::move(path);
  return r;
}

TEST(AsyncServerTest, AsyncRouteAnswersWithItsCaptures) {
  http::LoopbackServer server;
  server.routes().add_async(
      "GET", "/items/{}",
      [](const http::Request& req, http::Response& res) -> net::awaitable<void> {
        co_await sleep_ms(5);
        res.set_content("item " + req.matches.at(1), "text/plain");
      });
  server.start();
  http::HttpClientPool pool;
  auto r = pool.send(server.base_url(), get("/items/42"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "item 42");
  EXPECT_EQ(pool.send(server.base_url(), get("/nothing")).status, 404);
  http::OutboundRequest post = get("/items/42");
  post.method = "POST";
  EXPECT_EQ(pool.send(server.base_url(), post).status, 405);
}

TEST(AsyncServerTest, ThrowingAsyncHandlerIs500AndCounted) {
  http::LoopbackServer server;
  server.routes().add_async("GET", "/boom",
                            [](const http::Request&, http::Response&) -> net::awaitable<void> {
                              co_await sleep_ms(1);
                              throw std::runtime_error("boom");
                            });
  server.start();
  http::HttpClientPool pool;
  auto r = pool.send(server.base_url(), get("/boom"));
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(r.body.find("boom"), std::string::npos);
  EXPECT_EQ(server.stats().handler_errors, 1u);
}

TEST(AsyncServerTest, RunningAsyncHandlersAreBoundedBy503) {
  http::ServerOptions o;
  o.queue_limit = 2;
  http::LoopbackServer server(o);
  server.routes().add_async("GET", "/wait",
                            [](const http::Request&, http::Response& res) -> net::awaitable<void> {
                              co_await sleep_ms(300);
                              res.set_content("waited", "text/plain");
                            });
  server.start();
  http::HttpClientPool pool;
  net::io_context io;
  std::vector<int> statuses;
  for (int i = 0; i < 5; ++i)
    net::co_spawn(
        io, pool.async_send(server.base_url(), get("/wait")),
        [&](std::exception_ptr, http::InboundResponse r) { statuses.push_back(r.status); });
  io.run();
  ASSERT_EQ(statuses.size(), 5u);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 2);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 503), 3);
  EXPECT_EQ(server.stats().busy_503, 3u);
}

TEST(AsyncServerTest, StopWaitsForRunningAsyncHandlersAndRestartServesAgain) {
  http::LoopbackServer server;
  std::atomic<int> finished{0};
  server.routes().add_async("GET", "/wait",
                            [&](const http::Request&, http::Response& res) -> net::awaitable<void> {
                              co_await sleep_ms(300);
                              finished.fetch_add(1);
                              res.set_content("waited", "text/plain");
                            });
  server.start();
  http::HttpClientPool pool;
  std::thread caller([&] { pool.send(server.base_url(), get("/wait")); });
  while (server.stats().requests == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop();
  EXPECT_EQ(finished.load(), 1);  // stop() returned only after the handler had finished
  caller.join();
  ASSERT_TRUE(server.restart());
  EXPECT_EQ(pool.send(server.base_url(), get("/wait")).status, 200);
  EXPECT_EQ(finished.load(), 2);
}

// `stalled` calls to /via (which waits `stall_ms` on the upstream) on a front server with 2
// workers and 1 I/O thread, then one call to /fast (which calls nothing): the bodies in the
// order the answers arrived. `async_front`: the front's handlers are coroutines; otherwise
// they block a worker each, as every handler did before async routes.
std::vector<std::string> stalled_then_fast(bool async_front, int stalled, int stall_ms) {
  http::LoopbackServer upstream;  // an async handler: the stall holds no thread here either
  upstream.routes().add_async(
      "GET", "/stall",
      [stall_ms](const http::Request&, http::Response& res) -> net::awaitable<void> {
        co_await sleep_ms(stall_ms);
        res.set_content("late", "text/plain");
      });
  upstream.start();
  http::ServerOptions o;
  o.threads = 2;
  o.io_threads = 1;
  http::LoopbackServer front(o);
  http::HttpClientPool front_pool;
  const std::string up = upstream.base_url();
  if (async_front) {
    front.routes().add_async(
        "GET", "/via", [&](const http::Request&, http::Response& res) -> net::awaitable<void> {
          auto r = co_await front_pool.async_send(up, get("/stall"));
          res.set_content(r.body, "text/plain");
        });
    front.routes().add_async("GET", "/fast",
                             [](const http::Request&, http::Response& res) -> net::awaitable<void> {
                               res.set_content("fast", "text/plain");
                               co_return;
                             });
  } else {
    front.routes().get("/via", [&](const http::Request&, http::Response& res) {
      res.set_content(front_pool.send(up, get("/stall")).body, "text/plain");
    });
    front.routes().get("/fast", [](const http::Request&, http::Response& res) {
      res.set_content("fast", "text/plain");
    });
  }
  front.start();
  http::HttpClientPool pool;
  net::io_context io;
  std::vector<std::string> order;
  for (int i = 0; i < stalled; ++i)
    net::co_spawn(io, pool.async_send(front.base_url(), get("/via")),
                  [&](std::exception_ptr, http::InboundResponse r) { order.push_back(r.body); });
  net::steady_timer later(io);
  later.expires_after(std::chrono::milliseconds(300));  // the stalled calls are in flight by then
  later.async_wait([&](auto) {
    net::co_spawn(io, pool.async_send(front.base_url(), get("/fast")),
                  [&](std::exception_ptr, http::InboundResponse r) { order.push_back(r.body); });
  });
  io.run();
  front.stop();
  return order;
}

TEST(AsyncServerTest, RequestsStalledUpstreamDoNotHoldUpAnotherRoute) {
  // Twice the old worker count (32) waiting on the stalled upstream.
  const auto order = stalled_then_fast(true, 64, 2000);
  ASSERT_EQ(order.size(), 65u);
  EXPECT_EQ(order.front(), "fast");  // answered while all 64 were still waiting
  EXPECT_EQ(std::count(order.begin(), order.end(), "late"), 64);
}

TEST(AsyncServerTest, WithBlockingHandlersTheSameCallQueuesBehindTheStalledOnes) {
  // The defect the async routes remove, so the test above is known to catch it: 6 calls
  // blocking 2 workers for 400 ms each hold /fast back until some of them are done.
  const auto order = stalled_then_fast(false, 6, 400);
  ASSERT_EQ(order.size(), 7u);
  EXPECT_EQ(order.front(), "late");
}

}  // namespace
}  // namespace txlab
