// RFC 9449 (DPoP) at the token endpoint, on a token exchange: a valid proof binds the issued
// token (§5, §6.1), and every check of §4.3 refuses what it should. A target that issues Bearer
// tokens for a valid proof does not bind (RFC 9449 §5: "MAY elect to issue access tokens that
// are not DPoP bound"): the family is UNIMPLEMENTED there, never FAILED.
#include <algorithm>
#include <cctype>

#include "conformance/case_table.h"
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/jose/base64url.h"
#include "sim/jose/dpop.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

constexpr const char* kSection43 = "RFC 9449 §4.3";
constexpr const char* kChecks =
    "To validate a DPoP proof, the receiving server MUST ensure the following:";

// The key the run's proofs are made with (the exchanger's DPoP key for this run).
const jose::Key& run_key() {
  static const jose::Key key = jose::Key::generate(jose::Alg::kES256);
  return key;
}

std::string random_jti() {
  static std::atomic<uint64_t> n{0};
  return "txlab-dpop-" + std::to_string(n.fetch_add(1)) + "-" +
         std::to_string(reinterpret_cast<uintptr_t>(&n) % 9973);
}

int64_t wall_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A proof JWS from a hand-made header and claims, signed by `signer` (for the malformed ones).
std::string forge_proof(const Json& header, const Json& claims, const jose::Key& signer) {
  const std::string input =
      jose::base64url_encode(header.dump()) + "." + jose::base64url_encode(claims.dump());
  auto sig = jose::sign_bytes(signer, input);
  return input + "." + jose::base64url_encode(sig.value_or(""));
}

Json proof_claims(Probe& p, const std::string& htm, int64_t iat) {
  Json c = {{"jti", random_jti()}, {"htm", htm}, {"htu", p.token_endpoint_url()}, {"iat", iat}};
  if (!p.scratch("dpop-nonce").empty()) c["nonce"] = p.scratch("dpop-nonce");
  return c;
}

std::string valid_proof(Probe& p) {
  return jose::dpop::make(run_key(), "POST", p.token_endpoint_url(), wall_now_s(), random_jti(), {},
                          p.scratch("dpop-nonce"));
}

// One valid exchange with a valid proof, answered once per run (a use_dpop_nonce answer is
// retried once with the server's nonce, which later proofs carry too, RFC 9449 §8).
const Answer& support(Probe& p) {
  return exchange_once(p, "dpop/support", [&p](const http::FormParams& f) {
    Answer a = p.post_with(f, {{"DPoP", valid_proof(p)}});
    if (a.status == 400 && a.error() == "use_dpop_nonce" && !a.dpop_nonce.empty()) {
      p.scratch("dpop-nonce") = a.dpop_nonce;
      std::string error;
      if (auto again = p.valid_exchange(&error))
        a = p.post_with(*again, {{"DPoP", valid_proof(p)}});
    }
    return a;
  });
}

// Whether the target binds: nullopt when it does, else the finding every case reports.
std::optional<Finding> not_binding(Probe& p) {
  const Answer& a = support(p);
  if (a.status == 200 && lower(json_str(a.body, "token_type")) == "dpop") return std::nullopt;
  if (a.status == 200)
    return unimplemented(
        "the target answers a valid DPoP proof with token_type '" + json_str(a.body, "token_type") +
            "': it does not bind tokens (RFC 9449 §5: an AS MAY issue tokens that are not DPoP "
            "bound)",
        a.describe());
  return unimplemented("a token exchange with a valid DPoP proof is refused (" + a.describe() +
                           "): DPoP is not available for token exchange here",
                       a.describe());
}

// An invalid proof must be refused: 400 invalid_dpop_proof (RFC 9449 §5); any other refusal
// is NON-STRICT; an issued token is FAILED.
Finding expect_refused(Probe& p, const std::vector<std::string>& proofs) {
  if (auto n = not_binding(p)) return *n;
  return with_valid_exchange(p, [&](const http::FormParams& form) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& pr : proofs) headers.emplace_back("DPoP", pr);
    const Answer a = p.post_with(form, headers);
    if (a.status == 200)
      return failed("400 invalid_dpop_proof",
                    a.describe() + " (token_type '" + json_str(a.body, "token_type") + "')");
    if (a.status == 400 && a.error() == "invalid_dpop_proof") return ok(a.describe());
    if (a.status >= 400 && a.status < 500)
      return non_strict("400 invalid_dpop_proof", a.describe(),
                        "refused, but RFC 9449 §5 names invalid_dpop_proof for an invalid proof");
    return failed("400 invalid_dpop_proof", a.describe());
  });
}

