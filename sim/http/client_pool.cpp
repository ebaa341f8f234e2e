// HttpClientPool: keep-alive connection reuse per target, deadlines, mapped transport errors.
//
// This file is the pool (checkout, checkin, expiry, the TLS client context), the entry points
// (async_send: one retry on a fresh connection when a kept-alive one was already closed; send:
// the same coroutine run to completion on the calling thread) and the https path served by
// cpp-httplib. Opening sockets is in client_connect.cpp; connecting and one request on
// txlab's own connection in client_exchange.cpp.
#include "sim/http/client_pool.h"

#include <httplib.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <poll.h>
#include <unistd.h>

#include <chrono>

#include "sim/enum_names.h"
#include "sim/http/client_internal.h"
#include "sim/http/form.h"
#include "sim/http/message.h"
#include "sim/http/run_blocking.h"

namespace txlab::http {

namespace net = boost::asio;
using client_detail::now_us;
using client_detail::parse_endpoint;

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

HttpClientPool::Conn::~Conn() { reset(); }

void HttpClientPool::Conn::reset() {
  if (ssl) SSL_free(ssl);
  ssl = nullptr;
  if (fd >= 0) ::close(fd);
  fd = -1;
  if (tls) tls->stop();
}

bool HttpClientPool::Conn::stale() const {
  if (fd < 0) return false;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

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

net::awaitable<InboundResponse> HttpClientPool::async_send(std::string base_url,
                                                           OutboundRequest request) {
  const int timeout_ms = request.timeout_ms > 0 ? request.timeout_ms : options_.read_timeout_ms;
  if (request.method.empty() || request.method.find_first_of(" \r\n") != std::string::npos ||
      request.path.find_first_of(" \r\n") != std::string::npos) {
    InboundResponse out;
    out.error = TransportError::kOther;
    co_return out;
  }
  auto conn = checkout(base_url);
  if (conn->tls) {  // cpp-httplib (a remote https target): blocks this thread
    auto out = send_tls(*conn->tls, request, timeout_ms);
    // A failed client may hold a broken connection: drop it rather than pool it.
    if (out.status != 0) checkin(base_url, std::move(conn));
    co_return out;
  }
  bool retry_fresh = false;
  auto out = co_await send_once(base_url, request, *conn, timeout_ms, &retry_fresh);
  if (out.status == 0 && retry_fresh) {
    // A kept-alive connection the server had already closed (the request never reached a
    // handler): once more on a fresh one.
    conn = std::make_unique<Conn>();
    out = co_await send_once(base_url, request, *conn, timeout_ms, &retry_fresh);
  }
  if (out.status != 0 && conn->fd >= 0) checkin(base_url, std::move(conn));
  co_return out;
}

net::io_context& blocking_context() {
  thread_local net::io_context io(1);
  return io;
}

InboundResponse HttpClientPool::send(const std::string& base_url, const OutboundRequest& request) {
  // The same coroutine, run to completion on this thread (it never throws but for memory).
  try {
    return run_blocking(async_send(base_url, request));
  } catch (const std::exception&) {
    InboundResponse out;
    out.error = TransportError::kOther;
    return out;
  }
}

}  // namespace txlab::http
