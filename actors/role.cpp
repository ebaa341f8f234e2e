// Role: server wiring shared by every actor.
#include "actors/role.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

namespace txlab {

Role::Role(RoleEnv env) : env_(std::move(env)), outbound_(env_.id, *env_.pool, *env_.trace) {
  // Liveness and readiness for orchestrators (Kubernetes probes, Compose and image health
  // checks): registered first, so it answers before any route of the role, a gateway's
  // catch-all included; served from the I/O thread, so it answers while workers are busy.
  on_get_quick("/healthz", [id = env_.id](const http::Request&, http::Response& res) {
    reply_json(res, 200, nlohmann::json{{"status", "ok"}, {"role", id}}.dump());
  });
  if (env_.mtls) {
    const auto& id = env_.mtls->issued.at(env_.id);
    server_.set_tls({id.cert_pem, id.key_pem, env_.mtls->ca_pem});
  }
}
Role::~Role() { server_.stop(); }

const DpopProver& Role::dpop_prover() {
  std::call_once(dpop_once_, [this] { dpop_ = std::make_unique<DpopProver>(*env_.clock); });
  return *dpop_;
}

std::string Role::call_label(const http::Request& req) {
  // X-Txlab-Call labels a call in the trace; it is unauthenticated, so only a short label of
  // [A-Za-z0-9._:-] is taken (anything else is ignored, never copied into hops and tokens).
  std::string call = req.header(kCallHeader);
  const bool label = call.size() <= 64 && std::all_of(call.begin(), call.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                              c == ':' || c == '-';
                     });
  if (!label) call.clear();
  return call;
}

http::ServerOptions Role::server_options() {
  http::ServerOptions o;
  // One per core, at most 8: a run holds a dozen roles in one process.
  o.io_threads = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
  return o;
}

Role::Handler Role::in_call(Handler handler) {
  return [handler = std::move(handler)](const http::Request& req, http::Response& res) {
    CallScope scope(call_label(req));
    handler(req, res);
  };
}

void Role::on_any_async(const std::string& pattern, http::AsyncHandler handler) {
  server_.routes().any_async(pattern, handler);
}

void Role::on_get(const std::string& pattern, Handler handler) {
  server_.routes().get(pattern, in_call(std::move(handler)));
}
void Role::on_get_quick(const std::string& pattern, Handler handler) {
  server_.routes().get_quick(pattern, in_call(std::move(handler)));
}
void Role::on_post(const std::string& pattern, Handler handler) {
  server_.routes().post(pattern, in_call(std::move(handler)));
}
void Role::on_any(const std::string& pattern, Handler handler) {
  server_.routes().any(pattern, in_call(std::move(handler)));
}

std::shared_ptr<const Directory::Table> Directory::table() const {
  auto t = shared_ ? shared_->get() : nullptr;
  if (!t) throw std::out_of_range("the directory is not published yet");
  return t;
}

std::string Directory::url_of(const std::string& role) const {
  const auto t = table();
  if (auto from = t->via.find(self_); from != t->via.end())
    if (auto it = from->second.find(role); it != from->second.end()) return it->second;
  return t->roles.at(role).url;
}

Directory::Entry Directory::entry_of(const std::string& role) const {
  Entry e = table()->roles.at(role);
  e.url = url_of(role);
  return e;
}

std::string Directory::issuer_of(const std::string& role) const {
  const auto t = table();
  const auto& e = t->roles.at(role);
  if (e.issuer.empty())
    throw std::out_of_range("role '" + role + "' is not an authorization server");
  return e.issuer;
}

std::vector<std::string> Directory::authorization_servers() const {
  std::vector<std::string> out;
  for (const auto& [id, e] : table()->roles)
    if (!e.issuer.empty()) out.push_back(id);
  return out;
}

void reply_json(http::Response& res, int status, const std::string& json_body) {
  res.status = status;
  res.set_content(json_body, "application/json");
}

}  // namespace txlab
