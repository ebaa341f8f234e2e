// Target builders: built-in AS roles and remote servers.
#include "conformance/targets.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "conformance/probe.h"
#include "sim/http/client_pool.h"
#include "sim/http/form.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/jwks_source.h"
#include "sim/tls.h"
#include "world/world.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

// RFC 8705 cases: certificates for a certificate-authenticated client. tls_client_auth: its
// registered subject from the run's CA, another subject from the same CA, its subject from a
// CA nobody trusts. self_signed_tls_client_auth: the holder's registered self-signed
// certificate, a self-signed one of another subject, and a certificate of the run's CA with
// the holder's subject (not the registered one either).
MtlsClient mtls_client_of(World& world, const MutualTls& m, const ClientRegistration& c) {
  MtlsClient mc;
  mc.client_id = c.id;
  mc.bound_tokens = c.certificate_bound_access_tokens;
  TlsIdentity registered, other, untrusted;
  if (c.auth == ClientAuthMethod::kSelfSignedTlsClientAuth) {
    registered = m.self_signed.at(c.tls_certificate_holder);
    other = make_self_signed_identity(c.tls_certificate_holder + "-impostor");
    untrusted = world.transport().issue_certificate(c.tls_certificate_holder);
  } else {
    // The subject's CN (txlab's subjects are CN=<name>,O=txlab).
    std::string cn = c.tls_client_auth_subject_dn;
    if (cn.rfind("CN=", 0) == 0)
      cn = cn.substr(3, cn.find(',') == std::string::npos ? std::string::npos : cn.find(',') - 3);
    registered = world.transport().issue_certificate(cn);
    other = world.transport().issue_certificate(cn + "-impostor");
    TlsAuthority stranger_ca;
    untrusted = stranger_ca.issue(cn);
  }
  mc.cert_pem = registered.cert_pem;
  mc.key_pem = registered.key_pem;
  mc.wrong_subject_cert_pem = other.cert_pem;
  mc.wrong_subject_key_pem = other.key_pem;
  mc.untrusted_cert_pem = untrusted.cert_pem;
  mc.untrusted_key_pem = untrusted.key_pem;
  return mc;
}

}  // namespace

