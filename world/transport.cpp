// Transport: pools, fault proxies, TLS fronts, the run's CA and the --netns namespaces.
#include "world/transport.h"

#include <algorithm>
#include <stdexcept>

#include "actors/role.h"
#include "sim/fault_proxy.h"
#include "sim/netns.h"
#include "sim/seed.h"
#include "sim/tls.h"
#include "world/directory.h"
#include "world/export.h"

namespace txlab {

namespace {

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

// The name of a link's sub-seed: "link/FROM->TO", and "link/FROM->TO#N" for the N-th fault
// declared on the same pair (chained proxies each decide on their own).
std::string link_seed_name(const std::string& name, int nth) {
  return "link/" + name + (nth > 1 ? "#" + std::to_string(nth) : "");
}

FaultSpec fault_spec_of(const LinkFaults& l) {
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
  return f;
}

}  // namespace

Transport::Transport(const Scenario& scenario, bool netns,
                     const std::vector<std::unique_ptr<Role>>& roles)
    : scenario_(scenario), roles_(roles) {
  // Timeouts nest: callers of a gateway (client apps, and the world calling them) wait longer
  // than the gateway's own budget, so they receive its 504 JSON instead of timing out first.
  int64_t longest_gateway_ms = 0;
  for (const auto& spec : scenario_.roles)
    if (spec.kind == RoleKind::kGateway)
      longest_gateway_ms = std::max(longest_gateway_ms, spec.gateway.timeout_ms);
  pool_.set_read_timeout_ms(static_cast<int>(std::clamp<int64_t>(
      std::max<int64_t>(pool_.read_timeout_ms(), longest_gateway_ms + 2000), 1, 600000)));
  if (netns) net_ = make_network(scenario_, pool_);
  if (scenario_.mutual_tls) {
    ca_ = std::make_unique<TlsAuthority>();
    mtls_ = make_mutual_tls(scenario_, net_.get(), *ca_);
    // The world's own calls (the workload driver, conform, attacks) verify the servers.
    pool_.set_tls({mtls_->ca_pem, "", ""});
  }
}

Transport::~Transport() = default;

http::HttpClientPool& Transport::add_role_pool(const RoleSpec& spec) {
  if (!net_ && !mtls_) return pool_;
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
  }
  auto& out = *pool;
  role_pools_[spec.id] = std::move(pool);
  return out;
}

http::HttpClientPool& Transport::http_as(const std::string& role) {
  if (!scenario_.find_role(role)) throw std::out_of_range("unknown role '" + role + "'");
  auto it = role_pools_.find(role);
  return it == role_pools_.end() ? pool_ : *it->second;
}

void Transport::release_connections() {
  pool_.clear();
  for (auto& [id, p] : role_pools_) p->clear();
  for (auto& r : roles_) r->release_connections();
}

void Transport::start_proxies(uint64_t seed, const std::function<int(const std::string&)>& port_of,
                              std::function<double()> now_s) {
  std::map<std::string, int> declared;  // "from->to" -> links so far
  for (const auto& l : scenario_.links) {
    const std::string name = l.from + "->" + l.to;
    const uint64_t link_seed = derive_seed(seed, link_seed_name(name, ++declared[name]));
    // Several faults on one link chain their proxies: the newest forwards to the previous one.
    int upstream = port_of(l.to);
    bool to_proxy = false;
    for (size_t j = 0; j < proxies_.size(); ++j) {
      const auto& prev = scenario_.links[j];
      if (prev.to == l.to && (prev.from == l.from || prev.from == "*")) {
        upstream = proxies_[j]->port();
        to_proxy = true;
      }
    }
    auto p = std::make_unique<FaultProxy>(l.from + "->" + l.to, upstream, fault_spec_of(l),
                                          link_seed, now_s);
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
}

std::string Transport::proxy_url(const std::string& from, const std::string& to) const {
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
  return {};
}

std::vector<Transport::LinkDecision> Transport::fault_decisions() const {
  std::vector<LinkDecision> out;
  for (const auto& p : proxies_)
    for (const auto& d : p->decisions())
      out.push_back({p->name(), d.connection, d.fault, d.latency_ms});
  return out;
}

void Transport::stop() {
  for (auto& p : proxies_) p->stop();
  for (auto& [id, t] : tls_) t->stop();
}

void Transport::enable_tls(const TlsMaterial& tls,
                           const std::function<int(const std::string&)>& port_of) {
  for (const auto& spec : scenario_.roles) {
    if (tls_.count(spec.id) || !spec.runs_here()) continue;
    auto front = std::make_unique<TlsFront>(port_of(spec.id), tls);
    front->start();
    tls_[spec.id] = std::move(front);
  }
}

std::string Transport::tls_url_of(const std::string& role) const {
  auto it = tls_.find(role);
  return it == tls_.end() ? std::string() : it->second->base_url();
}

TlsIdentity Transport::issue_certificate(const std::string& name) {
  if (!ca_) throw std::logic_error("the scenario does not use tls: mutual");
  return ca_->issue(name);
}

std::vector<Transport::Reachability> Transport::network_matrix(
    const WorldDirectory& directory) const {
  std::vector<Reachability> out;
  if (!net_) return out;
  const auto declared = declared_links(scenario_);
  for (const auto& a : scenario_.roles)
    for (const auto& b : scenario_.roles) {
      if (a.id == b.id) continue;
      Reachability r{a.id, b.id, a.zone == b.zone || declared.count({a.id, b.id}) > 0, false, {}};
      // Where `a` reaches `b`: its address, or the fault proxy of a declared link.
      const std::string url = directory.url_for(a.id, b.id);
      const size_t host_at = url.find("://") + 3, colon = url.rfind(':');
      const std::string host = url.substr(host_at, colon - host_at);
      const int port = std::stoi(url.substr(colon + 1));
      r.actual = net_->can_connect(a.id, host, port, 1000, &r.how);
      out.push_back(std::move(r));
    }
  return out;
}

}  // namespace txlab
