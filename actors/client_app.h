// The one client (CFA, or callers A1/A2/A3): gets its access token by client_credentials,
// calls a gateway with it, and serves POST /invoke so a user or the workload runner can
// trigger a call: {"to": ROLE, "path": "/orders/42", "method": "GET"} -> {"status", "body"}.
#pragma once

#include <string>

#include "actors/exchange_cache.h"
#include "actors/role.h"

namespace txlab {

class ClientApp : public Role {
 public:
  ClientApp(RoleEnv env, ClientSpec spec);
  ~ClientApp() override;
  RoleKind kind() const override { return RoleKind::kClient; }

 private:
  // A coroutine on the I/O thread: neither the token request nor the call holds a thread.
  boost::asio::awaitable<void> handle_invoke(const http::Request& req, http::Response& res);
  // The client_credentials token, cached until 30 s before expiry; concurrent misses share one
  // request (single flight). Not ok on failure.
  boost::asio::awaitable<ExchangeCache::Result> access_token(const std::string& call);

  ClientSpec spec_;
  ExchangeCache token_{ExchangeCacheOptions{1, 30}};  // one entry: this client's token
};

}  // namespace txlab
