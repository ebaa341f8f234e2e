// HttpClientPool over real loopback sockets, both entry points: async_send (a coroutine that
// waits for the socket on Asio) and send (the same coroutine run on the calling thread).
// Success, keep-alive reuse, the deadline, a refused connect, an oversized answer, a server
// that closed a kept-alive connection, mutual TLS, and that one thread runs many requests
// waiting on a slow server at once.
#include <gtest/gtest.h>

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "sim/http/client_pool.h"
#include "sim/http/server.h"
#include "sim/tls.h"

namespace txlab {
namespace {

namespace net = boost::asio;

// A server with a fast route, a slow one (sleeps `slow_ms` on a worker) and a large answer.
struct Upstream {
  http::LoopbackServer server;
  explicit Upstream(int slow_ms = 400, http::ServerOptions o = {}) : server(o) {
    server.routes().get("/hello", [](const http::Request&, http::Response& res) {
      res.set_content("hello", "text/plain");
    });
    server.routes().get("/slow", [slow_ms](const http::Request&, http::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));
      res.set_content("slow", "text/plain");
    });
    server.routes().get("/big", [](const http::Request&, http::Response& res) {
      res.set_content(std::string(64 * 1024, 'x'), "text/plain");
    });
  }
};

http::OutboundRequest get(std::string path, int timeout_ms = 0) {
  http::OutboundRequest r;
  r.path = std::move(path);
  r.timeout_ms = timeout_ms;
  return r;
}

// Runs async_send on a fresh single-threaded io_context.
http::InboundResponse run_async(http::HttpClientPool& pool, const std::string& url,
                                http::OutboundRequest req) {
  net::io_context io;
  http::InboundResponse out;
  net::co_spawn(io, pool.async_send(url, std::move(req)),
                [&](std::exception_ptr e, http::InboundResponse r) {
                  if (!e) out = std::move(r);
                });
  io.run();
  return out;
}

TEST(HttpClientTest, AsyncAndSyncSendGetTheAnswer) {
  Upstream up;
  up.server.start();
  http::HttpClientPool pool;
  auto a = run_async(pool, up.server.base_url(), get("/hello"));
  EXPECT_EQ(a.status, 200) << http::to_string(a.error);
  EXPECT_EQ(a.body, "hello");
  EXPECT_EQ(a.header("content-type"), "text/plain");
  auto s = pool.send(up.server.base_url(), get("/hello"));
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body, "hello");
}

TEST(HttpClientTest, KeepAliveConnectionIsReusedByBothPaths) {
  Upstream up;
  up.server.start();
  http::HttpClientPool pool;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(run_async(pool, up.server.base_url(), get("/hello")).status, 200);
    EXPECT_EQ(pool.send(up.server.base_url(), get("/hello")).status, 200);
  }
  EXPECT_EQ(up.server.stats().requests, 6u);
  EXPECT_EQ(up.server.stats().accepted, 1u);  // one connection, checked out by either path
}

TEST(HttpClientTest, DeadlineIsATimeoutOnBothPaths) {
  Upstream up(1500);
  up.server.start();
  http::HttpClientPool pool;
  auto a = run_async(pool, up.server.base_url(), get("/slow", 150));
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(a.error, http::TransportError::kTimeout);
  auto s = pool.send(up.server.base_url(), get("/slow", 150));
  EXPECT_EQ(s.error, http::TransportError::kTimeout);
}

TEST(HttpClientTest, RefusedConnectIsAConnectError) {
  // A port that was just free: bind, read it, close.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  http::HttpClientPool pool;
  EXPECT_EQ(run_async(pool, url, get("/hello")).error, http::TransportError::kConnect);
  EXPECT_EQ(pool.send(url, get("/hello")).error, http::TransportError::kConnect);
  EXPECT_EQ(run_async(pool, "ftp://nowhere", get("/")).status, 0);
}

TEST(HttpClientTest, OversizedAnswerIsAReadError) {
  Upstream up;
  up.server.start();
  http::ClientOptions o;
  o.max_response_bytes = 1024;
  http::HttpClientPool pool(o);
  auto a = run_async(pool, up.server.base_url(), get("/big"));
  EXPECT_EQ(a.status, 0);
  EXPECT_EQ(a.error, http::TransportError::kRead);
  EXPECT_EQ(run_async(pool, up.server.base_url(), get("/hello")).status, 200);
}

TEST(HttpClientTest, KeptAliveConnectionClosedByTheServerIsReplacedByAFreshOne) {
  http::ServerOptions so;
  so.keep_alive_timeout_ms = 100;  // the server closes idle connections quickly
  Upstream up(400, so);
  up.server.start();
  http::ClientOptions o;
  o.max_idle_ms = 0;  // never expire: the pool hands out the connection the server closed
  http::HttpClientPool pool(o);
  ASSERT_EQ(run_async(pool, up.server.base_url(), get("/hello")).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = run_async(pool, up.server.base_url(), get("/hello"));
  EXPECT_EQ(r.status, 200) << http::to_string(r.error);
  EXPECT_EQ(up.server.stats().accepted, 2u);
}

TEST(HttpClientTest, MutualTlsOnTheAsyncPathVerifiesTheServer) {
  TlsAuthority ca, other;
  const auto server_id = ca.issue("as-c");
  const auto client_id = ca.issue("gw-c2p");
  http::LoopbackServer server;
  server.routes().get("/who", [](const http::Request& req, http::Response& res) {
    res.set_content(inspect_certificate(req.client_cert_der).subject_dn, "text/plain");
  });
  server.set_tls({server_id.cert_pem, server_id.key_pem, ca.ca_pem()});
  server.start();
  http::HttpClientPool pool;
  pool.set_tls({ca.ca_pem(), client_id.cert_pem, client_id.key_pem});
  for (int i = 0; i < 2; ++i) {
    auto r = run_async(pool, server.base_url(), get("/who"));
    ASSERT_EQ(r.status, 200) << http::to_string(r.error);
    EXPECT_EQ(r.body, "CN=gw-c2p,O=txlab");
  }
  EXPECT_EQ(server.stats().accepted, 1u);
  http::HttpClientPool stranger;  // trusts another CA: the server's chain does not verify
  stranger.set_tls({other.ca_pem(), "", ""});
  EXPECT_EQ(run_async(stranger, server.base_url(), get("/who")).error, http::TransportError::kTls);
}

TEST(HttpClientTest, OneThreadWaitsOnManyRequestsAtOnce) {
  // 8 requests to a route that takes 300 ms, on one thread: with a blocking client they take
  // 8 x 300 ms one after the other; here they overlap, so a fast request started after them
  // answers before any slow one does.
  http::ServerOptions so;
  so.threads = 16;
  Upstream up(300, so);
  up.server.start();
  http::HttpClientPool pool;
  net::io_context io;
  std::vector<int> order;  // 1: a slow request finished, 2: the fast one
  int slow_ok = 0;
  for (int i = 0; i < 8; ++i)
    net::co_spawn(io, pool.async_send(up.server.base_url(), get("/slow")),
                  [&](std::exception_ptr, http::InboundResponse r) {
                    order.push_back(1);
                    slow_ok += r.status == 200;
                  });
  net::co_spawn(io, pool.async_send(up.server.base_url(), get("/hello")),
                [&](std::exception_ptr, http::InboundResponse r) {
                  EXPECT_EQ(r.status, 200);
                  order.push_back(2);
                });
  io.run();
  ASSERT_EQ(order.size(), 9u);
  EXPECT_EQ(order.front(), 2);
  EXPECT_EQ(slow_ok, 8);
}

}  // namespace
}  // namespace txlab
