// What every role has: an id, a clock, a trace, an outbound side, and a real loopback server.
// The world builds roles from the scenario, starts them, and resolves role ids to URLs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "sim/clock.h"
#include "sim/http/client_pool.h"
#include "sim/http/server.h"
#include "sim/outbound.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace txlab {

// How a role finds its peers. Resolved lazily: every role is started before the first call.
struct Directory {
  std::function<std::string(const std::string& role)> url_of;       // base URL
  std::function<std::string(const std::string& role)> issuer_of;    // `iss` of an AS role
  std::function<std::vector<std::string>()> authorization_servers;  // every AS role id
};

struct RoleEnv {
  std::string id;
  const Clock* clock = nullptr;
  Trace* trace = nullptr;
  http::HttpClientPool* pool = nullptr;
  Directory directory;
  int64_t leeway_s = 30;
  JwksSettings jwks;
  uint64_t seed = 1;  // this role's sub-seed of the run's --seed (derive_seed(root, "role/ID"))
  // Deliberate defects, self-checks only (actors/as_defects.h): given to the World by tests,
  // never part of a scenario.
  std::vector<std::string> defects;
};

class Role {
 public:
  explicit Role(RoleEnv env);
  virtual ~Role();
  Role(const Role&) = delete;
  Role& operator=(const Role&) = delete;

  virtual RoleKind kind() const = 0;
  const std::string& id() const { return env_.id; }
  void start() { server_.start(); }
  void stop() { server_.stop(); }
  bool restart() {
    return server_.restart();
  }  // same port, state kept (a process restart with its data)
  bool running() const { return server_.running(); }
  // Closes the role's own idle outbound connections (before any server stops, so no server
  // waits for them to time out).
  virtual void release_connections() {}
  std::string base_url() const { return server_.base_url(); }
  int server_port() const { return server_.port(); }

 protected:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Registers a handler that runs inside the inbound request's call (X-Txlab-Call).
  void on_get(const std::string& pattern, Handler handler);
  void on_post(const std::string& pattern, Handler handler);
  void on_any(const std::string& pattern, Handler handler);

  RoleEnv env_;
  http::LoopbackServer server_;
  Outbound outbound_;

 private:
  Handler in_call(Handler handler);
};

// JSON response helpers (every body txlab writes is JSON).
void reply_json(httplib::Response& res, int status, const std::string& json_body);

}  // namespace txlab
