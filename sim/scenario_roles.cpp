// Scenario YAML, the `roles:` section: one reader per role kind (authorization server, external
// authorization server, gateway, resource server, client) and the keys every role shares.
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sim/jose/key.h"
#include "sim/scenario.h"
#include "sim/scenario_reader.h"
#include "sim/scenario_sections.h"

namespace txlab::scenario_detail {

namespace {

const std::vector<std::string> kCommonRoleKeys = {"kind",           "zone",      "description",
                                                  "clock_offset_s", "drift_ppm", "jwks"};

std::vector<std::string> with_common(std::vector<std::string> keys) {
  keys.insert(keys.end(), kCommonRoleKeys.begin(), kCommonRoleKeys.end());
  return keys;
}

// ${NAME} in a value is the environment variable NAME (a vendor's URL is known only at run
// time; `txlab export` keeps every secret in the environment), looked up by the load options'
// env (the process environment, or --env-file's values under it). An unset one is an error at
// the value; in lint mode a warning, the value checked with a stand-in (see ScenarioLoadOptions).
// Applies to an external AS's URLs and issuer (`url`) and to every `secret`.
std::string expand_env(const Reader& r, const YAML::Node& at, const std::string& value,
                       bool url = false) {
  std::string out;
  for (size_t i = 0; i < value.size();) {
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    const size_t end = value.find('}', i);
    if (end == std::string::npos) r.fail(at, "unterminated ${ in '" + value.substr(0, 80) + "'");
    const std::string name = value.substr(i + 2, end - i - 2);
    if (name.empty()) r.fail(at, "empty ${} in '" + value.substr(0, 80) + "'");
    const auto v = r.options().env ? r.options().env(name) : std::nullopt;
    if (v) {
      out += *v;
    } else if (r.options().lint) {
      const std::string stand_in = url && i == 0 ? kUnsetUrl : kUnsetText;
      r.warn(r.pending_warnings(), r.pos(at),
             "environment variable '" + name.substr(0, 64) + "' is not set (checked with '" +
                 stand_in + "' in its place; set it or pass --env-file to check the real value)");
      out += stand_in;
    } else {
      r.fail(at, "environment variable '" + name.substr(0, 64) + "' is not set");
    }
    i = end + 1;
  }
  return out;
}

ClientCredentials read_credentials(const Reader& r, const YAML::Node& n, const std::string& where,
                                   const std::string& as_key) {
  ClientCredentials c;
  c.as_role = r.str(n, as_key, where, true);
  c.client_id = r.str(n, "client_id", where, true);
  c.auth = r.auth(n, where);
  c.secret = expand_env(r, n["secret"], r.str(n, "secret", where, !is_tls_auth(c.auth)));
  c.dpop = r.boolean(n, "dpop", where, false);
  return c;
}

void read_external_authorization_server(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "external authorization server '" + role.id + "'";
  r.check_keys(n,
               with_common({"issuer", "token_endpoint", "jwks_uri", "access_token_typ",
                            "access_token_claims"}),
               where);
  ExternalAuthorizationServer ext;
  role.as.issuer = expand_env(r, n["issuer"], r.str(n, "issuer", where, true), true);
  ext.token_endpoint =
      expand_env(r, n["token_endpoint"], r.str(n, "token_endpoint", where, true), true);
  ext.jwks_uri = expand_env(r, n["jwks_uri"], r.str(n, "jwks_uri", where, true), true);
  ext.access_token_typ = r.str(n, "access_token_typ", where, false, "at+jwt");
  if (const auto c = n["access_token_claims"]) {
    const std::string cw = "'access_token_claims' of " + where;
    r.expect_map(c, cw);
    for (auto it = c.begin(); it != c.end(); ++it) {
      if (!it->second.IsScalar()) r.fail(it->second, cw + ": each value is a string");
      ext.access_token_claims[it->first.as<std::string>()] = it->second.as<std::string>();
    }
  }
  auto origin = [](const std::string& url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos || (url.rfind("http://", 0) != 0)) return std::string();
    return url.substr(0, url.find('/', scheme + 3));
  };
  for (const auto& [key, url] :
       {std::pair<const char*, std::string>{"token_endpoint", ext.token_endpoint},
        {"jwks_uri", ext.jwks_uri}})
    if (origin(url).empty())
      r.fail(n[key], std::string(key) + " of " + where + " must be an http:// URL (got '" +
                         url.substr(0, 80) + "')");
  if (origin(ext.token_endpoint) != origin(ext.jwks_uri))
    r.fail(n["jwks_uri"], "token_endpoint and jwks_uri of " + where +
                              " must be on one server (scheme, host and port)");
  role.external = std::move(ext);
}

void read_as_dpop(const Reader& r, const YAML::Node& d, const std::string& dw,
                  AuthorizationServerSpec& as) {
  r.expect_map(d, dw);
  r.check_keys(d, {"nonce", "max_age_s", "bound_subject_tokens"}, dw);
  as.dpop.nonce = r.boolean(d, "nonce", dw, false);
  as.dpop.max_age_s = r.integer(d, "max_age_s", dw, 60, 1, 3600);
  as.dpop.bound_subject_tokens =
      r.choice(d, "bound_subject_tokens", dw, {"rebind", "refuse"}, "rebind");
}

// `signing_key: FILE`, relative to the scenario file: a private JWK or PEM whose type matches alg.
jose::Key read_signing_key(const Reader& r, const YAML::Node& n, const std::string& file,
                           const std::string& where, const std::string& alg) {
  std::string path = file;
  if (path.front() != '/') {
    const auto slash = r.file().find_last_of('/');
    path = (slash == std::string::npos ? std::string(".") : r.file().substr(0, slash)) + "/" + file;
  }
  std::string err;
  auto key = jose::load_private_key_file(path, &err, *jose::alg_from_string(alg));
  if (!key) r.fail(n["signing_key"], "signing_key of " + where + ": " + err);
  if (key->alg() != *jose::alg_from_string(alg))
    r.fail(n["signing_key"], "signing_key of " + where + " is a " +
                                 std::string(jose::to_string(key->alg())) + " key, but alg is " +
                                 alg);
  return *key;
}

// One entry of an authorization server's `clients:` (`key` is the client id).
ClientRegistration read_client_registration(const Reader& r, const YAML::Node& key,
                                            const YAML::Node& cn, const std::string& where) {
  ClientRegistration c;
  c.id = key.as<std::string>();
  c.pos = r.pos(key);
  const std::string cw = "client '" + c.id + "' of " + where;
  r.expect_map(cn, cw);
  r.check_keys(cn,
               {"secret", "auth", "grants", "audiences", "scope", "subject_audiences", "public_jwk",
                "dpop_bound_access_tokens", "dpop_bind_for_others", "tls_client_auth_subject_dn",
                "certificate_bound_access_tokens", "certificate_bind_for_others"},
               cw);
  c.tls_client_auth_subject_dn = r.str(cn, "tls_client_auth_subject_dn", cw, false);
  c.certificate_bound_access_tokens = r.boolean(cn, "certificate_bound_access_tokens", cw, false);
  c.certificate_bind_for_others = r.boolean(cn, "certificate_bind_for_others", cw, false);
  c.dpop_bound_access_tokens = r.boolean(cn, "dpop_bound_access_tokens", cw, false);
  c.dpop_bind_for_others = r.boolean(cn, "dpop_bind_for_others", cw, false);
  c.auth = r.auth(cn, cw, true);
  c.secret = expand_env(
      r, cn["secret"],
      r.str(cn, "secret", cw, c.auth != ClientAuthMethod::kPrivateKeyJwt && !is_tls_auth(c.auth)));
  c.public_jwk = r.str(cn, "public_jwk", cw, c.auth == ClientAuthMethod::kPrivateKeyJwt);
  if (!c.public_jwk.empty()) {
    std::string err;
    const auto jwk = nlohmann::json::parse(c.public_jwk, nullptr, false);
    if (jwk.is_discarded() || !jose::Key::from_jwk(jwk, &err))
      r.fail(cn["public_jwk"], "'public_jwk' of " + cw + " is not a usable public JWK" +
                                   (err.empty() ? "" : ": " + err));
  }
  c.grants = r.strings(cn, "grants", cw);
  if (c.grants.empty())
    r.fail(cn, cw + " needs 'grants' (client_credentials, token-exchange, refresh_token)");
  for (const auto& g : c.grants)
    if (g != "client_credentials" && g != "token-exchange" && g != "refresh_token")
      r.fail(cn["grants"], "unknown grant '" + g + "' in " + cw +
                               " (expected client_credentials, token-exchange or refresh_token)");
  c.audiences = r.strings(cn, "audiences", cw);
  c.scopes = r.scope_list(cn, "scope", cw);
  c.subject_audiences = r.strings(cn, "subject_audiences", cw);
  return c;
}

// `exchange.broker` of an authorization server: where it exchanges next (RFC 8693 chaining).
BrokerRule read_broker(const Reader& r, const YAML::Node& b, const std::string& where) {
  const std::string bw = "'broker' of " + where;
  r.expect_map(b, bw);
  r.check_keys(
      b,
      {"via", "client_id", "secret", "auth", "dpop", "audiences", "cache", "cache_margin_s",
       "cache_max_entries", "subject_token_type", "params", "send_audience"},
      bw);
  BrokerRule rule;
  rule.via = read_credentials(r, b, bw, "via");
  rule.cache = r.boolean(b, "cache", bw, false);
  rule.cache_margin_s = r.integer(b, "cache_margin_s", bw, 15, 0, 3600);
  rule.cache_max_entries =
      static_cast<size_t>(r.integer(b, "cache_max_entries", bw, 10000, 1, 10000000));
  rule.audiences = r.strings(b, "audiences", bw);
  if (rule.audiences.empty())
    r.fail(b, bw + " needs 'audiences' (the targets served by the next AS)");
  rule.send_audience = r.boolean(b, "send_audience", bw, true);
  rule.subject_token_type_jwt =
      r.choice(b, "subject_token_type", bw, {"access_token", "jwt"}, "access_token") == "jwt";
  if (const auto params = b["params"]) {
    const std::string pw = "'params' of " + bw;
    r.expect_map(params, pw);
    // The request's own parameters stay txlab's: a vendor extension cannot replace them.
    static const std::vector<std::string> kReserved = {"grant_type",
                                                       "subject_token",
                                                       "subject_token_type",
                                                       "requested_token_type",
                                                       "audience",
                                                       "resource",
                                                       "scope",
                                                       "actor_token",
                                                       "actor_token_type",
                                                       "client_id",
                                                       "client_secret",
                                                       "client_assertion",
                                                       "client_assertion_type"};
    for (auto it = params.begin(); it != params.end(); ++it) {
      const std::string name = it->first.as<std::string>();
      if (std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end())
        r.fail(it->first, pw + ": '" + name + "' is a parameter txlab sets itself");
      if (!it->second.IsScalar()) r.fail(it->second, pw + ": '" + name + "' must be a string");
      rule.params.emplace_back(name, expand_env(r, it->second, it->second.as<std::string>()));
    }
  }
  return rule;
}

// `exchange` of an authorization server: its token-exchange policy.
ExchangePolicy read_exchange_policy(const Reader& r, const YAML::Node& ex,
                                    const std::string& where) {
  const std::string ew = "'exchange' of " + where;
  r.expect_map(ex, ew);
  r.check_keys(
      ex,
      {"trust", "max_ttl_s", "cap_to_subject_exp", "act_style", "invalid_subject_error", "broker",
       "semantics", "actor_trust", "max_act_depth", "refresh_tokens", "refresh_ttl_s"},
      ew);
  ExchangePolicy p;
  p.trust = r.strings(ex, "trust", ew);
  if (p.trust.empty())
    r.fail(ex, ew + " needs 'trust': the AS roles whose tokens it accepts as subject tokens");
  p.max_ttl_s = r.integer(ex, "max_ttl_s", ew, 300, 1, 86400);
  p.cap_to_subject_exp = r.boolean(ex, "cap_to_subject_exp", ew, true);
  p.act_style =
      r.choice(ex, "act_style", ew, {"rfc8693", "caller-in-act"}, "rfc8693") == "caller-in-act"
          ? ActStyle::kCallerInAct
          : ActStyle::kRfc8693;
  p.invalid_subject_error = r.choice(ex, "invalid_subject_error", ew,
                                     {"invalid_grant", "invalid_request"}, "invalid_grant");
  p.delegation =
      r.choice(ex, "semantics", ew, {"delegation", "impersonation"}, "delegation") == "delegation";
  p.actor_trust = r.strings(ex, "actor_trust", ew);
  p.max_act_depth = static_cast<int>(r.integer(ex, "max_act_depth", ew, 4, 1, 32));
  p.refresh_tokens = r.boolean(ex, "refresh_tokens", ew, false);
  p.refresh_ttl_s = r.integer(ex, "refresh_ttl_s", ew, 3600, 1, 86400 * 30);
  if (const auto b = ex["broker"]) p.broker = read_broker(r, b, where);
  return p;
}

void read_authorization_server(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "authorization server '" + role.id + "'";
  r.check_keys(n,
               with_common({"leeway_s", "audit_max_entries", "issuer", "alg", "signing_key",
                            "access_token_ttl_s", "jwks_max_age_s", "clients", "exchange", "dpop"}),
               where);
  auto& as = role.as;
  if (const auto d = n["dpop"]) read_as_dpop(r, d, "'dpop' of " + where, as);
  as.issuer = r.str(n, "issuer", where, false);
  // `issuer: served` (or none): the URL the AS is reached at, so that metadata and tokens name
  // the very URL discovery was fetched from (RFC 8414 §3.3).
  if (as.issuer == "served") as.issuer.clear();
  as.alg = r.choice(n, "alg", where, {"ES256", "RS256", "PS256", "EdDSA"}, "ES256");
  if (const std::string file =
          expand_env(r, n["signing_key"], r.str(n, "signing_key", where, false));
      !file.empty() && !(r.options().lint && file.find(kUnsetText) != std::string::npos))
    as.signing_key = read_signing_key(r, n, file, where, as.alg);  // lint: unset, warned above
  as.access_token_ttl_s = r.integer(n, "access_token_ttl_s", where, 300, 1, 86400);
  as.jwks_max_age_s = r.integer(n, "jwks_max_age_s", where, 300, 0, 86400);
  as.audit_max_entries =
      static_cast<size_t>(r.integer(n, "audit_max_entries", where, 20000, 1, 100000000));
  if (const auto clients = n["clients"]) {
    r.expect_map(clients, "'clients' of " + where);
    for (auto it = clients.begin(); it != clients.end(); ++it)
      as.clients.push_back(read_client_registration(r, it->first, it->second, where));
  }
  if (const auto ex = n["exchange"]) as.exchange = read_exchange_policy(r, ex, where);
}

void read_gateway(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "gateway '" + role.id + "'";
  r.check_keys(n,
               with_common({"leeway_s", "trust", "audience", "exchange", "routes", "introspection",
                            "verified_token_cache", "timeout_ms", "retries", "dpop", "mtls"}),
               where);
  role.gateway.mtls_required =
      r.choice(n, "mtls", where, {"allowed", "required"}, "allowed") == "required";
  role.gateway.dpop = r.choice(n, "dpop", where, {"allowed", "required"}, "allowed") == "required"
                          ? DpopInbound::kRequired
                          : DpopInbound::kAllowed;
  role.gateway.timeout_ms = r.integer(n, "timeout_ms", where, 5000, 10, 600000);
  role.gateway.retries = static_cast<int>(r.integer(n, "retries", where, 1, 0, 5));
  role.gateway.verified_token_cache = r.boolean(n, "verified_token_cache", where, false);
  auto& g = role.gateway;
  g.trust = r.strings(n, "trust", where);
  if (g.trust.empty()) r.fail(n, where + " needs 'trust': the AS roles whose tokens it accepts");
  g.audiences = r.strings(n, "audience", where);
  if (g.audiences.empty()) r.fail(n, where + " needs 'audience': the aud value it requires");
  if (const auto ex = n["exchange"]) {
    const std::string ew = "'exchange' of " + where;
    r.expect_map(ex, ew);
    r.check_keys(ex,
                 {"at", "client_id", "secret", "auth", "dpop", "audiences", "scope", "cache",
                  "cache_margin_s", "cache_max_entries"},
                 ew);
    GatewayExchange e;
    e.client = read_credentials(r, ex, ew, "at");
    e.audiences = r.strings(ex, "audiences", ew);
    e.scope = r.str(ex, "scope", ew, false);
    e.cache = r.boolean(ex, "cache", ew, false);
    e.cache_margin_s = r.integer(ex, "cache_margin_s", ew, 15, 0, 3600);
    e.cache_max_entries =
        static_cast<size_t>(r.integer(ex, "cache_max_entries", ew, 10000, 1, 10000000));
    g.exchange = std::move(e);
  }
  if (const auto in = n["introspection"]) {
    const std::string iw = "'introspection' of " + where;
    r.expect_map(in, iw);
    r.check_keys(in, {"at", "client_id", "secret", "auth"}, iw);
    g.introspection = read_credentials(r, in, iw, "at");
  }
  const auto routes = n["routes"];
  if (!routes || !routes.IsSequence() || routes.size() == 0)
    r.fail(n, where + " needs 'routes': a list of {prefix, to}");
  for (const auto& rt : routes) {
    r.expect_map(rt, "a route of " + where);
    r.check_keys(rt, {"prefix", "to", "introspect"}, "a route of " + where);
    Route route{r.str(rt, "prefix", "a route of " + where, true),
                r.str(rt, "to", "a route of " + where, true),
                r.boolean(rt, "introspect", "a route of " + where, false)};
    if (route.introspect && !n["introspection"])
      r.fail(rt, "route '" + route.prefix + "' of " + where +
                     " introspects, so the gateway needs 'introspection: {at, client_id, secret}'");
    if (route.prefix.empty() || route.prefix[0] != '/')
      r.fail(rt["prefix"], "route prefix must start with '/'");
    g.routes.push_back(std::move(route));
  }
}

void read_resource_server(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "resource server '" + role.id + "'";
  r.check_keys(n,
               with_common({"leeway_s", "trust", "audience", "scope", "verified_token_cache",
                            "dpop", "mtls"}),
               where);
  role.resource.mtls_required =
      r.choice(n, "mtls", where, {"allowed", "required"}, "allowed") == "required";
  role.resource.dpop = r.choice(n, "dpop", where, {"allowed", "required"}, "allowed") == "required"
                           ? DpopInbound::kRequired
                           : DpopInbound::kAllowed;
  role.resource.verified_token_cache = r.boolean(n, "verified_token_cache", where, false);
  role.resource.trust = r.strings(n, "trust", where);
  if (role.resource.trust.empty()) r.fail(n, where + " needs 'trust'");
  role.resource.audiences = r.strings(n, "audience", where);
  if (role.resource.audiences.empty()) r.fail(n, where + " needs 'audience'");
  role.resource.required_scope = r.str(n, "scope", where, false);
}

void read_client(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "client '" + role.id + "'";
  r.check_keys(n, with_common({"as", "client_id", "secret", "auth", "dpop", "audience", "scope"}),
               where);
  role.client.credentials = read_credentials(r, n, where, "as");
  role.client.audiences = r.strings(n, "audience", where);
  role.client.scope = r.str(n, "scope", where, false);
}

// The keys every role may carry besides its kind's own: zone, clock, JWKS cache, leeway.
void read_common(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "role '" + role.id + "'";
  role.zone = r.str(n, "zone", where, false);
  (void)r.str(n, "description", where, false);  // free text, but text
  if (n["clock_offset_s"])
    role.clock_offset_s = r.integer(n, "clock_offset_s", where, 0, -86400, 86400);
  if (n["drift_ppm"])
    role.drift_ppm = static_cast<double>(r.integer(n, "drift_ppm", where, 0, -1000000, 1000000));
  if (const auto j = n["jwks"]) {
    const std::string jw = "'jwks' of " + where;
    r.expect_map(j, jw);
    r.check_keys(j, {"min_refresh_interval_s", "max_stale_s"}, jw);
    role.jwks.min_refresh_interval_s = r.integer(j, "min_refresh_interval_s", jw, 10, 0, 86400);
    role.jwks.max_stale_s = r.integer(j, "max_stale_s", jw, 600, 0, 86400 * 30);
  }
  if (n["leeway_s"]) role.leeway_s = r.integer(n, "leeway_s", where, 30, 0, 3600);
}

}  // namespace

