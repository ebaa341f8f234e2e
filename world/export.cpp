// Kubernetes manifests and a Compose file from a scenario.
#include "world/export.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "world/standalone.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

constexpr const char* kScenarioPath = "/etc/txlab/scenario.yaml";
constexpr const char* kElsewhere = "held-by-its-own-role-only";

// A DNS label (RFC 1123): lower-case letters, digits and '-', at most 63, no '-' at either end.
std::string dns_label(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "x" : out;
}

std::string env_name(const std::string& context) {
  std::string out = "TXLAB_SECRET_";
  for (char c : context) {
    const auto u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

// Replaces `secret` scalars below `node`; `context` names the entry (a client id, or the key of
// the map holding the secret).
void replace_secrets(YAML::Node node, bool mine, const std::string& context,
                     std::map<std::string, std::string>* secrets) {
  if (node.IsSequence()) {
    for (auto item : node) replace_secrets(item, mine, context, secrets);
    return;
  }
  if (!node.IsMap()) return;
  std::string here = context;
  if (node["client_id"] && node["client_id"].IsScalar()) here = node["client_id"].as<std::string>();
  for (auto kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.as<std::string>() : "";
    if (key == "secret" && kv.second.IsScalar()) {
      const std::string value = kv.second.as<std::string>();
      if (!mine) {
        kv.second = kElsewhere;
      } else if (value.find("${") == std::string::npos) {
        std::string name = env_name(here);
        for (int n = 2; secrets->count(name) && (*secrets)[name] != value; ++n)
          name = env_name(here) + "_" + std::to_string(n);
        (*secrets)[name] = value;
        kv.second = "${" + name + "}";
      }
      continue;
    }
    replace_secrets(kv.second, mine, key.empty() ? here : key, secrets);
  }
}

bool plain_key(const std::string& k) {
  static const char* kWords[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"};
  std::string lower;
  for (char c : k) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : kWords)
    if (lower == w) return false;
  if (k.empty() || !std::isalpha(static_cast<unsigned char>(k[0]))) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == '/';
  });
}

bool block_literal(const std::string& s) {
  if (s.find('\n') == std::string::npos || s.front() == ' ' || s.front() == '\n') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == '\n' || u >= 0x20;
  });
}

void emit(std::ostringstream& o, const Json& v, int indent);

// The value after "key:" or "- ": on the same line for scalars and empty containers, below for
// the rest.
void emit_value(std::ostringstream& o, const Json& v, int indent) {
  if (v.is_object() && !v.empty()) {
    o << "\n";
    emit(o, v, indent);
  } else if (v.is_array() && !v.empty()) {
    o << "\n";
    emit(o, v, indent);
  } else if (v.is_object()) {
    o << " {}\n";
  } else if (v.is_array()) {
    o << " []\n";
  } else if (v.is_string() && block_literal(v.get<std::string>())) {
    const std::string s = v.get<std::string>();
    o << (s.back() == '\n' ? " |\n" : " |-\n");
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);)
      o << (line.empty() ? "" : std::string(indent, ' ') + line) << "\n";
  } else if (v.is_string() && plain_key(v.get<std::string>())) {
    o << " " << v.get<std::string>() << "\n";
  } else {
    o << " " << v.dump() << "\n";
  }
}

// Members in the order people read manifests in (apiVersion, kind, metadata, ... ), the rest
// alphabetically.
std::vector<std::string> ordered_keys(const Json& v) {
  static const std::vector<std::string> kFirst = {"version", "apiVersion", "kind",   "metadata",
                                                  "name",    "namespace",  "labels", "type"};
  std::vector<std::string> keys;
  for (const auto& k : kFirst)
    if (v.contains(k)) keys.push_back(k);
  for (auto it = v.begin(); it != v.end(); ++it)
    if (std::find(kFirst.begin(), kFirst.end(), it.key()) == kFirst.end()) keys.push_back(it.key());
  return keys;
}

