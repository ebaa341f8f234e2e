// ClientApp: client_credentials + a bearer call, driven over HTTP.
#include "actors/client_app.h"

#include "actors/errors.h"

#include <nlohmann/json.hpp>

#include "actors/token_client.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

ClientApp::ClientApp(RoleEnv env, ClientSpec spec) : Role(std::move(env)), spec_(std::move(spec)) {
  on_post("/invoke", [this](const auto& req, auto& res) { handle_invoke(req, res); });
}

ClientApp::~ClientApp() { stop(); }

std::string ClientApp::access_token(std::string* error_json) {
  std::lock_guard lock(mu_);
  const int64_t now = env_.clock->now_s();
  if (!token_.empty() && now < token_exp_s_ - 30) return token_;
  http::FormParams p = {{"grant_type", "client_credentials"}};
  for (const auto& a : spec_.audiences) p.emplace_back("audience", a);
  if (!spec_.scope.empty()) p.emplace_back("scope", spec_.scope);
  auto t = request_token(outbound_, env_.directory, spec_.credentials, std::move(p),
                         "POST /token client_credentials", {}, 0,
                         spec_.credentials.dpop ? &dpop_prover() : nullptr);
  if (!t.ok()) {
    *error_json = safe_dump(Json{{"stage", "client_credentials"},
                                 {"as_status", t.status},
                                 {"error", t.error},
                                 {"error_description", t.error_description}});
    return {};
  }
  token_ = t.access_token;
  token_dpop_ = t.token_type == "DPoP" || t.token_type == "dpop";
  token_exp_s_ = now + t.expires_in;
  return token_;
}

namespace {

// A malformed /invoke request: the edge table's invalid_request (actors/errors.h).
void bad_invoke(http::Response& res, const std::string& description) {
  const WireError w = to_wire(EdgeError::kInvalidRequest);
  reply_json(res, w.http_status,
             safe_dump(Json{{"error", std::string(w.code)}, {"error_description", description}}));
}

}  // namespace

void ClientApp::handle_invoke(const http::Request& req, http::Response& res) {
  auto in = Json::parse(req.body, nullptr, false);
  const std::string to = json_str(in, "to");
  std::string path = json_str(in, "path");
  std::string method = json_str(in, "method");
  if (path.empty()) path = "/";
  if (method.empty()) method = "GET";
  if (to.empty() || path[0] != '/' ||
      (method != "GET" && method != "POST" && method != "PUT" && method != "DELETE"))
    return bad_invoke(res,
                      "body must be {\"to\": ROLE, \"path\": \"/...\", \"method\": "
                      "GET|POST|PUT|DELETE}");
  std::string url;
  try {
    url = env_.directory.url_of(to);
  } catch (const std::exception&) {
  }
  if (url.empty()) return bad_invoke(res, "unknown role '" + to + "'");

  std::string token_error;
  const std::string token = access_token(&token_error);
  if (token.empty())
    return reply_json(res, 200,
                      safe_dump(Json{{"status", 0}, {"token_error", Json::parse(token_error)}}));

  http::OutboundRequest call;
  call.method = method;
  call.path = path;
  bool bound = false;
  {
    std::lock_guard lock(mu_);
    bound = token_dpop_;
  }
  if (bound) {  // RFC 9449 §7.1: the DPoP scheme and a proof for this very request
    call.headers.emplace_back("Authorization", "DPoP " + token);
    call.headers.emplace_back("DPoP", dpop_prover().proof(method, url + path, token));
  } else {
    call.headers.emplace_back("Authorization", "Bearer " + token);
  }
  auto up = outbound_.send(to, url, call, method + " " + path, token);
  Json out = {{"status", up.status}};
  if (up.status == 0) out["transport_error"] = std::string(http::to_string(up.error));
  auto body = Json::parse(up.body, nullptr, false);
  out["body"] = body.is_discarded() ? Json(up.body) : body;
  if (auto w = up.header("WWW-Authenticate"); !w.empty()) out["www_authenticate"] = w;
  reply_json(res, 200, safe_dump(out));
}

}  // namespace txlab
