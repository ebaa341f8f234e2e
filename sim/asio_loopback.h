// Internal to the Boost.Asio servers (fault proxy, TLS front): an io_context on one thread and
// an acceptor on 127.0.0.1:0. Include only from .cpp files (Boost headers are heavy).
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>

#include <string>
#include <thread>

namespace txlab::detail {

struct AsioLoopback {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{io};
  std::thread thread;
  int port = 0;

  std::string host = "127.0.0.1";

  // Binds host:0 (127.0.0.1 unless set) with a deep backlog; returns the port.
  int listen() {
    using boost::asio::ip::tcp;
    tcp::endpoint ep(boost::asio::ip::make_address(host), 0);
    acceptor.open(ep.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(1024);
    port = acceptor.local_endpoint().port();
    return port;
  }
  void run() {
    thread = std::thread([this] { io.run(); });
  }
  // Stops the loop, joins, closes the acceptor; safe to call twice.
  void shutdown() {
    if (!thread.joinable()) return;
    io.stop();
    thread.join();
    boost::system::error_code ec;
    acceptor.close(ec);
  }
};

}  // namespace txlab::detail
