// The attack catalogue and its runner.
#include "conformance/attacks.h"
#include "conformance/holder.h"
#include "conformance/isolation.h"

#include <functional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "actors/token_client.h"
#include "conformance/judge.h"
#include "sim/http/form.h"
#include "sim/http/oauth_error.h"
#include "sim/http/server.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/tls.h"
#include "sim/xml.h"
#include "world/world.h"

namespace txlab::conformance {

using Json = nlohmann::json;

size_t AttackReport::failed() const {
  size_t n = 0;
  for (const auto& r : results) n += r.passed ? 0 : 1;
  return n;
}

namespace {

struct Observed {
  int status = 0;
  std::string error;
  Json body;
  std::string describe() const {
    std::string s = status ? std::to_string(status) : "no answer";
    if (!error.empty()) s += " " + error;
    return s;
  }
};

Observed observe(const http::InboundResponse& r) {
  Observed o;
  o.status = r.status;
  o.body = Json::parse(r.body, nullptr, false);
  o.error = http::parse_oauth_error(r.status, r.body, r.header("WWW-Authenticate")).error;
  return o;
}

// What the topology offers to attack.
struct Topology {
  std::string entry_gw;                  // a gateway that exchanges (clients call it)
  std::string entry_as;                  // the AS the entry gateway trusts (issues AT1)
  std::string client_id, client_secret;  // a client of entry_as
  std::vector<std::string> client_audiences;
  std::string entry_audience;  // aud the entry gateway requires
  std::string exchange_as;     // where the entry gateway exchanges
  ClientCredentials exchanger;
  std::vector<std::string> exchanger_audiences;
  std::string edge_gw;  // a gateway that does not exchange ("" if none)
  std::string edge_as;  // the AS the edge gateway trusts
  std::string edge_audience;
  std::string backend;     // a resource server ("" if none)
  std::string foreign_as;  // an AS the entry gateway does not trust ("" if none)
};

Topology discover(World& w) {
  Topology t;
  const Scenario& s = w.scenario();
  for (const auto& r : s.roles) {
    if (r.kind == RoleKind::kGateway && r.gateway.exchange && t.entry_gw.empty()) {
      t.entry_gw = r.id;
      t.entry_as = r.gateway.trust.front();
      t.entry_audience = r.gateway.audiences.front();
      t.exchange_as = r.gateway.exchange->client.as_role;
      t.exchanger = r.gateway.exchange->client;
      t.exchanger_audiences = r.gateway.exchange->audiences;
    }
  }
  for (const auto& r : s.roles) {
    if (r.kind == RoleKind::kGateway && !r.gateway.exchange && t.edge_gw.empty()) {
      t.edge_gw = r.id;
      t.edge_as = r.gateway.trust.front();
      t.edge_audience = r.gateway.audiences.front();
    }
    if (r.kind == RoleKind::kResourceServer && t.backend.empty()) t.backend = r.id;
    if (r.kind == RoleKind::kClient && t.client_id.empty() &&
        r.client.credentials.as_role == t.entry_as) {
      t.client_id = r.client.credentials.client_id;
      t.client_secret = r.client.credentials.secret;
      t.client_audiences = r.client.audiences;
    }
  }
  if (const RoleSpec* g = s.find_role(t.entry_gw)) {
    for (const auto& r : s.roles)
      if (r.kind == RoleKind::kAuthorizationServer &&
          std::find(g->gateway.trust.begin(), g->gateway.trust.end(), r.id) ==
              g->gateway.trust.end() &&
          t.foreign_as.empty())
        t.foreign_as = r.id;
  }
  return t;
}

class Runner {
 public:
  Runner(World& w, AttackReport& report, const AttackProgress& progress)
      : w_(w), report_(report), progress_(progress), t_(discover(w)) {}

  void run();

 private:
  int64_t now(const std::string& role) { return w_.clock(role).now_s(); }

  Json access_claims(const std::string& as, const std::string& aud) {
    const int64_t n = now(as);
    return {{"iss", w_.issuer_of(as)},
            {"sub", t_.client_id},
            {"aud", aud},
            {"client_id", t_.client_id},
            {"iat", n},
            {"exp", n + 300},
            {"jti", "attack-" + std::to_string(++jti_)}};
  }
  std::string sign(const std::string& as, const Json& claims, const std::string& typ = "at+jwt") {
    return w_.authorization_server(as).sign(claims, typ);
  }
  std::string raw_token(const Json& header, const Json& claims, const std::string& sig) {
    return jose::base64url_encode(header.dump()) + "." + jose::base64url_encode(claims.dump()) +
           "." + jose::base64url_encode(sig);
  }
  std::string at1() {
    http::FormParams f = {{"grant_type", "client_credentials"}};
    auto r = post(t_.entry_as, token_path(t_.entry_as), f, t_.client_id, t_.client_secret);
    return json_str(r.body, "access_token");
  }
  std::string token_path(const std::string& role) const { return w_.token_path_of(role); }
  bool external(const std::string& role) const {
    const RoleSpec* spec = w_.scenario().find_role(role);
    return spec && spec->external;
  }
  void run_external();
  // The role that holds `client_id`'s credentials at `as_role` ("" when none runs here).
  std::string holder_role_of_client(const std::string& as_role, const std::string& client_id) {
    for (const auto& r : w_.scenario().roles)
      if (r.kind == RoleKind::kClient && r.client.credentials.as_role == as_role &&
          r.client.credentials.client_id == client_id)
        return r.id;
    return {};
  }

