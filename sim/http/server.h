// A real HTTP server on 127.0.0.1, port 0 (cpp-httplib), tuned for loopback: TCP_NODELAY,
// keep-alive and an explicit thread pool. start() returns once the socket is listening;
// stop() (and the destructor) stop and join on every path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace txlab::http {

struct ServerOptions {
  size_t threads = 32;
  int keep_alive_timeout_s = 2;
  size_t max_body_bytes = 1 << 20;
};

class LoopbackServer {
 public:
  explicit LoopbackServer(ServerOptions options = {});
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // Register routes on this before start().
  httplib::Server& routes() { return *server_; }

  // Binds 127.0.0.1:0 and starts serving on a background thread. Returns the port.
  // Throws std::runtime_error when binding fails.
  int start();
  // Binds 127.0.0.1:`port` instead (a fixed port a user configures elsewhere). Throws
  // std::runtime_error when the port cannot be bound.
  int start_on(int port);
  void stop();
  // After stop(): serve again on the same port (a role coming back up). False when the port
  // cannot be bound again.
  bool restart();
  bool running() const { return thread_.joinable(); }
  int port() const { return port_; }
  std::string base_url() const;

 private:
  void serve();  // raises the backlog and runs the accept loop on thread_
  ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  int listen_fd_ = -1;
};

}  // namespace txlab::http
