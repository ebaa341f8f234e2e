// What every role has: an id, a clock, a trace, an outbound side, and a real loopback server.
// The world builds roles from the scenario, starts them, and resolves role ids to URLs.
#pragma once

#include <mutex>

#include <map>

#include <functional>
#include <memory>
#include <string>

#include "actors/dpop.h"
#include "sim/clock.h"
#include "sim/http/client_pool.h"
#include "sim/http/server.h"
#include "sim/outbound.h"
#include "sim/scenario.h"
#include "sim/tls.h"
#include "sim/trace.h"

namespace txlab {

// How a role finds its peers. Resolved lazily: every role is started before the first call.
// Where the other roles are: a plain table the world fills in two phases — every role listens
// first, then their URLs (through a fault proxy where a link declares one) and issuers are
// published — and roles read after that. Each role holds a view from its own side.
class Directory {
 public:
  struct Entry {
    std::string url;     // base URL
    std::string issuer;  // `iss`, for an authorization server
    // An authorization server's endpoints below url (an external one has its own).
    std::string token_path = "/token", jwks_path = "/jwks";
    // The header typ its access tokens carry ("" = any): verifiers hold its tokens to it.
    std::string access_token_typ = "at+jwt";
    // Claims its access tokens must carry with these values (an external AS's declaration).
    std::map<std::string, std::string> access_token_claims;
  };
  struct Table {
    std::map<std::string, Entry> roles;
    // from -> (to -> URL): where a declared link puts a fault proxy between the two.
    std::map<std::string, std::map<std::string, std::string>> via;
  };
  // The shared state the world publishes into.
  struct Shared {
    mutable std::mutex mu;
    std::shared_ptr<const Table> table;
    void publish(Table t) {
      auto p = std::make_shared<const Table>(std::move(t));
      std::lock_guard lock(mu);
      table = std::move(p);
    }
    std::shared_ptr<const Table> get() const {
      std::lock_guard lock(mu);
      return table;
    }
  };

  Directory() = default;
  Directory(std::shared_ptr<const Shared> shared, std::string self)
      : shared_(std::move(shared)), self_(std::move(self)) {}

  // Base URL of `role` as this role reaches it; throws std::out_of_range before publication
  // or for an unknown role.
  std::string url_of(const std::string& role) const;
  // `iss` of an authorization server role; throws std::out_of_range otherwise.
  std::string issuer_of(const std::string& role) const;
  std::vector<std::string> authorization_servers() const;
  // The whole entry of `role` (paths, typ); throws std::out_of_range like url_of.
  Entry entry_of(const std::string& role) const;

 private:
  std::shared_ptr<const Table> table() const;
  std::shared_ptr<const Shared> shared_;
  std::string self_;
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
  // `tls: mutual`: the run's CA and certificates; this role serves https with its issued
  // certificate, and `pool` presents its client certificate. Null: plain HTTP.
  std::shared_ptr<const MutualTls> mtls;
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
  // Every answer this role gives (before start()): `txlab serve --log`.
  void set_access_log(http::AccessLog log) { server_.set_access_log(std::move(log)); }
  // On a chosen address and port (serve --listen); throws std::runtime_error when it cannot.
  void start_at(const std::string& host, int port) { server_.start_at(host, port); }
  void stop() { server_.stop(); }
  bool restart() {
    return server_.restart();
  }  // same port, state kept (a process restart with its data)
  bool running() const { return server_.running(); }
  // Closes the role's own idle outbound connections (before any server stops, so no server
  // waits for them to time out).
  virtual void release_connections() {}
  // Where others reach this role: its server's address, or the URL set by set_public_url (a
  // Service or a proxy in front of it). An AS without a configured issuer uses this as `iss`.
  std::string base_url() const { return public_url_.empty() ? server_.base_url() : public_url_; }
  void set_public_url(std::string url) { public_url_ = std::move(url); }
  // This role's DPoP key and proofs (RFC 9449), made on first use.
  const DpopProver& dpop_prover();
  int server_port() const { return server_.port(); }

 protected:
  using Handler = std::function<void(const http::Request&, http::Response&)>;
  // Registers a handler that runs inside the inbound request's call (X-Txlab-Call).
  void on_get(const std::string& pattern, Handler handler);
  // A GET handler that never blocks (serves what it holds): run on the I/O thread.
  void on_get_quick(const std::string& pattern, Handler handler);
  void on_post(const std::string& pattern, Handler handler);
  void on_any(const std::string& pattern, Handler handler);
  // A coroutine handler (GET, POST, PUT, PATCH, DELETE) on the I/O thread: it must carry
  // call_label(req) into its outbound calls itself (a coroutine has no CallScope).
  void on_any_async(const std::string& pattern, http::AsyncHandler handler);
  // The inbound request's call id (X-Txlab-Call when it is a short label, else "").
  static std::string call_label(const http::Request& req);

  RoleEnv env_;
  http::LoopbackServer server_{server_options()};
  std::string public_url_;
  std::once_flag dpop_once_;
  std::unique_ptr<DpopProver> dpop_;
  Outbound outbound_;

 private:
  Handler in_call(Handler handler);
  // Roles serve with one I/O thread per core: async handlers (the gateway's request path) run
  // on them, sync ones on the worker pool.
  static http::ServerOptions server_options();
};

// JSON response helpers (every body txlab writes is JSON).
void reply_json(http::Response& res, int status, const std::string& json_body);

}  // namespace txlab
