// Runs a coroutine to completion on the calling thread: the blocking form of an async call
// (HttpClientPool::send, Outbound::send, request_token) is the async one run here, so the
// logic exists once. Each thread has its own io_context for this, never one a server runs;
// the coroutine must not call a blocking form itself (no nested run).
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace txlab::http {

boost::asio::io_context& blocking_context();  // this thread's (client_pool.cpp)

// The coroutine's result; rethrows what it threw.
template <class T>
T run_blocking(boost::asio::awaitable<T> task) {
  auto& io = blocking_context();
  std::optional<T> out;
  std::exception_ptr failed;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T r) {
    failed = e;
    if (!e) out.emplace(std::move(r));
  });
  io.restart();
  io.run();
  if (failed) std::rethrow_exception(failed);
  return std::move(*out);
}

}  // namespace txlab::http