Target target_from_world(World& world, const std::string& as_role, Profile profile) {
  if (world.directory().is_external(as_role))
    throw std::invalid_argument("role '" + as_role +
                                "' is an external authorization server: grade it by URL "
                                "(--target-url) instead");
  AuthorizationServer& as = world.authorization_server(as_role);
  const auto& spec = as.spec();
  if (!spec.exchange)
    throw std::invalid_argument("role '" + as_role + "' does not perform token exchange");
  auto exchanges = [](const ClientRegistration& c) {
    return std::find(c.grants.begin(), c.grants.end(), "token-exchange") != c.grants.end();
  };
  // The exchanger: a client_secret_basic client, else (mutual TLS) one that authenticates with
  // its certificate.
  const ClientRegistration* exchanger = nullptr;
  for (const auto& c : spec.clients)
    if (!exchanger && exchanges(c) && c.auth == ClientAuthMethod::kClientSecretBasic)
      exchanger = &c;
  const ClientRegistration* mtls_client = nullptr;
  if (world.transport().mutual_tls())
    for (const auto& c : spec.clients)
      if (!mtls_client && exchanges(c) && is_tls_auth(c.auth)) mtls_client = &c;
  if (!exchanger) exchanger = mtls_client;
  if (!exchanger)
    throw std::invalid_argument("role '" + as_role +
                                "' has no client_secret_basic (or, with tls: mutual, certificate-"
                                "authenticated) client with the token-exchange grant");
  const auto& policy = *spec.exchange;

  Target t;
  t.name = as_role + " (" + as.issuer() + ")";
  t.token_endpoint = as.token_endpoint();
  t.issuer = as.issuer();
  t.accepted_issuers = {as.issuer()};
  t.jwks_uris = {world.directory().url_of(as_role) + "/jwks"};
  if (policy.broker) {
    t.accepted_issuers.push_back(world.directory().issuer_of(policy.broker->via.as_role));
    t.jwks_uris.push_back(world.directory().url_of(policy.broker->via.as_role) + "/jwks");
    t.intermediaries.push_back(policy.broker->via.client_id);
  }
  t.exchanger = {exchanger->id, exchanger->secret};
  t.exchanger_dpop = exchanger->dpop_bound_access_tokens;
  t.forbidden_audience_known = true;  // not among the exchanger's registered audiences
  if (!exchanger->audiences.empty()) t.audience = exchanger->audiences.front();
  t.profile = profile;
  t.expects_delegation = policy.delegation;
  t.honours_may_act = true;  // the built-in AS applies may_act
  if (const MutualTls* m = world.transport().mutual_tls()) {
    t.tls_ca_pem = m->ca_pem;
    if (mtls_client) t.mtls = mtls_client_of(world, *m, *mtls_client);
  }

  // Subject and actor tokens are minted with the real key of the first trusted issuer; a
  // second trusted issuer (when the policy has one) serves the issuer/key mix-up checks.
  const std::string trusted = policy.trust.front();
  World* w = &world;
  t.clock = &world.time().clock(trusted);
  t.pass_time = [w](int seconds) { w->time().advance_time(seconds); };
  t.rotate_issuer_key = [w, trusted]() -> std::shared_ptr<const jose::Key> {
    AuthorizationServer& as = w->authorization_server(trusted);
    as.key_store().rotate();
    as.key_store().retire_old();
    return std::make_shared<jose::Key>(as.key_store().signing_key());
  };
  for (const auto& role : policy.trust) {
    t.issuer_keys.push_back(
        {world.directory().issuer_of(role),
         std::make_shared<jose::Key>(world.authorization_server(role).key_store().signing_key())});
    t.subject_jwks_uris.push_back(world.directory().url_of(role) + "/jwks");
  }
  t.jwt_access_tokens = true;  // the built-in AS issues RFC 9068 tokens
  t.scopes_beyond_subject = exchanger->scopes;
  for (const auto& c : spec.clients) {
    const bool te = std::find(c.grants.begin(), c.grants.end(), "token-exchange") != c.grants.end();
    if (!te && c.auth == ClientAuthMethod::kClientSecretBasic && !c.secret.empty() &&
        !t.unauthorized_client)
      t.unauthorized_client = Credentials{c.id, c.secret};
    if (te && c.auth == ClientAuthMethod::kClientSecretPost && !t.post_client)
      t.post_client = Credentials{c.id, c.secret};
    if (te && c.auth == ClientAuthMethod::kClientSecretBasic && c.dpop_bound_access_tokens &&
        !t.dpop_bound_client)
      t.dpop_bound_client = Credentials{c.id, c.secret};
  }
  // The subject holds one scope fewer than the exchanger may hold when it can (so that a
  // server widening scope is caught).
  std::vector<std::string> scopes = exchanger->scopes;
  if (scopes.size() > 1) scopes.resize(1);
  std::string scope;
  for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  t.mint_template = {{"iss", world.directory().issuer_of(trusted)},
                     {"sub", "txlab-conformance-subject"},
                     {"aud", exchanger->id},
                     {"client_id", "txlab-conformance-subject"}};
  if (!scope.empty()) t.mint_template["scope"] = scope;
  auto mint_fresh = [w, trusted](Json claims) {
    const int64_t now = w->time().clock(trusted).now_s();
    claims["iat"] = now;
    claims["exp"] = now + 300;
    static std::atomic<int> n{0};
    claims["jti"] = "txlab-conformance-" + std::to_string(now) + "-" + std::to_string(++n);
    return w->authorization_server(trusted).sign(claims);
  };
  const Json subject_template = t.mint_template;
  t.subject_token = [mint_fresh, subject_template](std::string*) -> std::optional<std::string> {
    return mint_fresh(subject_template);
  };
  Json actor = subject_template;
  actor["sub"] = "txlab-conformance-actor";
  actor["client_id"] = "txlab-conformance-actor";
  t.actor_token = [mint_fresh, actor](std::string*) -> std::optional<std::string> {
    return mint_fresh(actor);
  };
  return t;
}

