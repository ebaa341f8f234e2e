// LoopbackServer: Boost.Beast HTTP/1.1 parsing on Boost.Asio, handlers on a bounded pool.
//
// One connection is one Session on its own strand: read the header (deadline), answer
// `Expect: 100-continue`, read the body (deadline, size limit also for chunked bodies), hand
// the request to a worker, write the response (deadline), then wait for the next request
// (keep-alive idle deadline). Deadlines cancel the socket's pending operation (not close it),
// so a client that was too slow still gets its 408 JSON.
#include "sim/http/server.h"
#include "sim/tls.h"

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>

#include <array>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace txlab::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct LoopbackServer::Counters {
  std::atomic<uint64_t> accepted{0}, requests{0}, evicted{0}, refused_full{0}, busy{0}, timeout{0},
      too_large{0}, header{0}, bad{0}, handler_errors{0}, open{0}, tls_failed{0};
};

struct LoopbackServer::TlsContext {
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
  std::string client_ca_pem;
};

namespace {

// Fixed threads, bounded queue: try_submit refuses instead of queueing without end.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t limit) : limit_(limit) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
      threads_.emplace_back([this] { work(); });
  }
  ~WorkerPool() { stop(); }
  bool try_submit(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || queue_.size() >= limit_) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  // Lets running jobs finish, drops queued ones, joins.
  void stop() {
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

 private:
  void work() {
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
  size_t limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

// What the connection registry sees of a session, plain or TLS.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual bool take_for_eviction() = 0;
  virtual void close_async() = 0;
};

}  // namespace

struct LoopbackServer::Core {
  Core(const ServerOptions& o, const Router& r, Counters& c, AccessLog l,
       std::shared_ptr<TlsContext> t)
      : options(o),
        router(r),
        counters(c),
        log(std::move(l)),
        tls(std::move(t)),
        pool(o.threads, o.queue_limit) {}
  const ServerOptions& options;
  const Router& router;
  Counters& counters;
  const AccessLog log;
  const std::shared_ptr<TlsContext> tls;  // null: plain HTTP
  // The registry outlives the io_context (declared first): sessions destroyed with the
  // io_context's pending handlers deregister themselves.
  std::mutex mu;
  std::list<std::weak_ptr<SessionBase>> sessions;
  size_t evicting = 0;  // sessions chosen to give way, closing but not yet gone
  WorkerPool pool;
  net::io_context io;
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  std::vector<std::thread> threads;

  void accept();
  void admit(tcp::socket socket);
  template <class S>
  void admit_as(std::shared_ptr<S> session, std::vector<std::shared_ptr<SessionBase>>& seen);
  void shutdown();
};

namespace {

bool silent_close(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::not_connected ||
         ec == net::error::bad_descriptor;
}

bool header_safe(const std::string& s) {
  return s.find_first_of("\r\n", 0) == std::string::npos && s.find('\0') == std::string::npos;
}

using Parser = bhttp::request_parser<bhttp::string_body>;

void apply_limits(Parser& p, const ServerOptions& o) {
  p.header_limit(static_cast<std::uint32_t>(std::min<size_t>(o.max_header_bytes, UINT32_MAX)));
  p.body_limit(o.max_body_bytes);
}

// What a failed read deserves: an HTTP status, or 0 to close without an answer.
int status_for_read_error(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  if (silent_close(ec) || ec == net::error::operation_aborted) return 0;
  return 400;
}

// A complete header the server will not go on with: status and why; {0, ""} when acceptable.
std::pair<int, std::string> check_header(const Parser& p, const ServerOptions& o) {
  const auto& h = p.get();
  size_t count = 0;
  for (auto it = h.begin(); it != h.end(); ++it) ++count;
  if (count > o.max_header_count)
    return {431, "more than " + std::to_string(o.max_header_count) + " header fields"};
  if (h.target().empty() || h.target()[0] != '/')
    return {400, "the request-target must be a path (origin-form)"};
  if (auto len = p.content_length(); len && *len > o.max_body_bytes) return {413, ""};
  const auto expect = h[bhttp::field::expect];
  if (!expect.empty() && !beast::iequals(expect, "100-continue")) return {417, ""};
  return {0, ""};
}

Request to_request(bhttp::request<bhttp::string_body>&& msg) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  const size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : msg)
    req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  req.body = std::move(msg.body());
  return req;
}

