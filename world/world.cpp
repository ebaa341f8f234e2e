// World: role construction from the scenario model, startup and name resolution.
#include "world/world.h"

#include "sim/netns.h"
#include "world/export.h"

#include "sim/seed.h"

#include <stdexcept>

#include "actors/as_defects.h"
#include "actors/authorization_server.h"
#include "actors/client_app.h"
#include "actors/gateway.h"
#include "actors/resource_server.h"
#include "sim/fault_proxy.h"
#include "sim/tls.h"
#include "world/plan.h"
#include "world/timeline.h"

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

// --netns: a namespace per zone, an address per role, only declared links routed. The world's
// own calls (the workload driver) start inside the zone they go to.
std::unique_ptr<netns::Network> make_network(const Scenario& s, http::HttpClientPool& pool) {
  std::string why;
  if (!netns::can_create(&why)) throw std::runtime_error("--netns: " + why);
  netns::Plan plan;
  for (const auto& spec : s.roles) {
    if (!spec.runs_here())
      throw std::runtime_error("--netns: '" + spec.id +
                               "' is not run by txlab here; every role must be for zones as hosts");
    plan.zone_of[spec.id] = spec.zone;
  }
  plan.links = declared_links(s);
  auto net = netns::Network::create(plan, &why);
  if (!net) throw std::runtime_error("--netns: " + why);
  pool.set_netns(
      [n = net.get()](const std::string& host) {
        const std::string zone = n->zone_of_ip(host);
        return zone.empty() ? -1 : n->fd_of_zone(zone);
      },
      "");
  return net;
}

// `tls: mutual`: a certificate of the run's CA per role (naming its --netns address and its
// zone's border address, where fault proxies listen), plus a self-signed one for each role that
// authenticates with self_signed_tls_client_auth (RFC 8705 §2.2).
std::shared_ptr<const MutualTls> make_mutual_tls(const Scenario& s, const netns::Network* net,
                                                 TlsAuthority& ca) {
  auto m = std::make_shared<MutualTls>();
  m->ca_pem = ca.ca_pem();
  for (const auto& spec : s.roles) {
    std::vector<std::string> ips;
    if (net) ips = {net->ip_of(spec.id), net->border_ip(spec.zone)};
    m->issued.emplace(spec.id, ca.issue(spec.id, ips));
  }
  for (const auto& spec : s.roles)
    for (const auto& c : spec.as.clients)
      if (!c.tls_certificate_holder.empty() && !m->self_signed.count(c.tls_certificate_holder))
        m->self_signed.emplace(c.tls_certificate_holder,
                               make_self_signed_identity(c.tls_certificate_holder));
  return m;
}

}  // namespace

