// HttpClientPool: one request and its response on txlab's own connection (plain or TLS), as a
// coroutine: connect and complete the TLS handshake when the connection is new, serialize (no
// header splitting), send and read by the request's deadline with Boost.Beast's response
// parser, bounded response size, and whether a failure may be retried on a fresh connection.
// The I/O itself is non-blocking POSIX/OpenSSL calls; only waiting for the socket's readiness
// goes through Asio (the fd is lent to an Asio socket for the request and taken back after),
// so a pooled connection serves any executor, and a deadline is a timer cancelling the wait.
#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <string>

#include "sim/http/client_internal.h"

namespace txlab::http {

using client_detail::connect_error;
using client_detail::Endpoint;
using client_detail::io_result;
using client_detail::now_us;
using client_detail::open_socket;
using client_detail::parse_endpoint;
using client_detail::tls_session;

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

namespace {

// Sending and receiving on a plain (ssl null) or TLS connection, as io_result reports it.
ssize_t io_send(int fd, SSL* ssl, const char* p, size_t n, short* want) {
  if (ssl)
    return io_result(ssl, SSL_write(ssl, p, static_cast<int>(std::min<size_t>(n, INT32_MAX))),
                     want);
  const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
  if (r < 0) *want = (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? POLLOUT : 0;
  return r;
}
ssize_t io_recv(int fd, SSL* ssl, char* p, size_t n, short* want) {
  if (ssl) {
    const ssize_t r =
        io_result(ssl, SSL_read(ssl, p, static_cast<int>(std::min<size_t>(n, INT32_MAX))), want);
    return r;
  }
  const ssize_t r = ::recv(fd, p, n, 0);
  if (r < 0) *want = (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? POLLIN : 0;
  return r;
}

std::string serialize(const OutboundRequest& r, const Endpoint& e) {
  std::string out;
  out.reserve(256 + r.body.size());
  out += r.method + " " + (r.path.empty() ? "/" : r.path) + " HTTP/1.1\r\n";
  out += "Host: " + e.host + ":" + std::to_string(e.port) + "\r\n";
  bool has_ct = false;
  for (const auto& [k, v] : r.headers) {
    // A header line is one line: values with CR/LF/NUL are not sent (no request splitting).
    if (k.empty() || k.find_first_of("\r\n:") != std::string::npos ||
        v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
      continue;
    if (k.size() == 12) {
      std::string lower = k;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      has_ct = has_ct || lower == "content-type";
    }
    out += k + ": " + v + "\r\n";
  }
  if (r.method != "GET" || !r.body.empty()) {
    if (!has_ct)
      out += "Content-Type: " +
             (r.content_type.empty() ? std::string("application/octet-stream") : r.content_type) +
             "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += r.body;
  return out;
}

}  // namespace

// The connection's socket lent to an Asio socket on the coroutine's executor for one request:
// wait() suspends until the socket is ready for POLLIN/POLLOUT or the deadline passes (a
// timer that cancels the wait; a generation number keeps a late timer from cancelling the
// next wait). The fd is given back (deregistered, not closed) before the connection is closed
// or pooled.
struct HttpClientPool::Ready {
  struct State {
    explicit State(const net::any_io_executor& ex) : socket(ex), timer(ex) {}
    net::ip::tcp::socket socket;
    net::steady_timer timer;
    std::atomic<uint64_t> generation{0};
  };
  explicit Ready(const net::any_io_executor& ex) : state(std::make_shared<State>(ex)) {}
  ~Ready() { give_back(); }
  Ready(const Ready&) = delete;
  Ready& operator=(const Ready&) = delete;

  bool lend(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
    boost::system::error_code ec;
    state->socket.assign(ss.ss_family == AF_INET6 ? net::ip::tcp::v6() : net::ip::tcp::v4(), fd,
                         ec);
    return !ec;
  }
  void give_back() {
    boost::system::error_code ec;
    if (state->socket.is_open()) state->socket.release(ec);
    ++state->generation;
    state->timer.cancel();
  }
  net::awaitable<bool> wait(short want, int64_t deadline_us) {
    if (now_us() >= deadline_us) co_return false;
    const uint64_t generation = ++state->generation;
    state->timer.expires_at(
        std::chrono::steady_clock::time_point(std::chrono::microseconds(deadline_us)));
    state->timer.async_wait([weak = std::weak_ptr<State>(state), generation](auto ec) {
      auto s = weak.lock();
      if (ec || !s || s->generation != generation) return;
      boost::system::error_code ignored;
      s->socket.cancel(ignored);
    });
    boost::system::error_code ec;
    // (No conditional expression inside a co_await's operands: GCC 12 miscompiles them.)
    auto what = net::ip::tcp::socket::wait_write;
    if (want == POLLIN) what = net::ip::tcp::socket::wait_read;
    co_await state->socket.async_wait(what, net::redirect_error(net::use_awaitable, ec));
    ++state->generation;
    state->timer.cancel();
    co_return !ec;
  }
  std::shared_ptr<State> state;
};

net::awaitable<TransportError> HttpClientPool::connect(Conn& conn, const std::string& base_url,
                                                       Ready& ready, int64_t deadline_us) {
  const auto e = parse_endpoint(base_url);
  bool pending = false;
  conn.fd = e ? open_socket(*e, options_, &pending) : -1;
  if (conn.fd < 0) co_return TransportError::kConnect;
  if (!ready.lend(conn.fd)) {
    conn.reset();
    co_return TransportError::kConnect;
  }
  TransportError error = TransportError::kNone;
  if (pending) {
    if (!co_await ready.wait(POLLOUT, deadline_us))
      error = TransportError::kTimeout;
    else if (connect_error(conn.fd) != 0)
      error = TransportError::kConnect;
  }
  if (error == TransportError::kNone && e->tls) {
    conn.ctx = ssl_;
    conn.ssl = tls_session(conn.fd, ssl_->ctx, *e);
    error = conn.ssl ? TransportError::kNone : TransportError::kTls;
    while (conn.ssl) {
      const int r = SSL_connect(conn.ssl);
      if (r == 1) break;
      short want = 0;
      if (io_result(conn.ssl, r, &want) == -1 && want != 0) {
        if (co_await ready.wait(want, deadline_us)) continue;
        error = TransportError::kTimeout;
      } else {
        error = TransportError::kTls;
      }
      break;
    }
  }
  if (error != TransportError::kNone) {
    ready.give_back();
    conn.reset();
  }
  co_return error;
}

net::awaitable<InboundResponse> HttpClientPool::send_once(const std::string& base_url,
                                                          const OutboundRequest& request,
                                                          Conn& conn, int timeout_ms,
                                                          bool* retry_fresh) {
  *retry_fresh = false;
  InboundResponse out;
  const auto e = parse_endpoint(base_url);
  const int64_t deadline = now_us() + int64_t{timeout_ms} * 1000;
  Ready ready(co_await net::this_coro::executor);
  if (conn.fd < 0) {
    const int64_t connect_deadline =
        now_us() + int64_t{std::min(options_.connect_timeout_ms, timeout_ms)} * 1000;
    out.error = co_await connect(conn, base_url, ready, connect_deadline);
    if (out.error != TransportError::kNone) co_return out;
  } else if (!ready.lend(conn.fd)) {
    out.error = TransportError::kWrite;
    co_return out;
  }
  const std::string wire = serialize(request, *e);
  size_t sent = 0;
  while (sent < wire.size()) {
    short want = POLLOUT;
    const ssize_t n = io_send(conn.fd, conn.ssl, wire.data() + sent, wire.size() - sent, &want);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && want != 0) {
      if (co_await ready.wait(want, deadline)) continue;
      out.error = TransportError::kTimeout;
      co_return out;
    }
    out.error = n == -2 ? TransportError::kTls : TransportError::kWrite;  // -2: a TLS alert
    *retry_fresh = n != -2 && conn.reused && sent == 0;
    co_return out;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(options_.max_response_bytes);
  if (request.method == "HEAD") parser.skip(true);
  parser.eager(true);
  std::string buf = std::move(conn.leftover);
  conn.leftover.clear();
  size_t received = 0;
  char chunk[16384];
  boost::beast::error_code ec;
  while (!parser.is_done()) {
    if (!buf.empty()) {
      const size_t used = parser.put(boost::asio::buffer(buf.data(), buf.size()), ec);
      if (ec == bhttp::error::need_more) {
        ec = {};
        if (used == 0 && buf.size() > 128 * 1024) {
          out.error = TransportError::kRead;
          co_return out;
        }
      } else if (ec) {
        out.error = TransportError::kRead;
        co_return out;
      }
      buf.erase(0, used);
      // Boost 1.74's parser does not hold a declared Content-Length to body_limit: check it
      // here, and bound what is read in any case.
      if (parser.is_header_done()) {
        const auto declared = parser.content_length();
        if (declared && *declared > options_.max_response_bytes) {
          out.error = TransportError::kRead;
          co_return out;
        }
      }
      if (parser.is_done()) break;
      if (used > 0 && !buf.empty()) continue;
    }
    short want = POLLIN;
    const ssize_t n = io_recv(conn.fd, conn.ssl, chunk, sizeof chunk, &want);
    if (n > 0) {
      received += static_cast<size_t>(n);
      if (received > options_.max_response_bytes + 64 * 1024) {
        out.error = TransportError::kRead;
        co_return out;
      }
      buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {  // the server closed: the end of a body without length, or a failure
      if (parser.got_some()) {
        parser.put_eof(ec);
        if (!ec && parser.is_done()) break;
      }
      out.error = TransportError::kRead;
      *retry_fresh = conn.reused && received == 0;
      co_return out;
    }
    if (want != 0) {
      if (co_await ready.wait(want, deadline)) continue;
      out.error = TransportError::kTimeout;
      co_return out;
    }
    // -2: the server refused the TLS session with an alert (never retried).
    out.error = n == -2 ? TransportError::kTls : TransportError::kRead;
    *retry_fresh = n != -2 && conn.reused && received == 0 && (conn.ssl || errno == ECONNRESET);
    co_return out;
  }
  auto msg = parser.release();
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(msg.body());
  conn.leftover = std::move(buf);
  ready.give_back();
  if (!msg.keep_alive() || !conn.leftover.empty()) conn.reset();
  co_return out;
}

}  // namespace txlab::http
