// Outbound: call-id propagation and hop reporting around HttpClientPool.
#include "sim/outbound.h"

#include "sim/clock.h"
#include "sim/http/run_blocking.h"

namespace txlab {

boost::asio::awaitable<http::InboundResponse> Outbound::async_send(
    std::string call, std::string to_role, std::string base_url, http::OutboundRequest request,
    std::string what, std::string presented_token) {
  if (!call.empty()) request.headers.emplace_back(kCallHeader, call);
  if (!presented_token.empty()) trace_->add_token({call, self_, to_role, presented_token});
  const int64_t start = monotonic_us();
  auto res = co_await pool_->async_send(base_url, std::move(request));
  const int64_t end = monotonic_us();
  trace_->add_hop({call, self_, to_role, what, res.status, start, end - start});
  co_return res;
}

http::InboundResponse Outbound::send(const std::string& to_role, const std::string& base_url,
                                     http::OutboundRequest request, const std::string& what,
                                     const std::string& presented_token) {
  return http::run_blocking(async_send(CallScope::current(), to_role, base_url, std::move(request),
                                       what, presented_token));
}

}  // namespace txlab
