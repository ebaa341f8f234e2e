// Internals shared by HttpClientPool's translation units: client_pool.cpp (the pool, the
// cpp-httplib path, send and async_send), client_connect.cpp (connection establishment:
// endpoint, socket, TLS session) and client_exchange.cpp (connecting, the TLS handshake and
// one request and its response on txlab's own connection, as a coroutine that waits for the
// socket's readiness on Asio). Not part of the public API.
#pragma once

#include <openssl/ssl.h>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sim/http/client_pool.h"

namespace httplib {
class Client;
}

namespace txlab::http {

struct HttpClientPool::SslCtx {
  SSL_CTX* ctx = nullptr;
  ~SslCtx() { SSL_CTX_free(ctx); }
};

// One pooled connection: a non-blocking socket (http, or https with txlab's own TLS) or an
// https client (cpp-httplib).
struct HttpClientPool::Conn {
  int fd = -1;
  SSL* ssl = nullptr;           // over fd, when TLS is txlab's own
  std::shared_ptr<SslCtx> ctx;  // keeps the context alive as long as the connection
  std::string leftover;         // bytes read past the previous response (none expected)
  std::unique_ptr<httplib::Client> tls;
  bool reused = false;
  ~Conn();
  void reset();
  // An idle keep-alive connection the server has closed (or sent something unasked) is not
  // worth reusing.
  bool stale() const;
};

namespace client_detail {

int64_t now_us();

// "http://host:port" or "https://host:port" (no path) split; nullopt for anything else.
struct Endpoint {
  std::string host;
  uint16_t port = 80;
  bool tls = false;
};
std::optional<Endpoint> parse_endpoint(const std::string& base_url);

// Makes a non-blocking socket for `e` (in the destination's network namespace, bound to the
// configured source address, TCP_NODELAY) and starts connecting it. Returns the fd, *pending
// true when the connect is in progress (wait until writable, then connect_error), or -1.
int open_socket(const Endpoint& e, const ClientOptions& o, bool* pending);

// After a pending connect became writable: 0 once connected, the socket's error otherwise.
int connect_error(int fd);

// Non-blocking I/O on a plain (ssl null) or TLS connection: bytes moved (> 0), 0 when the
// peer closed, -1 with *want the poll event to wait for (0: a failure, errno set for plain
// sockets), -2 when the TLS peer sent an alert (it refused the session).
ssize_t io_result(SSL* ssl, int r, short* want);

// The client side of a TLS session on a connected non-blocking socket (SSL_connect drives the
// handshake): the server's chain must verify against the pool's CA and name the URL's host
// (IP or DNS). Null when OpenSSL cannot make one.
SSL* tls_session(int fd, SSL_CTX* ctx, const Endpoint& e);

}  // namespace client_detail

}  // namespace txlab::http
