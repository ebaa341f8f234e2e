// World: role construction from the scenario model, startup and name resolution.
#include "sim/world.h"

#include <stdexcept>

#include "actors/authorization_server.h"
#include "actors/client_app.h"
#include "actors/gateway.h"
#include "actors/resource_server.h"

namespace txlab {

World::World(Scenario scenario) : scenario_(std::move(scenario)) {
  Directory dir;
  dir.url_of = [this](const std::string& role) { return url_of(role); };
  dir.issuer_of = [this](const std::string& role) { return issuer_of(role); };
  dir.authorization_servers = [this] {
    std::vector<std::string> out;
    for (const auto& r : scenario_.roles)
      if (r.kind == RoleKind::kAuthorizationServer) out.push_back(r.id);
    return out;
  };
  for (const auto& spec : scenario_.roles) {
    clocks_[spec.id] = std::make_unique<Clock>();
    RoleEnv env{spec.id, clocks_[spec.id].get(), &trace_, &pool_, dir, scenario_.leeway_s};
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
  started_ = true;
}

void World::stop() {
  pool_.clear();
  for (auto& r : roles_) r->stop();
  started_ = false;
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
