// HttpClientPool: keep-alive connection reuse per target, deadlines, mapped transport errors.
#include "sim/http/client_pool.h"

#include <httplib.h>

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/beast/http.hpp>

#include <openssl/err.h>
#include <openssl/pem.h>
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

#include "sim/enum_names.h"
#include "sim/http/form.h"
#include "sim/http/message.h"
#include "sim/netns.h"

namespace txlab::http {

constexpr EnumName<TransportError> kTransportErrorNames[] = {
    {TransportError::kNone, "none"},       {TransportError::kConnect, "connect"},
    {TransportError::kTimeout, "timeout"}, {TransportError::kRead, "read"},
    {TransportError::kWrite, "write"},     {TransportError::kOther, "other"},
    {TransportError::kTls, "tls"},
};
static_assert(covers_in_order(kTransportErrorNames, TransportError::kTls));

std::string_view to_string(TransportError e) { return name_of(kTransportErrorNames, e, "other"); }

std::string InboundResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

OutboundRequest form_post(std::string path,
                          const std::vector<std::pair<std::string, std::string>>& form,
                          const std::string& client_id, const std::string& client_secret) {
  OutboundRequest req;
  req.method = "POST";
  req.path = std::move(path);
  req.content_type = "application/x-www-form-urlencoded";
  req.body = encode_form(form);
  if (!client_id.empty())
    req.headers.emplace_back("Authorization", basic_authorization(client_id, client_secret));
  return req;
}

namespace {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace bhttp = boost::beast::http;

// "http://host:port" or "https://host:port" (no path) split; nullopt for anything else.
struct Endpoint {
  std::string host;
  uint16_t port = 80;
  bool tls = false;
};
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

// Waits until fd is ready for `events` or the deadline passes.
bool wait_for(int fd, short events, int64_t deadline_us) {
  while (true) {
    const int64_t left_ms = (deadline_us - now_us() + 999) / 1000;
    if (left_ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left_ms, INT32_MAX)));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

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
  ~Conn() { reset(); }
  void reset() {
    if (ssl) SSL_free(ssl);
    ssl = nullptr;
    if (fd >= 0) ::close(fd);
    fd = -1;
    if (tls) tls->stop();
  }
  // An idle keep-alive connection the server has closed (or sent something unasked) is not
  // worth reusing.
  bool stale() const {
    if (fd < 0) return false;
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }
};

HttpClientPool::HttpClientPool(ClientOptions options) : options_(options) {
  if (options_.tls) set_tls(*options_.tls);
}

void HttpClientPool::set_tls(ClientOptions::Tls tls) {
  auto fail = [](const std::string& what) {
    char buf[256] = {0};
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    throw std::runtime_error("TLS client: " + what + ": " + buf);
  };
  auto made = std::make_shared<SslCtx>();
  made->ctx = SSL_CTX_new(TLS_client_method());
  if (!made->ctx) fail("context");
  SSL_CTX_set_min_proto_version(made->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(made->ctx, SSL_VERIFY_PEER, nullptr);
  auto bio_of = [](const std::string& pem) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  };
  {
    auto bio = bio_of(tls.ca_pem);
    X509* ca = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!ca || !X509_STORE_add_cert(SSL_CTX_get_cert_store(made->ctx), ca)) {
      X509_free(ca);
      fail("CA certificate");
    }
    X509_free(ca);
  }
  if (!tls.cert_pem.empty()) {
    auto cbio = bio_of(tls.cert_pem);
    auto kbio = bio_of(tls.key_pem);
    X509* cert = cbio ? PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr) : nullptr;
    EVP_PKEY* key = kbio ? PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr) : nullptr;
    const bool ok = cert && key && SSL_CTX_use_certificate(made->ctx, cert) == 1 &&
                    SSL_CTX_use_PrivateKey(made->ctx, key) == 1 &&
                    SSL_CTX_check_private_key(made->ctx) == 1;
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) fail("client certificate");
  }
  options_.tls = std::make_shared<const ClientOptions::Tls>(std::move(tls));
  ssl_ = std::move(made);
}
HttpClientPool::~HttpClientPool() = default;