using TlsStream = net::ssl::stream<tcp::socket>;

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(TlsStream& s) { return s.next_layer(); }

// One connection. `Stream` is a plain socket or a TLS stream over one; a TLS session first
// completes its handshake (under the header deadline, evictable meanwhile) and learns the
// client certificate once.
template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  enum Phase { kWaiting, kBody, kHandling, kWriting };
  using Self = std::enable_shared_from_this<Session<Stream>>;

  template <class... Args>
  Session(LoopbackServer::Core& core, tcp::socket socket, Args&... args)
      : socket_(std::move(socket), args...), deadline_(socket_.get_executor()), core_(core) {}
  ~Session() {
    core_.counters.open.fetch_sub(1);
    std::lock_guard lock(core_.mu);
    if (registered_) core_.sessions.erase(self_);
    if (evicted_) --core_.evicting;
  }
  void start(std::list<std::weak_ptr<SessionBase>>::iterator self) {
    self_ = self;
    registered_ = true;
    net::dispatch(socket_.get_executor(), [s = shared_from_this()] { s->begin(); });
  }
  // Under the core's lock: true, once, for a connection waiting for (or slowly sending) its
  // header; it is then counted as going.
  bool take_for_eviction() override {
    if (evicted_ || phase_.load() != kWaiting) return false;
    evicted_ = true;
    ++core_.evicting;
    return true;
  }
  // From any thread.
  void close_async() override {
    net::post(socket_.get_executor(), [s = shared_from_this()] { s->close(); });
  }

 private:
  std::shared_ptr<Session> shared_from_this() { return Self::shared_from_this(); }
  const ServerOptions& o() const { return core_.options; }

  void begin() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      arm(o().header_timeout_ms);
      socket_.async_handshake(net::ssl::stream_base::server,
                              [s = shared_from_this()](beast::error_code ec) {
                                s->disarm();
                                if (ec) {
                                  s->core_.counters.tls_failed.fetch_add(1);
                                  return s->close();
                                }
                                s->learn_client_certificate();
                                s->read_header();
                              });
    } else {
      read_header();
    }
  }

  // RFC 8705: the certificate the client authenticated the connection with, checked once.
  void learn_client_certificate() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      X509* peer = SSL_get1_peer_certificate(socket_.native_handle());
      if (!peer) return;
      unsigned char* der = nullptr;
      const int n = i2d_X509(peer, &der);
      X509_free(peer);
      if (n <= 0) return;
      client_cert_der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
      OPENSSL_free(der);
      client_cert_verified_ = !core_.tls->client_ca_pem.empty() &&
                              verify_client_certificate(client_cert_der_, core_.tls->client_ca_pem);
    }
  }

  void arm(int ms) {
    const uint64_t gen = ++generation_;
    timed_out_ = false;
    deadline_.expires_after(std::chrono::milliseconds(ms));
    deadline_.async_wait([s = shared_from_this(), gen](beast::error_code ec) {
      if (ec || gen != s->generation_) return;
      s->timed_out_ = true;
      beast::error_code ignored;
      lowest(s->socket_).cancel(ignored);
    });
  }
  void disarm() {
    ++generation_;
    deadline_.cancel();
  }

  void read_header() {
    phase_ = kWaiting;
    parser_.emplace();
    apply_limits(*parser_, o());
    arm(first_ ? o().header_timeout_ms : o().keep_alive_timeout_ms);
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [s = shared_from_this()](beast::error_code ec, size_t) { s->on_header(ec); });
  }

  // A read failed: answer what deserves an answer, close quietly otherwise.
  void on_read_error(beast::error_code ec) {
    disarm();
    if (timed_out_) {
      if (!parser_->got_some()) return close();  // idle keep-alive connection: just close
      core_.counters.timeout.fetch_add(1);
      return refuse(408, "the request was not sent in time");
    }
    return refuse_counted(status_for_read_error(ec), ec.message());
  }

  // Counts the refusal and answers it; 0 closes quietly.
  void refuse_counted(int status, std::string_view detail) {
    switch (status) {
      case 0:
        return close();
      case 413:
        core_.counters.too_large.fetch_add(1);
        return refuse(413);
      case 431:
        core_.counters.header.fetch_add(1);
        return refuse(431, detail == "header limit exceeded" ? "" : detail);
      default:
        core_.counters.bad.fetch_add(1);
        return refuse(status, detail);
    }
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    version_ = parser_->get().version();
    if (auto [status, why] = check_header(*parser_, o()); status != 0) {
      disarm();
      return refuse_counted(status, why);
    }
    if (parser_->is_done()) return on_body({});
    phase_ = kBody;
    arm(o().body_timeout_ms);
    if (!parser_->get()[bhttp::field::expect].empty()) {  // 100-continue (check_header)
      // RFC 9110 §10.1.1: the client waits for this before sending the body.
      auto cont =
          std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, version_);
      bhttp::async_write(socket_, *cont,
                         [s = shared_from_this(), cont](beast::error_code ec, size_t) {
                           if (ec) return s->on_read_error(ec);
                           s->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(socket_, buffer_, *parser_,
                      [s = shared_from_this()](beast::error_code ec, size_t) { s->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    disarm();
    auto msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();
    head_ = msg.method() == bhttp::verb::head;
    auto req = std::make_shared<Request>(to_request(std::move(msg)));
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      req->tls = true;
      req->client_cert_der = client_cert_der_;
      req->client_cert_verified = client_cert_verified_;
    }
    if (core_.log) {
      method_ = req->method;
      target_ = req->path.substr(0, 512) + (req->query.empty() ? "" : "?…");  // no query values
      arrived_ = std::chrono::steady_clock::now();
    }
    core_.counters.requests.fetch_add(1);
    phase_ = kHandling;
    if (core_.router.is_quick(*req)) {  // never blocks: no hand-off to a worker
      Response res;
      try {
        core_.router.dispatch(*req, res);
      } catch (const std::exception& e) {
        core_.counters.handler_errors.fetch_add(1);
        res = Response{};
        reply_http_error(res, 500, e.what());
      }
      return write(std::move(res));
    }
    const bool queued = core_.pool.try_submit([s = shared_from_this(), req] {
      auto res = std::make_shared<Response>();
      try {
        s->core_.router.dispatch(*req, *res);
      } catch (const std::exception& e) {
        s->core_.counters.handler_errors.fetch_add(1);
        *res = Response{};
        reply_http_error(*res, 500, e.what());
      }
      net::post(s->socket_.get_executor(), [s, res] { s->write(std::move(*res)); });
    });
    if (!queued) {
      core_.counters.busy.fetch_add(1);
      Response res;
      reply_http_error(res, 503, "too many requests waiting");
      res.set_header("Retry-After", "1");
      keep_alive_ = false;
      write(std::move(res));
    }
  }

  void refuse(int status, std::string_view detail = {}) {
    Response res;
    reply_http_error(res, status, detail);
    keep_alive_ = false;
    head_ = false;
    linger_ = true;
    if (version_ == 0) version_ = 11;
    write(std::move(res));
  }

  // After refusing a request whose body may still be arriving: stop sending, then read and
  // discard for a short, bounded while (time and bytes), so the client reads the refusal
  // instead of a connection reset (RFC 9112 §9.6). Evictable meanwhile.
  void linger() {
    beast::error_code ec;
    lowest(socket_).shutdown(tcp::socket::shutdown_send, ec);
    phase_ = kWaiting;
    arm(1000);
    drain();
  }
  void drain() {
    if (!scratch_) scratch_ = std::make_unique<std::array<char, 16384>>();
    socket_.async_read_some(net::buffer(*scratch_),
                            [s = shared_from_this()](beast::error_code ec, size_t n) {
                              s->drained_ += n;
                              if (ec || s->drained_ > (size_t{4} << 20)) return s->close();
                              s->drain();
                            });
  }

  void write(Response res) {
    phase_ = kWriting;
    if (core_.log) {
      const auto now = std::chrono::steady_clock::now();
      AccessRecord rec;
      rec.method = method_.empty() ? std::string_view("-") : std::string_view(method_);
      rec.target = target_.empty() ? std::string_view("-") : std::string_view(target_);
      rec.status = res.status;
      rec.bytes = res.body.size();
      rec.us = method_.empty()
                   ? 0
                   : std::chrono::duration_cast<std::chrono::microseconds>(now - arrived_).count();
      try {
        core_.log(rec);
      } catch (...) {  // a log that throws loses its line, never the answer
      }
      method_.clear();
      target_.clear();
    }
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>();
    msg->version(version_ == 10 ? 10 : 11);
    msg->result(static_cast<unsigned>(res.status));
    for (auto& [k, v] : res.headers)
      if (header_safe(k) && header_safe(v) && !k.empty()) msg->insert(k, v);
    msg->body() = std::move(res.body);
    msg->keep_alive(keep_alive_);
    msg->prepare_payload();
    if (head_) msg->body().clear();  // Content-Length stays that of the GET body
    arm(o().write_timeout_ms);
    bhttp::async_write(socket_, *msg, [s = shared_from_this(), msg](beast::error_code ec, size_t) {
      s->disarm();
      if (!ec && s->linger_) return s->linger();
      if (ec || !s->keep_alive_) return s->close();
      s->first_ = false;
      s->read_header();
    });
  }

  void close() {
    disarm();
    beast::error_code ec;
    lowest(socket_).shutdown(tcp::socket::shutdown_both, ec);
    lowest(socket_).close(ec);
  }

  Stream socket_;
  net::steady_timer deadline_;
  LoopbackServer::Core& core_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::list<std::weak_ptr<SessionBase>>::iterator self_;
  std::string client_cert_der_;
  bool client_cert_verified_ = false;
  bool registered_ = false;
  bool evicted_ = false;  // guarded by the core's lock
  std::atomic<int> phase_{kWaiting};
  uint64_t generation_ = 0;
  bool timed_out_ = false;
  bool first_ = true;
  bool keep_alive_ = true;
  bool head_ = false;
  bool linger_ = false;
  size_t drained_ = 0;
  std::unique_ptr<std::array<char, 16384>> scratch_;
  unsigned version_ = 11;
  std::string method_, target_;  // for the access log
  std::chrono::steady_clock::time_point arrived_;
};

}  // namespace

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
    if (tls)
      admit_as(std::make_shared<Session<TlsStream>>(*this, std::move(socket), tls->ctx), seen);
    else
      admit_as(std::make_shared<Session<tcp::socket>>(*this, std::move(socket)), seen);
  }
  if (victim) victim->close_async();
}

