// A real HTTP/1.1 server on 127.0.0.1 for one role: Boost.Beast's parser on Boost.Asio async
// I/O, handlers on a separate bounded worker pool (they may block on outbound calls; the I/O
// thread never does), and a limit on everything a client controls: header bytes and count,
// body size with or without Content-Length (chunked included), time to send the header and
// the body, idle keep-alive, open connections (the oldest connection still sending its header
// is dropped for a new one, so slow clients cannot starve the rest), queued requests (503 +
// Retry-After when full). Every refusal is a JSON body. No Range support (RFC 9110 §14.2 lets a
// server ignore it). Handlers see only txlab's own http::Request/Response (sim/http/message.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sim/http/message.h"

namespace txlab::http {

struct ServerOptions {
  size_t threads = 32;               // workers running handlers
  size_t io_threads = 1;             // threads reading and writing sockets
  size_t queue_limit = 1024;         // requests read and waiting for a worker; beyond → 503
  int keep_alive_timeout_ms = 2000;  // idle between requests on one connection
  int header_timeout_ms = 5000;      // a new connection's whole request header
  int body_timeout_ms = 10000;       // the whole body, from the end of the header
  int write_timeout_ms = 5000;       // the whole response
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_count = 100;
  size_t max_body_bytes = 1 << 20;
  size_t max_connections = 4096;
};

// Serving https (mutual TLS between roles): the server's certificate and key (PEM), and the CA
// client certificates are checked against. Every client is asked for a certificate; one that
// sends none, or one that does not chain to `client_ca_pem`, is still served (the handler sees
// Request::client_cert_der and client_cert_verified and decides: RFC 8705 §2.2 self-signed
// client certificates are legitimate). TLS 1.2 and 1.3 only.
struct ServerTls {
  std::string cert_pem, key_pem;
  std::string client_ca_pem;
};

// What the server refused or dropped, counted (every bound counts what it drops).
struct ServerStats {
  uint64_t accepted = 0;
  uint64_t requests = 0;
  uint64_t open = 0;             // connections open now
  uint64_t evicted = 0;          // slow connections closed to admit a new one
  uint64_t refused_full = 0;     // connections closed at once: all busy, none evictable
  uint64_t busy_503 = 0;         // requests refused because the worker queue was full
  uint64_t timeout_408 = 0;      // header or body not sent in time
  uint64_t too_large_413 = 0;    // body over the limit
  uint64_t header_431 = 0;       // header over the byte or count limit
  uint64_t bad_request_400 = 0;  // malformed requests
  uint64_t handler_errors = 0;   // handlers that threw (answered 500)
  uint64_t tls_failed = 0;       // TLS handshakes that failed or were not finished in time
};

// One request parsed from bytes exactly as the server parses it (same parser, limits and
// header checks), without sockets: for fuzzing and tests.
struct ParsedRequest {
  bool complete = false;  // a whole request was read; `request` holds it
  int status = 0;         // the refusal the server would answer (400, 413, 417, 431), or 0
  std::string detail;
  bool keep_alive = false;
  size_t consumed = 0;  // bytes of `bytes` the request used (the rest is the next request)
  Request request;
};
ParsedRequest parse_request(std::string_view bytes, const ServerOptions& limits = {});

// One answered request, for an access log: "-" as method and target when the request was
// refused before it was read (408, 413, 431, 400 ...).
struct AccessRecord {
  std::string_view method, target;
  int status = 0;
  size_t bytes = 0;  // body bytes sent
  int64_t us = 0;    // from the request's arrival (its body read) to the answer
};
using AccessLog = std::function<void(const AccessRecord&)>;

class LoopbackServer {
 public:
  explicit LoopbackServer(ServerOptions options = {});
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // Register routes on this before start().
  Router& routes() { return router_; }

  // Binds 127.0.0.1:0 and starts serving. Returns the port. Throws std::runtime_error when
  // binding fails.
  int start();
  // Binds 127.0.0.1:`port` instead (a fixed port a user configures elsewhere). Throws
  // std::runtime_error when the port cannot be bound.
  int start_on(int port);
  // Binds `host` (an IPv4/IPv6 literal) and `port` (0: any). Throws like start_on.
  int start_at(const std::string& host, int port);
  // Stops accepting, closes every connection, waits for running handlers; safe to call twice.
  void stop();
  // After stop(): serve again on the same port (a role coming back up). False when the port
  // cannot be bound again.
  bool restart();
  bool running() const { return core_ != nullptr; }
  int port() const { return port_; }
  std::string base_url() const;
  ServerStats stats() const;
  const ServerOptions& options() const { return options_; }
  // Called for every answer, from the server's threads (keep it short and thread-safe); takes
  // effect at the next start or restart.
  void set_access_log(AccessLog log) { access_log_ = std::move(log); }
  // Before start: serve https only (see ServerTls). Throws std::runtime_error when the
  // certificate or key is unusable.
  void set_tls(const ServerTls& tls);
  bool tls() const { return tls_ != nullptr; }

  struct Core;  // Asio state, defined in server_internal.h

 private:
  bool bind_and_run(const std::string& host, int port);
  ServerOptions options_;
  Router router_;
  std::shared_ptr<Core> core_;
  int port_ = 0;
  std::string host_ = "127.0.0.1";
  AccessLog access_log_;
  struct TlsContext;
  std::shared_ptr<TlsContext> tls_;
  struct Counters;
  std::shared_ptr<Counters> counters_;  // survive restarts
};

}  // namespace txlab::http
