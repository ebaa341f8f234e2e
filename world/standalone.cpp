// standalone(): the scenario as seen by a process that runs one role.
#include "world/standalone.h"

namespace txlab {

std::set<std::string> peers_needed(const Scenario& s, const std::string& role) {
  std::set<std::string> out;
  const RoleSpec* r = s.find_role(role);
  if (!r) return out;
  auto add = [&](const std::string& id) {
    if (!id.empty() && id != role) out.insert(id);
  };
  switch (r->kind) {
    case RoleKind::kAuthorizationServer:
      if (r->as.exchange) {
        for (const auto& t : r->as.exchange->trust) add(t);
        for (const auto& t : r->as.exchange->actor_trust) add(t);
        if (r->as.exchange->broker) add(r->as.exchange->broker->via.as_role);
      }
      break;
    case RoleKind::kGateway:
      for (const auto& t : r->gateway.trust) add(t);
      if (r->gateway.exchange) add(r->gateway.exchange->client.as_role);
      if (r->gateway.introspection) add(r->gateway.introspection->as_role);
      for (const auto& rt : r->gateway.routes) add(rt.to);
      break;
    case RoleKind::kResourceServer:
      for (const auto& t : r->resource.trust) add(t);
      break;
    case RoleKind::kClient:
      add(r->client.credentials.as_role);
      for (const auto& c : s.workload)
        if (c.from == role) add(c.to);
      break;
  }
  return out;
}

std::optional<Scenario> standalone(Scenario s, const std::string& role,
                                   const std::map<std::string, std::string>& peers,
                                   std::string* error) {
  if (!s.find_role(role)) {
    *error = "--role names unknown role '" + role + "'";
    return std::nullopt;
  }
  for (const auto& [id, url] : peers) {
    if (id == role) {
      *error = "--peer " + id + " names the role this process runs";
      return std::nullopt;
    }
    if (!s.find_role(id)) {
      *error = "--peer names unknown role '" + id + "'";
      return std::nullopt;
    }
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      *error = "--peer " + id + "=" + url + ": the URL must start with http:// or https://";
      return std::nullopt;
    }
  }
  std::string missing;
  for (const auto& id : peers_needed(s, role)) {
    const RoleSpec* p = s.find_role(id);
    if (p && !p->external && !peers.count(id)) missing += (missing.empty() ? "" : ", ") + id;
  }
  if (!missing.empty()) {
    *error =
        "role '" + role + "' needs the URL of: " + missing + " (give --peer ROLE=URL for each)";
    return std::nullopt;
  }
  for (auto& r : s.roles) {
    if (r.id == role || r.external) continue;
    auto it = peers.find(r.id);
    std::string url = it == peers.end() ? std::string() : it->second;
    while (!url.empty() && url.back() == '/') url.pop_back();
    r.remote_url = url;
  }
  // Links and timelines act on roles this process does not run.
  s.links.clear();
  s.timeline.reset();
  return s;
}

}  // namespace txlab
