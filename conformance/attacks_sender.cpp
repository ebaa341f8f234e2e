// Sender-constrained tokens: DPoP (RFC 9449), when the entry client binds its tokens to a key,
// and certificate-bound tokens (RFC 8705), when its AT1 is bound to its TLS certificate.
#include "actors/as_defects.h"
#include "actors/dpop.h"
#include "conformance/attacks_catalogue.h"
#include "sim/http/form.h"
#include "sim/tls.h"
#include "world/world.h"

namespace txlab::conformance::attacks {

namespace {

const char* kDpop = "Sender-constrained tokens (RFC 9449)";
const char* kMtls = "Sender-constrained tokens (RFC 8705)";

// A request to the entry gateway with this scheme, token and DPoP headers, sent as is.
Observed at_gateway(Context& c, const std::string& scheme, const std::string& token,
                    const std::vector<std::string>& proofs, const std::string& method = "GET") {
  http::OutboundRequest req;
  req.method = method;
  req.path = "/attack/probe";
  req.headers.emplace_back("Authorization", scheme + " " + token);
  for (const auto& p : proofs) req.headers.emplace_back("DPoP", p);
  return observe(c.w.transport().http().send(c.w.directory().url_of(c.t.entry_gw), req));
}

std::string probe_url(Context& c) { return c.w.directory().url_of(c.t.entry_gw) + "/attack/probe"; }

// A fresh AT1 presented with the proofs `proofs(c, at1)` makes for it.
Send with_proofs(std::function<std::vector<std::string>(Context&, const std::string&)> proofs) {
  return [proofs = std::move(proofs)](Context& c, const std::string&) {
    const std::string t = c.at1();
    return at_gateway(c, "DPoP", t, proofs(c, t));
  };
}

// A client_credentials request at the entry AS with a DPoP proof for `htu_path`, sent `times`.
Send token_request_with_proof(const std::string& htu_path, int times) {
  return [htu_path, times](Context& c, const std::string& as) {
    http::OutboundRequest req = http::form_post("/token", {{"grant_type", "client_credentials"}},
                                                c.t.client_id, c.t.client_secret);
    req.headers.emplace_back("DPoP",
                             c.dpop_holder()->proof("POST", c.w.directory().url_of(as) + htu_path));
    for (int i = 1; i < times; ++i) c.w.transport().http().send(c.w.directory().url_of(as), req);
    return observe(c.w.transport().http().send(c.w.directory().url_of(as), req));
  };
}

Attack dpop_attack(std::string id, std::string title, Send send,
                   Expectation expected = refused(401, "invalid_dpop_proof"),
                   std::vector<std::string> leaks_with = {defect_name::kDpopProofUnchecked}) {
  return {std::move(id),
          kDpop,
          std::move(title),
          Role::kEntryGateway,
          std::move(send),
          std::move(expected),
          Applies::kDpopBoundClient,
          Issuer::kTxlab,
          std::move(leaks_with)};
}

// A certificate-bound AT1 at the entry gateway over `pool(c)`'s connection, headers added.
Send over(std::function<http::HttpClientPool&(Context&)> pool, http::Headers (*extra)(Context&)) {
  return [pool = std::move(pool), extra](Context& c, const std::string& gw) {
    http::HttpClientPool& connection = pool(c);
    http::OutboundRequest req;
    req.path = "/attack/probe";
    req.headers.emplace_back("Authorization", "Bearer " + c.at1());
    if (extra)
      for (const auto& h : extra(c)) req.headers.push_back(h);
    return observe(connection.send(c.w.directory().url_of(gw), req));
  };
}

// The holder's certificate in the headers proxies use to forward one.
http::Headers certificate_headers(Context& c) {
  const std::string pem = c.w.transport().mutual_tls()->client_identity(c.mtls_victim())->cert_pem;
  const std::string der_b64 = http::base64_encode(certificate_der(pem));
  std::string escaped;
  for (char ch : pem) escaped += ch == '\n' ? std::string("%0A") : std::string(1, ch);
  return {{"Client-Cert", ":" + der_b64 + ":"},
          {"X-Client-Cert", escaped},
          {"X-SSL-Client-Cert", escaped},
          {"X-Forwarded-Client-Cert", "Cert=\"" + escaped + "\""}};
}

// A token request naming the entry client (no secret) over `pool(c)`'s connection.
Send as_client_over(std::function<http::HttpClientPool&(Context&)> pool) {
  return [pool = std::move(pool)](Context& c, const std::string& as) {
    http::OutboundRequest req = http::form_post(
        c.token_path(as), {{"grant_type", "client_credentials"}, {"client_id", c.t.client_id}});
    return observe(pool(c).send(c.w.directory().url_of(as), req));
  };
}

Attack mtls_attack(std::string id, std::string title, Role target, Send send, Expectation expected,
                   Applies applies, std::vector<std::string> leaks_with) {
  return {std::move(id), kMtls,           std::move(title),
          target,        std::move(send), std::move(expected),
          applies,       Issuer::kTxlab,  std::move(leaks_with)};
}

}  // namespace

void add_dpop_attacks(std::vector<Attack>& out) {
  out.push_back(
      dpop_attack("dpop/stolen-token-without-key",
                  "A stolen bound AT1 with a proof signed by the thief's own key (RFC 9449 §7.1)",
                  with_proofs([](Context& c, const std::string& t) -> std::vector<std::string> {
                    return {c.dpop_thief().proof("GET", probe_url(c), t)};
                  })));
  out.push_back(dpop_attack(
      "dpop/bound-token-as-bearer",
      "A bound AT1 presented as a Bearer token, without a proof (RFC 9449 §7.1)",
      [](Context& c, const std::string&) { return at_gateway(c, "Bearer", c.at1(), {}); },
      refused(401, "invalid_token"), {defect_name::kDpopBearerAccepted}));
  out.push_back(dpop_attack("dpop/proof-replayed",
                            "The holder's own proof sent a second time (RFC 9449 §11.1)",
                            [](Context& c, const std::string&) {
                              const std::string t = c.at1();
                              const std::string p = c.dpop_holder()->proof("GET", probe_url(c), t);
                              at_gateway(c, "DPoP", t, {p});
                              return at_gateway(c, "DPoP", t, {p});
                            }));
  out.push_back(
      dpop_attack("dpop/proof-for-another-method", "A proof made for POST sent with a GET (§4.3)",
                  with_proofs([](Context& c, const std::string& t) -> std::vector<std::string> {
                    return {c.dpop_holder()->proof("POST", probe_url(c), t)};
                  })));
  out.push_back(
      dpop_attack("dpop/proof-for-another-url", "A proof made for another server's URL (§4.3 htu)",
                  with_proofs([](Context& c, const std::string& t) -> std::vector<std::string> {
                    return {c.dpop_holder()->proof(
                        "GET", c.w.directory().url_of(c.t.entry_as) + "/attack/probe", t)};
                  })));
  out.push_back(dpop_attack(
      "dpop/proof-with-stale-iat", "A proof made an hour ago (§4.3 iat window)",
      with_proofs([](Context& c, const std::string& t) -> std::vector<std::string> {
        return {c.dpop_holder()->proof_at(c.now(c.t.entry_gw) - 3600, "GET", probe_url(c), t)};
      })));
  out.push_back(dpop_attack(
      "dpop/proof-without-ath", "A proof that does not name the presented token (§4.3, ath)",
      with_proofs([](Context& c, const std::string&) -> std::vector<std::string> {
        return {c.dpop_holder()->proof("GET", probe_url(c))};
      })));
  out.push_back(
      dpop_attack("dpop/two-proofs", "Two DPoP headers on one request (§4.3: not more than one)",
                  with_proofs([](Context& c, const std::string& t) -> std::vector<std::string> {
                    return {c.dpop_holder()->proof("GET", probe_url(c), t),
                            c.dpop_holder()->proof("GET", probe_url(c), t)};
                  })));
  Attack replayed =
      dpop_attack("dpop/token-endpoint-proof-replayed",
                  "A token request repeating an accepted proof (RFC 9449 §5, §11.1)",
                  token_request_with_proof("/token", 2), refused(400, "invalid_dpop_proof"), {});
  replayed.target = Role::kEntryAs;
  out.push_back(std::move(replayed));
  Attack other_url =
      dpop_attack("dpop/token-endpoint-proof-for-another-url",
                  "A token request whose proof names another endpoint (RFC 9449 §4.3 htu)",
                  token_request_with_proof("/other", 1), refused(400, "invalid_dpop_proof"), {});
  other_url.target = Role::kEntryAs;
  out.push_back(std::move(other_url));
}

void add_mtls_attacks(std::vector<Attack>& out) {
  const std::vector<std::string> unchecked = {defect_name::kMtlsBindingUnchecked};
  const auto bound = Applies::kCertificateBoundAt1;
  const Role gw = Role::kEntryGateway;
  out.push_back(mtls_attack(
      "mtls/token-over-another-clients-connection",
      "A certificate-bound AT1 presented over another client's TLS connection (RFC 8705 §3)", gw,
      over([](Context& c) -> http::HttpClientPool& { return c.mtls_thief(); }, nullptr),
      refused(401, "invalid_token"), bound, unchecked));
  out.push_back(mtls_attack(
      "mtls/token-without-certificate",
      "A certificate-bound AT1 presented over TLS without a client certificate (RFC 8705 §3)", gw,
      over([](Context& c) -> http::HttpClientPool& { return c.w.transport().http(); }, nullptr),
      refused(401, "invalid_token"), bound, unchecked));
  out.push_back(mtls_attack(
      "mtls/token-self-signed-same-subject",
      "A certificate-bound AT1 over a connection with a self-signed certificate of the holder's "
      "subject (RFC 8705 §3: the certificate, not its name)",
      gw, over([](Context& c) -> http::HttpClientPool& { return c.mtls_self_signed(); }, nullptr),
      refused(401, "invalid_token"), bound, unchecked));
  out.push_back(mtls_attack(
      "mtls/certificate-in-a-header",
      "A certificate-bound AT1 with the holder's certificate in Client-Cert / X-Client-Cert "
      "headers over a connection without one (a header is not a TLS session)",
      gw,
      over([](Context& c) -> http::HttpClientPool& { return c.w.transport().http(); },
           certificate_headers),
      refused(401, "invalid_token"), bound, unchecked));
  // At the token endpoint, where the entry client authenticates with its certificate.
  const auto tls_auth = Applies::kTlsClientAuth;
  const Expectation invalid_client = refused_any({400, 401}, {"invalid_client"});
  out.push_back(mtls_attack(
      "mtls/token-endpoint-other-certificate",
      "A token request naming the client over another client's TLS connection (RFC 8705 §2)",
      Role::kEntryAs,
      as_client_over([](Context& c) -> http::HttpClientPool& { return c.mtls_thief(); }),
      invalid_client, tls_auth, {}));
  out.push_back(mtls_attack(
      "mtls/token-endpoint-without-certificate",
      "A token request naming the client without a client certificate (RFC 8705 §2)",
      Role::kEntryAs,
      as_client_over([](Context& c) -> http::HttpClientPool& { return c.w.transport().http(); }),
      invalid_client, tls_auth, {}));
  out.push_back(mtls_attack(
      "mtls/token-endpoint-untrusted-ca",
      "The client's subject in a certificate of a CA the AS does not trust (RFC 8705 §2.1)",
      Role::kEntryAs,
      as_client_over([](Context& c) -> http::HttpClientPool& { return c.mtls_foreign_ca(); }),
      invalid_client, tls_auth, {defect_name::kTlsChainUnchecked}));
}

}  // namespace txlab::conformance::attacks