template <class S>
void LoopbackServer::Core::admit_as(std::shared_ptr<S> session,
                                    std::vector<std::shared_ptr<SessionBase>>& seen) {
  counters.open.fetch_add(1);
  sessions.push_back(session);
  session->start(std::prev(sessions.end()));
  seen.push_back(std::move(session));
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

ParsedRequest parse_request(std::string_view bytes, const ServerOptions& limits) {
  ParsedRequest out;
  auto refused = [&](int status, std::string detail) {
    out.status = status == 0 ? 400 : status;
    out.detail = std::move(detail);
    return out;
  };
  Parser p;
  apply_limits(p, limits);
  p.eager(true);
  beast::error_code ec;
  size_t used = 0;
  bool checked = false;
  while (!p.is_done() && used < bytes.size()) {
    const size_t n = p.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == bhttp::error::need_more) {
      ec = {};
      if (n == 0) break;
      continue;
    }
    if (ec) return refused(status_for_read_error(ec), ec.message());
    if (p.is_header_done() && !checked) {
      checked = true;
      if (auto [status, why] = check_header(p, limits); status != 0) return refused(status, why);
    }
  }
  if (!p.is_done()) return out;  // incomplete: the server would wait for more
  out.complete = true;
  out.consumed = used;
  out.keep_alive = p.get().keep_alive();
  out.request = to_request(p.release());
  return out;
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
