// The Keycloak realm of a scenario's external authorization server: its clients and secrets,
// token-exchange switches, audience mappers, the conformance clients, and an identity provider
// for each txlab AS that brokers to it (see export.h).
#include <algorithm>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "world/export.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

Json audience_mapper(const std::string& audience) {
  return {{"name", "aud-" + audience},
          {"protocol", "openid-connect"},
          {"protocolMapper", "oidc-audience-mapper"},
          {"config",
           {{"included.client.audience", audience},
            {"access.token.claim", "true"},
            {"id.token.claim", "false"},
            {"introspection.token.claim", "true"}}}};
}

Json confidential(const std::string& id, const std::string& name, const std::string& secret,
                  bool service_account, const std::vector<std::string>& audiences,
                  std::optional<bool> exchange) {
  Json c = {{"clientId", id},
            {"name", name},
            {"enabled", true},
            {"publicClient", false},
            {"secret", secret},
            {"clientAuthenticatorType", "client-secret"},
            {"serviceAccountsEnabled", service_account},
            {"standardFlowEnabled", false},
            {"directAccessGrantsEnabled", false}};
  if (exchange)
    c["attributes"] = {{"standard.token.exchange.enabled", *exchange ? "true" : "false"}};
  if (!audiences.empty()) {
    c["protocolMappers"] = Json::array();
    for (const auto& a : audiences) c["protocolMappers"].push_back(audience_mapper(a));
  }
  return c;
}

// Keycloak's external-to-internal token exchange (legacy V1) for a txlab AS that brokers to
// it: an OpenID Connect identity provider that validates the AS's tokens by signature, with its
// public key held in the realm (txlab's ports are chosen at run time, so a JWKS URL is not known
// when Keycloak starts). Keycloak checks the `typ` claim of external tokens against its own
// token types unless told not to; txlab's tokens carry none.
std::optional<Json> identity_provider(const RoleSpec& as, const BrokerRule& rule,
                                      std::string* error) {
  std::string alias = as.id;
  for (const auto& [name, value] : rule.params)
    if (name == "subject_issuer") alias = value;
  if (as.as.issuer.empty() || !as.as.signing_key) {
    *error = "'" + as.id +
             "' brokers to Keycloak: it needs an issuer name and a signing_key (the identity "
             "provider in Keycloak's realm holds its issuer and public key)";
    return std::nullopt;
  }
  // The PEM's base64 body (Keycloak's form takes the key without its armour lines).
  std::string key_b64;
  std::istringstream pem(as.as.signing_key->public_pem());
  for (std::string line; std::getline(pem, line);)
    if (line.rfind("-----", 0) != 0) key_b64 += line;
  return Json{{"alias", alias},
              {"displayName", "txlab authorization server '" + as.id + "'"},
              {"providerId", "oidc"},
              {"enabled", true},
              {"config",
               {{"issuer", as.as.issuer},
                {"validateSignature", "true"},
                {"useJwksUrl", "false"},
                {"publicKeySignatureVerifier", key_b64},
                {"publicKeySignatureVerifierKeyId", as.as.signing_key->kid()},
                {"disableTypeClaimCheck", "true"},
                {"disableUserInfo", "true"},
                {"syncMode", "IMPORT"},
                // Required by the provider's form; unused by token exchange.
                {"clientId", "txlab"},
                {"clientSecret", "unused"},
                {"authorizationUrl", as.as.issuer + "/authorize"},
                {"tokenUrl", as.as.issuer + "/token"}}}};
}

}  // namespace