  // A token as its holder presents it: a DPoP-bound token of one of the world's roles with the
  // DPoP scheme and that role's proof (so a refusal is about the token, not about who sent it),
  // anything else as a bearer token.
  Observed bearer(const std::string& role, const std::string& token, size_t pad_header = 0) {
    http::OutboundRequest req;
    req.path = "/attack/probe";
    const auto d = jose::decode_unverified(token);
    const Presenter holder = d ? holder_of(w_, d->second) : Presenter{};
    req.headers.emplace_back("Authorization", (holder.dpop ? "DPoP " : "Bearer ") + token);
    if (pad_header) req.headers.emplace_back("X-Padding", std::string(pad_header, 'a'));
    return observe(send_proved(w_, w_.url_of(role), req, holder, token));
  }
  // As the role holding these credentials would send it (with its DPoP proof when it uses one).
  Observed post(const std::string& role, const std::string& path, const http::FormParams& form,
                const std::string& id, const std::string& secret) {
    return observe(send_proved(w_, w_.url_of(role), token_request(w_, role, path, form, id, secret),
                               presenter_for_client(w_, role, id)));
  }
  Observed exchange(const http::FormParams& extra, const std::string& subject,
                    const std::string& type = kTypeAccessToken,
                    const std::string& secret_override = {}) {
    http::FormParams f = {{"grant_type", kGrantTokenExchange},
                          {"subject_token", subject},
                          {"subject_token_type", type}};
    for (const auto& kv : extra) f.push_back(kv);
    return post(t_.exchange_as, token_path(t_.exchange_as), f, t_.exchanger.client_id,
                secret_override.empty() ? t_.exchanger.secret : secret_override);
  }

  // Records one attack. `expect` returns "" when the observation is the expected one.
  void add(const std::string& id, const std::string& category, const std::string& title,
           const std::string& target, const std::string& expected,
           const std::function<Observed()>& attack,
           const std::function<bool(const Observed&)>& as_expected) {
    AttackResult r{id, category, title, target, expected, "", false, ""};
    try {
      const Observed o = attack();
      r.observed = o.describe();
      r.passed = as_expected(o);
    } catch (const std::exception& e) {
      r.observed = std::string("attack aborted: ") + e.what();
    }
    report_.results.push_back(std::move(r));
    if (progress_) progress_(report_.results.size(), report_.results.back());
  }
  void bearer_refused(const std::string& id, const std::string& category, const std::string& title,
                      const std::string& role, const std::function<std::string()> token,
                      size_t pad = 0) {
    add(
        id, category, title, role, "401 invalid_token",
        [&, token, pad] { return bearer(role, token(), pad); },
        [](const Observed& o) { return o.status == 401 && o.error == "invalid_token"; });
  }
  void bearer_4xx(const std::string& id, const std::string& category, const std::string& title,
                  const std::string& role, const std::function<std::string()> token,
                  size_t pad = 0) {
    add(
        id, category, title, role, "4xx, no crash",
        [&, token, pad] { return bearer(role, token(), pad); },
        [](const Observed& o) { return o.status >= 400 && o.status < 500; });
  }

