// RFC 8705 (mutual TLS) at the token endpoint, on a token exchange by a client registered for
// tls_client_auth: its certificate authenticates it (§2, §2.1), no certificate, another
// subject or an untrusted CA do not, and a token bound to the certificate names its hash
// (§3.1). Without a configured mutual-TLS client the family is INFORMATIONAL.
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/tls.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

constexpr const char* kBinding =
    "The authorization server MUST enforce the binding between client and certificate, as "
    "described in either Section 2.1 or 2.2 below.";
// The MUST, then what it means for a request without the client's certificate (no keyword).
constexpr const char* kSection2 =
    "The authorization server MUST enforce the binding between client and certificate, as "
    "described in either Section 2.1 or 2.2 below. If no certificate is presented, or that which "
    "is presented doesn't match that which is "
    "expected for the given client_id, the authorization server returns a normal OAuth 2.0 error "
    "response per Section 5.2 of [RFC6749] with the invalid_client error code to indicate failed "
    "client authentication.";

std::optional<Finding> not_configured(Probe& p) {
  if (p.target().mtls) return std::nullopt;
  return informational(
      "no mutual-TLS client is configured for this target (a tls_client_auth registration and "
      "certificates): RFC 8705 is not probed");
}

// One exchange by the mTLS client with its registered certificate, answered once per run.
const Answer& support(Probe& p) {
  return exchange_once(p, "mtls/support", [&p](const http::FormParams& f) {
    return p.post_mtls(f, TlsCert::kRegistered);
  });
}

// The cases about the issued token: nullopt when the registered client got one.
std::optional<Finding> no_token(Probe& p) {
  if (auto n = not_configured(p)) return n;
  const Answer& a = support(p);
  if (a.status == 200) return std::nullopt;
  return failed("a token for the registered client", a.describe(),
                "precondition failed: the exchange with the registered certificate");
}

// A request over a connection that must not authenticate the client: invalid_client (RFC 8705
// §2); another refusal is NON-STRICT; a token is FAILED.
Finding expect_invalid_client(Probe& p, TlsCert cert) {
  if (auto n = not_configured(p)) return *n;
  const MtlsClient& m = *p.target().mtls;
  if ((cert == TlsCert::kWrongSubject && m.wrong_subject_cert_pem.empty()) ||
      (cert == TlsCert::kUntrusted && m.untrusted_cert_pem.empty()))
    return informational(std::string("no ") +
                         (cert == TlsCert::kWrongSubject ? "certificate of another subject"
                                                         : "certificate from an untrusted CA") +
                         " was given (--mtls-other-subject / --mtls-untrusted CERT:KEY)");
  return with_valid_exchange(p, [&](const http::FormParams& form) {
    const Answer a = p.post_mtls(form, cert);
    if (a.status == 200) return failed("400/401 invalid_client", a.describe());
    if ((a.status == 400 || a.status == 401) && a.error() == "invalid_client")
      return ok(a.describe());
    // The server ended the TLS session with an alert: the client is not authenticated, so the
    // MUST (enforce the binding) holds. For a chain from an untrusted CA that is the PKI method
    // itself ("The TLS handshake is utilized ... to validate the corresponding certificate
    // chain", RFC 8705 §2.1); for no or another subject's certificate, §2 describes an
    // invalid_client answer instead (no keyword: NON-STRICT).
    if (a.status == 0 && a.transport_error == "tls") {
      if (cert == TlsCert::kUntrusted)
        return ok("the TLS handshake refused the chain (RFC 8705 §2.1)");
      return non_strict("400/401 invalid_client", "refused at the TLS layer (an alert)",
                        "the binding is enforced, but RFC 8705 §2 describes an invalid_client "
                        "answer");
    }
    if (a.status >= 400 && a.status < 500)
      return non_strict("400/401 invalid_client", a.describe(),
                        "refused, but RFC 8705 §2 names invalid_client for failed client "
                        "authentication");
    return failed("400/401 invalid_client", a.describe());
  });
}

// The x5t#S256 member of the issued JWT access token, or why there is none.
std::optional<std::string> issued_x5t(const Answer& a, std::string* why) {
  const auto d = jose::decode_unverified(json_str(a.body, "access_token"));
  if (!d) {
    *why = "the issued access token is not a JWT (opaque)";
    return std::nullopt;
  }
  const Json* x5t = json_path(d->second, "cnf");
  if (!x5t || !x5t->is_object() || !x5t->contains("x5t#S256") || !(*x5t)["x5t#S256"].is_string()) {
    *why = "the JWT carries no cnf.x5t#S256";
    return std::nullopt;
  }
  return (*x5t)["x5t#S256"].get<std::string>();
}

}  // namespace