void read_role(const Reader& r, const YAML::Node& key, const YAML::Node& n, const Scenario& s,
               RoleSpec& role) {
  role.id = key.as<std::string>();
  role.pos = r.pos(key);
  const bool id_ok = !role.id.empty() && role.id.size() <= 64 &&
                     std::islower(static_cast<unsigned char>(role.id[0])) &&
                     std::all_of(role.id.begin(), role.id.end(), [](char ch) {
                       return std::islower(static_cast<unsigned char>(ch)) ||
                              std::isdigit(static_cast<unsigned char>(ch)) || ch == '-';
                     });
  if (!id_ok)
    r.fail(key, "role id '" + role.id.substr(0, 64) +
                    "' must be 1-64 lower-case letters, digits and '-'");
  if (s.find_role(role.id)) r.fail(key, "role '" + role.id + "' is defined twice");
  r.expect_map(n, "role '" + role.id + "'");
  const std::string kind = r.choice(n, "kind", "role '" + role.id + "'",
                                    {"authorization_server", "external_authorization_server",
                                     "gateway", "resource_server", "client"},
                                    "");
  read_common(r, n, role);
  if (kind == "authorization_server") {
    role.kind = RoleKind::kAuthorizationServer;
    read_authorization_server(r, n, role);
  } else if (kind == "external_authorization_server") {
    role.kind = RoleKind::kAuthorizationServer;
    read_external_authorization_server(r, n, role);
  } else if (kind == "gateway") {
    role.kind = RoleKind::kGateway;
    read_gateway(r, n, role);
  } else if (kind == "resource_server") {
    role.kind = RoleKind::kResourceServer;
    read_resource_server(r, n, role);
  } else {
    role.kind = RoleKind::kClient;
    read_client(r, n, role);
  }
}

}  // namespace txlab::scenario_detail
