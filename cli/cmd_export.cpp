// txlab export: a scenario as Kubernetes manifests or a Compose file of `txlab serve --role`
// processes, or as the Keycloak realm its external AS needs.
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include "cli/command.h"
#include "world/export.h"

namespace txlab::cli {

int cmd_export(const Args& a, const Scenario& s) {
  const int targets = !a.k8s_dir.empty() + !a.compose_file.empty() + !a.keycloak_realm.empty();
  if (targets != 1)
    usage_error("export needs exactly one of --k8s DIR, --compose FILE and --keycloak-realm FILE");
  if (a.keycloak_realm.empty() && (!a.as_role.empty() || !a.realm.empty() || a.conformance_clients))
    usage_error("--as, --realm and --conformance-clients go with --keycloak-realm");
  if (!a.keycloak_realm.empty()) {
    std::string as = a.as_role;
    for (const auto& r : s.roles)
      if (as.empty() && r.external) as = r.id;
    const RoleSpec* spec = s.find_role(as);
    std::string realm = a.realm;
    if (realm.empty() && spec && spec->external) {
      std::string iss = spec->as.issuer;
      while (!iss.empty() && iss.back() == '/') iss.pop_back();
      const size_t at = iss.rfind("/realms/");
      realm = at == std::string::npos ? "txlab" : iss.substr(at + 8);
    }
    std::string error;
    const std::string json = export_keycloak_realm(s, as, realm, a.conformance_clients, &error);
    if (json.empty()) usage_error("--keycloak-realm: " + error);
    if (!write_file(a.keycloak_realm, json)) return 3;
    std::cout << a.keycloak_realm << "\n";
    return 0;
  }
  if (s.mutual_tls) {
    std::cerr << "txlab export: " << s.file
              << " uses 'tls: mutual', whose CA and certificates txlab makes per run in one "
                 "process; deployed roles need certificates of your own PKI (not exported yet)\n";
    return 2;
  }
  std::ifstream in(s.file);
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ExportOptions o;
  o.image = a.image.empty() ? std::string("txlab:") + TXLAB_VERSION : a.image;
  std::map<std::string, std::string> files;
  std::string base;
  if (!a.k8s_dir.empty()) {
    files = export_k8s(s, source, o);
    base = a.k8s_dir + "/";
  } else {
    const size_t slash = a.compose_file.rfind('/');
    base = slash == std::string::npos ? "" : a.compose_file.substr(0, slash + 1);
    files = export_compose(
        s, source, o,
        slash == std::string::npos ? a.compose_file : a.compose_file.substr(slash + 1));
  }
  for (const auto& r : s.roles)
    if (r.kind == RoleKind::kAuthorizationServer && !r.external && r.as.issuer.empty())
      std::cerr << "txlab export: warning: authorization server '" << r.id
                << "' has no issuer: it would advertise its listen address; set issuer:\n";
  for (const auto& [name, text] : files) {
    if (!write_file(base + name, text)) return 3;
    std::cout << base << name << "\n";
  }
  return 0;
}

}  // namespace txlab::cli