void add_mtls_cases(std::vector<Case>& out) {
  out.push_back(
      {{"rfc8705/2/registered-certificate-authenticates", "RFC 8705 §2", Level::kMust,
        "The registered client's certificate authenticates it (tls_client_auth)", kBinding},
       [](Probe& p) {
         if (auto n = not_configured(p)) return *n;
         const Answer& a = support(p);
         if (a.status == 200) return ok(a.describe());
         return failed("200 for the client's registered certificate", a.describe());
       }});
  out.push_back({{"rfc8705/2/no-certificate-invalid-client", "RFC 8705 §2", Level::kMust,
                  "A tls_client_auth client without a certificate is invalid_client", kSection2},
                 [](Probe& p) { return expect_invalid_client(p, TlsCert::kNone); }});
  out.push_back(
      {{"rfc8705/2.1/another-subject-invalid-client", "RFC 8705 §2.1", Level::kMust,
        "A trusted certificate of another subject does not authenticate the client",
        "The authorization server MUST enforce the binding between client and certificate, as "
        "described in either Section 2.1 or 2.2 below. (RFC 8705 §2) ... The client is "
        "successfully authenticated if the subject information in the certificate matches the "
        "single expected subject configured or registered for that particular client"},
       [](Probe& p) { return expect_invalid_client(p, TlsCert::kWrongSubject); }});
  out.push_back(
      {{"rfc8705/2.1/untrusted-ca-invalid-client", "RFC 8705 §2.1", Level::kMust,
        "The registered subject from an untrusted CA does not authenticate the client",
        "The authorization server MUST enforce the binding between client and certificate, as "
        "described in either Section 2.1 or 2.2 below. (RFC 8705 §2) ... It relies on a validated "
        "certificate chain [RFC5280] and a single subject distinguished name (DN) or a single "
        "subject alternative name (SAN) to authenticate the client."},
       [](Probe& p) { return expect_invalid_client(p, TlsCert::kUntrusted); }});
  out.push_back(
      // The value is defined (no keyword); the SHOULD is to represent the hash with this
      // member as defined.
      {{"rfc8705/3.1/x5t-s256-is-the-certificate-hash", "RFC 8705 §3.1", Level::kShould,
        "cnf.x5t#S256 is the SHA-256 hash of the DER encoding of the client's certificate",
        "When access tokens are represented as JSON Web Tokens (JWT) [RFC7519], the certificate "
        "hash information SHOULD be represented using the x5t#S256 confirmation method member "
        "defined herein. ... The value of the x5t#S256 member is a base64url-encoded [RFC4648] "
        "SHA-256 [SHS] hash (a.k.a., thumbprint, fingerprint, or digest) of the DER encoding "
        "[X690] of the X.509 certificate [RFC5280]."},
       [](Probe& p) {
         if (auto n = no_token(p)) return *n;
         const Answer& a = support(p);
         std::string why;
         const auto x5t = issued_x5t(a, &why);
         if (!x5t) return unimplemented(why + " (the binding may be known by introspection, §3.2)");
         const std::string want =
             inspect_certificate(certificate_der(p.target().mtls->cert_pem)).x5t_s256;
         if (*x5t == want) return ok("cnf.x5t#S256 = SHA-256 of the certificate");
         return failed("cnf.x5t#S256 " + want, "cnf.x5t#S256 " + *x5t);
       }});
  out.push_back(
      {{"rfc8705/3.1/jwt-carries-x5t-s256", "RFC 8705 §3.1", Level::kShould,
        "A JWT access token bound to the certificate says so with cnf.x5t#S256",
        "When access tokens are represented as JSON Web Tokens (JWT) [RFC7519], the certificate "
        "hash information SHOULD be represented using the x5t#S256 confirmation method member "
        "defined herein."},
       [](Probe& p) {
         if (auto n = no_token(p)) return *n;
         const Answer& a = support(p);
         std::string why;
         if (issued_x5t(a, &why)) return ok("cnf.x5t#S256 present");
         if (!p.target().mtls->bound_tokens)
           return unimplemented(why +
                                ": the client is not registered for certificate-bound "
                                "tokens (RFC 8705 §3.4)");
         return non_strict("cnf.x5t#S256 in the JWT", why,
                           "the client is registered for certificate-bound tokens");
       }});
}

}  // namespace txlab::conformance
