// `txlab export`: a scenario as Kubernetes manifests or a Compose file, one `txlab serve --role`
// per role. Pure: a scenario (and its source text) in, file contents out.
//
// Kubernetes: a namespace per zone; per role a Deployment and a Service (port 8080, probes on
// GET /healthz, non-root, read-only root filesystem), a ConfigMap with the scenario as that role
// reads it and a Secret with that role's own secrets only (the scenario refers to them as
// ${TXLAB_SECRET_…}; other roles' secrets are not in it). NetworkPolicies: every namespace
// denies ingress by default, and each role admits exactly the roles that call it or fetch its
// keys (peers_needed), on its port. Compose: a network per zone and one per cross-zone link (a
// Compose network cannot say which way a connection goes: both ends of a link reach each other).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "sim/scenario.h"

namespace txlab {

struct ExportOptions {
  std::string image = "txlab:latest";
  int port = 8080;
};

// (caller, callee): every connection the scenario's roles make to each other, callee != caller,
// external authorization servers excluded.
std::set<std::pair<std::string, std::string>> declared_links(const Scenario& s);

// The scenario source as `role` reads it: that role's `secret` values replaced by
// ${TXLAB_SECRET_…} (name → value in *secrets), every other role's by a placeholder.
std::string role_scenario_yaml(const std::string& source_yaml, const std::string& role,
                               std::map<std::string, std::string>* secrets);

// Kubernetes namespace of a zone.
std::string zone_namespace(const Scenario& s, const std::string& zone);

// File name → content (YAML).
std::map<std::string, std::string> export_k8s(const Scenario& s, const std::string& source_yaml,
                                              const ExportOptions& o);
// The Compose file, and next to it (relative names) each role's scenario and .env file.
std::map<std::string, std::string> export_compose(const Scenario& s, const std::string& source_yaml,
                                                  const ExportOptions& o,
                                                  const std::string& compose_name);

// A Keycloak realm (JSON, for `kc.sh --import-realm`) with the clients a scenario's roles need
// at the external authorization server `as_role`: each role's credentials there as a confidential
// client (service account; the token-exchange switch `standard.token.exchange.enabled` for an
// exchanging gateway or broker), an audience mapper for every audience its tokens must name (a
// client's `audience`, else the audiences of the gateways its workload calls; an exchanger's
// `audiences`), and every audience as a client of its own. With `conformance_clients`, also the
// clients `txlab conform --profile keycloak` uses (subject-client, requester-client,
// target-client) and the negative cases of the Keycloak vendor notes (no-exchange-client,
// outsider, public-client). Empty (and *error) when `as_role` is not an external AS of `s`.
std::string export_keycloak_realm(const Scenario& s, const std::string& as_role,
                                  const std::string& realm, bool conformance_clients,
                                  std::string* error);

// YAML text of a JSON value (strings quoted the JSON way, multi-line strings as block literals).
std::string to_yaml(const nlohmann::json& v);

}  // namespace txlab
