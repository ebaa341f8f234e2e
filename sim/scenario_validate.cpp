// Scenario YAML, after every section reads: cross-references between roles, calls and links,
// the client-id convention, and what `tls: mutual` (RFC 8705) requires.
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "sim/scenario.h"
#include "sim/scenario_reader.h"
#include "sim/scenario_sections.h"

namespace txlab::scenario_detail {

namespace {

// RFC 8705 binds to the TLS connection: its methods and bindings need `tls: mutual`. Fills in
// each tls_client_auth registration's default subject and each self-signed registration's
// holder (the one role presenting that certificate).
void validate_mutual_tls(const Reader& r, Scenario& s, std::vector<Diagnostic>& errors) {
  const std::string needs = " needs `tls: mutual` (RFC 8705 works on the TLS connection)";
  // Every set of credentials with the role holding it.
  std::vector<std::pair<std::string, const ClientCredentials*>> held;
  for (const auto& role : s.roles) {
    if (role.kind == RoleKind::kClient) held.emplace_back(role.id, &role.client.credentials);
    if (role.kind == RoleKind::kGateway && role.gateway.exchange)
      held.emplace_back(role.id, &role.gateway.exchange->client);
    if (role.kind == RoleKind::kGateway && role.gateway.introspection)
      held.emplace_back(role.id, &*role.gateway.introspection);
    if (role.kind == RoleKind::kAuthorizationServer && role.as.exchange && role.as.exchange->broker)
      held.emplace_back(role.id, &role.as.exchange->broker->via);
  }
  std::map<std::string, std::set<ClientAuthMethod>> tls_methods_of;  // holder -> methods
  for (const auto& [holder, c] : held)
    if (is_tls_auth(c->auth)) tls_methods_of[holder].insert(c->auth);
  for (auto& role : s.roles)
    collect(errors, [&] {
      const std::string where = "role '" + role.id + "'";
      if (s.mutual_tls && !role.runs_here())
        r.fail_at(role.pos, where +
                                ": with `tls: mutual` every role must be run by txlab (the "
                                "run's CA issues every certificate)");
      if ((role.gateway.mtls_required || role.resource.mtls_required) && !s.mutual_tls)
        r.fail_at(role.pos, "'mtls: required' of " + where + needs);
      if (auto m = tls_methods_of.find(role.id); m != tls_methods_of.end()) {
        if (!s.mutual_tls)
          r.fail_at(role.pos, "'auth: " + std::string(to_string(*m->second.begin())) + "' of " +
                                  where + needs);
        if (m->second.size() > 1)
          r.fail_at(role.pos, where +
                                  " holds both tls_client_auth and self_signed_tls_client_auth "
                                  "credentials, but presents one certificate on every call");
      }
      if (role.kind != RoleKind::kAuthorizationServer) return;
      for (auto& c : role.as.clients) {
        const std::string cw = "client '" + c.id + "' of " + where;
        if (!s.mutual_tls) {
          if (is_tls_auth(c.auth))
            r.fail_at(c.pos, "'auth: " + std::string(to_string(c.auth)) + "' of " + cw + needs);
          if (c.certificate_bound_access_tokens || c.certificate_bind_for_others)
            r.fail_at(c.pos, "certificate-bound tokens of " + cw + needs);
        }
        if (!is_tls_auth(c.auth)) continue;
        std::vector<std::string> holders;
        for (const auto& [holder, cred] : held)
          if (cred->as_role == role.id && cred->client_id == c.id) holders.push_back(holder);
        if (c.auth == ClientAuthMethod::kTlsClientAuth && c.tls_client_auth_subject_dn.empty()) {
          if (holders.size() != 1)
            r.fail_at(c.pos, cw + " needs 'tls_client_auth_subject_dn': " +
                                 std::to_string(holders.size()) +
                                 " roles hold its credentials, so there is no default subject");
          c.tls_client_auth_subject_dn = "CN=" + holders[0] + ",O=txlab";
        }
        if (c.auth == ClientAuthMethod::kSelfSignedTlsClientAuth) {
          if (holders.size() != 1)
            r.fail_at(c.pos, cw +
                                 ": exactly one role must hold its credentials (it presents the "
                                 "registered self-signed certificate); " +
                                 std::to_string(holders.size()) + " do");
          c.tls_certificate_holder = holders[0];
        }
      }
    });
}

}  // namespace

void validate(const Reader& r, Scenario& s, std::vector<Diagnostic>& errors) {
  auto role_of_kind = [&](const std::string& id, RoleKind kind, SourcePos at,
                          const std::string& what) {
    const RoleSpec* role = s.find_role(id);
    if (!role) r.fail_at(at, what + " names unknown role '" + id + "'");
    if (role->kind != kind)
      r.fail_at(at, what + " names '" + id + "', which is a " + std::string(to_string(role->kind)) +
                        ", not a " + std::string(to_string(kind)));
    return role;
  };
  auto check_registration = [&](const ClientCredentials& c, SourcePos at, const std::string& what) {
    const RoleSpec* as = role_of_kind(c.as_role, RoleKind::kAuthorizationServer, at, what);
    if (as->external) return;  // its registrations live in the vendor's own configuration
    const auto& clients = as->as.clients;
    auto it = std::find_if(clients.begin(), clients.end(),
                           [&](const auto& reg) { return reg.id == c.client_id; });
    if (it == clients.end())
      r.warn(s.warnings, at,
             what + ": client '" + c.client_id + "' is not registered at '" + c.as_role + "'");
    else if (it->secret != c.secret)
      r.warn(s.warnings, at,
             what + ": secret for '" + c.client_id + "' differs from its registration at '" +
                 c.as_role + "'");
  };
  // RFC-free house convention from the notes: <zone>-svc-<caller>-to-<audAlias>.
  static const std::regex kConvention("[a-z0-9]+-svc-[a-z0-9]+(-[a-z0-9]+)*-to-[a-z0-9-]+");
  for (const auto& role : s.roles)
    collect(errors, [&] {
      const std::string where = "role '" + role.id + "'";
      switch (role.kind) {
        case RoleKind::kAuthorizationServer:
          for (const auto& c : role.as.clients)
            if (s.client_id_convention &&
                (c.id.size() > 128 || !std::regex_match(c.id, kConvention)))
              r.warn(
                  s.warnings, c.pos,
                  "client id '" + c.id +
                      "' does not follow <zone>-svc-<caller>-to-<audAlias> (e.g. c-svc-a1-to-b)");
          if (role.as.exchange) {
            for (const auto& t : role.as.exchange->trust)
              role_of_kind(t, RoleKind::kAuthorizationServer, role.pos,
                           "'exchange.trust' of " + where);
            for (const auto& t : role.as.exchange->actor_trust)
              role_of_kind(t, RoleKind::kAuthorizationServer, role.pos,
                           "'exchange.actor_trust' of " + where);
            if (role.as.exchange->broker) {
              check_registration(role.as.exchange->broker->via, role.pos,
                                 "'exchange.broker' of " + where);
              if (role.as.exchange->broker->via.as_role == role.id)
                r.fail_at(role.pos, where + " cannot broker to itself");
            }
          }
          break;
        case RoleKind::kGateway:
          for (const auto& t : role.gateway.trust)
            role_of_kind(t, RoleKind::kAuthorizationServer, role.pos, "'trust' of " + where);
          if (role.gateway.exchange)
            check_registration(role.gateway.exchange->client, role.pos, "'exchange' of " + where);
          if (role.gateway.introspection)
            check_registration(*role.gateway.introspection, role.pos,
                               "'introspection' of " + where);
          for (const auto& rt : role.gateway.routes) {
            const RoleSpec* up = s.find_role(rt.to);
            if (!up)
              r.fail_at(role.pos, "route '" + rt.prefix + "' of " + where +
                                      " goes to unknown role '" + rt.to + "'");
            if (up->kind != RoleKind::kGateway && up->kind != RoleKind::kResourceServer)
              r.fail_at(role.pos, "route '" + rt.prefix + "' of " + where +
                                      " must go to a gateway or resource server");
          }
          break;
        case RoleKind::kResourceServer:
          for (const auto& t : role.resource.trust)
            role_of_kind(t, RoleKind::kAuthorizationServer, role.pos, "'trust' of " + where);
          break;
        case RoleKind::kClient:
          check_registration(role.client.credentials, role.pos, where);
          break;
      }
    });
  validate_mutual_tls(r, s, errors);
  for (const auto& l : s.links)
    collect(errors, [&] {
      if (l.from != "*" && !s.find_role(l.from))
        r.fail_at(l.pos, "link 'from' names unknown role '" + l.from + "'");
      if (!s.find_role(l.to)) r.fail_at(l.pos, "link 'to' names unknown role '" + l.to + "'");
      if (s.find_role(l.to)->external)
        r.fail_at(l.pos, "link 'to' names '" + l.to +
                             "', an external authorization server: faults on links to it are not "
                             "supported");
    });
  if (s.timeline)
    collect(errors, [&] {
      if (s.workload.empty())
        r.fail_at(s.timeline->pos,
                  "a timeline needs a 'workload': its entries are the traffic of every step");
      validate_timeline(r, s);
    });
  for (const auto& call : s.workload)
    collect(errors, [&] {
      const std::string where = "workload call '" + call.name + "'";
      role_of_kind(call.from, RoleKind::kClient, call.pos, "'from' of " + where);
      const RoleSpec* to = s.find_role(call.to);
      if (!to) r.fail_at(call.pos, "'to' of " + where + " names unknown role '" + call.to + "'");
    });
}

}  // namespace txlab::scenario_detail
