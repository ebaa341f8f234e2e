// Events applied while serving.
#include "world/serve_admin.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "actors/bearer_guard.h"
#include "actors/errors.h"
#include "sim/jose/base64url.h"
#include "sim/scenario.h"
#include "world/world.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

// What an admin answer may echo: printable ASCII, bounded (the request's own text comes back).
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 2000)) {
    const auto u = static_cast<unsigned char>(c);
    out += u >= 0x20 && u < 0x7f ? c : ' ';
  }
  return out;
}

void reply(http::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
  res.set_header("Cache-Control", "no-store");
}

}  // namespace

std::string random_admin_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for a token");
  return jose::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

ServeAdmin::ServeAdmin(World& world, std::string token) : world_(world), token_(std::move(token)) {}

ServeAdmin::~ServeAdmin() {
  if (server_) server_->stop();
}

ServeAdmin::Outcome ServeAdmin::submit(const std::string& text) {
  std::lock_guard lock(mu_);
  Outcome out;
  try {
    const TimelineEvent e = parse_event(text, world_.scenario(), "event");
    out.event = e.describe();
    const std::string target = e.role;
    if (!target.empty() && !world_.scenario().find_role(target)->runs_here())
      throw std::runtime_error("'" + target + "' runs elsewhere: send the event to its own serve");
    if (!e.zone.empty())
      for (const auto& r : world_.scenario().roles)
        if (r.zone == e.zone && !r.runs_here())
          throw std::runtime_error("zone '" + e.zone + "' has roles this process does not run ('" +
                                   r.id + "'): step their clocks where they run");
    out.result = world_.apply(e);
    out.ok = true;
  } catch (const ScenarioError& err) {
    out.result = err.what();
  } catch (const std::exception& err) {
    out.result = err.what();
  }
  if (history_.size() == kHistory) {
    history_.pop_front();
    ++dropped_;
  }
  history_.push_back({{"event", out.event.empty() ? printable(text) : out.event},
                      {"ok", out.ok},
                      {"result", printable(out.result)}});
  return out;
}

Json ServeAdmin::history() const {
  std::lock_guard lock(mu_);
  return {{"events", Json(std::vector<Json>(history_.begin(), history_.end()))},
          {"dropped", dropped_}};
}

void ServeAdmin::handle(const http::Request& req, http::Response& res) {
  const std::string auth = req.header("Authorization");
  const std::string want = "Bearer " + token_;
  const bool authorized = !token_.empty() && auth.size() == want.size() &&
                          CRYPTO_memcmp(auth.data(), want.data(), want.size()) == 0;
  // RFC 6750 §3.1 through the edge table: no credentials is a 401 without an error code, wrong
  // ones invalid_token.
  if (!authorized)
    return reply_edge_error(res, auth.empty() ? EdgeError::kNoToken : EdgeError::kInvalidToken,
                            "txlab-serve-admin",
                            "the admin token is required (Authorization: Bearer)");
  if (req.method == "GET") return reply(res, 200, history());
  const Outcome o = submit(req.body);
  if (o.ok) return reply(res, 200, {{"event", o.event}, {"result", printable(o.result)}});
  const WireError w = to_wire(EdgeError::kInvalidRequest);
  reply(res, w.http_status,
        {{"error", std::string(w.code)}, {"error_description", printable(o.result)}});
}

int ServeAdmin::start(int port) {
  server_ = std::make_unique<http::LoopbackServer>();
  auto h = [this](const http::Request& req, http::Response& res) { handle(req, res); };
  server_->routes().get("/events", h);
  server_->routes().post("/events", h);
  return server_->start_at("127.0.0.1", port);
}

}  // namespace txlab