std::string export_keycloak_realm(const Scenario& s, const std::string& as_role,
                                  const std::string& realm, bool conformance_clients,
                                  std::string* error) {
  const RoleSpec* as = s.find_role(as_role);
  if (!as || !as->external) {
    *error = "'" + as_role + "' is not an external authorization server of the scenario";
    return {};
  }
  Json clients = Json::array(), providers = Json::array();
  std::vector<std::string> ids, audiences;
  auto add_audiences = [&](const std::vector<std::string>& v) {
    for (const auto& a : v)
      if (std::find(audiences.begin(), audiences.end(), a) == audiences.end())
        audiences.push_back(a);
  };
  if (conformance_clients) {
    // What `txlab conform --profile keycloak` uses, and the negative cases of the vendor notes.
    clients.push_back(confidential(
        "subject-client",
        "issues the subject tokens (client_credentials); its tokens name requester-client, "
        "dpop-bound-client and mtls-client in aud",
        "subject-secret", true, {"requester-client", "dpop-bound-client", "mtls-client"},
        std::nullopt));
    clients.push_back(confidential("requester-client",
                                   "the exchanger: standard token exchange on; may narrow to "
                                   "target-client",
                                   "requester-secret", true, {"target-client"}, true));
    // RFC 9449 §5.2: an exchanger registered to always use DPoP (Keycloak's "Require DPoP bound
    // tokens" switch).
    Json dpop_bound = confidential("dpop-bound-client",
                                   "an exchanger whose token requests must carry a DPoP proof",
                                   "dpop-bound-secret", true, {"target-client"}, true);
    dpop_bound["attributes"]["dpop.bound.access.tokens"] = "true";
    clients.push_back(std::move(dpop_bound));
    // RFC 8705 §2.1 / §3: an exchanger that authenticates with its certificate (Keycloak's
    // X509 client authenticator, matching the subject DN the fixture's CA issues) and receives
    // certificate-bound tokens. Served over https with a client-certificate truststore only.
    Json mtls = confidential("mtls-client",
                             "an exchanger authenticating with its certificate (tls_client_auth); "
                             "its tokens are certificate-bound",
                             "", true, {"target-client"}, true);
    mtls.erase("secret");
    mtls["clientAuthenticatorType"] = "client-x509";
    mtls["attributes"]["x509.subjectdn"] = "CN=mtls-client,O=txlab";
    mtls["attributes"]["x509.allow.regex.pattern.comparison"] = "false";
    mtls["attributes"]["tls.client.certificate.bound.access.tokens"] = "true";
    clients.push_back(std::move(mtls));
    clients.push_back(confidential("target-client", "the audience the exchanged token is for",
                                   "target-secret", false, {}, std::nullopt));
    clients.push_back(confidential("no-exchange-client",
                                   "negative case: a confidential client with the token-exchange "
                                   "switch off",
                                   "no-exchange-secret", true, {}, false));
    clients.push_back(confidential("outsider",
                                   "negative case: exchange on, but not in the subject token's aud",
                                   "outsider-secret", true, {}, true));
    clients.push_back({{"clientId", "public-client"},
                       {"name", "negative case: a public client"},
                       {"enabled", true},
                       {"publicClient", true},
                       {"standardFlowEnabled", true},
                       {"redirectUris", {"http://127.0.0.1/cb"}},
                       {"directAccessGrantsEnabled", false}});
    ids = {"subject-client", "requester-client",   "dpop-bound-client", "mtls-client",
           "target-client",  "no-exchange-client", "outsider",          "public-client"};
  }
  auto add_client = [&](const ClientCredentials& c, const std::string& name,
                        const std::vector<std::string>& aud, bool exchange) {
    if (c.as_role != as_role || std::find(ids.begin(), ids.end(), c.client_id) != ids.end()) return;
    ids.push_back(c.client_id);
    add_audiences(aud);
    clients.push_back(confidential(c.client_id, name, c.secret, true, aud,
                                   exchange ? std::optional<bool>(true) : std::nullopt));
  };
  for (const auto& r : s.roles) {
    if (r.kind == RoleKind::kClient) {
      std::vector<std::string> aud = r.client.audiences;
      if (aud.empty())  // the audiences of the gateways its workload calls
        for (const auto& w : s.workload)
          if (w.from == r.id)
            if (const RoleSpec* to = s.find_role(w.to); to && to->kind == RoleKind::kGateway)
              for (const auto& a : to->gateway.audiences)
                if (std::find(aud.begin(), aud.end(), a) == aud.end()) aud.push_back(a);
      add_client(r.client.credentials, "role " + r.id + ": a client (client_credentials)", aud,
                 false);
    }
    if (r.kind == RoleKind::kGateway && r.gateway.exchange)
      add_client(r.gateway.exchange->client, "role " + r.id + ": a gateway exchanging tokens",
                 r.gateway.exchange->audiences, true);
    if (r.kind == RoleKind::kGateway && r.gateway.introspection)
      add_client(*r.gateway.introspection, "role " + r.id + ": introspection", {}, false);
    if (r.kind == RoleKind::kAuthorizationServer && r.as.exchange && r.as.exchange->broker &&
        r.as.exchange->broker->via.as_role == as_role) {
      const BrokerRule& rule = *r.as.exchange->broker;
      // Keycloak's V1 exchange takes one `audience`; the mappers put every brokered target in
      // the tokens it issues to this client.
      add_client(rule.via, "role " + r.id + ": its back-channel registration (brokered exchange)",
                 rule.audiences, true);
      auto idp = identity_provider(r, rule, error);
      if (!idp) return {};
      providers.push_back(std::move(*idp));
    }
  }
  for (const auto& a : audiences)
    if (std::find(ids.begin(), ids.end(), a) == ids.end()) {
      ids.push_back(a);
      clients.push_back(
          confidential(a, "an audience of the scenario", a + "-secret", false, {}, std::nullopt));
    }
  Json out = {
      {"realm", realm}, {"enabled", true}, {"accessTokenLifespan", 300}, {"clients", clients}};
  if (!providers.empty()) out["identityProviders"] = std::move(providers);
  return out.dump(1) + "\n";
}

}  // namespace txlab
