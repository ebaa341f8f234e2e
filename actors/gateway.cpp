// Gateway: verify -> exchange -> forward.
#include "actors/gateway.h"

#include "sim/seed.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "actors/token_client.h"
#include "sim/http/form.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab {

Gateway::Gateway(RoleEnv env, GatewaySpec spec)
    : Role(std::move(env)),
      spec_(std::move(spec)),
      own_pool_([this] {
        // The gateway's budget as timeouts; where the role's sockets live (--netns) as its
        // role's pool says.
        http::ClientOptions o = env_.pool->options();
        o.connect_timeout_ms = o.read_timeout_ms = static_cast<int>(spec_.timeout_ms);
        o.max_idle_per_host = 64;
        return o;
      }()),
      own_outbound_(env_.id, own_pool_, *env_.trace),
      guard_(env_, outbound_, spec_.trust, spec_.audiences, {}, env_.defects,
             spec_.verified_token_cache, spec_.dpop) {
  guard_.set_mtls_required(spec_.mtls_required);
  on_any_async("/*",
               [this](const http::Request& req, http::Response& res) { return handle(req, res); });
  if (spec_.exchange && spec_.exchange->cache)
    cache_ = std::make_unique<ExchangeCache>(
        ExchangeCacheOptions{spec_.exchange->cache_max_entries, spec_.exchange->cache_margin_s});
}

Gateway::Budget::Budget(int64_t ms, std::string call)
    : end_(std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max<int64_t>(ms, 1))),
      call_(std::move(call)) {}

