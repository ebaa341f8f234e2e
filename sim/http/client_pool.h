// Outbound HTTP for role-to-role calls: a pool of keep-alive connections per base URL (each
// request checks one out), TCP_NODELAY, a deadline per request. http:// (and https:// between
// txlab's roles, see ClientOptions::tls) is served by txlab's own small client: non-blocking
// POSIX sockets whose readiness is awaited on Boost.Asio (a coroutine: async_send suspends
// instead of blocking its thread; send runs the same coroutine to completion on a private
// io_context), Boost.Beast's response parser, bounded response size. https:// to a remote
// conformance target goes through cpp-httplib, which blocks. Never throws; failures come
// back as a named error.
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace txlab::http {

// kTls: the TLS handshake failed (the server's certificate did not verify, or the server
// refused this client's).
enum class TransportError { kNone, kConnect, kTimeout, kRead, kWrite, kOther, kTls };
std::string_view to_string(TransportError e);

struct OutboundRequest {
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type;
  int timeout_ms = 0;  // read/write timeout of this request; 0 = the pool's
};

// A form POST (application/x-www-form-urlencoded) with HTTP Basic client credentials when
// `client_id` is not empty (RFC 6749 §2.3.1 encoding).
OutboundRequest form_post(std::string path,
                          const std::vector<std::pair<std::string, std::string>>& form,
                          const std::string& client_id = {}, const std::string& client_secret = {});

struct InboundResponse {
  int status = 0;  // 0 when no HTTP response was received
  TransportError error = TransportError::kNone;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;  // case-insensitive, first match
};

struct ClientOptions {
  ClientOptions() = default;
  ClientOptions(int connect_ms, int read_ms, size_t idle_per_host)
      : connect_timeout_ms(connect_ms),
        read_timeout_ms(read_ms),
        max_idle_per_host(idle_per_host) {}
  int connect_timeout_ms = 2000;
  int read_timeout_ms = 5000;
  size_t max_idle_per_host = 64;  // at least the concurrency a role sees, or connections churn
  size_t max_response_bytes = 16 << 20;  // a larger answer is a read error
  // A pooled connection idle longer than this is closed instead of reused: txlab's servers
  // close idle keep-alive connections after 2 s, and reusing one just as the server closes it
  // loses the request (the classic keep-alive race). 0 = never expire.
  int max_idle_ms = 1000;
  // Zones in network namespaces (txlab run --netns): the namespace each connection's socket is
  // made in, by destination host (-1: the calling thread's own), and the local address sockets
  // are bound to ("" lets the kernel choose). Empty: sockets as the thread makes them.
  std::function<int(const std::string& host)> netns_of;
  std::string source_ip;
  // Mutual TLS between txlab's roles: https:// is then served by txlab's own client (same
  // deadlines, netns, parser) which verifies the server against `ca_pem` (chain, and the URL's
  // host among the certificate's names) and presents `cert_pem`/`key_pem` when set. Unset:
  // https:// goes through cpp-httplib (remote conformance targets).
  struct Tls {
    std::string ca_pem;
    std::string cert_pem, key_pem;  // this client's certificate; empty: none presented
  };
  std::shared_ptr<const Tls> tls;
};

class HttpClientPool {
 public:
  explicit HttpClientPool(ClientOptions options = {});
  ~HttpClientPool();
  HttpClientPool(const HttpClientPool&) = delete;
  HttpClientPool& operator=(const HttpClientPool&) = delete;

  // Before the first send: the default read/write timeout of requests without their own.
  void set_read_timeout_ms(int ms) { options_.read_timeout_ms = ms; }
  // Before the first send: see ClientOptions::netns_of and source_ip.
  void set_netns(std::function<int(const std::string& host)> netns_of, std::string source_ip) {
    options_.netns_of = std::move(netns_of);
    options_.source_ip = std::move(source_ip);
  }
  // Before the first send: see ClientOptions::tls. Throws std::runtime_error when the PEM
  // material is unusable.
  void set_tls(ClientOptions::Tls tls);
  int read_timeout_ms() const { return options_.read_timeout_ms; }
  const ClientOptions& options() const { return options_; }
  // base_url like "http://127.0.0.1:41234". Blocks the calling thread (for callers outside a
  // role's request path: tests, the conformance runner, the CLI).
  InboundResponse send(const std::string& base_url, const OutboundRequest& request);
  // The same request as a coroutine on the caller's executor: the thread is free while the
  // request waits on the network (same connections, deadlines, errors and retry rule as send).
  // A remote https target without ClientOptions::tls (cpp-httplib) still blocks.
  boost::asio::awaitable<InboundResponse> async_send(std::string base_url, OutboundRequest request);
  // Closes every idle keep-alive connection (before servers stop, so they need not wait for
  // idle connections to time out).
  void clear();

 private:
  struct Conn;  // a plain socket or an https client, defined in client_internal.h
  std::unique_ptr<Conn> checkout(const std::string& base_url);
  void checkin(const std::string& base_url, std::unique_ptr<Conn> conn);
  struct Ready;  // the connection's socket lent to Asio: readiness by a deadline
  boost::asio::awaitable<InboundResponse> send_once(const std::string& base_url,
                                                    const OutboundRequest& request, Conn& conn,
                                                    int timeout_ms, bool* retry_fresh);
  boost::asio::awaitable<TransportError> connect(Conn& conn, const std::string& base_url,
                                                 Ready& ready, int64_t deadline_us);

  ClientOptions options_;
  struct SslCtx;  // the OpenSSL context made from options_.tls
  std::shared_ptr<SslCtx> ssl_;
  std::mutex mu_;
  struct Idle {
    std::unique_ptr<Conn> conn;
    int64_t since_us = 0;  // monotonic time it was checked in
  };
  std::map<std::string, std::vector<Idle>> idle_;
};

}  // namespace txlab::http