  World& w_;
  AttackReport& report_;
  const AttackProgress& progress_;
  Topology t_;
  int jti_ = 0;
};

void Runner::run() {
  if (t_.entry_gw.empty() || t_.client_id.empty()) {
    report_.results.push_back({"setup/topology", "setup",
                               "the scenario has an exchanging gateway and a client of its AS", "-",
                               "an entry gateway and a client", "none found", false, ""});
    return;
  }
  if (external(t_.entry_as) || external(t_.exchange_as)) return run_external();
  const std::string G = t_.entry_gw, A = t_.entry_as, X = t_.exchange_as;
  const std::string kType = "Token-type confusion (seed 004 #1)",
                    kMix = "Issuer mix-up (seed 004 #2)",
                    kLeak = "Leaked client credentials (seed 004 #3)",
                    kJwt = "JWT attacks (RFC 8725)", kReplay = "Cross-zone replay",
                    kRev = "Revocation and introspection (RFC 7009, RFC 7662)";

  // Control: the legitimate token passes, so the rejections below mean something.
  add(
      "control/legitimate-token-accepted", "Control",
      "A legitimate AT1 passes the entry gateway's verification", G, "not 401",
      [&] { return bearer(G, at1()); },
      [](const Observed& o) { return o.status != 401 && o.status != 0; });

  // ---- 0. sender-constrained tokens (RFC 9449), when the entry client binds its tokens ----
  if (const DpopProver* holder = presenter_for_client(w_, A, t_.client_id).dpop) {
    const std::string kDpop = "Sender-constrained tokens (RFC 9449)";
    const DpopProver thief(w_.clock(G));  // an attacker's own key
    const std::string url = w_.url_of(G) + "/attack/probe";
    auto present = [this, G](const std::string& scheme, const std::string& token,
                             const std::vector<std::string>& proofs, const std::string& method) {
      http::OutboundRequest req;
      req.method = method;
      req.path = "/attack/probe";
      req.headers.emplace_back("Authorization", scheme + " " + token);
      for (const auto& p : proofs) req.headers.emplace_back("DPoP", p);
      return observe(w_.http().send(w_.url_of(G), req));
    };
    auto bad_proof = [](const Observed& o) {
      return o.status == 401 && o.error == "invalid_dpop_proof";
    };
    const std::string kBadProof = "401 invalid_dpop_proof";
    add(
        "dpop/stolen-token-without-key", kDpop,
        "A stolen bound AT1 with a proof signed by the thief's own key (RFC 9449 §7.1)", G,
        kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {thief.proof("GET", url, t)}, "GET");
        },
        bad_proof);
    add(
        "dpop/bound-token-as-bearer", kDpop,
        "A bound AT1 presented as a Bearer token, without a proof (RFC 9449 §7.1)", G,
        "401 invalid_token", [&] { return present("Bearer", at1(), {}, "GET"); },
        [](const Observed& o) { return o.status == 401 && o.error == "invalid_token"; });
    add(
        "dpop/proof-replayed", kDpop, "The holder's own proof sent a second time (RFC 9449 §11.1)",
        G, kBadProof,
        [&] {
          const std::string t = at1();
          const std::string p = holder->proof("GET", url, t);
          present("DPoP", t, {p}, "GET");
          return present("DPoP", t, {p}, "GET");
        },
        bad_proof);
    add(
        "dpop/proof-for-another-method", kDpop, "A proof made for POST sent with a GET (§4.3)", G,
        kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {holder->proof("POST", url, t)}, "GET");
        },
        bad_proof);
    add(
        "dpop/proof-for-another-url", kDpop, "A proof made for another server's URL (§4.3 htu)", G,
        kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {holder->proof("GET", w_.url_of(A) + "/attack/probe", t)},
                         "GET");
        },
        bad_proof);
    add(
        "dpop/proof-with-stale-iat", kDpop, "A proof made an hour ago (§4.3 iat window)", G,
        kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {holder->proof_at(now(G) - 3600, "GET", url, t)}, "GET");
        },
        bad_proof);
    add(
        "dpop/proof-without-ath", kDpop,
        "A proof that does not name the presented token (§4.3, ath)", G, kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {holder->proof("GET", url)}, "GET");
        },
        bad_proof);
    add(
        "dpop/two-proofs", kDpop, "Two DPoP headers on one request (§4.3: not more than one)", G,
        kBadProof,
        [&] {
          const std::string t = at1();
          return present("DPoP", t, {holder->proof("GET", url, t), holder->proof("GET", url, t)},
                         "GET");
        },
        bad_proof);
    add(
        "dpop/token-endpoint-proof-replayed", kDpop,
        "A token request repeating an accepted proof (RFC 9449 §5, §11.1)", A,
        "400 invalid_dpop_proof",
        [&] {
          http::OutboundRequest req = http::form_post(
              "/token", {{"grant_type", "client_credentials"}}, t_.client_id, t_.client_secret);
          req.headers.emplace_back("DPoP", holder->proof("POST", w_.url_of(A) + "/token"));
          w_.http().send(w_.url_of(A), req);
          return observe(w_.http().send(w_.url_of(A), req));
        },
        [](const Observed& o) { return o.status == 400 && o.error == "invalid_dpop_proof"; });
    add(
        "dpop/token-endpoint-proof-for-another-url", kDpop,
        "A token request whose proof names another endpoint (RFC 9449 §4.3 htu)", A,
        "400 invalid_dpop_proof",
        [&] {
          http::OutboundRequest req = http::form_post(
              "/token", {{"grant_type", "client_credentials"}}, t_.client_id, t_.client_secret);
          req.headers.emplace_back("DPoP", holder->proof("POST", w_.url_of(A) + "/other"));
          return observe(w_.http().send(w_.url_of(A), req));
        },
        [](const Observed& o) { return o.status == 400 && o.error == "invalid_dpop_proof"; });
  }

  // ---- 0b. certificate-bound tokens (RFC 8705), when the entry client's AT1 is bound ----
  const MutualTls* mtls = w_.mutual_tls();
  const auto at1_claims = [&] {
    const auto d = jose::decode_unverified(at1());
    return d ? d->second : Json();
  }();
  if (mtls && json_path(at1_claims, "cnf.x5t#S256")) {
    const std::string kMtls = "Sender-constrained tokens (RFC 8705)";
    // Thieves with connections of their own: a certificate of the run's CA with another
    // subject, the victim's subject self-signed, the victim's subject from another CA, and none.
    const std::string victim = holder_role_of_client(A, t_.client_id);
    auto pool_with = [&](const TlsIdentity& id) {
      auto p = std::make_unique<http::HttpClientPool>();
      p->set_tls({mtls->ca_pem, id.cert_pem, id.key_pem});
      return p;
    };
    TlsAuthority stranger_ca;
    auto thief = pool_with(w_.issue_certificate("attacker"));
    auto self_signed = pool_with(make_self_signed_identity(victim));
    auto foreign = pool_with(stranger_ca.issue(victim));
    auto at_gateway = [&](http::HttpClientPool& pool, const std::string& token,
                          const http::Headers& extra = {}) {
      http::OutboundRequest req;
      req.path = "/attack/probe";
      req.headers.emplace_back("Authorization", "Bearer " + token);
      for (const auto& h : extra) req.headers.push_back(h);
      return observe(pool.send(w_.url_of(G), req));
    };
    auto invalid_token = [](const Observed& o) {
      return o.status == 401 && o.error == "invalid_token";
    };
    add(
        "mtls/token-over-another-clients-connection", kMtls,
        "A certificate-bound AT1 presented over another client's TLS connection (RFC 8705 §3)", G,
        "401 invalid_token", [&] { return at_gateway(*thief, at1()); }, invalid_token);
    add(
        "mtls/token-without-certificate", kMtls,
        "A certificate-bound AT1 presented over TLS without a client certificate (RFC 8705 §3)", G,
        "401 invalid_token", [&] { return at_gateway(w_.http(), at1()); }, invalid_token);
    add(
        "mtls/token-self-signed-same-subject", kMtls,
        "A certificate-bound AT1 over a connection with a self-signed certificate of the holder's "
        "subject (RFC 8705 §3: the certificate, not its name)",
        G, "401 invalid_token", [&] { return at_gateway(*self_signed, at1()); }, invalid_token);
    add(
        "mtls/certificate-in-a-header", kMtls,
        "A certificate-bound AT1 with the holder's certificate in Client-Cert / X-Client-Cert "
        "headers over a connection without one (a header is not a TLS session)",
        G, "401 invalid_token",
        [&] {
          const std::string pem = mtls->client_identity(victim)->cert_pem;
          const std::string der_b64 = http::base64_encode(certificate_der(pem));
          std::string escaped;
          for (char c : pem) escaped += c == '\n' ? std::string("%0A") : std::string(1, c);
          return at_gateway(w_.http(), at1(),
                            {{"Client-Cert", ":" + der_b64 + ":"},
                             {"X-Client-Cert", escaped},
                             {"X-SSL-Client-Cert", escaped},
                             {"X-Forwarded-Client-Cert", "Cert=\"" + escaped + "\""}});
        },
        invalid_token);
    // At the token endpoint, where the entry client authenticates with its certificate.
    const RoleSpec* as_spec = w_.scenario().find_role(A);
    const ClientRegistration* reg = nullptr;
    for (const auto& c : as_spec->as.clients)
      if (c.id == t_.client_id) reg = &c;
    if (reg && is_tls_auth(reg->auth)) {
      auto as_client = [&](http::HttpClientPool& pool) {
        http::OutboundRequest req = http::form_post(
            token_path(A), {{"grant_type", "client_credentials"}, {"client_id", t_.client_id}});
        return observe(pool.send(w_.url_of(A), req));
      };
      auto invalid_client = [](const Observed& o) {
        return (o.status == 400 || o.status == 401) && o.error == "invalid_client";
      };
      const std::string kInvalidClient = "400/401 invalid_client";
      add(
          "mtls/token-endpoint-other-certificate", kMtls,
          "A token request naming the client over another client's TLS connection (RFC 8705 §2)", A,
          kInvalidClient, [&] { return as_client(*thief); }, invalid_client);
      add(
          "mtls/token-endpoint-without-certificate", kMtls,
          "A token request naming the client without a client certificate (RFC 8705 §2)", A,
          kInvalidClient, [&] { return as_client(w_.http()); }, invalid_client);
      add(
          "mtls/token-endpoint-untrusted-ca", kMtls,
          "The client's subject in a certificate of a CA the AS does not trust (RFC 8705 §2.1)", A,
          kInvalidClient, [&] { return as_client(*foreign); }, invalid_client);
    }
  }

  // ---- 1. token-type confusion ----
  bearer_refused("type/id-token-as-access-token", kType,
                 "An ID token (typ JWT) used as a bearer access token", G, [&] {
                   Json c = access_claims(A, t_.entry_audience);
                   c.erase("client_id");
                   c["nonce"] = "n-0S6_WzA2Mj";
                   return sign(A, c, "JWT");
                 });
  bearer_refused("type/untyped-access-token", kType,
                 "An access token without typ at+jwt (RFC 9068 §2.1)", G,
                 [&] { return sign(A, access_claims(A, t_.entry_audience), ""); });
  bearer_refused("type/refresh-token-as-access-token", kType,
                 "A refresh-token-typed JWT used as a bearer token", G,
                 [&] { return sign(A, access_claims(A, t_.entry_audience), "rt+jwt"); });
  for (const auto& [type, name] : std::vector<std::pair<std::string, std::string>>{
           {kTypeIdToken, "id_token"}, {kTypeRefreshToken, "refresh_token"}}) {
    add(
        "type/access-token-declared-" + name, kType,
        "An access token declared as subject_token_type " + name, X, "400 invalid_request",
        [&, type = type] { return exchange({}, at1(), type); },
        [](const Observed& o) { return o.status == 400 && o.error == "invalid_request"; });
  }
  add(
      "type/id-token-as-subject-access-token", kType,
      "An ID token sent as subject_token_type access_token", X,
      "400 invalid_grant or invalid_request",
      [&] {
        Json c = access_claims(A, t_.exchanger.client_id);
        return exchange({}, sign(A, c, "JWT"));
      },
      [](const Observed& o) {
        return o.status == 400 && (o.error == "invalid_grant" || o.error == "invalid_request");
      });

  // ---- 2. issuer mix-up ----
  if (!t_.foreign_as.empty()) {
    bearer_refused(
        "mixup/same-sub-other-issuer", kMix, "Another issuer's genuine token claiming the same sub",
        G, [&] { return sign(t_.foreign_as, access_claims(t_.foreign_as, t_.entry_audience)); });
  }
  bearer_refused("mixup/trusted-key-other-iss", kMix,
                 "Signed with the trusted key but carrying another iss", G, [&] {
                   Json c = access_claims(A, t_.entry_audience);
                   c["iss"] = "https://evil.example";
                   return sign(A, c);
                 });
  bearer_refused("mixup/spoofed-iss-untrusted-key", kMix,
                 "iss spoofed to the trusted value, signed by an untrusted key", G, [&] {
                   return signed_by_stranger(
                       {{"typ", "at+jwt"},
                        {"kid", w_.authorization_server(A).key_store().signing_key().kid()}},
                       access_claims(A, t_.entry_audience));
                 });
  add(
      "mixup/identity-keyed-by-iss-sub", kMix,
      "Exchanged tokens keep the original issuer with the subject (RFC 9493 sub_id)", X,
      "200 with sub_id.iss = " + w_.issuer_of(A),
      [&] {
        http::FormParams extra;
        if (!t_.exchanger_audiences.empty())
          extra.emplace_back("audience", t_.exchanger_audiences.front());
        return exchange(extra, at1());
      },
      [&](const Observed& o) {
        const Json c = o.status == 200 ? jose::decode_unverified(json_str(o.body, "access_token"))
                                             .value_or(std::make_pair(Json(), Json()))
                                             .second
                                       : Json();
        const Json* iss = json_path(c, "sub_id.iss");
        const Json* act_iss = json_path(c, "act.iss");
        return o.status == 200 &&
               ((iss && *iss == w_.issuer_of(A)) || (act_iss && c.contains("act")));
      });

  // ---- 3. leaked client credentials: the gateway's exchange registration ----
  add(
      "leak/other-audience", kLeak,
      "A leaked exchanger secret cannot reach an unregistered audience", X, "400 invalid_target",
      [&] {
        return exchange({{"audience", "api://not-registered"}}, at1());
      },
      [](const Observed& o) { return o.status == 400 && o.error == "invalid_target"; });
  add(
      "leak/broader-scope", kLeak, "A leaked exchanger secret cannot obtain a broader scope", X,
      "400 invalid_scope",
      [&] {
        return exchange({{"scope", "admin"}}, at1());
      },
      [](const Observed& o) { return o.status == 400 && o.error == "invalid_scope"; });
  add(
      "leak/other-grant", kLeak, "A leaked exchanger secret cannot use an unregistered grant", X,
      "400 unauthorized_client",
      [&] {
        return post(X, "/token", {{"grant_type", "client_credentials"}}, t_.exchanger.client_id,
                    t_.exchanger.secret);
      },
      [](const Observed& o) { return o.status == 400 && o.error == "unauthorized_client"; });
  add(
      "leak/no-subject-no-token", kLeak,
      "A leaked exchanger secret alone yields nothing without a valid subject token", X,
      "400 invalid_grant or invalid_request", [&] { return exchange({}, "forged"); },
      [](const Observed& o) {
        return o.status == 400 && (o.error == "invalid_grant" || o.error == "invalid_request");
      });

  // ---- 4. JWT attacks (RFC 8725) at the entry gateway ----
  auto legit = [&] { return access_claims(A, t_.entry_audience); };
  const std::string kid = w_.authorization_server(A).key_store().signing_key().kid();
  bearer_refused("jwt/alg-none", kJwt, "alg none (RFC 8725 §3.2)", G, [&] {
    return raw_token({{"alg", "none"}, {"typ", "at+jwt"}, {"kid", kid}}, legit(), "");
  });
  bearer_refused(
      "jwt/hs256-key-confusion", kJwt,
      "ES/RS -> HS256 confusion keyed with the published public JWK (RFC 8725 §2.1)", G, [&] {
        const Json h = {{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", kid}};
        const std::string input =
            jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(legit().dump());
        return input + "." +
               jose::base64url_encode(jose::hmac_sha256(
                   w_.authorization_server(A).key_store().signing_key().public_jwk().dump(),
                   input));
      });
  for (const auto& [name, bad_kid] : std::vector<std::pair<std::string, std::string>>{
           {"unknown", "no-such-key"},
           {"path-traversal", "../../../../etc/passwd"},
           {"sql-injection", "' OR '1'='1' --"}}) {
    bearer_refused("jwt/kid-" + name, kJwt, "kid " + name + " (" + bad_kid + ")", G,
                   [&, bad_kid = bad_kid] {
                     return signed_by_stranger({{"typ", "at+jwt"}, {"kid", bad_kid}}, legit());
                   });
  }
  // An attacker's JWKS on loopback, advertised through jku / x5u, or the key inlined as jwk.
  static const jose::Key attacker = jose::Key::generate(jose::Alg::kES256);
  http::LoopbackServer evil;
  int evil_hits = 0;
  evil.routes().get("/*", [&](const http::Request&, http::Response& res) {
    ++evil_hits;
    res.set_content(Json{{"keys", {attacker.public_jwk()}}}.dump(), "application/json");
  });
  evil.start();
  for (const auto& [name, header] : std::vector<std::pair<std::string, Json>>{
           {"jku", {{"jku", evil.base_url() + "/jwks"}}},
           {"x5u", {{"x5u", evil.base_url() + "/cert.pem"}}},
           {"embedded-jwk", {{"jwk", attacker.public_jwk()}}}}) {
    add(
        "jwt/" + name + "-attacker-key", kJwt,
        name + " header pointing at the attacker's key (RFC 8725 §3.10)", G,
        "401 invalid_token, attacker URL never fetched",
        [&, header = header] {
          Json h = header;
          h["typ"] = "at+jwt";
          h["kid"] = attacker.kid();
          return bearer(G, jose::sign_compact(attacker, h, legit().dump()));
        },
        [&](const Observed& o) {
          return o.status == 401 && o.error == "invalid_token" && evil_hits == 0;
        });
  }
  bearer_refused("jwt/signature-stripped", kJwt, "Signature removed", G, [&] {
    const std::string t = sign(A, legit());
    return t.substr(0, t.rfind('.') + 1);
  });
  bearer_refused("jwt/signature-truncated", kJwt, "Signature cut short", G, [&] {
    const std::string t = sign(A, legit());
    const size_t dot = t.rfind('.');
    std::string sig = *jose::base64url_decode(t.substr(dot + 1));
    sig.resize(sig.size() / 2);
    return t.substr(0, dot + 1) + jose::base64url_encode(sig);
  });
  bearer_refused("jwt/payload-tampered", kJwt, "Claims altered after signing", G, [&] {
    Json c = legit();
    const std::string t = sign(A, c);
    c["scope"] = "admin";
    return with_claims(t, c);
  });
  bearer_refused("jwt/expired", kJwt, "Expired beyond the leeway (RFC 7519 §4.1.4)", G, [&] {
    Json c = legit();
    c["iat"] = now(A) - 7200;
    c["exp"] = now(A) - 3600;
    return sign(A, c);
  });
  bearer_refused("jwt/not-yet-valid", kJwt, "nbf in the future beyond the leeway (RFC 7519 §4.1.5)",
                 G, [&] {
                   Json c = legit();
                   c["nbf"] = now(A) + 3600;
                   return sign(A, c);
                 });
  bearer_refused("jwt/iat-in-future", kJwt, "iat far in the future", G, [&] {
    Json c = legit();
    c["iat"] = now(A) + 86400;
    c["exp"] = now(A) + 90000;
    return sign(A, c);
  });
  bearer_refused("jwt/missing-exp", kJwt, "No exp claim (RFC 9068 §2.2)", G, [&] {
    Json c = legit();
    c.erase("exp");
    return sign(A, c);
  });
  bearer_refused("jwt/malformed-base64", kJwt, "Malformed base64url in the header", G,
                 [] { return std::string("e30=.e30.AAAA"); });
  bearer_refused("jwt/duplicate-json-keys", kJwt, "Duplicate header members (alg twice)", G, [&] {
    const std::string h = R"({"alg":"ES256","typ":"at+jwt","alg":"none","kid":")" + kid + "\"}";
    return jose::base64url_encode(h) + "." + jose::base64url_encode(legit().dump()) + ".";
  });
  bearer_refused("jwt/deep-nesting", kJwt,
                 "Claims nested 1,000 levels deep (within the size bound)", G, [&] {
                   std::string deep(1000, '[');
                   deep += std::string(1000, ']');
                   return jose::base64url_encode(R"({"alg":"ES256","typ":"at+jwt"})") + "." +
                          jose::base64url_encode("{\"a\":" + deep + "}") + ".AAAA";
                 });
  bearer_4xx("jwt/oversized-token", kJwt, "A 40 KB token is bounded (4xx, no crash)", G, [&] {
    Json c = legit();
    c["padding"] = std::string(40000, 'x');
    return sign(A, c);
  });
  bearer_4xx(
      "jwt/oversized-header", kJwt, "A 64 KB header section is bounded (4xx, no crash)", G,
      [&] { return at1(); }, 64 * 1024);

  // ---- cross-zone replay ----
  if (!t_.edge_gw.empty()) {
    bearer_refused("replay/at1-at-edge-gateway", kReplay, "AT1 replayed at the on-prem gateway",
                   t_.edge_gw, [&] { return at1(); });
    bearer_refused("replay/token-for-another-gateway", kReplay,
                   "A genuine edge-zone token whose aud names another gateway", t_.edge_gw,
                   [&] { return sign(t_.edge_as, access_claims(t_.edge_as, t_.entry_audience)); });
  }
  if (!t_.backend.empty())
    bearer_refused("replay/at1-at-backend", kReplay, "AT1 replayed straight at the backend",
                   t_.backend, [&] { return at1(); });
  bearer_refused("replay/wrong-audience-at-entry", kReplay,
                 "A genuine cloud token for another audience at the entry gateway", G,
                 [&] { return sign(A, access_claims(A, "urn:txlab:someone-else")); });

  // ---- refresh tokens (seed 003): rotation, reuse detection, never a bearer token ----
  const RoleSpec* xs = w_.scenario().find_role(X);
  if (xs && xs->as.exchange && xs->as.exchange->refresh_tokens) {
    const std::string kRt = "Refresh tokens (seed 003, RFC 6749 §6)";
    std::string rt1, rt2, at_from_rt2;
    add(
        "rt/issued-with-exchange", kRt, "A token exchange returns a refresh token", X,
        "200 with refresh_token",
        [&] {
          Observed o = exchange({}, at1());
          rt1 = json_str(o.body, "refresh_token");
          return o;
        },
        [&](const Observed& o) { return o.status == 200 && !rt1.empty(); });
    auto refresh_with = [&](const std::string& rt) {
      return post(X, "/token", {{"grant_type", "refresh_token"}, {"refresh_token", rt}},
                  t_.exchanger.client_id, t_.exchanger.secret);
    };
    add(
        "rt/rotation-on-use", kRt, "Each use returns a new refresh token", X,
        "200 with a different refresh_token",
        [&] {
          Observed o = refresh_with(rt1);
          rt2 = json_str(o.body, "refresh_token");
          at_from_rt2 = json_str(o.body, "access_token");
          return o;
        },
        [&](const Observed& o) {
          return o.status == 200 && !rt2.empty() && rt2 != rt1 && !at_from_rt2.empty();
        });
    bearer_refused("rt/not-a-bearer-token", kRt, "A refresh token presented as a bearer token", G,
                   [&] { return rt2; });
    add(
        "rt/reuse-rejected", kRt, "Reusing a rotated refresh token is refused", X,
        "400 invalid_grant", [&] { return refresh_with(rt1); },
        [](const Observed& o) { return o.status == 400 && o.error == "invalid_grant"; });
    add(
        "rt/reuse-revokes-family", kRt,
        "After reuse, the newest refresh token of the family is dead too", X, "400 invalid_grant",
        [&] { return refresh_with(rt2); },
        [](const Observed& o) { return o.status == 400 && o.error == "invalid_grant"; });
    add(
        "rt/reuse-revokes-access-tokens", kRt,
        "Access tokens of the revoked family are inactive at introspection", X, "200 active false",
        [&] {
          return post(X, "/introspect", {{"token", at_from_rt2}}, t_.exchanger.client_id,
                      t_.exchanger.secret);
        },
        [](const Observed& o) {
          return o.status == 200 && o.body.is_object() && o.body.value("active", true) == false;
        });
  }

  // ---- revocation and introspection ----
  auto introspect = [&](const std::string& token, const std::string& id,
                        const std::string& secret) {
    return post(A, "/introspect", {{"token", token}}, id, secret);
  };
  add(
      "revoke/introspection-active", kRev,
      "Introspection reports a live token active (RFC 7662 §2.2)", A, "200 active true",
      [&] { return introspect(at1(), t_.client_id, t_.client_secret); },
      [](const Observed& o) { return o.status == 200 && o.body.value("active", false); });
  add(
      "revoke/revoked-token-inactive", kRev,
      "A revoked token is reported inactive (RFC 7009 §2, RFC 7662 §2.2)", A, "200 active false",
      [&] {
        // A token of its own, so the rest of the run keeps a valid AT1.
        Json c = access_claims(
            A, t_.client_audiences.empty() ? t_.entry_audience : t_.client_audiences.front());
        const std::string tok = sign(A, c);
        post(A, "/revoke", {{"token", tok}}, t_.client_id, t_.client_secret);
        return introspect(tok, t_.client_id, t_.client_secret);
      },
      [](const Observed& o) {
        return o.status == 200 && o.body.is_object() && o.body.value("active", true) == false;
      });
  add(
      "revoke/introspection-needs-client-auth", kRev,
      "Introspection is a protected endpoint (RFC 7662 §2.1)", A, "401 invalid_client",
      [&] { return introspect(at1(), "", ""); },
      [](const Observed& o) { return o.status == 401 && o.error == "invalid_client"; });

  // ---- secret rotation (last: it changes a live credential); not for a client that
  // authenticates with its certificate (RFC 8705 §2: it has no secret to rotate) ----
  std::string rotated;
  if (!is_tls_auth(t_.exchanger.auth)) {
    add(
        "leak/rotation-old-secret-fails", kLeak, "After rotation the old secret fails at once", X,
        "401 invalid_client",
        [&] {
          http::OutboundRequest req;
          req.method = "POST";
          req.path = "/admin/clients/" + t_.exchanger.client_id + "/rotate-secret";
          req.headers.emplace_back("X-Txlab-Admin", w_.authorization_server(X).admin_key());
          auto r = w_.http().send(w_.url_of(X), req);
          rotated = json_str(Json::parse(r.body, nullptr, false), "client_secret");
          return exchange({}, at1());
        },
        [&](const Observed& o) {
          return !rotated.empty() && o.status == 401 && o.error == "invalid_client";
        });
    add(
        "leak/rotation-new-secret-works", kLeak, "The new secret works right after rotation", X,
        "not invalid_client",
        [&] { return exchange({}, at1(), kTypeAccessToken, rotated.empty() ? "none" : rotated); },
        [](const Observed& o) { return o.status != 401 && o.status != 0; });
  }
  add(
      "leak/usage-audited", kLeak, "Every exchange by the client is in the AS's audit log", X,
      "audit entries for " + t_.exchanger.client_id,
      [&] {
        Observed o;
        size_t n = 0;
        for (const auto& e : w_.authorization_server(X).audit_log().entries())
          n += e.client_id == t_.exchanger.client_id ? 1 : 0;
        o.status = 200;
        o.error = std::to_string(n) + " entries";
        return o;
      },
      [](const Observed& o) { return o.error != "0 entries"; });
}

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

}  // namespace

