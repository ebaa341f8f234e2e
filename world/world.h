// The world: builds every role of a scenario and starts them on 127.0.0.1:0, stops and joins
// them all on destruction, and applies timeline events. Its parts, each a file of its own:
//   world.time()       simulated time and each role's clock     (world/sim_time.h)
//   world.directory()  who is where: URLs, issuers, listening   (world/directory.h)
//   world.transport()  pools, fault proxies, TLS, the CA, netns (world/transport.h)
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/role.h"
#include "sim/clock.h"
#include "sim/http/client_pool.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "world/directory.h"
#include "world/sim_time.h"
#include "world/transport.h"

namespace txlab {

class Role;
class AuthorizationServer;
class Gateway;

struct WorldOptions {
  // Zones as hosts (txlab run --netns): each zone a network namespace, each role on its own
  // address, only declared links routed and admitted (sim/netns.h). Needs root.
  bool netns = false;
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
  // What the seed decided before the run: jittered event times, the swarm's picks.
  const std::vector<std::string>& plan() const { return plan_; }
  Trace& trace() { return trace_; }

  SimTime& time() { return time_; }
  const SimTime& time() const { return time_; }
  WorldDirectory& directory() { return directory_; }
  const WorldDirectory& directory() const { return directory_; }
  Transport& transport() { return transport_; }
  const Transport& transport() const { return transport_; }

  // The roles this world runs.
  AuthorizationServer& authorization_server(const std::string& role);  // throws std::out_of_range
  Gateway& gateway(const std::string& role);                           // throws std::out_of_range
  Role& role(const std::string& id);                                   // throws std::out_of_range
  // Before start(): `log(role, record)` for every answer of every role this world runs.
  void set_access_log(std::function<void(const std::string& role, const http::AccessRecord&)> log);
  // Applies one scenario event now. Returns what happened; throws std::runtime_error when
  // it cannot be applied (e.g. a role's port cannot be bound again).
  std::string apply(const TimelineEvent& event);

 private:
  // Construction, per role: its clock, pool and environment; then the role itself.
  RoleEnv role_env(const RoleSpec& spec);
  void add_role(const RoleSpec& spec, const RoleEnv& env);
  int port_of(const std::string& role) const;

  uint64_t seed_ = 1;
  std::vector<std::string> plan_;
  Scenario scenario_;  // after seed_ and plan_: resolved by the seed's plan
  Trace trace_;
  SimTime time_;         // outlives the roles and proxies that read it
  Transport transport_;  // outlives every role (their pools, namespaces)
  std::vector<std::unique_ptr<Role>> roles_;
  std::map<std::string, Role*> by_id_;
  // The same roles, typed where the world needs their kind (no dynamic_cast).
  std::map<std::string, AuthorizationServer*> ases_;
  std::map<std::string, Gateway*> gateways_;
  WorldDirectory directory_;
  bool started_ = false;
};

}  // namespace txlab
