// Internals shared by LoopbackServer's translation units: server.cpp (listener, acceptor, TLS
// front, worker hand-off, the connection registry) and server_session.cpp (one connection:
// parsing, limits, writing). Not part of the public API.
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "sim/http/server.h"

namespace txlab::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

struct LoopbackServer::Counters {
  std::atomic<uint64_t> accepted{0}, requests{0}, evicted{0}, refused_full{0}, busy{0}, timeout{0},
      too_large{0}, header{0}, bad{0}, handler_errors{0}, open{0}, tls_failed{0};
};

struct LoopbackServer::TlsContext {
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
  std::string client_ca_pem;
};

namespace server_detail {

// Fixed threads, bounded queue: try_submit refuses instead of queueing without end.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t limit);
  ~WorkerPool();
  bool try_submit(std::function<void()> job);
  // Lets running jobs finish, drops queued ones, joins.
  void stop();

 private:
  void work();
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

}  // namespace server_detail

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
  std::list<std::weak_ptr<server_detail::SessionBase>> sessions;
  size_t evicting = 0;  // sessions chosen to give way, closing but not yet gone
  server_detail::WorkerPool pool;
  // Async handlers running now (coroutines on the I/O threads): at most options.queue_limit,
  // beyond that 503 like a full worker queue; stop() waits until none is left.
  bool begin_async();
  void end_async();
  std::mutex async_mu;
  std::condition_variable async_done;
  size_t async_running = 0;
  bool async_closed = false;  // stopping: no new async handler starts
  net::io_context io;
  tcp::acceptor acceptor{io};
  net::steady_timer accept_retry{io};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  std::vector<std::thread> threads;

  void accept();
  void admit(tcp::socket socket);
  // Under the lock (admit): a session for `socket`, plain or TLS, registered and started
  // (defined with the session, server_session.cpp).
  void open_session(tcp::socket socket,
                    std::vector<std::shared_ptr<server_detail::SessionBase>>& seen);
  template <class S>
  void admit_as(std::shared_ptr<S> session,
                std::vector<std::shared_ptr<server_detail::SessionBase>>& seen);
  void shutdown();
};

}  // namespace txlab::http
