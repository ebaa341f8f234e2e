// A role's outbound side: every request one role makes to another goes through here, so it
// carries the call id and is reported to the trace as a hop (and any bearer or subject token
// it presents is recorded).
#pragma once

#include <string>

#include "sim/http/client_pool.h"
#include "sim/trace.h"

namespace txlab {

class Outbound {
 public:
  Outbound(std::string self, http::HttpClientPool& pool, Trace& trace)
      : self_(std::move(self)), pool_(&pool), trace_(&trace) {}

  const std::string& self() const { return self_; }

  // `to_role` names the peer in the trace; `what` describes the request ("POST /token ...").
  // `presented_token`, when non-empty, is recorded as a token this role presented.
  // Blocks the calling thread; the call id is the thread's (CallScope).
  http::InboundResponse send(const std::string& to_role, const std::string& base_url,
                             http::OutboundRequest request, const std::string& what,
                             const std::string& presented_token = {});
  // The same as a coroutine (HttpClientPool::async_send). `call` is the call id to carry: a
  // coroutine cannot rely on the thread's CallScope, which other requests' coroutines on the
  // same thread change while it waits.
  boost::asio::awaitable<http::InboundResponse> async_send(std::string call, std::string to_role,
                                                           std::string base_url,
                                                           http::OutboundRequest request,
                                                           std::string what,
                                                           std::string presented_token = {});

 private:
  std::string self_;
  http::HttpClientPool* pool_;
  Trace* trace_;
};

}  // namespace txlab
