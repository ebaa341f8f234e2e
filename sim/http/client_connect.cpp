// HttpClientPool's connection establishment on txlab's own client: the base URL's endpoint, a
// non-blocking socket whose TCP connect is started (in the destination's network namespace,
// from the configured source address, TCP_NODELAY), and the client side of a TLS session that
// verifies the server. Waiting (by a deadline) is client_exchange.cpp's.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "sim/http/client_internal.h"
#include "sim/netns.h"

namespace txlab::http::client_detail {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "http://host:port" or "https://host:port" (no path) split; nullopt for anything else.
std::optional<Endpoint> parse_endpoint(const std::string& base_url) {
  Endpoint e;
  std::string scheme = "http://";
  if (base_url.rfind("https://", 0) == 0) {
    scheme = "https://";
    e.tls = true;
    e.port = 443;
  }
  if (base_url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = base_url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    const std::string digits = rest.substr(colon + 1);
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned long port = 0;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    e.port = static_cast<uint16_t>(port);
    rest.resize(colon);
  }
  if (rest.empty()) return std::nullopt;
  e.host = rest;
  return e;
}

// Makes a non-blocking socket and starts connecting it: the fd (*pending while the connect is
// in progress) or -1.
int open_socket(const Endpoint& e, const ClientOptions& o, bool* pending) {
  *pending = false;
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  std::string host = e.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(e.port);
    len = sizeof *v4;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(e.port);
    len = sizeof *v6;
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return -1;
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    ::freeaddrinfo(res);
    if (addr.ss_family == AF_INET)
      v4->sin_port = htons(e.port);
    else
      v6->sin6_port = htons(e.port);
  }
  int fd = -1;
  if (const int ns = o.netns_of ? o.netns_of(host) : -1; ns >= 0) {
    try {
      netns::Enter in(ns);  // the socket belongs to the namespace it is made in
      fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    } catch (const std::exception&) {
      return -1;
    }
  } else {
    fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return -1;
  if (!o.source_ip.empty() && addr.ss_family == AF_INET) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    if (::inet_pton(AF_INET, o.source_ip.c_str(), &src.sin_addr) != 1 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd);
      return -1;
    }
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return -1;
    }
    *pending = true;
  }
  return fd;
}

int connect_error(int fd) {
  int err = 0;
  socklen_t elen = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return errno;
  return err;
}

// Non-blocking I/O on a plain (ssl null) or TLS connection: bytes moved (> 0), 0 when the
// peer closed, -1 with *want the poll event to wait for (0: a failure, errno set for plain
// sockets).
ssize_t io_result(SSL* ssl, int r, short* want) {
  if (r > 0) return r;
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      *want = POLLIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      *want = POLLOUT;
      return -1;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default: {
      // A TLS alert from the peer (OpenSSL reports a received alert N as reason
      // SSL_AD_REASON_OFFSET + N): the server refused the session, e.g. the client's
      // certificate chain (RFC 8705 §2.1 validates it in the handshake).
      const unsigned long e = ERR_peek_error();
      const bool alert = ERR_GET_LIB(e) == ERR_LIB_SSL &&
                         ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET &&
                         ERR_GET_REASON(e) < SSL_AD_REASON_OFFSET + 256;
      ERR_clear_error();
      *want = 0;
      return alert ? -2 : -1;
    }
  }
}

// The client side of a TLS session on a connected non-blocking socket: the server's chain
// must verify against the pool's CA and name the URL's host (IP or DNS).
SSL* tls_session(int fd, SSL_CTX* ctx, const Endpoint& e) {
  SSL* ssl = SSL_new(ctx);
  if (!ssl) return nullptr;
  std::string host = e.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    SSL_set_tlsext_host_name(ssl, host.c_str());
  }
  SSL_set_fd(ssl, fd);
  return ssl;
}

}  // namespace txlab::http::client_detail