void emit(std::ostringstream& o, const Json& v, int indent) {
  const std::string pad(indent, ' ');
  if (v.is_object()) {
    for (const auto& k : ordered_keys(v)) {
      o << pad << (plain_key(k) ? k : Json(k).dump()) << ":";
      emit_value(o, v[k], indent + 2);
    }
  } else if (v.is_array()) {
    for (const auto& item : v) {
      if (item.is_object() && !item.empty()) {
        // "- " then the first member on the same line, the others aligned under it.
        std::ostringstream inner;
        emit(inner, item, indent + 2);
        std::string text = inner.str();
        text.replace(0, static_cast<size_t>(indent) + 2, pad + "- ");
        o << text;
      } else {
        o << pad << "-";
        emit_value(o, item, indent + 2);
      }
    }
  } else {
    o << pad << v.dump() << "\n";
  }
}

std::string documents(const std::vector<Json>& docs) {
  std::string out;
  for (const auto& d : docs) out += "---\n" + to_yaml(d);
  return out;
}

Json labels(const Scenario& s, const RoleSpec& r) {
  return {{"app.kubernetes.io/name", "txlab"},
          {"app.kubernetes.io/component", std::string(to_string(r.kind))},
          {"app.kubernetes.io/part-of", dns_label(s.name)},
          {"txlab/role", dns_label(r.id)},
          {"txlab/zone", dns_label(r.zone)}};
}

// The serve command of a role, its peers at `url_of(peer)`.
Json serve_args(const Scenario& s, const RoleSpec& r, int port,
                const std::function<std::string(const RoleSpec&)>& url_of) {
  Json args = {"serve",   kScenarioPath, "--role",
               r.id,      "--listen",    "0.0.0.0:" + std::to_string(port),
               "--expose"};
  for (const auto& p : peers_needed(s, r.id)) {
    const RoleSpec* peer = s.find_role(p);
    if (!peer || peer->external) continue;
    args.push_back("--peer");
    args.push_back(p + "=" + url_of(*peer));
  }
  return args;
}

}  // namespace

std::string to_yaml(const Json& v) {
  std::ostringstream o;
  emit(o, v, 0);
  return o.str();
}

std::set<std::pair<std::string, std::string>> declared_links(const Scenario& s) {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& r : s.roles) {
    if (r.external) continue;
    for (const auto& p : peers_needed(s, r.id)) {
      const RoleSpec* peer = s.find_role(p);
      if (peer && !peer->external && p != r.id) out.emplace(r.id, p);
    }
  }
  return out;
}

std::string role_scenario_yaml(const std::string& source_yaml, const std::string& role,
                               std::map<std::string, std::string>* secrets) {
  YAML::Node root = YAML::Load(source_yaml);
  if (auto roles = root["roles"]; roles && roles.IsMap())
    for (auto kv : roles) {
      const std::string id = kv.first.as<std::string>();
      replace_secrets(kv.second, id == role, id, secrets);
    }
  YAML::Emitter out;
  out << root;
  return std::string("# txlab export: the scenario as role '") + role +
         "' reads it; its secrets come from the environment\n" + out.c_str() + "\n";
}

std::string zone_namespace(const Scenario& s, const std::string& zone) {
  return dns_label("txlab-" + s.name + "-" + zone);
}