namespace {

struct Fetched {
  int status = 0;
  Json body;
  std::string error;
};

Fetched get_json(http::HttpClientPool& pool, const std::string& url) {
  std::string base, path;
  Fetched f;
  if (!split_url(url, &base, &path)) return f;
  http::OutboundRequest req;
  req.path = path;
  req.headers.emplace_back("Accept", "application/json");
  auto res = pool.send(base, req);
  f.status = res.status;
  f.error = std::string(http::to_string(res.error));
  f.body = Json::parse(res.body, nullptr, false);
  return f;
}

// https with the given CA (--ca) is spoken by txlab's own client; otherwise the generic one.
http::ClientOptions client_options(const RemoteOptions& o, size_t idle) {
  http::ClientOptions c{o.timeout_ms, o.timeout_ms, idle};
  if (!o.tls_ca_pem.empty())
    c.tls = std::make_shared<const http::ClientOptions::Tls>(
        http::ClientOptions::Tls{o.tls_ca_pem, "", ""});
  return c;
}

// RFC 8414 / OIDC discovery under o.base_url: fills the token endpoint and *jwks when not
// given, the issuer, grant_types_supported and scopes_supported. False (and *error) when no
// document names a token endpoint.
bool discover(http::HttpClientPool& pool, const RemoteOptions& o, Target& t, std::string* jwks,
              std::string* error) {
  std::string base = o.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string scheme_host, path;
  Json meta;
  std::vector<std::string> candidates = {base + "/.well-known/oauth-authorization-server",
                                         base + "/.well-known/openid-configuration"};
  // RFC 8414 §3.1: for an issuer with a path, the well-known segment goes first.
  if (split_url(base, &scheme_host, &path) && path != "/")
    candidates.insert(candidates.begin() + 1,
                      scheme_host + "/.well-known/oauth-authorization-server" + path);
  for (const auto& url : candidates) {
    auto f = get_json(pool, url);
    if (f.status == 200 && f.body.is_object() && !json_str(f.body, "token_endpoint").empty()) {
      meta = f.body;
      break;
    }
  }
  if (meta.is_null()) {
    *error = "no RFC 8414 or OpenID discovery document with a token_endpoint under " + base;
    return false;
  }
  if (t.token_endpoint.empty()) t.token_endpoint = json_str(meta, "token_endpoint");
  if (jwks->empty()) *jwks = json_str(meta, "jwks_uri");
  t.issuer = json_str(meta, "issuer");
  // RFC 8414 §2: grant_types_supported (absent means the default, which lacks token exchange;
  // only an explicit list is taken as the server's word).
  if (meta.contains("grant_types_supported") && meta["grant_types_supported"].is_array()) {
    std::vector<std::string> grants;
    for (const auto& g : meta["grant_types_supported"])
      if (g.is_string()) grants.push_back(g.get<std::string>());
    t.grant_types_supported = grants;
  }
  if (meta.contains("scopes_supported") && meta["scopes_supported"].is_array())
    for (const auto& sc : meta["scopes_supported"])
      if (sc.is_string()) t.scopes_supported.push_back(sc.get<std::string>());
  return true;
}

// A key given as PEM carries the RFC 7638 thumbprint as its kid, but the target may publish
// the same key under a kid of its own (Keycloak derives another): sign with the published
// one.
void adopt_published_kids(const RemoteOptions& o, const std::string& jwks,
                          std::vector<IssuerKey>& keys) {
  if (jwks.empty() || keys.empty()) return;
  http::HttpClientPool pool(client_options(o, 1));
  const Fetched published = get_json(pool, jwks);
  if (published.status != 200) return;
  for (auto& ik : keys)
    for (const auto& k : parse_jwks(published.body.dump(), nullptr))
      if (k.thumbprint() == ik.key->thumbprint() && k.kid() != ik.key->kid()) {
        auto renamed = std::make_shared<jose::Key>(*ik.key);
        renamed->set_kid(k.kid());
        ik.key = renamed;
      }
}

using TokenSource = std::function<std::optional<std::string>(std::string* error)>;

// Subject (and actor) tokens: client_credentials for `subject` at the target itself.
TokenSource client_credentials_tokens(const Credentials& subject, const std::string& endpoint,
                                      const http::ClientOptions& pool_options) {
  return [subject, endpoint, pool_options](std::string* err) -> std::optional<std::string> {
    std::string base, path;
    if (!split_url(endpoint, &base, &path)) {
      *err = "token endpoint is not an http(s) URL";
      return std::nullopt;
    }
    http::HttpClientPool pool(pool_options);
    auto res = pool.send(base, http::form_post(path, {{"grant_type", "client_credentials"}},
                                               subject.id, subject.secret));
    if (res.status == 400 || res.status == 401) {
      // A server that takes client_secret_post only.
      auto post = pool.send(base, http::form_post(path,
                                                  {{"grant_type", "client_credentials"},
                                                   {"client_id", subject.id},
                                                   {"client_secret", subject.secret}},
                                                  "", ""));
      if (post.status == 200) res = post;
    }
    auto j = Json::parse(res.body, nullptr, false);
    const std::string token = json_str(j, "access_token");
    if (res.status == 0) {
      *err = "client_credentials for subject client '" + subject.id + "': no answer (" +
             std::string(http::to_string(res.error)) + ")";
      return std::nullopt;
    }
    if (res.status != 200 || token.empty()) {
      *err = "client_credentials for subject client '" + subject.id + "' failed: HTTP " +
             std::to_string(res.status) + " " + json_str(j, "error");
      return std::nullopt;
    }
    return token;
  };
}

// Scopes the exchanger may hold (its own client_credentials token) are candidates for the
// wider-scope probes when subject tokens come from another client.
void add_exchanger_scopes(const RemoteOptions& o, const std::string& endpoint, Target& t) {
  if (!o.subject_client || o.subject_client->id == o.exchanger.id) return;
  std::string base, path;
  if (!split_url(endpoint, &base, &path)) return;
  http::HttpClientPool own(client_options(o, 1));
  auto res = own.send(base, http::form_post(path, {{"grant_type", "client_credentials"}},
                                            o.exchanger.id, o.exchanger.secret));
  auto j = Json::parse(res.body, nullptr, false);
  std::string scope = json_str(j, "scope");
  if (auto d = jose::decode_unverified(json_str(j, "access_token")); d && scope.empty())
    scope = json_str(d->second, "scope");
  std::istringstream in(scope);
  for (std::string s1; in >> s1;) t.scopes_beyond_subject.push_back(s1);
}

// Minted subject tokens look like the target's own subject tokens (claims copied from a real
// one, fresh times and jti) with the issuer key's iss, addressed to the exchanger and the
// target too, so that only the one thing a case changes can make the target refuse them.
void set_mint_template(const RemoteOptions& o, const TokenSource& fetch, Target& t) {
  Json claims = Json::object();
  std::string typ = "at+jwt";
  std::string err;
  if (auto real = fetch(&err)) {
    if (auto d = jose::decode_unverified(*real)) {
      claims = d->second;
      typ = json_str(d->first, "typ");
    }
  }
  for (const char* k : {"iat", "exp", "nbf", "jti", "act", "may_act", "cnf"}) claims.erase(k);
  if (!claims.contains("sub")) claims["sub"] = "txlab-conformance-subject";
  if (!claims.contains("client_id"))
    claims["client_id"] = o.subject_client.value_or(o.exchanger).id;
  Json aud = Json::array();
  auto add_aud = [&](const Json& v) {
    if (v.is_string() && std::find(aud.begin(), aud.end(), v) == aud.end()) aud.push_back(v);
  };
  if (claims.contains("aud")) {
    if (claims["aud"].is_array())
      for (const auto& v : claims["aud"]) add_aud(v);
    else
      add_aud(claims["aud"]);
  }
  add_aud(Json(o.exchanger.id));
  if (!t.issuer.empty()) add_aud(Json(t.issuer));
  claims["aud"] = o.subject_audience.is_null() ? aud : o.subject_audience;
  if (!o.subject_scope.empty()) claims["scope"] = o.subject_scope;
  claims["iss"] = t.issuer_keys[0].issuer;
  t.mint_template = claims;
  t.minted_typ = typ;
}

}  // namespace

