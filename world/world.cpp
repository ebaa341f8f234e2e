// World: role construction from the scenario model, startup, events; its parts (time,
// directory, transport) are in world/sim_time, world/directory and world/transport.
#include "world/world.h"

#include <optional>
#include <stdexcept>

#include "actors/as_defects.h"
#include "actors/authorization_server.h"
#include "actors/client_app.h"
#include "actors/gateway.h"
#include "actors/resource_server.h"
#include "sim/netns.h"
#include "sim/seed.h"
#include "sim/tls.h"
#include "world/plan.h"

namespace txlab {

namespace {

// Checks the defects' names, then applies the seed's plan to the scenario.
Scenario planned(Scenario scenario, uint64_t seed, const World::RoleDefects& defects,
                 std::vector<std::string>* plan) {
  for (const auto& [role, names] : defects)
    for (const auto& n : names)
      if (!is_known_defect(n))
        throw std::invalid_argument("unknown defect '" + n + "' for role '" + role + "'");
  return resolve_plan(std::move(scenario), seed, plan);
}

}  // namespace

World::World(Scenario scenario, uint64_t seed, RoleDefects defects, WorldOptions options)
    : seed_(seed),
      scenario_(planned(std::move(scenario), seed, defects, &plan_)),
      transport_(scenario_, options.netns, roles_),
      directory_(scenario_, by_id_, ases_, transport_) {
  for (const auto& spec : scenario_.roles) {
    RoleEnv env = role_env(spec);
    if (auto d = defects.find(spec.id); d != defects.end()) {
      env.defects = d->second;
      defects.erase(d);
    }
    if (spec.runs_here()) add_role(spec, env);  // else only an entry in the directory
  }
  if (!defects.empty())
    throw std::invalid_argument("defects for unknown role '" + defects.begin()->first + "'");
}

RoleEnv World::role_env(const RoleSpec& spec) {
  Clock& clock = time_.add_clock(spec.id);
  clock.set_offset(std::chrono::seconds(scenario_.clock_offset_of(spec)));
  clock.set_drift_ppm(scenario_.drift_ppm_of(spec));
  RoleEnv env;
  env.id = spec.id;
  env.clock = &clock;
  env.trace = &trace_;
  env.pool = &transport_.add_role_pool(spec);
  env.mtls = transport_.shared_mutual_tls();
  env.directory = Directory(directory_.shared(), spec.id);
  env.leeway_s = scenario_.leeway_of(spec);
  env.jwks = spec.jwks;
  env.seed = derive_seed(seed_, "role/" + spec.id);
  return env;
}

void World::add_role(const RoleSpec& spec, const RoleEnv& env) {
  std::unique_ptr<Role> role;
  switch (spec.kind) {
    case RoleKind::kAuthorizationServer: {
      auto as = std::make_unique<AuthorizationServer>(env, spec.as);
      ases_[spec.id] = as.get();
      role = std::move(as);
      break;
    }
    case RoleKind::kGateway: {
      auto gw = std::make_unique<Gateway>(env, spec.gateway);
      gateways_[spec.id] = gw.get();
      role = std::move(gw);
      break;
    }
    case RoleKind::kResourceServer:
      role = std::make_unique<ResourceServer>(env, spec.resource);
      break;
    case RoleKind::kClient:
      role = std::make_unique<ClientApp>(env, spec.client);
      break;
  }
  by_id_[spec.id] = role.get();
  roles_.push_back(std::move(role));
}

World::~World() { stop(); }

void World::set_access_log(
    std::function<void(const std::string& role, const http::AccessRecord&)> log) {
  for (auto& r : roles_)
    r->set_access_log([log, id = r->id()](const http::AccessRecord& rec) { log(id, rec); });
}

int World::port_of(const std::string& role) const { return by_id_.at(role)->server_port(); }

void World::start() {
  if (started_) return;
  const netns::Network* net = transport_.namespaces();
  for (auto& r : roles_) {
    if (net) {  // on its own address, inside its zone (its server's threads stay there)
      netns::Enter in(net->fd_of_role(r->id()));
      r->start_at(net->ip_of(r->id()), 0);
    } else if (auto l = directory_.listen_address(r->id())) {
      r->start_at(l->first, l->second);
    } else {
      r->start();
    }
  }
  // Links with faults: a proxy in front of the target role, seeded per link.
  transport_.start_proxies(
      seed_, [this](const std::string& role) { return port_of(role); },
      [this] { return time_.sim_time_s(); });
  directory_.publish();
  time_.start();
  started_ = true;
}

std::string World::apply(const TimelineEvent& e) {
  auto fail = [&](const std::string& why) -> std::string {
    throw std::runtime_error(e.describe() + ": " + why);
  };
  switch (e.kind) {
    case EventKind::kRotateKey:
      authorization_server(e.role).key_store().rotate();
      return "new signing key " + authorization_server(e.role).key_store().signing_key().kid() +
             " published next to the old ones";
    case EventKind::kRetireKeys:
      authorization_server(e.role).key_store().retire_old();
      return "old keys withdrawn from the JWKS";
    case EventKind::kRevokeClient:
    case EventKind::kRestoreClient:
      if (!authorization_server(e.role).clients().set_enabled(e.client,
                                                              e.kind == EventKind::kRestoreClient))
        fail("no such client");
      return e.kind == EventKind::kRevokeClient ? "client refused from now on (invalid_client)"
                                                : "client accepted again";
    case EventKind::kRevokeTokens: {
      auto& as = authorization_server(e.role);
      return std::to_string(as.revocations().revoke_all(as.audit_log().issued_jtis(e.client))) +
             " tokens revoked (RFC 7009)";
    }
    case EventKind::kRotateSecret:
      if (!authorization_server(e.role).clients().rotate_secret(e.client)) fail("no such client");
      return "secret replaced; holders of the old one now fail with invalid_client";
    case EventKind::kDown: {
      Role& r = role(e.role);
      if (!r.running()) return "already down";
      transport_.release_connections();  // nothing waits on idle keep-alive connections
      r.stop();
      return "stopped: connections to 127.0.0.1:" + std::to_string(r.server_port()) +
             " are refused";
    }
    case EventKind::kUp: {
      Role& r = role(e.role);
      if (r.running()) return "already up";
      std::optional<netns::Enter> in;  // a role comes back inside its zone
      if (const netns::Network* net = transport_.namespaces()) in.emplace(net->fd_of_role(e.role));
      if (!r.restart())
        fail("port " + std::to_string(r.server_port()) + " could not be bound again");
      return "serving again on 127.0.0.1:" + std::to_string(r.server_port());
    }
    case EventKind::kClockStep: {
      int n = 0;
      for (const auto& spec : scenario_.roles) {
        if (!(e.zone.empty() ? spec.id == e.role : spec.zone == e.zone)) continue;
        time_.clock(spec.id).step(std::chrono::seconds(e.by_s));
        ++n;
      }
      return std::to_string(n) + " clock(s) stepped by " + std::to_string(e.by_s) + " s";
    }
    case EventKind::kPolicy: {
      bool found = e.client.empty();
      authorization_server(e.role).change_policy([&](AuthorizationServerSpec& spec) {
        if (e.max_ttl_s && spec.exchange) spec.exchange->max_ttl_s = *e.max_ttl_s;
        for (auto& c : spec.clients) {
          if (c.id != e.client) continue;
          found = true;
          if (e.audiences) c.audiences = *e.audiences;
          if (e.scopes) c.scopes = *e.scopes;
        }
      });
      if (!found) fail("no such client");
      return "policy changed";
    }
  }
  return {};
}

void World::stop() {
  transport_.release_connections();
  transport_.stop();
  for (auto& r : roles_) r->stop();
  started_ = false;
}

AuthorizationServer& World::authorization_server(const std::string& role) {
  auto it = ases_.find(role);
  if (it == ases_.end())
    throw std::out_of_range("role '" + role + "' is not an authorization server");
  return *it->second;
}

Gateway& World::gateway(const std::string& role) {
  auto it = gateways_.find(role);
  if (it == gateways_.end()) throw std::out_of_range("role '" + role + "' is not a gateway");
  return *it->second;
}

Role& World::role(const std::string& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) throw std::out_of_range("unknown role '" + id + "'");
  return *it->second;
}

}  // namespace txlab