std::unique_ptr<HttpClientPool::Conn> HttpClientPool::checkout(const std::string& base_url) {
  std::vector<std::unique_ptr<Conn>> expired;
  std::unique_ptr<Conn> reuse;
  {
    std::lock_guard lock(mu_);
    auto& idle = idle_[base_url];
    const int64_t now = now_us();
    while (!idle.empty() && !reuse) {
      Idle c = std::move(idle.back());  // the most recently used first
      idle.pop_back();
      if (options_.max_idle_ms > 0 && now - c.since_us > int64_t{options_.max_idle_ms} * 1000)
        expired.push_back(std::move(c.conn));
      else
        reuse = std::move(c.conn);
    }
  }
  if (reuse && !reuse->stale()) {
    reuse->reused = true;
    return reuse;
  }
  auto c = std::make_unique<Conn>();
  const auto e = parse_endpoint(base_url);
  if (!e || (e->tls && !ssl_)) {
    c->tls = std::make_unique<httplib::Client>(base_url);
    c->tls->set_keep_alive(true);
    c->tls->set_tcp_nodelay(true);
    c->tls->set_connection_timeout(options_.connect_timeout_ms / 1000,
                                   (options_.connect_timeout_ms % 1000) * 1000);
  }
  return c;
}

void HttpClientPool::checkin(const std::string& base_url, std::unique_ptr<Conn> conn) {
  std::lock_guard lock(mu_);
  auto& idle = idle_[base_url];
  if (idle.size() < options_.max_idle_per_host) idle.push_back({std::move(conn), now_us()});
}

void HttpClientPool::clear() {
  std::map<std::string, std::vector<Idle>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
  }
}

namespace {

// Connects a non-blocking socket within the deadline. Returns the fd or -1 with *error set.
int connect_plain(const Endpoint& e, int64_t deadline_us, const ClientOptions& o,
                  TransportError* error) {
  *error = TransportError::kConnect;
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
    if (!wait_for(fd, POLLOUT, deadline_us)) {
      ::close(fd);
      *error = TransportError::kTimeout;
      return -1;
    }
    int err = 0;
    socklen_t elen = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  *error = TransportError::kNone;
  return fd;
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
    default:
      ERR_clear_error();
      *want = 0;
      return -1;
  }
}
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

// The client side of a TLS handshake on a connected non-blocking socket, by the deadline: the
// server's chain must verify against the pool's CA and name the URL's host (IP or DNS).
SSL* tls_handshake(int fd, SSL_CTX* ctx, const Endpoint& e, int64_t deadline_us,
                   TransportError* error) {
  *error = TransportError::kTls;
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
  while (true) {
    short want = 0;
    const int r = SSL_connect(ssl);
    if (r == 1) {
      *error = TransportError::kNone;
      return ssl;
    }
    if (io_result(ssl, r, &want) == -1 && want != 0) {
      if (wait_for(fd, want, deadline_us)) continue;
      *error = TransportError::kTimeout;
    }
    SSL_free(ssl);
    return nullptr;
  }
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

InboundResponse HttpClientPool::send_once(const std::string& base_url,
                                          const OutboundRequest& request, Conn& conn,
                                          int timeout_ms, bool* retry_fresh) {
  *retry_fresh = false;
  InboundResponse out;
  const auto e = parse_endpoint(base_url);
  const int64_t deadline = now_us() + int64_t{timeout_ms} * 1000;
  if (conn.fd < 0) {
    const int64_t connect_deadline =
        now_us() + int64_t{std::min(options_.connect_timeout_ms, timeout_ms)} * 1000;
    conn.fd = connect_plain(*e, connect_deadline, options_, &out.error);
    if (conn.fd < 0) return out;
    if (e->tls) {
      conn.ctx = ssl_;
      conn.ssl = tls_handshake(conn.fd, ssl_->ctx, *e, connect_deadline, &out.error);
      if (!conn.ssl) {
        conn.reset();
        return out;
      }
    }
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
      if (wait_for(conn.fd, want, deadline)) continue;
      out.error = TransportError::kTimeout;
      return out;
    }
    out.error = TransportError::kWrite;
    *retry_fresh = conn.reused && sent == 0;
    return out;
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
          return out;
        }
      } else if (ec) {
        out.error = TransportError::kRead;
        return out;
      }
      buf.erase(0, used);
      // Boost 1.74's parser does not hold a declared Content-Length to body_limit: check it
      // here, and bound what is read in any case.
      if (parser.is_header_done()) {
        const auto declared = parser.content_length();
        if (declared && *declared > options_.max_response_bytes) {
          out.error = TransportError::kRead;
          return out;
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
        return out;
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
      return out;
    }
    if (want != 0) {
      if (wait_for(conn.fd, want, deadline)) continue;
      out.error = TransportError::kTimeout;
      return out;
    }
    out.error = TransportError::kRead;
    *retry_fresh = conn.reused && received == 0 && (conn.ssl || errno == ECONNRESET);
    return out;
  }
  auto msg = parser.release();
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(msg.body());
  conn.leftover = std::move(buf);
  if (!msg.keep_alive() || !conn.leftover.empty()) conn.reset();
  return out;
}