int Gateway::Budget::remaining_ms() const {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(end_ - std::chrono::steady_clock::now())
          .count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

boost::asio::awaitable<ExchangeCache::Result> Gateway::exchange(const std::string& subject_token,
                                                                const Budget& budget) {
  const auto& ex = *spec_.exchange;
  http::FormParams p = {{"grant_type", kGrantTokenExchange},
                        {"subject_token", subject_token},
                        {"subject_token_type", kTypeAccessToken},
                        {"requested_token_type", kTypeAccessToken}};
  for (const auto& a : ex.audiences) p.emplace_back("audience", a);
  if (!ex.scope.empty()) p.emplace_back("scope", ex.scope);
  // (No conditional expression inside a co_await's operands: GCC 12 miscompiles them.)
  const DpopProver* prover = nullptr;
  if (ex.client.dpop) prover = &dpop_prover();
  auto t = co_await async_request_token(budget.call(), own_outbound_, env_.directory, ex.client,
                                        std::move(p), "POST /token token-exchange", {},
                                        budget.remaining_ms(), prover);
  ExchangeCache::Result r;
  r.ok = t.ok();
  r.timed_out = t.transport == http::TransportError::kTimeout;
  r.token = t.access_token;
  r.exp_s = env_.clock->now_s() + t.expires_in;
  r.status = t.status;
  r.error = t.error;
  r.code = t.code;
  r.description = t.error_description;
  co_return r;
}

Gateway::~Gateway() {
  own_pool_.clear();
  stop();
}

boost::asio::awaitable<http::InboundResponse> Gateway::send_with_retries(
    const std::string& to, http::OutboundRequest req, const std::string& what,
    const std::string& token, const Budget& budget, bool dpop) {
  const bool idempotent = req.method == "GET" || req.method == "PUT" || req.method == "DELETE";
  http::InboundResponse r;
  boost::asio::steady_timer backoff(co_await boost::asio::this_coro::executor);
  for (int attempt = 0; attempt <= spec_.retries; ++attempt) {
    if (attempt > 0) {
      const uint64_t draw =
          splitmix64(derive_seed(env_.seed, "retry-jitter") ^ jitter_draws_.fetch_add(1));
      const int64_t base_ms = 20LL << std::min(attempt - 1, 16);
      backoff.expires_after(std::chrono::milliseconds(
          std::min<int64_t>(base_ms + static_cast<int64_t>(draw % static_cast<uint64_t>(base_ms)),
                            budget.remaining_ms())));
      co_await backoff.async_wait(boost::asio::use_awaitable);
    }
    if (budget.spent()) {
      r = {};
      r.error = http::TransportError::kTimeout;
      break;
    }
    req.timeout_ms = budget.remaining_ms();
    const std::string base = env_.directory.url_of(to);
    http::OutboundRequest attempt_req = req;
    if (dpop) {  // a fresh proof per attempt: a proof is good for one request (RFC 9449 §11.1)
      const std::string path = req.path.substr(0, req.path.find('?'));
      attempt_req.headers.emplace_back("DPoP", dpop_prover().proof(req.method, base + path, token));
    }
    std::string label = what;
    if (attempt > 0) label += " (retry)";
    r = co_await own_outbound_.async_send(budget.call(), to, base, std::move(attempt_req),
                                          std::move(label), token);
    const bool retryable =
        r.status == 0 && (r.error == http::TransportError::kConnect ||
                          (idempotent && r.error != http::TransportError::kTimeout));
    if (!retryable) break;
  }
  co_return r;
}

const Route* Gateway::route_for(const std::string& path) const {
  const Route* route = nullptr;
  for (const auto& r : spec_.routes)
    if (path.rfind(r.prefix, 0) == 0 && (!route || r.prefix.size() > route->prefix.size()))
      route = &r;
  return route;
}

boost::asio::awaitable<std::optional<EdgeRefusal>> Gateway::introspect(const std::string& token,
                                                                       const Budget& budget) {
  http::OutboundRequest q;
  q.method = "POST";
  q.path = "/introspect";
  q.content_type = "application/x-www-form-urlencoded";
  q.body = http::encode_form({{"token", token}});
  const auto& c = *spec_.introspection;
  q.headers.emplace_back("Authorization", http::basic_authorization(c.client_id, c.secret));
  q.timeout_ms = budget.remaining_ms();
  if (budget.spent())
    co_return EdgeRefusal{EdgeError::kUpstreamTimeout, "the gateway's time budget is spent"};
  auto r = co_await own_outbound_.async_send(
      budget.call(), c.as_role, env_.directory.url_of(c.as_role), std::move(q), "POST /introspect");
  if (r.status == 0)
    co_return EdgeRefusal{EdgeError::kExchangeUnavailable, "introspection: AS unreachable"};
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (r.status != 200 || !j.is_object())
    co_return EdgeRefusal{EdgeError::kExchangeFailed, "introspection failed"};
  const bool active = j.contains("active") && j["active"].is_boolean() && j["active"].get<bool>();
  if (!active) co_return EdgeRefusal{EdgeError::kInvalidToken, "token is not active (revoked)"};
  co_return std::nullopt;
}

namespace {

// What the gateway answers its caller when the exchange did not give it a token.
EdgeRefusal exchange_refusal(const ExchangeCache::Result& t) {
  const std::string detail = t.description.empty() ? "" : " (" + t.description + ")";
  if (t.status == 0 && t.timed_out)
    return {EdgeError::kExchangeTimeout, "token exchange: the AS did not answer in time"};
  if (t.status == 0) return {EdgeError::kExchangeUnavailable, "token exchange: AS unreachable"};
  // The AS is up but its own upstream is not (a broker's back channel): still unavailable,
  // worth retrying later (503 + Retry-After), not a failed exchange.
  if (t.status == 503 || t.code == TokenError::kTemporarilyUnavailable)
    return {EdgeError::kExchangeUnavailable, "token exchange: AS temporarily unavailable" + detail};
  // The AS refused this caller's exchange (a client mistake on our side is not the caller's).
  if (t.status == 400 && t.code && *t.code != TokenError::kInvalidClient &&
      *t.code != TokenError::kUnauthorizedClient)
    return {EdgeError::kExchangeDenied, "token exchange refused: " + t.error + detail};
  return {
      EdgeError::kExchangeFailed,
      "token exchange failed: " + (t.error.empty() ? "HTTP " + std::to_string(t.status) : t.error)};
}

}  // namespace

boost::asio::awaitable<std::variant<std::string, EdgeRefusal>> Gateway::outbound_token(
    const std::string& inbound, const std::string& cache_key, const Budget& budget,
    bool* from_cache) {
  *from_cache = false;
  if (!spec_.exchange) co_return inbound;
  // A caller finding the same exchange in flight waits for it (without a thread) within its
  // own budget.
  ExchangeCache::Result t;
  if (cache_)
    t = co_await cache_->async_get_or_exchange(
        cache_key, env_.clock->now_s(), [&]() { return exchange(inbound, budget); }, from_cache,
        budget.end());
  else
    t = co_await exchange(inbound, budget);
  if (!t.ok) co_return exchange_refusal(t);
  co_return t.token;
}

boost::asio::awaitable<http::InboundResponse> Gateway::forward(const http::Request& req,
                                                               const Route& route,
                                                               const std::string& token,
                                                               const Budget& budget) {
  http::OutboundRequest fwd;
  fwd.method = req.method;
  fwd.path = req.target.empty() ? req.path : req.target;
  fwd.body = req.body;
  fwd.content_type = req.header("Content-Type");
  // A token bound to this gateway's key (it exchanged with its own proof) goes out with the
  // DPoP scheme and a proof per request (RFC 9449 §7.1); anything else as a bearer token.
  bool bound_to_me = false;
  if (auto d = jose::decode_unverified(token);
      d && d->second.contains("cnf") && d->second["cnf"].is_object())
    bound_to_me = json_str(d->second["cnf"], "jkt") == dpop_prover().jkt();
  fwd.headers.emplace_back("Authorization", (bound_to_me ? "DPoP " : "Bearer ") + token);
  co_return co_await send_with_retries(route.to, std::move(fwd), req.method + " " + req.path, token,
                                       budget, bound_to_me);
}

boost::asio::awaitable<void> Gateway::handle(const http::Request& req, http::Response& res) {
  const Budget budget(spec_.timeout_ms, call_label(req));
  // The guard's checks are CPU only once its JWKS are cached; a JWKS fetch on a miss (the first
  // request, an unknown kid at most once per refresh interval) still blocks this thread.
  GuardResult inbound;
  {
    CallScope scope(budget.call());
    inbound = guard_.check(req, res);
  }
  if (!inbound.ok) co_return;
  auto refuse = [&](const EdgeRefusal& r) {
    reply_edge_error(res, r.error, id(), r.description, r.dpop);
  };
  const Route* route = route_for(req.path);
  if (!route) co_return refuse({EdgeError::kNoRoute, "no route for " + req.path});
  if (route->introspect && spec_.introspection)
    if (auto r = co_await introspect(inbound.token, budget)) co_return refuse(*r);
  // Exchange (or reuse a cached exchange), then forward. A 401 from upstream on a cached token
  // drops the entry and allows exactly one fresh exchange.
  std::string cache_key;
  if (cache_) {
    const auto& ex = *spec_.exchange;
    std::string params =
        ex.client.as_role + "|" + ex.client.client_id + "|" + ex.scope + "|access_token";
    for (const auto& a : ex.audiences) params += "|" + a;
    cache_key = ExchangeCache::key_of(inbound.token, params);
  }
  http::InboundResponse up;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool from_cache = false;
    auto token = co_await outbound_token(inbound.token, cache_key, budget, &from_cache);
    if (const auto* r = std::get_if<EdgeRefusal>(&token)) co_return refuse(*r);
    up = co_await forward(req, *route, std::get<std::string>(token), budget);
    if (up.status == 401 && from_cache && cache_) {
      cache_->invalidate(cache_key);
      continue;
    }
    break;
  }
  if (up.status == 0) {
    const EdgeError e = up.error == http::TransportError::kConnect ? EdgeError::kUpstreamUnavailable
                        : up.error == http::TransportError::kTimeout
                            ? EdgeError::kUpstreamTimeout
                            : EdgeError::kUpstreamBadResponse;
    co_return refuse(
        {e, "upstream '" + route->to + "': " + std::string(http::to_string(up.error))});
  }
  res.status = up.status;
  if (auto w = up.header("WWW-Authenticate"); !w.empty()) res.set_header("WWW-Authenticate", w);
  const std::string ct = up.header("Content-Type");
  res.set_content(up.body, ct.empty() ? "application/octet-stream" : ct);
}

}  // namespace txlab