// Against an external authorization server (a vendor): txlab holds none of its keys, so only the
// attacks built from its genuine tokens and published keys run — forgeries at txlab's gateways
// (alg none, HS256 keyed with the vendor's published JWK, a stranger's key, a stripped signature,
// altered claims), cross-zone replay, and what a leaked exchange secret can get at the vendor.
// At the vendor any refusal passes (the error code is txlab conform's business); at txlab's own
// gateways the RFC 6750 answer is expected as usual.
void Runner::run_external() {
  const std::string G = t_.entry_gw, X = t_.exchange_as;
  const std::string kJwt = "JWT attacks (RFC 8725) on the vendor's tokens",
                    kReplay = "Cross-zone replay",
                    kLeak = "Leaked client credentials at the vendor";
  add(
      "control/legitimate-token-accepted", "Control",
      "A legitimate AT1 from the vendor passes the entry gateway's verification", G, "not 401",
      [&] { return bearer(G, at1()); },
      [](const Observed& o) { return o.status != 401 && o.status != 0; });
  // Every forgery starts from a genuine token: its header (typ, kid) and claims.
  auto genuine = [&] {
    auto d = jose::decode_unverified(at1());
    return d.value_or(std::make_pair(Json::object(), Json::object()));
  };
  bearer_refused("jwt/alg-none", kJwt, "The vendor's token re-sent with alg none (RFC 8725 §3.2)",
                 G, [&] {
                   auto [h, c] = genuine();
                   h["alg"] = "none";
                   return raw_token(h, c, "");
                 });
  bearer_refused(
      "jwt/hs256-key-confusion", kJwt,
      "HS256 keyed with the vendor's published JWK for the token's kid (RFC 8725 §2.1)", G, [&] {
        auto [h, c] = genuine();
        // The vendor's published key, as its JWKS serves it.
        const RoleSpec* spec = w_.scenario().find_role(t_.entry_as);
        const std::string jwks_url = spec->external->jwks_uri;
        const size_t at = jwks_url.find('/', jwks_url.find("://") + 3);
        http::OutboundRequest get;
        get.path = jwks_url.substr(at);
        const Json jwks =
            Json::parse(w_.http().send(jwks_url.substr(0, at), get).body, nullptr, false);
        std::string secret;
        if (jwks.is_object() && jwks.contains("keys") && jwks["keys"].is_array())
          for (const auto& k : jwks["keys"])
            if (json_str(k, "kid") == json_str(h, "kid")) secret = k.dump();
        h["alg"] = "HS256";
        const std::string input =
            jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(c.dump());
        return input + "." + jose::base64url_encode(jose::hmac_sha256(secret, input));
      });
  bearer_refused("jwt/foreign-key-real-kid", kJwt,
                 "The vendor's claims signed by a stranger under the vendor's kid", G, [&] {
                   auto [h, c] = genuine();
                   return signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", h["kid"]}}, c);
                 });
  bearer_refused("jwt/kid-unknown", kJwt, "The vendor's claims under an unknown kid", G, [&] {
    auto [h, c] = genuine();
    return signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", "no-such-key"}}, c);
  });
  bearer_refused("jwt/signature-stripped", kJwt, "A genuine token with its signature removed", G,
                 [&] {
                   const std::string t = at1();
                   return t.substr(0, t.rfind('.') + 1);
                 });
  bearer_refused("jwt/payload-tampered", kJwt, "A genuine token whose claims were altered", G, [&] {
    const std::string t = at1();
    auto [h, c] = genuine();
    c["sub"] = "someone-else";
    const size_t d1 = t.find('.'), d2 = t.rfind('.');
    return t.substr(0, d1 + 1) + jose::base64url_encode(c.dump()) + t.substr(d2);
  });
  bearer_refused(
      "type/vendor-id-token-as-access-token", "Token-type confusion (seed 004 #1)",
      "An ID token the vendor issues by exchange, for the entry audience, used as an access token",
      G, [&] {
        http::FormParams extra = {{"requested_token_type", kTypeIdToken}};
        const Observed o = exchange(extra, at1());
        return json_str(o.body, "access_token");
      });
  if (!t_.edge_gw.empty())
    bearer_refused("replay/at1-at-edge-gateway", kReplay,
                   "The vendor's AT1 replayed at the on-prem gateway (not its audience)",
                   t_.edge_gw, [&] { return at1(); });
  auto refused = [](const Observed& o) { return o.status >= 400 && o.status < 500; };
  add(
      "leak/other-audience", kLeak,
      "A leaked exchanger secret cannot reach an unregistered audience at the vendor", X,
      "a 4xx refusal",
      [&] {
        return exchange({{"audience", "api://not-registered"}}, at1());
      },
      refused);
  add(
      "leak/no-subject-no-token", kLeak,
      "A leaked exchanger secret alone yields nothing without a valid subject token", X,
      "a 4xx refusal", [&] { return exchange({}, "forged"); }, refused);
  add(
      "leak/forged-subject", kLeak,
      "A subject token forged under the vendor's kid is not exchanged by the vendor", X,
      "a 4xx refusal",
      [&] {
        auto [h, c] = genuine();
        return exchange({},
                        signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", h["kid"]}}, c));
      },
      refused);
  add(
      "leak/broader-scope", kLeak,
      "A leaked exchanger secret does not obtain a scope nobody granted (admin)", X,
      "a 4xx refusal, or a token without scope admin",
      [&] {
        return exchange({{"scope", "admin"}}, at1());
      },
      [](const Observed& o) {
        if (o.status >= 400 && o.status < 500) return true;
        if (o.status != 200) return false;
        const auto d = jose::decode_unverified(json_str(o.body, "access_token"));
        const std::string scope = d ? json_str(d->second, "scope") : json_str(o.body, "scope");
        return (" " + scope + " ").find(" admin ") == std::string::npos;
      });
}

AttackReport run_attacks(World& world, const AttackProgress& progress) {
  AttackReport report;
  report.scenario = world.scenario().name;
  Runner(world, report, progress).run();
  return report;
}

std::string render_text(const AttackReport& report, bool color) {
  std::ostringstream o;
  o << "txlab attack · scenario " << report.scenario << "\n";
  std::string category;
  size_t id_width = 42;  // the widest id and a space
  for (const auto& r : report.results) id_width = std::max(id_width, r.id.size() + 1);
  o << "\n  " << pad("attack", id_width) << pad("target", 9) << pad("expected", 48)
    << pad("observed", 24) << "verdict\n";
  for (const auto& r : report.results) {
    if (r.category != category) {
      category = r.category;
      o << "\n" << category << "\n";
    }
    const std::string verdict = r.passed ? "✔" : "✘ NOT AS EXPECTED";
    o << "  " << pad(r.id, id_width) << pad(r.target, 9) << pad(r.expected, 48)
      << pad(r.observed, 24)
      << (color ? (r.passed ? "\033[32m" : "\033[31m") + verdict + "\033[0m" : verdict) << "\n";
    if (!r.passed) o << "      " << r.title << "\n";
  }
  o << "\n"
    << report.results.size() << " attacks: " << report.results.size() - report.failed()
    << " behaved as expected, " << report.failed() << " did not\n";
  return o.str();
}

Json render_json(const AttackReport& report) {
  Json rows = Json::array();
  for (const auto& r : report.results)
    rows.push_back({{"id", r.id},
                    {"category", r.category},
                    {"title", r.title},
                    {"target", r.target},
                    {"expected", r.expected},
                    {"observed", r.observed},
                    {"passed", r.passed}});
  return {{"scenario", report.scenario}, {"failed", report.failed()}, {"attacks", rows}};
}

std::string render_junit(const AttackReport& report, const IsolationMatrix& isolation) {
  std::string out = render_junit(report);
  std::ostringstream o;
  const size_t bad = isolation.mismatches();
  o << "  <testsuite name=\"trust isolation\" tests=\"" << std::max<size_t>(1, bad)
    << "\" failures=\"" << bad << "\">\n";
  if (bad == 0)
    o << "    <testcase classname=\"txlab.isolation\" name=\"every token at every verifier ("
      << isolation.cells.size() << " cells)\"/>\n";
  for (const auto& c : isolation.cells) {
    if (c.expected == c.actual) continue;
    o << "    <testcase classname=\"txlab.isolation\" name=\""
      << xml_escape(c.token + " at " + c.verifier) << "\">"
      << "<failure message=\"expected " << (c.expected ? "accept" : "reject") << ", got "
      << xml_escape(c.observed) << "\">" << xml_escape(c.reason) << "</failure></testcase>\n";
  }
  o << "  </testsuite>\n";
  return out.insert(out.rfind("</testsuites>"), o.str());
}

std::string render_junit(const AttackReport& report) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"txlab attack\">\n";
  o << "  <testsuite name=\"" << xml_escape(report.scenario) << "\" tests=\""
    << report.results.size() << "\" failures=\"" << report.failed() << "\">\n";
  for (const auto& r : report.results) {
    o << "    <testcase classname=\"" << xml_escape(r.category) << "\" name=\"" << xml_escape(r.id)
      << "\">";
    if (!r.passed)
      o << "<failure message=\"" << xml_escape(r.title) << "\">expected: " << xml_escape(r.expected)
        << "\nobserved: " << xml_escape(r.observed) << "</failure>";
    o << "</testcase>\n";
  }
  o << "  </testsuite>\n</testsuites>\n";
  return o.str();
}

}  // namespace txlab::conformance