World::World(Scenario scenario, uint64_t seed, RoleDefects defects, WorldOptions options)
    : seed_(seed) {
  for (const auto& [role, names] : defects)
    for (const auto& n : names)
      if (!is_known_defect(n))
        throw std::invalid_argument("unknown defect '" + n + "' for role '" + role + "'");
  // The seed's plan first (plan_ is declared after scenario_, so not in the initializer list).
  scenario_ = resolve_plan(std::move(scenario), seed, &plan_);
  directory_ = std::make_shared<Directory::Shared>();
  // Timeouts nest: callers of a gateway (client apps, and the world calling them) wait longer
  // than the gateway's own budget, so they receive its 504 JSON instead of timing out first.
  int64_t longest_gateway_ms = 0;
  for (const auto& spec : scenario_.roles)
    if (spec.kind == RoleKind::kGateway)
      longest_gateway_ms = std::max(longest_gateway_ms, spec.gateway.timeout_ms);
  pool_.set_read_timeout_ms(static_cast<int>(std::clamp<int64_t>(
      std::max<int64_t>(pool_.read_timeout_ms(), longest_gateway_ms + 2000), 1, 600000)));
  if (options.netns) net_ = make_network(scenario_, pool_);
  if (scenario_.mutual_tls) {
    ca_ = std::make_unique<TlsAuthority>();
    mtls_ = make_mutual_tls(scenario_, net_.get(), *ca_);
    // The world's own calls (the workload driver, conform, attacks) verify the servers.
    pool_.set_tls({mtls_->ca_pem, "", ""});
  }
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
  clocks_[spec.id] = std::make_unique<Clock>();
  clocks_[spec.id]->set_offset(std::chrono::seconds(scenario_.clock_offset_of(spec)));
  clocks_[spec.id]->set_drift_ppm(scenario_.drift_ppm_of(spec));
  RoleEnv env;
  env.id = spec.id;
  env.clock = clocks_[spec.id].get();
  env.trace = &trace_;
  env.pool = &pool_;
  if (net_ || mtls_) {
    // Each role calls out from its zone's namespace and its own address, with its own client
    // certificate.
    auto pool = std::make_unique<http::HttpClientPool>();
    pool->set_read_timeout_ms(pool_.read_timeout_ms());
    if (net_)
      pool->set_netns([fd = net_->fd_of_role(spec.id)](const std::string&) { return fd; },
                      net_->ip_of(spec.id));
    if (mtls_) {
      const TlsIdentity* id = mtls_->client_identity(spec.id);
      pool->set_tls({mtls_->ca_pem, id->cert_pem, id->key_pem});
      env.mtls = mtls_;
    }
    env.pool = pool.get();
    role_pools_[spec.id] = std::move(pool);
  }
  env.directory = Directory(directory_, spec.id);
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

void World::start() {
  if (started_) return;
  for (auto& r : roles_) {
    if (net_) {  // on its own address, inside its zone (its server's threads stay there)
      netns::Enter in(net_->fd_of_role(r->id()));
      r->start_at(net_->ip_of(r->id()), 0);
    } else if (auto l = listen_.find(r->id()); l != listen_.end()) {
      r->start_at(l->second.first, l->second.second);
    } else {
      r->start();
    }
  }
  // Links with faults: a proxy in front of the target role, seeded per link.
  uint64_t n = 0;
  for (const auto& l : scenario_.links) {
    FaultSpec f;
    f.latency_ms = l.latency_ms;
    f.jitter_ms = l.jitter_ms;
    f.down = l.down;
    f.reset = l.reset;
    f.stall = l.stall;
    f.bandwidth_kbps = l.bandwidth_kbps;
    f.slow_close_ms = l.slow_close_ms;
    f.loss = l.loss;
    f.loss_delay_ms = l.loss_delay_ms;
    f.at_s = l.at_s;
    f.for_s = l.for_s;
    const uint64_t link_seed = seed_ * 0x9E3779B97F4A7C15ULL + (++n);
    // Several faults on one link chain their proxies: the newest forwards to the previous one.
    int upstream = by_id_.at(l.to)->server_port();
    bool to_proxy = false;
    for (size_t j = 0; j < proxies_.size(); ++j) {
      const auto& prev = scenario_.links[j];
      if (prev.to == l.to && (prev.from == l.from || prev.from == "*")) {
        upstream = proxies_[j]->port();
        to_proxy = true;
      }
    }
    auto p = std::make_unique<FaultProxy>(l.from + "->" + l.to, upstream, f, link_seed,
                                          [this] { return sim_time_s(); });
    if (net_) {  // on the target zone's border address, inside that zone
      const std::string zone = net_->zone_of(l.to);
      p->set_hosts(net_->border_ip(zone), to_proxy ? net_->border_ip(zone) : net_->ip_of(l.to));
      {
        netns::Enter in(net_->fd_of_zone(zone));
        p->start();
      }
      // The boundary admits the proxy's declared callers only, on the proxy's own port.
      const auto declared = declared_links(scenario_);
      for (const auto& [from, to] : declared) {
        if (to != l.to || (l.from != "*" && l.from != from)) continue;
        std::string error;
        if (!net_->admit(from, net_->border_ip(zone), p->port(), &error))
          throw std::runtime_error("--netns: " + error);
      }
    } else {
      p->start();
    }
    proxies_.push_back(std::move(p));
  }
  publish_directory();
  started_us_ = monotonic_us();
  started_ = true;
}

void World::enable_tls(const TlsMaterial& tls) {
  for (const auto& spec : scenario_.roles) {
    if (tls_.count(spec.id) || !spec.runs_here()) continue;
    auto front = std::make_unique<TlsFront>(by_id_.at(spec.id)->server_port(), tls);
    front->start();
    tls_[spec.id] = std::move(front);
  }
}

std::string World::tls_url_of(const std::string& role) const {
  auto it = tls_.find(role);
  return it == tls_.end() ? std::string() : it->second->base_url();
}

double World::sim_time_s() const {
  if (simulated_.load()) return static_cast<double>(sim_ms_.load()) / 1000.0;
  return started_us_ ? static_cast<double>(monotonic_us() - started_us_) / 1e6 : 0.0;
}

void World::use_simulated_time() {
  // Every clock stops at one instant: from here on time moves only by advance_time(), so role
  // clocks are exactly start + simulated time (+ offsets, steps, drift), however slow the
  // machine — a run's verdict cannot depend on how long its steps took in real time.
  freeze_clocks();
  sim_ms_.store(0);
  simulated_.store(true);
}

void World::advance_time(double seconds) {
  const auto ms = static_cast<int64_t>(seconds * 1000.0 + 0.5);
  sim_ms_.fetch_add(ms);
  for (auto& [id, c] : clocks_) c->advance_ms(ms);
}

void World::release_connections() {
  pool_.clear();
  for (auto& [id, p] : role_pools_) p->clear();
  for (auto& r : roles_) r->release_connections();
}

std::string World::apply(const TimelineEvent& e) {
  auto fail = [&](const std::string& why) -> std::string {
    throw std::runtime_error(e.describe() + ": " + why);
  };
  switch (e.kind) {
    case EventKind::kRotateKey:
      authorization_server(e.role).rotate_key();
      return "new signing key " + authorization_server(e.role).signing_key().kid() +
             " published next to the old ones";
    case EventKind::kRetireKeys:
      authorization_server(e.role).retire_old_keys();
      return "old keys withdrawn from the JWKS";
    case EventKind::kRevokeClient:
    case EventKind::kRestoreClient:
      if (!authorization_server(e.role).set_client_enabled(e.client,
                                                           e.kind == EventKind::kRestoreClient))
        fail("no such client");
      return e.kind == EventKind::kRevokeClient ? "client refused from now on (invalid_client)"
                                                : "client accepted again";
    case EventKind::kRevokeTokens:
      return std::to_string(authorization_server(e.role).revoke_issued(e.client)) +
             " tokens revoked (RFC 7009)";
    case EventKind::kRotateSecret:
      if (!authorization_server(e.role).rotate_secret(e.client)) fail("no such client");
      return "secret replaced; holders of the old one now fail with invalid_client";
    case EventKind::kDown: {
      Role& r = role(e.role);
      if (!r.running()) return "already down";
      release_connections();  // nothing waits on idle keep-alive connections
      r.stop();
      return "stopped: connections to 127.0.0.1:" + std::to_string(r.server_port()) +
             " are refused";
    }
    case EventKind::kUp: {
      Role& r = role(e.role);
      if (r.running()) return "already up";
      std::optional<netns::Enter> in;  // a role comes back inside its zone
      if (net_) in.emplace(net_->fd_of_role(e.role));
      if (!r.restart())
        fail("port " + std::to_string(r.server_port()) + " could not be bound again");
      return "serving again on 127.0.0.1:" + std::to_string(r.server_port());
    }
    case EventKind::kClockStep: {
      int n = 0;
      for (const auto& spec : scenario_.roles) {
        if (!(e.zone.empty() ? spec.id == e.role : spec.zone == e.zone)) continue;
        clocks_.at(spec.id)->step(std::chrono::seconds(e.by_s));
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
  pool_.clear();
  for (auto& [id, p] : role_pools_) p->clear();
  for (auto& r : roles_) r->release_connections();
  for (auto& p : proxies_) p->stop();
  for (auto& [id, t] : tls_) t->stop();
  for (auto& r : roles_) r->stop();
  started_ = false;
}

void World::publish_directory() {
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
  directory_->publish(std::move(t));
}

std::string World::url_for(const std::string& from, const std::string& to) const {
  // The newest proxy declared for exactly this caller (it chains to earlier ones), else the
  // newest declared for every caller.
  for (const bool exact : {true, false})
    for (size_t i = std::min(proxies_.size(), scenario_.links.size()); i-- > 0;) {
      const auto& l = scenario_.links[i];
      if (l.to == to && (exact ? l.from == from : l.from == "*")) {
        // A fault proxy forwards bytes: TLS passes through it end to end.
        const std::string u = proxies_[i]->base_url();
        return mtls_ && u.rfind("http://", 0) == 0 ? "https://" + u.substr(7) : u;
      }
    }
  return url_of(to);
}

TlsIdentity World::issue_certificate(const std::string& name) {
  if (!ca_) throw std::logic_error("the scenario does not use tls: mutual");
  return ca_->issue(name);
}

http::HttpClientPool& World::http_as(const std::string& role) {
  if (!scenario_.find_role(role)) throw std::out_of_range("unknown role '" + role + "'");
  auto it = role_pools_.find(role);
  return it == role_pools_.end() ? pool_ : *it->second;
}

std::vector<World::LinkDecision> World::fault_decisions() const {
  std::vector<LinkDecision> out;
  for (const auto& p : proxies_)
    for (const auto& d : p->decisions())
      out.push_back({p->name(), d.connection, d.fault, d.latency_ms});
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

std::string World::url_of(const std::string& role) const {
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->external)
    return origin_of(spec->external->token_endpoint);
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->remote_url)
    return *spec->remote_url;
  return lookup(by_id_, role)->base_url();
}

std::string World::token_path_of(const std::string& role) const {
  if (const RoleSpec* spec = scenario_.find_role(role); spec && spec->external)
    return path_of(spec->external->token_endpoint);
  return "/token";
}

std::string World::issuer_of(const std::string& role) const {
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

std::string World::role_of_issuer(const std::string& iss) const {
  for (const auto& [id, as] : ases_)
    if (as->issuer() == iss) return id;
  for (const auto& spec : scenario_.roles)
    if (!spec.runs_here() && spec.kind == RoleKind::kAuthorizationServer &&
        issuer_of(spec.id) == iss)
      return spec.id;
  return {};
}

bool World::is_external(const std::string& role) const {
  const RoleSpec* spec = scenario_.find_role(role);
  return spec && !spec->runs_here();
}

void World::listen_on(const std::string& role, const std::string& host, int port) {
  listen_[role] = {host, port};
}

void World::public_url(const std::string& role, const std::string& url) {
  by_id_.at(role)->set_public_url(url);
}

void World::freeze_clocks() {
  freeze_clocks_at(std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
}

void World::freeze_clocks_at(int64_t system_ms) {
  for (auto& [id, c] : clocks_) c->freeze_at(system_ms);
}

Clock& World::clock(const std::string& role) { return *lookup(clocks_, role); }

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

std::vector<World::Reachability> World::network_matrix() const {
  std::vector<Reachability> out;
  if (!net_) return out;
  const auto declared = declared_links(scenario_);
  for (const auto& a : scenario_.roles)
    for (const auto& b : scenario_.roles) {
      if (a.id == b.id) continue;
      Reachability r{a.id, b.id, a.zone == b.zone || declared.count({a.id, b.id}) > 0, false, {}};
      // Where `a` reaches `b`: its address, or the fault proxy of a declared link.
      const std::string url = url_for(a.id, b.id);
      const size_t host_at = url.find("://") + 3, colon = url.rfind(':');
      const std::string host = url.substr(host_at, colon - host_at);
      const int port = std::stoi(url.substr(colon + 1));
      r.actual = net_->can_connect(a.id, host, port, 1000, &r.how);
      out.push_back(std::move(r));
    }
  return out;
}

}  // namespace txlab
