// Outbound: call-id propagation and hop reporting around HttpClientPool.
#include "sim/outbound.h"

#include "sim/clock.h"

namespace txlab {

http::InboundResponse Outbound::send(const std::string& to_role, const std::string& base_url,
                                     http::OutboundRequest request, const std::string& what,
                                     const std::string& presented_token) {
  const std::string& call = CallScope::current();
  if (!call.empty()) request.headers.emplace_back(kCallHeader, call);
  if (!presented_token.empty()) trace_->add_token({call, self_, to_role, presented_token});
  const int64_t start = monotonic_us();
  auto res = pool_->send(base_url, request);
  const int64_t end = monotonic_us();
  trace_->add_hop({call, self_, to_role, what, res.status, start, end - start});
  return res;
}

}  // namespace txlab
