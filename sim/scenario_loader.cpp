// Scenario YAML -> validated model. Every error names file, line and column and says what
// was expected; unknown keys are errors, convention breaks are warnings.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/jose/key.h"
#include "sim/scenario.h"
#include "sim/scenario_reader.h"

namespace txlab {

std::string_view to_string(RoleKind k) {
  switch (k) {
    case RoleKind::kAuthorizationServer:
      return "authorization_server";
    case RoleKind::kGateway:
      return "gateway";
    case RoleKind::kResourceServer:
      return "resource_server";
    case RoleKind::kClient:
      return "client";
  }
  return "?";
}

std::string_view to_string(ClientAuthMethod m) {
  switch (m) {
    case ClientAuthMethod::kClientSecretPost:
      return "client_secret_post";
    case ClientAuthMethod::kPrivateKeyJwt:
      return "private_key_jwt";
    case ClientAuthMethod::kTlsClientAuth:
      return "tls_client_auth";
    case ClientAuthMethod::kSelfSignedTlsClientAuth:
      return "self_signed_tls_client_auth";
    default:
      return "client_secret_basic";
  }
}

std::string Diagnostic::format(std::string_view severity) const {
  std::ostringstream o;
  o << file;
  if (pos.line > 0) o << ":" << pos.line << ":" << pos.column;
  o << ": " << severity << ": " << message;
  return o.str();
}

namespace {
std::string format_all(const std::vector<Diagnostic>& all) {
  std::string out;
  for (const auto& d : all) out += (out.empty() ? "" : "\n") + d.format("error");
  return out;
}
}  // namespace

ScenarioError::ScenarioError(std::vector<Diagnostic> all)
    : std::runtime_error(format_all(all)), all_(std::move(all)) {}

double Scenario::drift_ppm_of(const RoleSpec& role) const {
  if (role.drift_ppm) return *role.drift_ppm;
  auto it = zone_drift_ppm.find(role.zone);
  return it == zone_drift_ppm.end() ? 0 : it->second;
}

int64_t Scenario::clock_offset_of(const RoleSpec& role) const {
  if (role.clock_offset_s) return *role.clock_offset_s;
  auto it = zone_clock_offsets_s.find(role.zone);
  return it == zone_clock_offsets_s.end() ? 0 : it->second;
}

const RoleSpec* Scenario::find_role(const std::string& id) const {
  for (const auto& r : roles)
    if (r.id == id) return &r;
  return nullptr;
}

namespace scenario_detail {

LinkFaults read_link(const Reader& r, const YAML::Node& l, const std::string& where,
                     bool needs_to) {
  r.expect_map(l, where);
  std::vector<std::string> keys = {"latency_ms",
                                   "jitter_ms",
                                   "down",
                                   "reset",
                                   "stall",
                                   "bandwidth_kbps",
                                   "slow_close_ms",
                                   "loss",
                                   "loss_delay_ms",
                                   "at_s",
                                   "for_s",
                                   "at",
                                   "for"};
  if (needs_to) keys.insert(keys.end(), {"from", "to", "from_zone", "to_zone"});
  r.check_keys(l, keys, where);
  LinkFaults f;
  f.pos = r.pos(l);
  if (needs_to) {
    f.from = r.str(l, "from", where, false, "*");
    f.to = r.str(l, "to", where, false);
  }
  f.latency_ms = r.integer(l, "latency_ms", where, 0, 0, 60000);
  f.jitter_ms = r.integer(l, "jitter_ms", where, 0, 0, 60000);
  f.bandwidth_kbps = r.integer(l, "bandwidth_kbps", where, 0, 0, 100000000);
  f.slow_close_ms = r.integer(l, "slow_close_ms", where, 0, 0, 60000);
  f.loss = r.probability(l, "loss", where);
  f.loss_delay_ms = r.integer(l, "loss_delay_ms", where, 200, 1, 60000);
  f.down = r.probability(l, "down", where);
  f.reset = r.probability(l, "reset", where);
  f.stall = r.probability(l, "stall", where);
  if (f.down + f.reset + f.stall > 1.0)
    r.fail(l, "down + reset + stall must not exceed 1 in " + where);
  // The window: at_s/for_s, or at/for as durations (at: 10s, for: 20s).
  if ((l["at"] && l["at_s"]) || (l["for"] && l["for_s"]))
    r.fail(l, where + ": give the window as at/for or at_s/for_s, not both");
  f.at_s = l["at"] ? r.seconds(l, "at", where, 0) : r.seconds(l, "at_s", where, 0);
  f.for_s = l["for"] ? r.seconds(l, "for", where, 0) : r.seconds(l, "for_s", where, 0);
  return f;
}

}  // namespace scenario_detail

namespace {

using namespace scenario_detail;

const std::vector<std::string> kCommonRoleKeys = {"kind",           "zone",      "description",
                                                  "clock_offset_s", "drift_ppm", "jwks"};

std::vector<std::string> with_common(std::vector<std::string> keys) {
  keys.insert(keys.end(), kCommonRoleKeys.begin(), kCommonRoleKeys.end());
  return keys;
}

// ${NAME} in a value is the environment variable NAME (a vendor's URL is known only at run
// time; `txlab export` keeps every secret in the environment); an unset one is an error at the
// value. Applies to an external AS's URLs and issuer and to every `secret`.
std::string expand_env(const Reader& r, const YAML::Node& at, const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size();) {
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    const size_t end = value.find('}', i);
    if (end == std::string::npos) r.fail(at, "unterminated ${ in '" + value.substr(0, 80) + "'");
    const std::string name = value.substr(i + 2, end - i - 2);
    const char* v = name.empty() ? nullptr : std::getenv(name.c_str());
    if (!v) r.fail(at, "environment variable '" + name.substr(0, 64) + "' is not set");
    out += v;
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
  role.as.issuer = expand_env(r, n["issuer"], r.str(n, "issuer", where, true));
  ext.token_endpoint = expand_env(r, n["token_endpoint"], r.str(n, "token_endpoint", where, true));
  ext.jwks_uri = expand_env(r, n["jwks_uri"], r.str(n, "jwks_uri", where, true));
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

void read_authorization_server(const Reader& r, const YAML::Node& n, RoleSpec& role) {
  const std::string where = "authorization server '" + role.id + "'";
  r.check_keys(n,
               with_common({"leeway_s", "audit_max_entries", "issuer", "alg", "signing_key",
                            "access_token_ttl_s", "jwks_max_age_s", "clients", "exchange", "dpop"}),
               where);
  auto& as = role.as;
  if (const auto d = n["dpop"]) {
    const std::string dw = "'dpop' of " + where;
    r.expect_map(d, dw);
    r.check_keys(d, {"nonce", "max_age_s", "bound_subject_tokens"}, dw);
    as.dpop.nonce = r.boolean(d, "nonce", dw, false);
    as.dpop.max_age_s = r.integer(d, "max_age_s", dw, 60, 1, 3600);
    as.dpop.bound_subject_tokens =
        r.choice(d, "bound_subject_tokens", dw, {"rebind", "refuse"}, "rebind");
  }
  as.issuer = r.str(n, "issuer", where, false);
  // `issuer: served` (or none): the URL the AS is reached at, so that metadata and tokens name
  // the very URL discovery was fetched from (RFC 8414 §3.3).
  if (as.issuer == "served") as.issuer.clear();
  as.alg = r.choice(n, "alg", where, {"ES256", "RS256", "PS256", "EdDSA"}, "ES256");
  if (const std::string file = r.str(n, "signing_key", where, false); !file.empty()) {
    // Relative to the scenario file: a private JWK or PEM whose type matches alg.
    std::string path = file;
    if (path.front() != '/') {
      const auto slash = r.file().find_last_of('/');
      path =
          (slash == std::string::npos ? std::string(".") : r.file().substr(0, slash)) + "/" + file;
    }
    std::string err;
    auto key = jose::load_private_key_file(path, &err, *jose::alg_from_string(as.alg));
    if (!key) r.fail(n["signing_key"], "signing_key of " + where + ": " + err);
    if (key->alg() != *jose::alg_from_string(as.alg))
      r.fail(n["signing_key"], "signing_key of " + where + " is a " +
                                   std::string(jose::to_string(key->alg())) + " key, but alg is " +
                                   as.alg);
    as.signing_key = key;
  }
  as.access_token_ttl_s = r.integer(n, "access_token_ttl_s", where, 300, 1, 86400);
  as.jwks_max_age_s = r.integer(n, "jwks_max_age_s", where, 300, 0, 86400);
  as.audit_max_entries =
      static_cast<size_t>(r.integer(n, "audit_max_entries", where, 20000, 1, 100000000));
  if (const auto clients = n["clients"]) {
    r.expect_map(clients, "'clients' of " + where);
    for (auto it = clients.begin(); it != clients.end(); ++it) {
      ClientRegistration c;
      c.id = it->first.as<std::string>();
      c.pos = r.pos(it->first);
      const std::string cw = "client '" + c.id + "' of " + where;
      const YAML::Node cn = it->second;
      r.expect_map(cn, cw);
      r.check_keys(
          cn,
          {"secret", "auth", "grants", "audiences", "scope", "subject_audiences", "public_jwk",
           "dpop_bound_access_tokens", "dpop_bind_for_others", "tls_client_auth_subject_dn",
           "certificate_bound_access_tokens", "certificate_bind_for_others"},
          cw);
      c.tls_client_auth_subject_dn = r.str(cn, "tls_client_auth_subject_dn", cw, false);
      c.certificate_bound_access_tokens =
          r.boolean(cn, "certificate_bound_access_tokens", cw, false);
      c.certificate_bind_for_others = r.boolean(cn, "certificate_bind_for_others", cw, false);
      c.dpop_bound_access_tokens = r.boolean(cn, "dpop_bound_access_tokens", cw, false);
      c.dpop_bind_for_others = r.boolean(cn, "dpop_bind_for_others", cw, false);
      c.auth = r.auth(cn, cw, true);
      c.secret =
          expand_env(r, cn["secret"],
                     r.str(cn, "secret", cw,
                           c.auth != ClientAuthMethod::kPrivateKeyJwt && !is_tls_auth(c.auth)));
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
          r.fail(cn["grants"],
                 "unknown grant '" + g + "' in " + cw +
                     " (expected client_credentials, token-exchange or refresh_token)");
      c.audiences = r.strings(cn, "audiences", cw);
      c.scopes = r.scope_list(cn, "scope", cw);
      c.subject_audiences = r.strings(cn, "subject_audiences", cw);
      as.clients.push_back(std::move(c));
    }
  }
  if (const auto ex = n["exchange"]) {
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
    p.delegation = r.choice(ex, "semantics", ew, {"delegation", "impersonation"}, "delegation") ==
                   "delegation";
    p.actor_trust = r.strings(ex, "actor_trust", ew);
    p.max_act_depth = static_cast<int>(r.integer(ex, "max_act_depth", ew, 4, 1, 32));
    p.refresh_tokens = r.boolean(ex, "refresh_tokens", ew, false);
    p.refresh_ttl_s = r.integer(ex, "refresh_ttl_s", ew, 3600, 1, 86400 * 30);
    if (const auto b = ex["broker"]) {
      const std::string bw = "'broker' of " + where;
      r.expect_map(b, bw);
      r.check_keys(b,
                   {"via", "client_id", "secret", "auth", "dpop", "audiences", "cache",
                    "cache_margin_s", "cache_max_entries"},
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
      p.broker = std::move(rule);
    }
    as.exchange = std::move(p);
  }
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

// Runs one independent part of the file (a role, a call, a link); its errors are collected so
// that one run reports every mistake, not only the first. At most kMaxErrors are kept.
constexpr size_t kMaxErrors = 50;
template <class F>
void collect(std::vector<Diagnostic>& errors, F&& part) {
  try {
    part();
  } catch (const ScenarioError& e) {
    for (const auto& d : e.diagnostics())
      if (errors.size() < kMaxErrors) errors.push_back(d);
  }
}

void read_workload(const Reader& r, const YAML::Node& n, Scenario& s,
                   std::vector<Diagnostic>& errors) {
  if (!n.IsSequence()) r.fail(n, "'workload' must be a list of calls");
  for (const auto& c : n)
    collect(errors, [&] {
      r.expect_map(c, "a workload call");
      WorkloadCall call;
      call.pos = r.pos(c);
      call.name = r.str(c, "name", "a workload call", true);
      const std::string where = "workload call '" + call.name + "'";
      r.check_keys(c, {"name", "from", "to", "method", "path", "repeat", "expect"}, where);
      call.from = r.str(c, "from", where, true);
      call.to = r.str(c, "to", where, true);
      call.method = r.choice(c, "method", where, {"GET", "POST", "PUT", "DELETE"}, "GET");
      call.path = r.str(c, "path", where, false, "/");
      if (call.path.empty() || call.path[0] != '/')
        r.fail(c["path"], "path in " + where + " must start with '/'");
      call.repeat = static_cast<int>(r.integer(c, "repeat", where, 1, 1, 100000));
      if (const auto e = c["expect"]) {
        const std::string ew = "'expect' of " + where;
        r.expect_map(e, ew);
        r.check_keys(e, {"status", "error", "backend", "tokens"}, ew);
        if (e["status"])
          call.expect.status = static_cast<int>(r.integer(e, "status", ew, 0, 100, 599));
        call.expect.error = r.str(e, "error", ew, false);
        if (e["backend"]) call.expect.backend = r.claims(e["backend"], "'backend' of " + ew);
        if (const auto t = e["tokens"]) {
          r.expect_map(t, "'tokens' of " + ew);
          for (auto it = t.begin(); it != t.end(); ++it) {
            const auto label = it->first.as<std::string>();
            if (label.size() != 3 || label.compare(0, 2, "AT") != 0 || label[2] < '1' ||
                label[2] > '9')
              r.fail(it->first, "token label '" + label + "' in " + ew + " must be AT1, AT2, ...");
            call.expect.tokens[label] = r.claims(it->second, "token " + label + " of " + ew);
          }
        }
      }
      s.workload.push_back(std::move(call));
    });
}

// Cross-references and conventions, after everything is read.
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

}  // namespace

Scenario load_scenario_text(const std::string& yaml, const std::string& file_label) {
  Reader r(file_label);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(
        {file_label, {e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg});
  }
  if (!root || !root.IsMap())
    throw ScenarioError({file_label, {1, 1}, "a scenario must be a YAML mapping"});
  Scenario s;
  s.file = file_label;
  try {
    r.check_keys(root,
                 {"scenario", "topology", "description", "leeway_s", "roles", "workload", "links",
                  "zones", "timeline", "client_id_convention", "tls"},
                 "the scenario");
    s.mutual_tls = r.choice(root, "tls", "the scenario", {"off", "mutual"}, "off") == "mutual";
    if (const auto zones = root["zones"]) {
      r.expect_map(zones, "'zones'");
      for (auto it = zones.begin(); it != zones.end(); ++it) {
        const std::string zone = it->first.as<std::string>();
        const std::string where = "zone '" + zone + "'";
        r.expect_map(it->second, where);
        r.check_keys(it->second, {"clock_offset_s", "drift_ppm"}, where);
        s.zone_clock_offsets_s[zone] =
            r.integer(it->second, "clock_offset_s", where, 0, -86400, 86400);
        if (it->second["drift_ppm"])
          s.zone_drift_ppm[zone] = r.integer(it->second, "drift_ppm", where, 0, -1000000, 1000000);
      }
    }
    s.name = r.str(root, "scenario", "the scenario", true);
    s.topology = r.choice(root, "topology", "the scenario",
                          {"broker", "direct", "multi-caller", "custom"}, "custom");
    s.description = r.str(root, "description", "the scenario", false);
    s.leeway_s = r.integer(root, "leeway_s", "the scenario", 30, 0, 3600);
    s.client_id_convention =
        r.choice(root, "client_id_convention", "the scenario", {"warn", "off"}, "warn") == "warn";
    const auto roles = root["roles"];
    if (!roles || !roles.IsMap() || roles.size() == 0)
      r.fail(root, "the scenario needs 'roles': a mapping of role id to role");
    std::vector<Diagnostic> errors;
    for (auto it = roles.begin(); it != roles.end(); ++it) {
      RoleSpec role;
      collect(errors, [&] {
        role.id = it->first.as<std::string>();
        role.pos = r.pos(it->first);
        const bool id_ok = !role.id.empty() && role.id.size() <= 64 &&
                           std::islower(static_cast<unsigned char>(role.id[0])) &&
                           std::all_of(role.id.begin(), role.id.end(), [](char ch) {
                             return std::islower(static_cast<unsigned char>(ch)) ||
                                    std::isdigit(static_cast<unsigned char>(ch)) || ch == '-';
                           });
        if (!id_ok)
          r.fail(it->first, "role id '" + role.id.substr(0, 64) +
                                "' must be 1-64 lower-case letters, digits and '-'");
        if (s.find_role(role.id)) r.fail(it->first, "role '" + role.id + "' is defined twice");
        const YAML::Node n = it->second;
        r.expect_map(n, "role '" + role.id + "'");
        const std::string kind = r.choice(n, "kind", "role '" + role.id + "'",
                                          {"authorization_server", "external_authorization_server",
                                           "gateway", "resource_server", "client"},
                                          "");
        role.zone = r.str(n, "zone", "role '" + role.id + "'", false);
        if (n["clock_offset_s"])
          role.clock_offset_s =
              r.integer(n, "clock_offset_s", "role '" + role.id + "'", 0, -86400, 86400);
        if (n["drift_ppm"])
          role.drift_ppm = static_cast<double>(
              r.integer(n, "drift_ppm", "role '" + role.id + "'", 0, -1000000, 1000000));
        if (const auto j = n["jwks"]) {
          const std::string jw = "'jwks' of role '" + role.id + "'";
          r.expect_map(j, jw);
          r.check_keys(j, {"min_refresh_interval_s", "max_stale_s"}, jw);
          role.jwks.min_refresh_interval_s =
              r.integer(j, "min_refresh_interval_s", jw, 10, 0, 86400);
          role.jwks.max_stale_s = r.integer(j, "max_stale_s", jw, 600, 0, 86400 * 30);
        }
        if (n["leeway_s"])
          role.leeway_s = r.integer(n, "leeway_s", "role '" + role.id + "'", 30, 0, 3600);
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
      });
      // Kept even when part of it was wrong, so references to it do not add errors of their own.
      if (!role.id.empty() && !s.find_role(role.id)) s.roles.push_back(std::move(role));
    }
    if (const auto w = root["workload"]) collect(errors, [&] { read_workload(r, w, s, errors); });
    if (const auto links = root["links"]) {
      if (!links.IsSequence()) r.fail(links, "'links' must be a list of {from, to, faults...}");
      for (const auto& l : links)
        collect(errors, [&] {
          LinkFaults f = read_link(r, l, "a link", true);
          const std::string from_zone = r.str(l, "from_zone", "a link", false);
          const std::string to_zone = r.str(l, "to_zone", "a link", false);
          if (from_zone.empty() != to_zone.empty())
            r.fail(l, "a zone link needs both 'from_zone' and 'to_zone'");
          if (!from_zone.empty()) {
            if (l["from"] || l["to"])
              r.fail(l,
                     "a link names either roles (from/to) or zones (from_zone/to_zone), not both");
            // Every role of to_zone, reached from every role of from_zone: one seeded proxy per
            // pair.
            bool any = false;
            for (const auto& to : s.roles) {
              if (to.zone != to_zone || to.kind == RoleKind::kClient) continue;
              for (const auto& from : s.roles) {
                if (from.zone != from_zone || from.id == to.id) continue;
                LinkFaults pair = f;
                pair.from = from.id;
                pair.to = to.id;
                pair.origin = "zone " + from_zone + "->" + to_zone;
                s.links.push_back(pair);
                any = true;
              }
            }
            if (!any)
              r.fail(l, "no role of zone '" + from_zone + "' can reach a role of zone '" + to_zone +
                            "'");
            return;
          }
          if (f.to.empty()) r.fail(l, "a link needs 'to' (a role) or 'from_zone' and 'to_zone'");
          f.origin = "links";
          s.links.push_back(f);
        });
    }
    if (const auto t = root["timeline"])
      collect(errors, [&] { s.timeline = read_timeline(r, t, s); });
    // Cross-references only once every part reads: a part that did not would add echoes.
    if (errors.empty()) validate(r, s, errors);
    if (!errors.empty()) throw ScenarioError(std::move(errors));
  } catch (const YAML::Exception& e) {
    throw ScenarioError({file_label, {e.mark.line + 1, e.mark.column + 1}, e.msg});
  }
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ScenarioError({path, {}, "cannot read file"});
  std::stringstream buf;
  buf << in.rdbuf();
  return load_scenario_text(buf.str(), path);
}

}  // namespace txlab