// The header of a proof under the run's key.
Json proof_header(const char* typ = "dpop+jwt") {
  return {{"typ", typ}, {"alg", "ES256"}, {"jwk", run_key().public_jwk()}};
}

Finding token_type_dpop(Probe& p) {
  const Answer& a = support(p);
  if (a.status == 200 && lower(json_str(a.body, "token_type")) != "dpop") {
    // Bound to the proof's key anyway (cnf.jkt in a JWT) while saying Bearer: the MUST is
    // broken. Another confirmation (a certificate's x5t#S256, RFC 8705) is Bearer.
    if (auto d = jose::decode_unverified(json_str(a.body, "access_token"));
        d && json_path(d->second, "cnf.jkt"))
      return failed("token_type DPoP for a token carrying cnf.jkt",
                    "token_type '" + json_str(a.body, "token_type") + "', cnf " +
                        safe_dump(d->second["cnf"]));
  }
  if (auto n = not_binding(p)) return *n;
  return ok(a.describe() + " token_type DPoP");
}

Finding cnf_jkt_is_the_proof_key(Probe& p) {
  if (auto n = not_binding(p)) return *n;
  const auto d = jose::decode_unverified(json_str(support(p).body, "access_token"));
  if (!d) return unimplemented("the issued access token is not a JWT (opaque)");
  const Json* jkt = json_path(d->second, "cnf.jkt");
  if (!jkt || !jkt->is_string())
    return unimplemented(
        "the JWT carries no cnf.jkt (the binding may be known by introspection, §6.2)");
  if (jkt->get<std::string>() == run_key().thumbprint()) return ok("cnf.jkt = thumbprint");
  return failed("cnf.jkt " + run_key().thumbprint(), "cnf.jkt " + jkt->get<std::string>());
}

Finding bound_client_without_proof_rejected(Probe& p) {
  if (!p.target().dpop_bound_client)
    return informational(
        "no client registered with dpop_bound_access_tokens is known: run with "
        "--dpop-bound-client ID:SECRET");
  // A server that does not bind tokens with DPoP at all (a valid proof gets a Bearer token)
  // has no clients that always use it: the rule cannot be observed (Keycloak 26.2: DPoP is a
  // preview feature, off, and the client switch is ignored).
  if (auto n = not_binding(p)) return *n;
  const Credentials& c = *p.target().dpop_bound_client;
  // First the same request with a valid proof: it must be served, or a refusal without one
  // proves nothing.
  std::string error;
  auto form = p.valid_exchange(&error);
  if (!form) return failed("a subject token for the request", "none", error);
  Answer with = p.post(*form, Auth::kBasic, &c, {{"DPoP", valid_proof(p)}});
  if (with.status == 400 && with.error() == "use_dpop_nonce" && !with.dpop_nonce.empty()) {
    p.scratch("dpop-nonce") = with.dpop_nonce;
    form = p.valid_exchange(&error);
    if (form) with = p.post(*form, Auth::kBasic, &c, {{"DPoP", valid_proof(p)}});
  }
  if (with.status != 200)
    return unimplemented("'" + c.id + "' is not served even with a valid proof (" +
                             with.describe() + "): the rule cannot be observed",
                         with.describe());
  form = p.valid_exchange(&error);
  if (!form) return failed("a subject token for the request", "none", error);
  const Answer without = p.post_without_proof(*form, c);
  if (without.status == 200)
    return failed("a refusal (no DPoP header)", without.describe() + " token_type '" +
                                                    json_str(without.body, "token_type") + "'");
  if (without.status >= 400 && without.status < 500) return ok(without.describe());
  return failed("a 4xx refusal", without.describe());
}

