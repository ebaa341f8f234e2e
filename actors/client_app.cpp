// ClientApp: client_credentials + a bearer call, driven over HTTP.
#include "actors/client_app.h"

#include "actors/errors.h"

#include <nlohmann/json.hpp>

#include "actors/token_client.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

ClientApp::ClientApp(RoleEnv env, ClientSpec spec) : Role(std::move(env)), spec_(std::move(spec)) {
  server_.routes().add_async(
      "POST", "/invoke",
      [this](const http::Request& req, http::Response& res) { return handle_invoke(req, res); });
}

ClientApp::~ClientApp() { stop(); }

boost::asio::awaitable<ExchangeCache::Result> ClientApp::access_token(const std::string& call) {
  auto fetch = [this, call]() -> boost::asio::awaitable<ExchangeCache::Result> {
    http::FormParams p = {{"grant_type", "client_credentials"}};
    for (const auto& a : spec_.audiences) p.emplace_back("audience", a);
    if (!spec_.scope.empty()) p.emplace_back("scope", spec_.scope);
    // (No conditional expression inside a co_await's operands: GCC 12 miscompiles them.)
    const DpopProver* prover = nullptr;
    if (spec_.credentials.dpop) prover = &dpop_prover();
    const int64_t now = env_.clock->now_s();
    auto t =
        co_await async_request_token(call, outbound_, env_.directory, spec_.credentials,
                                     std::move(p), "POST /token client_credentials", {}, 0, prover);
    ExchangeCache::Result r;
    r.ok = t.ok();
    r.token = t.access_token;
    r.token_type = t.token_type;
    r.exp_s = now + t.expires_in;
    r.status = t.status;
    r.error = t.error;
    r.description = t.error_description;
    co_return r;
  };
  bool cached = false;
  // A caller waiting for another's request gives up after a minute (the request has its own
  // deadline well before that).
  co_return co_await token_.async_get_or_exchange(
      "client_credentials", env_.clock->now_s(), fetch, &cached,
      std::chrono::steady_clock::now() + std::chrono::minutes(1));
}

namespace {

// A malformed /invoke request: the edge table's invalid_request (actors/errors.h).
void bad_invoke(http::Response& res, const std::string& description) {
  const WireError w = to_wire(EdgeError::kInvalidRequest);
  reply_json(res, w.http_status,
             safe_dump(Json{{"error", std::string(w.code)}, {"error_description", description}}));
}

}  // namespace

boost::asio::awaitable<void> ClientApp::handle_invoke(const http::Request& req,
                                                      http::Response& res) {
  const std::string call_id = call_label(req);
  auto in = Json::parse(req.body, nullptr, false);
  const std::string to = json_str(in, "to");
  std::string path = json_str(in, "path");
  std::string method = json_str(in, "method");
  if (path.empty()) path = "/";
  if (method.empty()) method = "GET";
  if (to.empty() || path[0] != '/' ||
      (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE"))
    co_return bad_invoke(res,
                         "body must be {\"to\": ROLE, \"path\": \"/...\", \"method\": "
                         "GET|POST|PUT|DELETE}");
  std::string url;
  try {
    url = env_.directory.url_of(to);
  } catch (const std::exception&) {
  }
  if (url.empty()) co_return bad_invoke(res, "unknown role '" + to + "'");

  const auto t = co_await access_token(call_id);
  if (!t.ok) {
    const Json token_error = {{"stage", "client_credentials"},
                              {"as_status", t.status},
                              {"error", t.error},
                              {"error_description", t.description}};
    co_return reply_json(res, 200, safe_dump(Json{{"status", 0}, {"token_error", token_error}}));
  }
  const std::string& token = t.token;

  http::OutboundRequest call;
  call.method = method;
  call.path = path;
  // RFC 9449 §7.1: a DPoP token goes with the DPoP scheme and a proof for this very request.
  if (t.token_type == "DPoP" || t.token_type == "dpop") {
    call.headers.emplace_back("Authorization", "DPoP " + token);
    call.headers.emplace_back("DPoP", dpop_prover().proof(method, url + path, token));
  } else {
    call.headers.emplace_back("Authorization", "Bearer " + token);
  }
  auto up =
      co_await outbound_.async_send(call_id, to, url, std::move(call), method + " " + path, token);
  Json out = {{"status", up.status}};
  if (up.status == 0) out["transport_error"] = std::string(http::to_string(up.error));
  auto body = Json::parse(up.body, nullptr, false);
  out["body"] = body.is_discarded() ? Json(up.body) : body;
  if (auto w = up.header("WWW-Authenticate"); !w.empty()) out["www_authenticate"] = w;
  reply_json(res, 200, safe_dump(out));
}

}  // namespace txlab