namespace {

using PeerUrl = std::function<std::string(const RoleSpec&)>;

// A zone's namespace and its default-deny ingress policy: nothing reaches a pod of the zone
// unless a policy admits it.
std::pair<Json, Json> k8s_zone(const Scenario& s, const std::string& zone) {
  const std::string ns = zone_namespace(s, zone);
  Json namespace_doc = {
      {"apiVersion", "v1"},
      {"kind", "Namespace"},
      {"metadata",
       {{"name", ns},
        {"labels",
         {{"app.kubernetes.io/part-of", dns_label(s.name)}, {"txlab/zone", dns_label(zone)}}}}}};
  Json deny = {{"apiVersion", "networking.k8s.io/v1"},
               {"kind", "NetworkPolicy"},
               {"metadata", {{"name", "default-deny-ingress"}, {"namespace", ns}}},
               {"spec", {{"podSelector", Json::object()}, {"policyTypes", {"Ingress"}}}}};
  return {namespace_doc, deny};
}

// The role's Deployment: one hardened txlab container serving the role from its ConfigMap.
Json k8s_deployment(const Scenario& s, const RoleSpec& r, const ExportOptions& o,
                    const PeerUrl& url_of, const Json& meta, const Json& env) {
  const std::string name = dns_label(r.id);
  const Json probe = {{"httpGet", {{"path", "/healthz"}, {"port", "http"}}},
                      {"periodSeconds", 5},
                      {"timeoutSeconds", 2}};
  Json container = {
      {"name", "txlab"},
      {"image", o.image},
      {"args", serve_args(s, r, o.port, url_of)},
      {"ports", {{{"name", "http"}, {"containerPort", o.port}, {"protocol", "TCP"}}}},
      {"readinessProbe", probe},
      {"livenessProbe", probe},
      {"resources",
       {{"requests", {{"cpu", "50m"}, {"memory", "32Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      {"volumeMounts", {{{"name", "scenario"}, {"mountPath", "/etc/txlab"}, {"readOnly", true}}}}};
  if (!env.empty()) container["env"] = env;
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", meta},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", {{"txlab/role", name}}}}},
        {"template",
         {{"metadata", {{"labels", labels(s, r)}}},
          {"spec",
           {{"automountServiceAccountToken", false},
            {"securityContext",
             {{"runAsNonRoot", true},
              {"runAsUser", 10001},
              {"runAsGroup", 10001},
              {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
            {"containers", {container}},
            {"volumes",
             {{{"name", "scenario"}, {"configMap", {{"name", "txlab-scenario-" + name}}}}}}}}}}}}};
}

// One role's documents: ConfigMap (its scenario), Secret (when it holds secrets), Deployment
// and Service.
std::vector<Json> k8s_role(const Scenario& s, const RoleSpec& r, const std::string& source_yaml,
                           const ExportOptions& o, const PeerUrl& url_of) {
  const std::string ns = zone_namespace(s, r.zone), name = dns_label(r.id);
  std::map<std::string, std::string> secrets;
  const std::string scenario = role_scenario_yaml(source_yaml, r.id, &secrets);
  const Json meta = {{"name", name}, {"namespace", ns}, {"labels", labels(s, r)}};
  std::vector<Json> docs;
  Json config_meta = meta;
  config_meta["name"] = "txlab-scenario-" + name;
  docs.push_back({{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", config_meta},
                  {"data", {{"scenario.yaml", scenario}}}});
  Json env = Json::array();
  if (!secrets.empty()) {
    Json secret_meta = meta;
    secret_meta["name"] = "txlab-secrets-" + name;
    Json data = Json::object();
    for (const auto& [k, v] : secrets) {
      data[k] = v;
      env.push_back(
          {{"name", k},
           {"valueFrom", {{"secretKeyRef", {{"name", "txlab-secrets-" + name}, {"key", k}}}}}});
    }
    docs.push_back({{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", secret_meta},
                    {"type", "Opaque"},
                    {"stringData", data}});
  }
  docs.push_back(k8s_deployment(s, r, o, url_of, meta, env));
  docs.push_back(
      {{"apiVersion", "v1"},
       {"kind", "Service"},
       {"metadata", meta},
       {"spec",
        {{"selector", {{"txlab/role", name}}},
         {"ports",
          {{{"name", "http"}, {"port", o.port}, {"targetPort", "http"}, {"protocol", "TCP"}}}}}}});
  return docs;
}

// Who may open a connection to role `r`: exactly its declared callers (null when none).
Json k8s_allow_policy(const Scenario& s, const RoleSpec& r, const ExportOptions& o,
                      const std::set<std::pair<std::string, std::string>>& links) {
  const std::string ns = zone_namespace(s, r.zone), name = dns_label(r.id);
  Json from = Json::array();
  for (const auto& [caller, callee] : links) {
    if (callee != r.id) continue;
    const RoleSpec* c = s.find_role(caller);
    from.push_back(
        {{"namespaceSelector",
          {{"matchLabels", {{"kubernetes.io/metadata.name", zone_namespace(s, c->zone)}}}}},
         {"podSelector", {{"matchLabels", {{"txlab/role", dns_label(caller)}}}}}});
  }
  if (from.empty()) return nullptr;
  return {
      {"apiVersion", "networking.k8s.io/v1"},
      {"kind", "NetworkPolicy"},
      {"metadata", {{"name", "allow-to-" + name}, {"namespace", ns}}},
      {"spec",
       {{"podSelector", {{"matchLabels", {{"txlab/role", name}}}}},
        {"policyTypes", {"Ingress"}},
        {"ingress", {{{"from", from}, {"ports", {{{"protocol", "TCP"}, {"port", o.port}}}}}}}}}};
}

}  // namespace

std::map<std::string, std::string> export_k8s(const Scenario& s, const std::string& source_yaml,
                                              const ExportOptions& o) {
  std::map<std::string, std::string> files;
  const PeerUrl url_of = [&](const RoleSpec& peer) {
    return "http://" + dns_label(peer.id) + "." + zone_namespace(s, peer.zone) +
           ".svc.cluster.local:" + std::to_string(o.port);
  };
  std::vector<Json> namespaces, policies;
  std::set<std::string> zones;
  for (const auto& r : s.roles) {
    if (r.external || !zones.insert(r.zone).second) continue;
    auto [namespace_doc, deny] = k8s_zone(s, r.zone);
    namespaces.push_back(std::move(namespace_doc));
    policies.push_back(std::move(deny));
  }
  files["00-namespaces.yaml"] = documents(namespaces);
  const auto links = declared_links(s);
  size_t index = 10;
  for (const auto& r : s.roles) {
    if (r.external) continue;
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%02zu-", index++);
    files[std::string(prefix) + dns_label(r.id) + ".yaml"] =
        documents(k8s_role(s, r, source_yaml, o, url_of));
    if (Json allow = k8s_allow_policy(s, r, o, links); !allow.is_null())
      policies.push_back(std::move(allow));
  }
  files["90-network-policies.yaml"] = documents(policies);
  return files;
}

std::map<std::string, std::string> export_compose(const Scenario& s, const std::string& source_yaml,
                                                  const ExportOptions& o,
                                                  const std::string& compose_name) {
  std::map<std::string, std::string> files;
  const std::string dir = "txlab-compose";
  const auto url_of = [&](const RoleSpec& peer) {
    return "http://" + dns_label(peer.id) + ":" + std::to_string(o.port);
  };
  Json services = Json::object(), networks = Json::object();
  std::map<std::string, Json> member_of;
  for (const auto& r : s.roles) {
    if (r.external) continue;
    const std::string zone_net = "zone-" + dns_label(r.zone);
    networks[zone_net] = Json::object();
    member_of[r.id].push_back(zone_net);
  }
  for (const auto& [from, to] : declared_links(s)) {
    const RoleSpec *a = s.find_role(from), *b = s.find_role(to);
    if (a->zone == b->zone) continue;
    // One network per pair of roles, whichever way the links go.
    const std::string net =
        "link-" + dns_label(std::min(from, to)) + "--" + dns_label(std::max(from, to));
    if (networks.contains(net)) continue;
    networks[net] = Json::object();
    member_of[from].push_back(net);
    member_of[to].push_back(net);
  }
  for (const auto& r : s.roles) {
    if (r.external) continue;
    const std::string name = dns_label(r.id);
    std::map<std::string, std::string> secrets;
    files[dir + "/" + name + ".yaml"] = role_scenario_yaml(source_yaml, r.id, &secrets);
    Json svc = {
        {"image", o.image},
        {"command", serve_args(s, r, o.port, url_of)},
        {"volumes", {"./" + dir + "/" + name + ".yaml:" + kScenarioPath + ":ro"}},
        {"networks", member_of[r.id]},
        {"healthcheck",
         {{"test",
           {"CMD", "txlab", "health", "http://127.0.0.1:" + std::to_string(o.port) + "/healthz"}},
          {"interval", "5s"},
          {"timeout", "3s"},
          {"retries", 5}}},
        {"read_only", true},
        {"user", "10001:10001"},
        {"cap_drop", {"ALL"}},
        {"security_opt", {"no-new-privileges:true"}},
        {"labels", {{"txlab.role", r.id}, {"txlab.zone", r.zone}}}};
    if (!secrets.empty()) {
      std::string env;
      for (const auto& [k, v] : secrets) env += k + "=" + v + "\n";
      files[dir + "/" + name + ".env"] = env;
      svc["env_file"] = {"./" + dir + "/" + name + ".env"};
    }
    if (r.kind == RoleKind::kClient)
      svc["ports"] = {"127.0.0.1::" + std::to_string(o.port)};  // /invoke from the host only
    services[name] = svc;
  }
  files[compose_name] =
      "# txlab export of scenario '" + s.name +
      "': one `txlab serve --role` per role, a network per zone and one per cross-zone link\n" +
      to_yaml({{"version", "3.8"}, {"services", services}, {"networks", networks}});
  return files;
}

}  // namespace txlab
