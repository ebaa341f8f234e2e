// One connection of a LoopbackServer (see server.cpp for the listener): Boost.Beast HTTP/1.1
// parsing with the server's limits, and the response written back.
//
// One connection is one Session on its own strand: read the header (deadline), answer
// `Expect: 100-continue`, read the body (deadline, size limit also for chunked bodies), hand
// the request to a worker (or run an async handler as a coroutine on the strand), write the
// response (deadline), then wait for the next request (keep-alive idle deadline). Deadlines cancel
// the socket's pending operation (not close it), so a client that was too slow still gets its 408
// JSON.
#include "sim/http/server_internal.h"
#include "sim/tls.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <string>

namespace txlab::http {

namespace bhttp = boost::beast::http;
using server_detail::SessionBase;

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
    if (const AsyncHandler* h = core_.router.async_route(*req)) {
      // A coroutine on this connection's strand (the I/O thread that parsed the request): it
      // waits on the network without holding a thread.
      if (!core_.begin_async()) return busy();
      net::co_spawn(socket_.get_executor(), handle_async(shared_from_this(), h, std::move(req)),
                    net::detached);
      return;
    }
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
    if (!queued) busy();
  }

  // The worker queue (or the bound on running async handlers) is full: 503 + Retry-After.
  void busy() {
    core_.counters.busy.fetch_add(1);
    Response res;
    reply_http_error(res, 503, "too many requests waiting");
    res.set_header("Retry-After", "1");
    keep_alive_ = false;
    write(std::move(res));
  }

  static net::awaitable<void> handle_async(std::shared_ptr<Session> s, const AsyncHandler* h,
                                           std::shared_ptr<Request> req) {
    Response res;
    try {
      co_await (*h)(*req, res);
    } catch (const std::exception& e) {
      s->core_.counters.handler_errors.fetch_add(1);
      res = Response{};
      reply_http_error(res, 500, e.what());
    }
    s->core_.end_async();
    s->write(std::move(res));
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

template <class S>
void LoopbackServer::Core::admit_as(std::shared_ptr<S> session,
                                    std::vector<std::shared_ptr<SessionBase>>& seen) {
  counters.open.fetch_add(1);
  sessions.push_back(session);
  session->start(std::prev(sessions.end()));
  seen.push_back(std::move(session));
}

void LoopbackServer::Core::open_session(tcp::socket socket,
                                        std::vector<std::shared_ptr<SessionBase>>& seen) {
  if (tls)
    admit_as(std::make_shared<Session<TlsStream>>(*this, std::move(socket), tls->ctx), seen);
  else
    admit_as(std::make_shared<Session<tcp::socket>>(*this, std::move(socket)), seen);
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

}  // namespace txlab::http