namespace {

InboundResponse send_tls(httplib::Client& client, const OutboundRequest& request, int timeout_ms) {
  client.set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  client.set_write_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  const auto started = std::chrono::steady_clock::now();
  httplib::Headers headers;
  for (const auto& [k, v] : request.headers) headers.emplace(k, v);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  const std::string ct =
      request.content_type.empty() ? "application/octet-stream" : request.content_type;
  InboundResponse out;
  if (request.method == "GET") {
    res = client.Get(request.path, headers);
  } else if (request.method == "POST") {
    res = client.Post(request.path, headers, request.body, ct);
  } else if (request.method == "PUT") {
    res = client.Put(request.path, headers, request.body, ct);
  } else if (request.method == "DELETE") {
    res = client.Delete(request.path, headers, request.body, ct);
  } else {
    out.error = TransportError::kOther;
    return out;
  }
  if (!res) {
    switch (res.error()) {
      case httplib::Error::Connection:
        out.error = TransportError::kConnect;
        break;
      case httplib::Error::Read: {
        // httplib reports a read timeout as a read error: tell them apart by the time spent.
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
        out.error = ms >= timeout_ms * 9 / 10 ? TransportError::kTimeout : TransportError::kRead;
        break;
      }
      case httplib::Error::Write:
        out.error = TransportError::kWrite;
        break;
      case httplib::Error::ConnectionTimeout:
        out.error = TransportError::kTimeout;
        break;
      default:
        out.error = TransportError::kOther;
        break;
    }
    return out;
  }
  out.status = res->status;
  out.body = std::move(res->body);
  for (const auto& [k, v] : res->headers) out.headers.emplace_back(k, v);
  return out;
}

}  // namespace

InboundResponse HttpClientPool::send(const std::string& base_url, const OutboundRequest& request) {
  const int timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : options_.read_timeout_ms;
  if (request.method.empty() || request.method.find_first_of(" \r\n") != std::string::npos ||
      request.path.find_first_of(" \r\n") != std::string::npos) {
    InboundResponse out;
    out.error = TransportError::kOther;
    return out;
  }
  auto conn = checkout(base_url);
  if (conn->tls) {
    auto out = send_tls(*conn->tls, request, timeout_ms);
    // A failed client may hold a broken connection: drop it rather than pool it.
    if (out.status != 0) checkin(base_url, std::move(conn));
    return out;
  }
  bool retry_fresh = false;
  auto out = send_once(base_url, request, *conn, timeout_ms, &retry_fresh);
  if (out.status == 0 && retry_fresh) {
    // A kept-alive connection the server had already closed (the request never reached a
    // handler): once more on a fresh one.
    conn = std::make_unique<Conn>();
    out = send_once(base_url, request, *conn, timeout_ms, &retry_fresh);
  }
  if (out.status != 0 && conn->fd >= 0) checkin(base_url, std::move(conn));
  return out;
}

}  // namespace txlab::http
