// World: role construction from the scenario model, startup and name resolution.
#include "sim/world.h"

#include <stdexcept>

#include "actors/authorization_server.h"
#include "actors/client_app.h"
#include "actors/gateway.h"
#include "actors/resource_server.h"
#include "sim/fault_proxy.h"

namespace txlab {

World::World(Scenario scenario, uint64_t seed) : scenario_(std::move(scenario)), seed_(seed) {
  Directory dir;
  dir.issuer_of = [this](const std::string& role) { return issuer_of(role); };
  dir.authorization_servers = [this] {
    std::vector<std::string> out;
    for (const auto& r : scenario_.roles)
      if (r.kind == RoleKind::kAuthorizationServer) out.push_back(r.id);
    return out;
  };
  for (const auto& spec : scenario_.roles) {
    clocks_[spec.id] = std::make_unique<Clock>();
    clocks_[spec.id]->set_offset(std::chrono::seconds(scenario_.clock_offset_of(spec)));
    RoleEnv env{spec.id, clocks_[spec.id].get(), &trace_, &pool_, dir, scenario_.leeway_s};
    const std::string self = spec.id;
    env.directory.url_of = [this, self](const std::string& role) { return url_for(self, role); };
    std::unique_ptr<Role> role;
    switch (spec.kind) {
      case RoleKind::kAuthorizationServer: role = std::make_unique<AuthorizationServer>(env, spec.as); break;
      case RoleKind::kGateway: role = std::make_unique<Gateway>(env, spec.gateway); break;
      case RoleKind::kResourceServer: role = std::make_unique<ResourceServer>(env, spec.resource); break;
      case RoleKind::kClient: role = std::make_unique<ClientApp>(env, spec.client); break;
    }
    by_id_[spec.id] = role.get();
    roles_.push_back(std::move(role));
  }
}

World::~World() { stop(); }

void World::start() {
  if (started_) return;
  for (auto& r : roles_) r->start();
  // Links with faults: a proxy in front of the target role, seeded per link.
  uint64_t n = 0;
  for (const auto& l : scenario_.links) {
    FaultSpec f{l.latency_ms, l.jitter_ms, l.down, l.reset, l.stall, l.at_s, l.for_s};
    const uint64_t link_seed = seed_ * 0x9E3779B97F4A7C15ULL + (++n);
    auto p = std::make_unique<FaultProxy>(l.from + "->" + l.to, by_id_.at(l.to)->server_port(), f, link_seed);
    p->start();
    proxies_.push_back(std::move(p));
  }
  started_ = true;
}

void World::stop() {
  pool_.clear();
  for (auto& r : roles_) r->release_connections();
  for (auto& p : proxies_) p->stop();
  for (auto& r : roles_) r->stop();
  started_ = false;
}

std::string World::url_for(const std::string& from, const std::string& to) const {
  for (size_t i = 0; i < proxies_.size() && i < scenario_.links.size(); ++i) {
    const auto& l = scenario_.links[i];
    if (l.to == to && (l.from == "*" || l.from == from)) return proxies_[i]->base_url();
  }
  return url_of(to);
}

std::vector<World::LinkDecision> World::fault_decisions() const {
  std::vector<LinkDecision> out;
  for (const auto& p : proxies_)
    for (const auto& d : p->decisions()) out.push_back({p->name(), d.connection, d.fault, d.latency_ms});
  return out;
}

namespace {
template <typename Map>
auto& lookup(Map& m, const std::string& role) {
  auto it = m.find(role);
  if (it == m.end()) throw std::out_of_range("unknown role '" + role + "'");
  return it->second;
}
}  // namespace

std::string World::url_of(const std::string& role) const { return lookup(by_id_, role)->base_url(); }

std::string World::issuer_of(const std::string& role) const {
  auto* as = dynamic_cast<AuthorizationServer*>(lookup(by_id_, role));
  if (!as) throw std::out_of_range("role '" + role + "' is not an authorization server");
  return as->issuer();
}

std::string World::role_of_issuer(const std::string& iss) const {
  for (const auto& r : roles_)
    if (auto* as = dynamic_cast<AuthorizationServer*>(r.get()); as && as->issuer() == iss) return as->id();
  return {};
}

void World::freeze_clocks() {
  for (auto& [id, c] : clocks_) c->freeze();
}

Clock& World::clock(const std::string& role) { return *lookup(clocks_, role); }

AuthorizationServer& World::authorization_server(const std::string& role) {
  auto* as = dynamic_cast<AuthorizationServer*>(lookup(by_id_, role));
  if (!as) throw std::out_of_range("role '" + role + "' is not an authorization server");
  return *as;
}

Role& World::role(const std::string& id) { return *lookup(by_id_, id); }

std::vector<RoleInfo> World::roles() const {
  std::vector<RoleInfo> out;
  for (const auto& spec : scenario_.roles) {
    RoleInfo info{spec.id, spec.kind, spec.zone, url_of(spec.id), {}};
    if (spec.kind == RoleKind::kAuthorizationServer) info.issuer = issuer_of(spec.id);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace txlab
