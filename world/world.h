// The world: builds every role of a scenario, gives each its clock and the shared trace,
// starts them on 127.0.0.1:0, resolves role ids to URLs and issuers, and stops and joins
// them all on destruction.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/role.h"
#include "sim/clock.h"
#include "sim/http/client_pool.h"
#include "sim/scenario.h"
#include "sim/trace.h"

namespace txlab {

class Role;
class FaultProxy;
class TlsFront;
struct TlsMaterial;
struct MutualTls;
struct TlsIdentity;
class TlsAuthority;
class AuthorizationServer;
class Gateway;

namespace netns {
class Network;
}

struct WorldOptions {
  // Zones as hosts (txlab run --netns): each zone a network namespace, each role on its own
  // address, only declared links routed and admitted (sim/netns.h). Needs root.
  bool netns = false;
};

struct RoleInfo {
  std::string id;
  RoleKind kind;
  std::string zone;
  std::string url;
  std::string issuer;  // ASes only
};

class World {
 public:
  // Deliberate defects by role id, for the self-checks only (never from a scenario file).
  using RoleDefects = std::map<std::string, std::vector<std::string>>;
  // `seed` drives every random decision (named sub-seeds). Throws std::invalid_argument for a
  // defect on an unknown role or a defect name no catalogue knows.
  // With options.netns, throws std::runtime_error when the namespaces cannot be made (not root,
  // tools missing) or the scenario has roles txlab does not run here.
  explicit World(Scenario scenario, uint64_t seed = 1, RoleDefects defects = {},
                 WorldOptions options = {});
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void start();
  void stop();

  const Scenario& scenario() const { return scenario_; }
  uint64_t seed() const { return seed_; }
  std::string url_of(const std::string& role) const;  // throws std::out_of_range
  // An authorization server's token endpoint below url_of: "/token", or an external AS's path.
  std::string token_path_of(const std::string& role) const;
  // The URL `from` uses to reach `to`: through a fault proxy when a link is declared.
  std::string url_for(const std::string& from, const std::string& to) const;
  struct LinkDecision {
    std::string link;  // "from->to"
    uint64_t connection;
    std::string fault;
    int64_t latency_ms;
  };
  std::vector<LinkDecision> fault_decisions() const;
  std::string issuer_of(const std::string& role) const;      // throws std::out_of_range
  std::string role_of_issuer(const std::string& iss) const;  // "" if none
  // An authorization server txlab does not run (kind: external_authorization_server).
  bool is_external(const std::string& role) const;  // external, or remote (serve --role)
  // Before start(): serve `role` on this address and port instead of 127.0.0.1:0.
  void listen_on(const std::string& role, const std::string& host, int port);
  // Before start(): the URL `role` is reached at from elsewhere (serve --public-url); its
  // metadata, and its issuer when the scenario sets none or `issuer: served`, use it.
  void public_url(const std::string& role, const std::string& url);
  // Before start(): `log(role, record)` for every answer of every role this world runs.
  void set_access_log(std::function<void(const std::string& role, const http::AccessRecord&)> log);
  Clock& clock(const std::string& role);
  // Freezes every role's clock at the current second (offsets kept), for boundary tests.
  void freeze_clocks();
  // ... at one given instant (ms since the epoch), for every role.
  void freeze_clocks_at(int64_t system_ms);

  // Simulation time in seconds since start(): the real time elapsed, or, once
  // use_simulated_time() is called (it freezes every role clock at one instant), only what
  // advance_time() added. Fault windows follow it.
  double sim_time_s() const;
  void use_simulated_time();
  // Time passes: every role's clock moves by `seconds` (its drift included).
  void advance_time(double seconds);
  // Closes every pooled connection (the world's and each role's), so the next calls connect
  // afresh and each fault proxy decides again.
  void release_connections();
  // Applies one scenario event now. Returns what happened; throws std::runtime_error when
  // it cannot be applied (e.g. a role's port cannot be bound again).
  std::string apply(const TimelineEvent& event);
  // Serves every role over https too, each on a port of its own (after start()); peers that
  // insist on https (JWKS for Apache mod_auth_openidc) use these URLs.
  void enable_tls(const TlsMaterial& tls);
  std::string tls_url_of(const std::string& role) const;  // "" when TLS is not enabled
  // What the seed decided before the run: jittered event times, the swarm's picks.
  const std::vector<std::string>& plan() const { return plan_; }
  Trace& trace() { return trace_; }
  http::HttpClientPool& http() { return pool_; }
  // The pool `role` calls out with (its own under --netns or mutual TLS, where it carries the
  // role's address and client certificate; else the shared one): to present what the role
  // holds as the role would. Throws std::out_of_range for an unknown role.
  http::HttpClientPool& http_as(const std::string& role);
  // `tls: mutual`: the run's CA and certificates (null otherwise).
  const MutualTls* mutual_tls() const { return mtls_.get(); }
  // `tls: mutual`: a further certificate of the run's CA, subject CN=<name>,O=txlab (clients
  // that conformance probes present). Throws std::logic_error without mutual TLS.
  TlsIdentity issue_certificate(const std::string& name);
  AuthorizationServer& authorization_server(const std::string& role);  // throws std::out_of_range
  Gateway& gateway(const std::string& role);                           // throws std::out_of_range
  Role& role(const std::string& id);                                   // throws std::out_of_range
  std::vector<RoleInfo> roles() const;

  // --netns: the network (nullptr without it).
  const netns::Network* network() const { return net_.get(); }
  struct Reachability {
    std::string from, to;
    bool expected = false;  // same zone, or a declared link from -> to
    bool actual = false;    // a TCP connection opened where `from` reaches `to`
    std::string how;        // why not, when it could not
  };
  // Every ordered pair of roles this world runs, tried for real from the caller's namespace and
  // address (the network layer of the isolation matrix). Empty without --netns.
  std::vector<Reachability> network_matrix() const;

 private:
  Scenario scenario_;
  std::unique_ptr<netns::Network> net_;  // outlives every pool and role below
  Trace trace_;
  http::HttpClientPool pool_;
  std::shared_ptr<const MutualTls> mtls_;  // `tls: mutual`
  std::unique_ptr<TlsAuthority> ca_;       // the run's CA that issued mtls_
  std::map<std::string, std::unique_ptr<http::HttpClientPool>> role_pools_;  // --netns, mTLS
  std::map<std::string, std::unique_ptr<Clock>> clocks_;
  std::vector<std::unique_ptr<Role>> roles_;
  std::map<std::string, Role*> by_id_;
  // The same roles, typed where the world needs their kind (no dynamic_cast).
  std::map<std::string, AuthorizationServer*> ases_;
  std::map<std::string, Gateway*> gateways_;
  std::shared_ptr<Directory::Shared> directory_;  // published by start()
  std::map<std::string, std::pair<std::string, int>> listen_;
  void publish_directory();
  // Construction, per role: its clock, pool and environment; then the role itself.
  RoleEnv role_env(const RoleSpec& spec);
  void add_role(const RoleSpec& spec, const RoleEnv& env);
  uint64_t seed_ = 1;
  std::vector<std::string> plan_;
  std::atomic<bool> simulated_{false};
  std::atomic<int64_t> sim_ms_{0};
  int64_t started_us_ = 0;
  std::vector<std::unique_ptr<FaultProxy>> proxies_;  // parallel to scenario_.links
  std::map<std::string, std::unique_ptr<TlsFront>> tls_;
  bool started_ = false;
};

}  // namespace txlab
