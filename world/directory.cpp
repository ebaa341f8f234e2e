// WorldDirectory: role ids to URLs, token paths and issuers, and their publication to roles.
#include "world/directory.h"

#include <stdexcept>

#include "actors/authorization_server.h"
#include "world/transport.h"

namespace txlab {

namespace {

// "http://host:port/a/b" -> "http://host:port" and "/a/b" (an external AS's URLs).
std::string origin_of(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t slash = scheme == std::string::npos ? url.find('/') : url.find('/', scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}
std::string path_of(const std::string& url) {
  const std::string origin = origin_of(url);
  return url.size() > origin.size() ? url.substr(origin.size()) : "/";
}

}  // namespace

WorldDirectory::WorldDirectory(const Scenario& scenario, const std::map<std::string, Role*>& roles,
                               const std::map<std::string, AuthorizationServer*>& ases,
                               const Transport& transport)
    : scenario_(scenario), roles_(roles), ases_(ases), transport_(transport) {}

std::string WorldDirectory::url_of(const std::string& role) const {
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->external)
    return origin_of(spec->external->token_endpoint);
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->remote_url)
    return *spec->remote_url;
  auto it = roles_.find(role);
  if (it == roles_.end()) throw std::out_of_range("unknown role '" + role + "'");
  return it->second->base_url();
}

std::string WorldDirectory::token_path_of(const std::string& role) const {
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->external)
    return path_of(spec->external->token_endpoint);
  return "/token";
}

std::string WorldDirectory::url_for(const std::string& from, const std::string& to) const {
  if (std::string via = transport_.proxy_url(from, to); !via.empty()) return via;
  return url_of(to);
}

std::string WorldDirectory::issuer_of(const std::string& role) const {
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->external)
    return spec->as.issuer;
  if (const RoleSpec* spec = scenario_.find_role(role);
      spec && spec->remote_url && spec->kind == RoleKind::kAuthorizationServer)
    return spec->as.issuer.empty() ? *spec->remote_url : spec->as.issuer;
  auto it = ases_.find(role);
  if (it == ases_.end())
    throw std::out_of_range("role '" + role + "' is not an authorization server");
  return it->second->issuer();
}

std::string WorldDirectory::role_of_issuer(const std::string& iss) const {
  for (const auto& [id, as] : ases_)
    if (as->issuer() == iss) return id;
  for (const auto& spec : scenario_.roles)
    if (!spec.runs_here() && spec.kind == RoleKind::kAuthorizationServer &&
        issuer_of(spec.id) == iss)
      return spec.id;
  return {};
}

bool WorldDirectory::is_external(const std::string& role) const {
  const RoleSpec* spec = scenario_.find_role(role);
  return spec && !spec->runs_here();
}

std::vector<RoleInfo> WorldDirectory::roles() const {
  std::vector<RoleInfo> out;
  for (const auto& spec : scenario_.roles) {
    RoleInfo info{spec.id, spec.kind, spec.zone, url_of(spec.id), {}};
    if (spec.kind == RoleKind::kAuthorizationServer) info.issuer = issuer_of(spec.id);
    out.push_back(std::move(info));
  }
  return out;
}

void WorldDirectory::listen_on(const std::string& role, const std::string& host, int port) {
  listen_[role] = {host, port};
}

std::optional<std::pair<std::string, int>> WorldDirectory::listen_address(
    const std::string& role) const {
  auto it = listen_.find(role);
  if (it == listen_.end()) return std::nullopt;
  return it->second;
}

void WorldDirectory::public_url(const std::string& role, const std::string& url) {
  roles_.at(role)->set_public_url(url);
}

void WorldDirectory::publish() {
  // Phase two: every role listens (and every proxy) — now their URLs and issuers are known.
  Directory::Table t;
  for (const auto& spec : scenario_.roles) {
    Directory::Entry e;
    e.url = url_of(spec.id);
    if (auto it = ases_.find(spec.id); it != ases_.end()) e.issuer = it->second->issuer();
    if (spec.remote_url && spec.kind == RoleKind::kAuthorizationServer)
      e.issuer = spec.as.issuer.empty() ? *spec.remote_url : spec.as.issuer;
    if (spec.external) {
      e.issuer = spec.as.issuer;
      e.token_path = path_of(spec.external->token_endpoint);
      e.jwks_path = path_of(spec.external->jwks_uri);
      e.access_token_typ = spec.external->access_token_typ;
      e.access_token_claims = spec.external->access_token_claims;
    }
    t.roles[spec.id] = e;
  }
  for (const auto& from : scenario_.roles)
    for (const auto& to : scenario_.roles)
      if (const std::string u = url_for(from.id, to.id); u != t.roles[to.id].url)
        t.via[from.id][to.id] = u;
  shared_->publish(std::move(t));
}

}  // namespace txlab