// §5, §6.1, §5.2: a valid proof binds the issued token.
void add_binding_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {{{"rfc9449/5/token-type-dpop", "RFC 9449 §5", Level::kMust,
         "A token bound to the proof's key is answered with token_type DPoP",
         "A token_type of DPoP MUST be included in the access token response to signal to the "
         "client that the access token was bound to its DPoP key"},
        token_type_dpop},
       {{"rfc9449/6.1/cnf-jkt-is-the-proof-key", "RFC 9449 §6.1", Level::kMust,
         "A JWT access token names the proof's key thumbprint in cnf.jkt",
         "The value of the jkt member MUST be the base64url encoding (as defined in [RFC7515]) "
         "of the JWK SHA-256 Thumbprint (according to [RFC7638]) of the DPoP public key (in JWK "
         "format) to which the access token is bound."},
        cnf_jkt_is_the_proof_key},
       {{"rfc9449/5.2/bound-client-without-proof-rejected", "RFC 9449 §5.2", Level::kMust,
         "A client registered to always use DPoP is refused without a proof",
         "dpop_bound_access_tokens: A boolean value specifying whether the client always uses "
         "DPoP for token requests. ... If the value is true, the authorization server MUST "
         "reject token requests from the client that do not contain the DPoP header."},
        bound_client_without_proof_rejected}});
}

// One check of §4.3 broken: the DPoP header values a request carries.
struct ProofRow {
  const char* slug;
  const char* title;
  const char* check;  // the numbered item of §4.3's list
  std::vector<std::string> (*make)(Probe& p);
};

// The proofs, one per row of add_proof_check_cases.
std::vector<std::string> two_proofs(Probe& p) { return {valid_proof(p), valid_proof(p)}; }
std::vector<std::string> not_a_jwt(Probe&) { return {"not.a-jwt"}; }
std::vector<std::string> missing_jti(Probe& p) {
  Json c = proof_claims(p, "POST", wall_now_s());
  c.erase("jti");
  return {forge_proof(proof_header(), c, run_key())};
}
std::vector<std::string> typ_jwt(Probe& p) {
  return {forge_proof(proof_header("JWT"), proof_claims(p, "POST", wall_now_s()), run_key())};
}
std::vector<std::string> alg_none(Probe& p) {
  const Json h = {{"typ", "dpop+jwt"}, {"alg", "none"}, {"jwk", run_key().public_jwk()}};
  return {jose::base64url_encode(h.dump()) + "." +
          jose::base64url_encode(proof_claims(p, "POST", wall_now_s()).dump()) + "."};
}
std::vector<std::string> bad_signature(Probe& p) {
  static const jose::Key other = jose::Key::generate(jose::Alg::kES256);
  return {forge_proof(proof_header(), proof_claims(p, "POST", wall_now_s()), other)};
}
std::vector<std::string> private_key_in_jwk(Probe& p) {
  static const jose::Key k = jose::Key::generate(jose::Alg::kES256);
  Json jwk = k.public_jwk();
  jwk["d"] = jose::base64url_encode(std::string(32, '\x07'));  // any private part
  return {forge_proof({{"typ", "dpop+jwt"}, {"alg", "ES256"}, {"jwk", jwk}},
                      proof_claims(p, "POST", wall_now_s()), k)};
}
std::vector<std::string> htm_get(Probe& p) {
  return {forge_proof(proof_header(), proof_claims(p, "GET", wall_now_s()), run_key())};
}
std::vector<std::string> htu_elsewhere(Probe& p) {
  Json c = proof_claims(p, "POST", wall_now_s());
  c["htu"] = p.token_endpoint_url() + "/elsewhere";
  return {forge_proof(proof_header(), c, run_key())};
}
std::vector<std::string> iat_day_ago(Probe& p) {
  return {forge_proof(proof_header(), proof_claims(p, "POST", wall_now_s() - 86400), run_key())};
}
std::vector<std::string> iat_day_ahead(Probe& p) {
  return {forge_proof(proof_header(), proof_claims(p, "POST", wall_now_s() + 86400), run_key())};
}

