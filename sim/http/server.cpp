// LoopbackServer: Boost.Beast HTTP/1.1 parsing on Boost.Asio, sync handlers on a bounded pool,
// async handlers as coroutines on the I/O threads (bounded too).
//
// This file is the front: binding and accepting (127.0.0.1 or a given address), the TLS
// context, the bounded connection registry (the oldest connection still sending its header
// gives way to a new one), the worker pool handlers run on, start/stop/restart and the stats.
// One connection (parsing, limits, writing) is a Session, in server_session.cpp.
#include "sim/http/server_internal.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace txlab::http {

using server_detail::SessionBase;

namespace server_detail {

WorkerPool::WorkerPool(size_t threads, size_t limit) : limit_(limit) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= limit_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

// Lets running jobs finish, drops queued ones, joins.
void WorkerPool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::work() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

}  // namespace server_detail

void LoopbackServer::Core::accept() {
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE) and the like: wait a little instead of spinning.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

void LoopbackServer::Core::admit(tcp::socket socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  counters.accepted.fetch_add(1);
  // Sessions are never released under the lock (a last reference would deregister itself
  // and take the lock again): what is looked at is kept here until after it.
  std::vector<std::shared_ptr<SessionBase>> seen;
  std::shared_ptr<SessionBase> victim;
  {
    std::lock_guard lock(mu);
    // Make room: the oldest connection still waiting for (or slowly sending) its header gives
    // way to the new one.
    if (sessions.size() - evicting >= options.max_connections) {
      for (auto& w : sessions) {
        auto s = w.lock();
        if (!s) continue;
        seen.push_back(s);
        if (s->take_for_eviction()) {
          victim = std::move(s);
          break;
        }
      }
      if (!victim) {
        counters.refused_full.fetch_add(1);
        socket.close(ec);
        return;
      }
      counters.evicted.fetch_add(1);
    }
    open_session(std::move(socket), seen);
  }
  if (victim) victim->close_async();
}

bool LoopbackServer::Core::begin_async() {
  std::lock_guard lock(async_mu);
  if (async_closed || async_running >= options.queue_limit) return false;
  ++async_running;
  return true;
}

void LoopbackServer::Core::end_async() {
  std::lock_guard lock(async_mu);
  if (--async_running == 0) async_done.notify_all();
}

void LoopbackServer::Core::shutdown() {
  net::post(io, [this] {
    beast::error_code ec;
    acceptor.close(ec);
    accept_retry.cancel();
    std::vector<std::shared_ptr<SessionBase>> open;
    {
      std::lock_guard lock(mu);
      for (auto& w : sessions)
        if (auto s = w.lock()) open.push_back(std::move(s));
    }
    for (auto& s : open) s->close_async();
  });
  pool.stop();
  {  // running async handlers finish (their outbound calls have deadlines), like workers' jobs
    std::unique_lock lock(async_mu);
    async_closed = true;
    async_done.wait(lock, [this] { return async_running == 0; });
  }
  guard.reset();
  io.stop();
  for (auto& t : threads) t.join();
  threads.clear();
}

LoopbackServer::LoopbackServer(ServerOptions options)
    : options_(options), counters_(std::make_shared<Counters>()) {}

LoopbackServer::~LoopbackServer() { stop(); }

bool LoopbackServer::bind_and_run(const std::string& host, int port) {
  auto core = std::make_shared<Core>(options_, router_, *counters_, access_log_, tls_);
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (ec) return false;
  const tcp::endpoint ep(address, static_cast<unsigned short>(port));
  core->acceptor.open(ep.protocol(), ec);
  if (!ec) core->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) core->acceptor.bind(ep, ec);
  if (!ec) core->acceptor.listen(4096, ec);
  if (ec) {
    core->pool.stop();
    return false;
  }
  port_ = core->acceptor.local_endpoint().port();
  core->guard.emplace(core->io.get_executor());
  core->accept();
  for (size_t i = 0; i < std::max<size_t>(options_.io_threads, 1); ++i)
    core->threads.emplace_back([c = core.get()] { c->io.run(); });
  core_ = std::move(core);
  return true;
}

int LoopbackServer::start() {
  if (core_) return port_;
  if (!bind_and_run(host_, 0)) throw std::runtime_error("cannot bind 127.0.0.1:0");
  return port_;
}

int LoopbackServer::start_at(const std::string& host, int port) {
  if (core_) return port_;
  if (port < 0 || port > 65535 || !bind_and_run(host, port))
    throw std::runtime_error("cannot bind " + host + ":" + std::to_string(port));
  host_ = host;
  return port_;
}

int LoopbackServer::start_on(int port) {
  if (core_) return port_;
  if (port <= 0 || port > 65535 || !bind_and_run(host_, port))
    throw std::runtime_error("cannot bind 127.0.0.1:" + std::to_string(port));
  return port_;
}

bool LoopbackServer::restart() {
  if (core_) return true;
  return port_ > 0 && bind_and_run(host_, port_);
}

void LoopbackServer::stop() {
  if (!core_) return;
  core_->shutdown();
  core_.reset();
}

std::string LoopbackServer::base_url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return std::string(tls_ ? "https://" : "http://") + (v6 ? "[" + host_ + "]" : host_) + ":" +
         std::to_string(port_);
}

void LoopbackServer::set_tls(const ServerTls& tls) {
  auto t = std::make_shared<TlsContext>();
  auto& ctx = t->ctx;
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                  net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                  net::ssl::context::no_tlsv1_1);
  beast::error_code ec;
  ctx.use_certificate_chain(net::buffer(tls.cert_pem), ec);
  if (!ec) ctx.use_private_key(net::buffer(tls.key_pem), net::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("TLS server certificate: " + ec.message());
  // Ask every client for a certificate and accept whatever it sends: the chain is checked
  // after the handshake (Request::client_cert_verified), so self-signed client certificates
  // (RFC 8705 §2.2) reach the authorization server, which decides.
  SSL_CTX_set_verify(ctx.native_handle(), SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
  t->client_ca_pem = tls.client_ca_pem;
  tls_ = std::move(t);
}

ServerStats LoopbackServer::stats() const {
  const Counters& c = *counters_;
  ServerStats s;
  s.accepted = c.accepted;
  s.requests = c.requests;
  s.open = c.open;
  s.evicted = c.evicted;
  s.refused_full = c.refused_full;
  s.busy_503 = c.busy;
  s.timeout_408 = c.timeout;
  s.too_large_413 = c.too_large;
  s.header_431 = c.header;
  s.bad_request_400 = c.bad;
  s.handler_errors = c.handler_errors;
  s.tls_failed = c.tls_failed;
  return s;
}

}  // namespace txlab::http
