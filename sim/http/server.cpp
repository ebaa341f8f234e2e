// LoopbackServer: cpp-httplib configured explicitly (its defaults cost ~40 ms per POST).
#include "sim/http/server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <stdexcept>

namespace txlab::http {

namespace {

std::string reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such path";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 413:
      return "request body too large";
    case 414:
      return "URI too long";
    case 416:
      return "range not satisfiable";
    case 431:
      return "request header fields too large";
    case 503:
      return "service unavailable";
    default:
      return status >= 500 ? "server error" : "request refused";
  }
}

}  // namespace

LoopbackServer::LoopbackServer(ServerOptions options)
    : options_(options), server_(std::make_unique<httplib::Server>()) {
  const size_t threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(1000);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  server_->set_payload_max_length(options_.max_body_bytes);
  // Every error is JSON: what the library itself answers (404 for an unknown path, 413 for a
  // body over the limit, 400 for a malformed request) gets an OAuth-shaped body too, unless a
  // handler already wrote one.
  server_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = res.status == 404   ? "not_found"
                       : res.status == 405 ? "method_not_allowed"
                       : res.status >= 500 ? "server_error"
                                           : "invalid_request";
    res.set_content(nlohmann::json{{"error", code},
                                   {"error_description", "HTTP " + std::to_string(res.status) +
                                                             " " + reason(res.status)}}
                        .dump(),
                    "application/json");
  });
  // No Range support (RFC 9110 §14.2 lets a server ignore Range): a request naming thousands of
  // ranges must not make the library build thousands of parts, nor turn a JSON error into a
  // multipart body. The request object is the server's own (not const), so clearing the parsed
  // ranges here is sound.
  server_->set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    const_cast<httplib::Request&>(req).ranges.clear();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // The packaged cpp-httplib listens with a backlog of 5: a burst of concurrent connects
  // overflows it and the kernel retries the SYN a second later. Capture the listening socket
  // so start() can raise the backlog.
  server_->set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd_ = sock;
  });
}

LoopbackServer::~LoopbackServer() { stop(); }

int LoopbackServer::start() {
  if (thread_.joinable()) return port_;
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) throw std::runtime_error("cannot bind 127.0.0.1:0");
  serve();
  return port_;
}

int LoopbackServer::start_on(int port) {
  if (thread_.joinable()) return port_;
  if (port <= 0 || port > 65535 || !server_->bind_to_port("127.0.0.1", port))
    throw std::runtime_error("cannot bind 127.0.0.1:" + std::to_string(port));
  port_ = port;
  serve();
  return port_;
}

bool LoopbackServer::restart() {
  if (thread_.joinable()) return true;
  if (port_ <= 0 || !server_->bind_to_port("127.0.0.1", port_)) return false;
  serve();
  return true;
}

void LoopbackServer::serve() {
  if (listen_fd_ >= 0) ::listen(listen_fd_, 1024);
  // bind_to_any_port has already called listen(): connections queue from here on.
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() is a no-op until the accept loop runs; wait for it so that a stop()
  // right after start() cannot leave the thread blocked in accept().
  while (!server_->is_running()) std::this_thread::yield();
}

void LoopbackServer::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string LoopbackServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

}  // namespace txlab::http