std::optional<Target> target_from_url(const RemoteOptions& o, std::string* error) {
  Target t;
  t.name = o.base_url.empty() ? o.token_endpoint : o.base_url;
  t.profile = o.profile;
  t.timeout_ms = o.timeout_ms;
  t.exchanger = o.exchanger;
  t.audience = o.audience;
  if (!o.forbidden_audience.empty()) t.forbidden_audience = o.forbidden_audience;
  t.forbidden_audience_known = !o.forbidden_audience.empty();
  t.token_endpoint = o.token_endpoint;
  std::string jwks = o.jwks_uri;

  http::HttpClientPool pool(client_options(o, 2));
  if (!o.base_url.empty() && (t.token_endpoint.empty() || jwks.empty()) &&
      !discover(pool, o, t, &jwks, error))
    return std::nullopt;
  if (t.token_endpoint.empty()) {
    *error = "no token endpoint: give --target-url (with discovery) or --token-endpoint";
    return std::nullopt;
  }
  if (!t.issuer.empty()) t.accepted_issuers = {t.issuer};
  if (!jwks.empty()) t.jwks_uris = {jwks};
  // Subject tokens come from the target itself (client_credentials): its JWKS has their keys.
  t.subject_jwks_uris = t.jwks_uris;
  t.issuer_keys = o.issuer_keys;
  adopt_published_kids(o, jwks, t.issuer_keys);
  t.jwt_access_tokens = o.jwt_access_tokens;
  t.expects_delegation = o.expects_delegation;
  t.honours_may_act = o.honours_may_act;
  t.unauthorized_client = o.unauthorized_client;
  t.dpop_bound_client = o.dpop_bound_client;
  t.tls_ca_pem = o.tls_ca_pem;
  t.mtls = o.mtls;
  t.scopes_beyond_subject = o.scopes_beyond_subject;
  const std::string endpoint = t.token_endpoint;
  const TokenSource fetch = client_credentials_tokens(o.subject_client.value_or(o.exchanger),
                                                      endpoint, client_options(o, 1));
  t.subject_token = fetch;
  t.actor_token = fetch;
  add_exchanger_scopes(o, endpoint, t);
  if (!t.issuer_keys.empty()) set_mint_template(o, fetch, t);
  return t;
}

}  // namespace txlab::conformance