constexpr const char* kIatWindow =
    "11. The creation time of the JWT, as determined by either the iat claim or a server managed "
    "timestamp via the nonce claim, is within an acceptable window";

// §4.3: every check refuses a proof that breaks it.
void add_proof_check_cases(std::vector<Case>& out) {
  const ProofRow rows[] = {
      {"two-dpop-headers", "Two DPoP header fields are refused",
       "1. There is not more than one DPoP HTTP request header field.", two_proofs},
      {"not-a-jwt", "A DPoP header that is not a JWT is refused",
       "2. The DPoP HTTP request header field value is a single and well-formed JWT.", not_a_jwt},
      {"missing-jti", "A proof without jti is refused",
       "3. All required claims per Section 4.2 are contained in the JWT.", missing_jti},
      {"typ-not-dpop-jwt", "A proof whose typ is JWT is refused",
       "4. The typ JOSE Header Parameter has the value dpop+jwt.", typ_jwt},
      {"alg-none", "A proof with alg none is refused",
       "5. The alg JOSE Header Parameter indicates a registered asymmetric digital signature "
       "algorithm [IANA.JOSE.ALGS], is not none, is supported by the application, and is "
       "acceptable per local policy.",
       alg_none},
      {"bad-signature", "A proof whose signature is not by its jwk is refused",
       "6. The JWT signature verifies with the public key contained in the jwk JOSE Header "
       "Parameter.",
       bad_signature},
      {"private-key-in-jwk", "A proof whose jwk carries the private key is refused",
       "7. The jwk JOSE Header Parameter does not contain a private key.", private_key_in_jwk},
      {"htm-mismatch", "A proof made for GET is refused on a POST",
       "8. The htm claim matches the HTTP method of the current request.", htm_get},
      {"htu-mismatch", "A proof made for another URI is refused",
       "9. The htu claim matches the HTTP URI value for the HTTP request in which the JWT was "
       "received, ignoring any query and fragment parts.",
       htu_elsewhere},
      {"stale-iat", "A proof made a day ago is refused", kIatWindow, iat_day_ago},
      {"future-iat", "A proof dated a day ahead is refused", kIatWindow, iat_day_ahead},
  };
  for (const auto& row : rows) {
    // Built member by member: GCC 12 at -O3 warns (maybe-uninitialized) on the braced form.
    Case c;
    c.info.id = std::string("rfc9449/4.3/") + row.slug;
    c.info.section = kSection43;
    c.info.level = Level::kMust;
    c.info.title = row.title;
    // The list item follows the lead-in directly only for item 1; the others are elided to.
    const std::string check = row.check;
    c.info.requirement =
        std::string(kChecks) + (check.rfind("1. ", 0) == 0 ? " " : " ... ") + check;
    c.check = [make = row.make](Probe& p) { return expect_refused(p, make(p)); };
    out.push_back(std::move(c));
  }
}

Finding nonce_downgrade(Probe& p) {
  if (auto n = not_binding(p)) return *n;
  if (p.scratch("dpop-nonce").empty())
    return unimplemented("the target did not hand out a DPoP nonce (RFC 9449 §8 is a MAY)");
  const std::string nonce = p.scratch("dpop-nonce");
  p.scratch("dpop-nonce").clear();
  const std::string proof = valid_proof(p);  // without the nonce
  p.scratch("dpop-nonce") = nonce;
  return with_valid_exchange(p, [&](const http::FormParams& form) {
    const Answer a = p.post_with(form, {{"DPoP", proof}});
    if (a.status == 200) return failed("400 use_dpop_nonce", a.describe());
    return ok(a.describe());
  });
}

}  // namespace

void add_dpop_cases(std::vector<Case>& out) {
  add_binding_cases(out);
  add_proof_check_cases(out);
  out.push_back(
      {{"rfc9449/11.3/nonce-downgrade", "RFC 9449 §11.3", Level::kMust,
        "Once a nonce was handed out, a proof without it is refused",
        "A server MUST NOT accept any DPoP proofs without the nonce claim when a DPoP nonce has "
        "been provided to the client."},
       nonce_downgrade});
}

}  // namespace txlab::conformance
