// How the roles of a world reach each other: the connection pools (the world's and, under
// --netns or mutual TLS, one per role), the fault proxies on declared links, https fronts,
// the run's CA for `tls: mutual`, and the network namespaces of --netns with their
// reachability matrix. Part of the World (world.transport()).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/http/client_pool.h"
#include "sim/scenario.h"

namespace txlab {

class Role;
class FaultProxy;
class TlsFront;
class TlsAuthority;
class WorldDirectory;
struct TlsMaterial;
struct MutualTls;
struct TlsIdentity;

namespace netns {
class Network;
}

class Transport {
 public:
  // Sets the pools up for `scenario` (timeouts, TLS), creates the namespaces (`netns`) and the
  // run's CA (`tls: mutual`). `roles` is the world's role list, whose pooled connections
  // release_connections() closes too. Throws std::runtime_error as World's constructor says.
  Transport(const Scenario& scenario, bool netns, const std::vector<std::unique_ptr<Role>>& roles);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  http::HttpClientPool& http() { return pool_; }
  // The pool `role` calls out with (its own under --netns or mutual TLS, where it carries the
  // role's address and client certificate; else the shared one): to present what the role
  // holds as the role would. Throws std::out_of_range for an unknown role.
  http::HttpClientPool& http_as(const std::string& role);
  // Construction of the world: the pool `spec`'s role calls out with (made here when the role
  // needs its own).
  http::HttpClientPool& add_role_pool(const RoleSpec& spec);
  // Closes every pooled connection (the world's and each role's), so the next calls connect
  // afresh and each fault proxy decides again.
  void release_connections();

  // Starts a fault proxy per declared link (several on one link chain), each seeded by its
  // link; `port_of(role)` is where the role listens, `now_s` the simulation time.
  void start_proxies(uint64_t seed, const std::function<int(const std::string&)>& port_of,
                     std::function<double()> now_s);
  // The URL of the proxy `from` reaches `to` through ("" when no link is declared).
  std::string proxy_url(const std::string& from, const std::string& to) const;
  struct LinkDecision {
    std::string link;  // "from->to"
    uint64_t connection;
    std::string fault;
    int64_t latency_ms;
  };
  std::vector<LinkDecision> fault_decisions() const;
  // Stops every proxy and https front (roles are the world's to stop).
  void stop();

  // Serves every role over https too, each on a port of its own (after start()); peers that
  // insist on https (JWKS for Apache mod_auth_openidc) use these URLs.
  void enable_tls(const TlsMaterial& tls, const std::function<int(const std::string&)>& port_of);
  std::string tls_url_of(const std::string& role) const;  // "" when TLS is not enabled
  // `tls: mutual`: the run's CA and certificates (null otherwise).
  const MutualTls* mutual_tls() const { return mtls_.get(); }
  const std::shared_ptr<const MutualTls>& shared_mutual_tls() const { return mtls_; }
  // `tls: mutual`: a further certificate of the run's CA, subject CN=<name>,O=txlab (clients
  // that conformance probes present). Throws std::logic_error without mutual TLS.
  TlsIdentity issue_certificate(const std::string& name);

  // --netns: the namespaces (nullptr without it).
  const netns::Network* namespaces() const { return net_.get(); }
  struct Reachability {
    std::string from, to;
    bool expected = false;  // same zone, or a declared link from -> to
    bool actual = false;    // a TCP connection opened where `from` reaches `to`
    std::string how;        // why not, when it could not
  };
  // Every ordered pair of roles this world runs, tried for real from the caller's namespace and
  // address to where `directory` says it reaches the other (the network layer of the isolation
  // matrix). Empty without --netns.
  std::vector<Reachability> network_matrix(const WorldDirectory& directory) const;

 private:
  const Scenario& scenario_;
  const std::vector<std::unique_ptr<Role>>& roles_;
  std::unique_ptr<netns::Network> net_;  // outlives every pool below
  http::HttpClientPool pool_;
  std::shared_ptr<const MutualTls> mtls_;  // `tls: mutual`
  std::unique_ptr<TlsAuthority> ca_;       // the run's CA that issued mtls_
  std::map<std::string, std::unique_ptr<http::HttpClientPool>> role_pools_;  // --netns, mTLS
  std::vector<std::unique_ptr<FaultProxy>> proxies_;  // parallel to scenario_.links
  std::map<std::string, std::unique_ptr<TlsFront>> tls_;
};

}  // namespace txlab
