// The catalogue of deliberate authorization-server defects used by the conformance
// self-check: each one makes the built-in AS break exactly one rule, so a test can prove the
// suite notices. Switched on only from code (AuthorizationServerSpec::defects), never from a
// scenario file. Beside them, quirks: legal-but-unusual behaviour that must NOT be flagged.
//
// Most defects act at one of a few seams, implemented in as_defects.cpp:
//  - token acceptance: after the strict verifier refused a subject or actor token, a defect
//    may accept it anyway (the shapes real verifiers get wrong);
//  - claims of the issued token, the response body, client authentication, error replies.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/errors.h"
#include "actors/token_status.h"
#include "sim/http/form.h"
#include "sim/jose/dpop.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/scenario.h"

namespace txlab {

using AsDefects = std::vector<std::string>;

// The names data elsewhere refers to (an attack's `leaks_with`): the catalogue's own strings, so
// no defect name is spelled outside it.
namespace defect_name {
inline constexpr const char* kSkipAud = "skip-aud";
inline constexpr const char* kJwksUnion = "jwks-union";
inline constexpr const char* kAlgFromHeader = "alg-from-header";
inline constexpr const char* kDpopBearerAccepted = "dpop-bearer-accepted";
inline constexpr const char* kDpopProofUnchecked = "dpop-proof-unchecked";
inline constexpr const char* kMtlsBindingUnchecked = "mtls-binding-unchecked";
inline constexpr const char* kTlsChainUnchecked = "tls-chain-unchecked";
}  // namespace defect_name

struct AsDefectInfo {
  std::string_view name;
  std::string_view breaks;  // the rule it breaks (or, for a quirk, what is unusual but legal)
  // The grade the suite must report for it: FAILED where a MUST binding the server is broken;
  // NON-STRICT where the RFC says SHOULD or the sentence binds another party; UNIMPLEMENTED
  // where the behaviour is optional (MAY) or not required by any sentence.
  std::string_view caught_as = "FAILED";
};

inline constexpr AsDefectInfo kAsDefects[] = {
    // request and response rules
    {"skip-subject-aud-check",
     "RFC 7519 §4.1.3: subject token must be meant for this exchange (aud)"},
    {"accept-expired-subject", "RFC 7519 §4.1.4: expired subject tokens are invalid"},
    {"accept-alg-none-subject", "RFC 7518 §3.6: unsecured JWTs are never accepted"},
    {"skip-signature-check", "RFC 7515 §5.2: the subject token's signature must verify"},
    {"trust-any-issuer",
     "RFC 8725 §3.8 / RFC 8693 §2.1: only trusted issuers' subject tokens are acceptable"},
    {"omit-issued-token-type", "RFC 8693 §2.2.1: issued_token_type is REQUIRED"},
    // DPoP at the token endpoint (RFC 9449)
    {"dpop-htu-unchecked", "RFC 9449 §4.3: a proof's htu is the request's URI"},
    {"dpop-iat-unchecked", "RFC 9449 §4.3: a proof's creation time is within a window"},
    {"dpop-token-type-bearer", "RFC 9449 §5: token_type DPoP for a bound token"},
    {"dpop-bound-unenforced",
     "RFC 9449 §5.2: a dpop_bound_access_tokens client's request without DPoP is rejected"},
    // mutual TLS at the token endpoint (RFC 8705)
    {defect_name::kTlsChainUnchecked,
     "RFC 8705 §2.1: tls_client_auth needs a certificate of a trusted CA"},
    {"mtls-thumbprint-of-key",
     "RFC 8705 §3.1: x5t#S256 is the hash of the DER encoding of the certificate (a SHOULD)",
     "NON-STRICT"},
    {"allow-forbidden-audience",
     "RFC 8693 §2.2.2 / RFC 8707 §2: a disallowed audience is invalid_target (a SHOULD)",
     "NON-STRICT"},
    // how the request is read
    {"reject-unknown-parameters", "RFC 6749 §3.2: unrecognized request parameters are ignored"},
    {"keep-empty-parameters",
     "RFC 6749 §3.2: parameters sent without a value are treated as omitted"},
    {"form-names-not-decoded",
     "RFC 8693 §2.1: the body is application/x-www-form-urlencoded, names decoded too (no keyword)",
     "INFORMATIONAL"},
    {"leeway-thirty-minutes",
     "RFC 7519 §4.1.4, §4.1.5: leeway is small, usually no more than a few minutes"},
    {"exp-string-accepted",
     "RFC 7519 §4.1.4: exp MUST be a number (a NumericDate; the MUST binds the token's producer)",
     "NON-STRICT"},
    {"accept-missing-sub", "RFC 9068 §2.2: an access token's sub is REQUIRED"},
    {"client-id-from-body",
     "RFC 8693 §2.1 / RFC 6749 §6: the authenticated client is served, not a client_id parameter"},
    {"client-id-of-subject",
     "RFC 8693 §4.3: client_id names the client that requested the issued token"},
    {"content-type-exact",
     "RFC 9110 §8.3.1: media types are case-insensitive, with parameters (no keyword)",
     "INFORMATIONAL"},
    {"basic-scheme-case-sensitive",
     "RFC 9110 §11.1: the authentication scheme is case-insensitive (no keyword)", "INFORMATIONAL"},
    {"malformed-body-500",
     "RFC 8693 §2.2.2: a malformed request gets an error response, not a 500"},
    {"oversized-token-500", "RFC 8693 §2.2.2: an oversized subject token gets an error response"},
    {"invalid-client-400",
     "RFC 6749 §5.2: invalid_client via Authorization header is 401 with WWW-Authenticate"},
    {"widen-scope",
     "RFC 6749 §3.3: a scope wider than the subject's, reported (the AS may ignore the request)",
     "NON-STRICT"},
    {"drop-act",
     "RFC 8693 §4.1: the act claim names the acting party (the MUST binds the consumer)",
     "NON-STRICT"},
    {"ignore-actor-token-type", "RFC 8693 §2.1: actor_token_type is REQUIRED with actor_token"},
    {"no-cache-control", "RFC 6749 §5.1: token responses carry Cache-Control: no-store"},
    {"accept-duplicate-params",
     "RFC 6749 §3.2: parameters MUST NOT be repeated (the MUST binds the client)", "NON-STRICT"},
    {"server-error-on-missing-subject",
     "RFC 8693 §2.1 / §2.2.2: a missing subject_token is invalid_request, not a 500"},
    {"wrong-error-missing-type",
     "RFC 8693 §2.1 / §2.2.2: a missing subject_token_type is invalid_request"},
    {"unsupported-grant-as-invalid-request",
     "RFC 6749 §5.2: an unknown grant is unsupported_grant_type"},
    {"sub-from-client",
     "RFC 8693 §4.1: sub stays the subject token's subject (the MUST binds the consumer)",
     "NON-STRICT"},
    {"ignore-may-act", "RFC 8693 §4.4: may_act limits who may act for the subject (no keyword)",
     "INFORMATIONAL"},
    {"typ-missing", "RFC 9068 §2.1: JWT access tokens carry typ at+jwt"},
    {"missing-jti-client-id", "RFC 9068 §2.2: jti and client_id are REQUIRED claims"},
    {"wrong-token-type", "RFC 8693 §2.2.1 / RFC 6749 §7.1: token_type is Bearer for access tokens"},
    {"text-plain-response", "RFC 6749 §5.2: error responses are application/json"},
    {"accept-relative-resource",
     "RFC 8707 §2: resource is an absolute URI (the MUST binds the client)", "NON-STRICT"},
    {"ignore-requested-token-type",
     "RFC 8693 §2.1: requested_token_type is honoured or refused (no sentence requires it)",
     "UNIMPLEMENTED"},
    // token acceptance: forgeries of the subject token
    {"accept-unknown-kid",
     "RFC 7515 §5.2: a kid the issuer never published cannot verify anything"},
    {"accept-foreign-key-real-kid", "RFC 7515 §5.2: the signature must verify under the kid's key"},
    {"accept-missing-kid", "RFC 7515 §5.2: without a kid the signature must still verify"},
    {"accept-hs256-public-key",
     "RFC 8725 §3.1: a public key is never an HMAC secret (algorithm confusion)"},
    {"trust-embedded-jwk", "RFC 8725 §3.8: a key carried in the jwk header is the forger's"},
    {"trust-jku", "RFC 8725 §3.8: keys from a URL the token names (jku) are the forger's"},
    {"trust-x5u", "RFC 8725 §3.8: a certificate from a URL the token names (x5u) is the forger's"},
    {"trust-x5c", "RFC 8725 §3.8: a certificate carried in x5c is the forger's"},
    {"alg-none-case-sensitive", "RFC 7518 §3.6: 'None' and 'NONE' are as unsecured as 'none'"},
    {"accept-empty-signature", "RFC 7515 §5.2: a JWS without signature bytes is invalid"},
    {"jwt-type-skips-signature",
     "RFC 7515 §5.2: subject_token_type jwt is verified like access_token"},
    {"jwt-type-skips-audience", "RFC 7519 §4.1.3: subject_token_type jwt is audience-checked too"},
    // token acceptance: claims (signed with a trusted key)
    {"ignore-crit", "RFC 7519 §7.2: unknown critical header extensions make the JWT invalid"},
    {"accept-not-yet-valid", "RFC 7519 §4.1.5: a token before its nbf is not accepted"},
    {"accept-missing-exp", "RFC 9068 §2.2: access tokens without exp are invalid"},
    {"issuer-key-mixup", "RFC 8725 §3.8: the key must belong to the issuer the token names"},
    {"untrusted-issuer-trusted-key",
     "RFC 8725 §3.8: a trusted key does not make an untrusted iss trusted"},
    {"trust-token-issuer-discovery",
     "RFC 8725 §3.8: keys found through an unconfigured iss's discovery are the forger's"},
    {"accept-reissued-token",
     "RFC 7519 §4.1.3: a token for the client's target audience is not a subject token for it"},
    // token acceptance by bug class (the probes of cases_classes.cpp), subject and actor slot
    {"iss-near-miss-accepted",
     "RFC 8725 §3.8: iss compared exactly (not by prefix, letter case or trailing slash)"},
    {"actor-iss-near-miss-accepted",
     "RFC 8725 §3.8: an actor token's iss compared exactly, not by prefix or letter case"},
    {"aud-near-miss-accepted",
     "RFC 7519 §4.1.3: aud compared exactly (not by prefix or letter case)"},
    {"duplicate-claims-first-wins",
     "RFC 7519 §4: duplicate claims are refused or the lexically last one is used"},
    {"actor-duplicate-claims-first-wins",
     "RFC 7519 §4: an actor token's duplicate claims are refused or the last one is used"},
    {"duplicate-header-first-wins",
     "RFC 7515 §4: duplicate header members are refused or the lexically last one is used"},
    {"alg-from-key", "RFC 7515 §5.2: the signature is verified with the alg its header names"},
    {"actor-alg-from-key",
     "RFC 7515 §5.2: an actor token's signature is verified with the alg its header names"},
    {"numericdate-non-integer-ignored",
     "RFC 7519 §4.1.4 / RFC 7519 §4.1.5: an exp or nbf that is not a positive integer is not "
     "ignored"},
    {"accept-psychic-signature",
     "RFC 7515 §5.2: an ECDSA signature with r or s zero or out of range never validates"},
    {"actor-accept-psychic-signature",
     "RFC 7515 §5.2: an actor token's ECDSA signature with r or s zero never validates"},
    {"signature-trailing-bytes", "RFC 7515 §5.2: a signature with extra octets does not validate"},
    {"accept-der-signature", "RFC 7518 §3.4: an ECDSA JWS signature is R || S, 64 octets"},
    {"extra-segments-ignored",
     "RFC 7519 §7.2: a JWS has exactly three segments (RFC 7516 §9), extra ones are refused"},
    {"actor-extra-segments-ignored",
     "RFC 7519 §7.2: an actor token with extra segments is refused"},
    {"jws-json-accepted",
     "RFC 7519 §7.2: a JWT is a compact serialization, never the JWS JSON serialization"},
    {"secret-prefix-compare",
     "RFC 6749 §5.2: a secret that is only a prefix of the client's fails authentication (401)"},
    {"client-id-case-insensitive",
     "RFC 6749 §5.2: another client id in another letter case does not authenticate (401)"},
    {"basic-failure-falls-back-to-body",
     "RFC 6749 §2.3: two methods at once (a client MUST NOT): a failed Basic attempt rescued by "
     "body credentials",
     "NON-STRICT"},
    {"lenient-base64-signature",
     "RFC 7515 §5.2: the signature is base64url without padding, other alphabets or whitespace"},
    {"token-type-prefix-match",
     "RFC 8693 §2.2.2: a subject_token_type that only resembles a known one makes the request "
     "invalid"},
    {"typ-compared-exactly",
     "RFC 7515 §4.1.9: typ application/at+jwt is at+jwt (refused here: compared as a string)"},
    {"unknown-claims-refused",
     "RFC 7519 §4: claims and header members not understood are ignored (refused here)"},
    {"actor-unknown-claims-refused",
     "RFC 7519 §4: an actor token's unknown claims are ignored (refused here)"},
    {"jwks-keeps-withdrawn-keys",
     "RFC 8725 §3.8: a key the issuer withdrew from its JWKS no longer belongs to it"},
    {"validation-cache-outlives-exp",
     "RFC 7519 §4.1.4: a token once accepted is refused again after its exp (no cache past it)"},
    {"actor-validation-cache-outlives-exp",
     "RFC 7519 §4.1.4: an actor token once accepted is refused again after its exp"},
    // token acceptance: the actor token
    {"actor-skip-signature",
     "RFC 7515 §5.2 / RFC 8693 §2.2.2: an actor_token whose signature fails is refused"},
    {"actor-accept-expired", "RFC 7519 §4.1.4: expired actor tokens are invalid"},
    {"actor-trust-any-issuer",
     "RFC 8725 §3.8 / RFC 8693 §2.2.2: actor tokens from untrusted issuers are refused"},
    {"actor-ignore-crit", "RFC 7519 §7.2: unknown critical extensions invalidate actor tokens too"},
    {"actor-jwt-alg-none", "RFC 7518 §3.6: actor_token_type jwt never accepts alg none"},
    // decisions and the issued token
    {"grant-requested-scope",
     "RFC 6749 §3.3: a requested scope beyond the subject's granted and reported", "NON-STRICT"},
    {"narrow-scope-silently",
     "RFC 6749 §3.3 / RFC 8693 §2.2.1: a narrowed scope is reported in scope"},
    {"copy-subject-jti", "RFC 7519 §4.1.7: the issued token has its own jti"},
    {"constant-jti", "RFC 7519 §4.1.7: jti values are unique per token"},
    {"drop-prior-act", "RFC 8693 §4.1: earlier actors stay nested in act (no keyword)",
     "INFORMATIONAL"},
    {"exchange-without-grant", "RFC 6749 §5.2: a client without the grant is unauthorized_client"},
    // response body
    {"expires-in-string", "RFC 8693 §2.2.1: expires_in, RECOMMENDED, is a number of seconds",
     "NON-STRICT"},
    {"expires-in-mismatch",
     "RFC 8693 §2.2.1: expires_in is the token's validity lifetime (a SHOULD)", "NON-STRICT"},
    {"issued-type-refresh-label",
     "RFC 8693 §2.2.1: issued_token_type names what was issued (not refresh_token)"},
    {"issued-type-id-token-label",
     "RFC 8693 §2.2.1: issued_token_type names what was issued (not id_token)"},
    {"scope-as-array", "RFC 6749 §5.1: scope is a space-delimited JSON string (no keyword)",
     "INFORMATIONAL"},
    // client authentication and errors
    {"unknown-client-no-challenge",
     "RFC 6749 §5.2: 401 for Basic carries WWW-Authenticate, unknown clients too"},
    {"accept-empty-secret", "RFC 6749 §5.2: an empty password is failed client authentication"},
    {"post-secret-unchecked",
     "RFC 6749 §5.2: client_secret in the body is checked (invalid_client)"},
    {"basic-not-urldecoded", "RFC 6749 §2.3.1: Basic credentials are form-urldecoded"},
    {"raw-error-description",
     "RFC 6749 §5.2: error_description within %x20-21 / %x23-5B / %x5D-7E"},
};

// Legal behaviour real servers show; the suite must stay at 0 FAILED with all of them on.
inline constexpr AsDefectInfo kAsQuirks[] = {
    {"quirk-lowercase-bearer", "token_type 'bearer' (RFC 6749 §7.1: case-insensitive)"},
    {"quirk-no-expires-in", "no expires_in (RFC 8693 §2.2.1: RECOMMENDED only)"},
    {"quirk-aud-string", "aud as a single string (RFC 7519 §4.1.3)"},
    {"quirk-extra-members", "extra response members (RFC 6749 §5.1: clients ignore unknown ones)"},
    {"quirk-cache-control-no-cache-no-store", "Cache-Control: no-cache, no-store"},
    {"quirk-invalid-request-for-bad-subject",
     "invalid_request for a bad subject token (RFC 8693 §2.2.2's own code)"},
    {"quirk-post-failure-400",
     "invalid_client as 400 when the client did not use the Authorization header (RFC 6749 "
     "§5.2: the 401 is a MAY then)"},
    {"quirk-duplicate-members-last-wins",
     "duplicate JSON members read lexically last (RFC 7515 §4, RFC 7519 §4 allow it)"},
    {"quirk-strict-time-window", "no leeway at all on exp and nbf (RFC 7519 §4.1.4: a MAY)"},
    {"quirk-refresh-token-in-exchange",
     "a refresh_token in the exchange response (RFC 8693 §2.2.1: OPTIONAL)"},
    {"quirk-jwks-other-keys",
     "the JWKS also holds an encryption key of another type, listed first (RFC 7517 §4.2 use)"},
};

// Defects of the edge verifier (gateways and resource servers), for the attack self-checks.
inline constexpr AsDefectInfo kEdgeDefects[] = {
    {defect_name::kSkipAud, "RFC 7519 §4.1.3: the gateway checks aud"},
    {defect_name::kJwksUnion, "RFC 8725 §3.8: each issuer's keys verify only that issuer's tokens"},
    {defect_name::kAlgFromHeader,
     "RFC 8725 §3.1: the verifier, not the token, picks the algorithm"},
    {defect_name::kDpopBearerAccepted, "RFC 9449 §7.1: a DPoP-bound token is never a bearer token"},
    {defect_name::kDpopProofUnchecked,
     "RFC 9449 §4.3, §7.1: the proof's key is the bound key, for this method, URL, time, token, "
     "once"},
    {defect_name::kMtlsBindingUnchecked,
     "RFC 8705 §3: a certificate-bound token is accepted only over a connection with its "
     "certificate"},
};

// True for a name in any of the catalogues above (the World refuses unknown names).
bool is_known_defect(std::string_view name);

inline bool has_defect(const AsDefects& defects, std::string_view name) {
  return std::find(defects.begin(), defects.end(), name) != defects.end();
}

namespace defects {

enum class Slot { kSubject, kActor };

// What token-acceptance defects may consult.
struct TokenContext {
  Slot slot = Slot::kSubject;
  bool jwt_type = false;  // subject_token_type / actor_token_type was ...:jwt
  std::vector<std::string> client_audiences;
  // A trusted issuer's key by issuer and kid (nullopt when none).
  std::function<std::optional<jose::Key>(const std::string& iss, const std::string& kid)>
      issuer_key;
  // Every trusted issuer's key with this kid (for the mix-up defects).
  std::function<std::vector<jose::Key>(const std::string& kid)> any_trusted_key;
  // GET a URL (jku / x5u defects only); "" on failure.
  std::function<std::string(const std::string& url)> fetch;
  int64_t now_s = 0;                            // the AS's clock (the leeway defect)
  std::vector<std::string> trusted_issuers;     // iss values the AS trusts
  std::vector<std::string> accepted_audiences;  // aud values a subject token may carry
};

// After the strict verifier refused `token` with `strict`: the claims a defect accepts it
// with, or nullopt (the token stays refused).
std::optional<nlohmann::json> accept_anyway(const AsDefects& d, const TokenContext& ctx,
                                            std::string_view token,
                                            const jose::VerifiedJwt& strict);
// Whether a defect refuses a token the strict verifier accepted (over-strict verifiers).
bool refuse_anyway(const AsDefects& d, const TokenContext& ctx, std::string_view token,
                   const nlohmann::json& claims);
// A token the AS accepted (the validation-cache defects remember it, bounded, and serve a
// remembered token's claims with a lifetime counted from the cache).
void on_accepted(const AsDefects& d, const TokenContext& ctx, std::string_view token,
                 nlohmann::json& claims);

// ---- the token-exchange pipeline's seams (actors/exchange_rules.h) ----
// The request as it reaches parse: defects rewrite it (a missing actor_token_type supplied,
// requested_token_type dropped, resources taken out unvalidated). Returns the resources to use
// as targets without any check.
std::vector<std::string> on_form(const AsDefects& d, http::FormParams& form);
// The client's registration as targets() sees it (every requested target allowed).
void on_targets(const AsDefects& d, const std::vector<std::string>& requested,
                ClientRegistration& client);
// What decide() sees: the subject's claims (no may_act, no prior act, no exp, the client's whole
// scope), the request (a scope beyond the grant narrowed).
void before_decide(const AsDefects& d, const ClientRegistration& client,
                   std::vector<std::string>* requested_scope, nlohmann::json& subject);
// What decide() decided (act dropped, a narrowed scope not reported).
void after_decide(const AsDefects& d, bool scope_was_narrowed, nlohmann::json& act,
                  bool& report_scope);
// The code for bad subject and actor tokens (the quirk: invalid_request whatever the policy).
void on_bad_token_error(const AsDefects& d, TokenError& error);
// A refusal's wire form (a 500 or the wrong code for a missing parameter).
void on_refusal(const AsDefects& d, oauth::Status status, TokenError& error);
// The issued token's claims (subject claims and client for reference), and its typ.
void on_claims(const AsDefects& d, nlohmann::json& claims, const nlohmann::json& subject_claims,
               const std::string& client_id = {});
std::string access_token_typ(const AsDefects& d);
// The token response body.
void on_response(const AsDefects& d, nlohmann::json& body);
// DPoP checks a defect skips at the token endpoint (the status is treated as valid).
bool dpop_excused(const AsDefects& d, jose::dpop::Status s);
// The verifier policy for subject tokens (an expired one accepted).
void on_subject_policy(const AsDefects& d, jose::VerifyPolicy& policy);

// ---- the token endpoint's seams ----
struct ReplyHeaders {
  bool cache_headers = true;  // Cache-Control / Pragma
  std::string cache_control = "no-store";
  std::string content_type = "application/json";
};
void on_reply(const AsDefects& d, ReplyHeaders& h);
// An invalid_client answer: its status, whether it carries the Basic challenge, and the
// error_description as sent (sanitized unless a defect echoes it raw).
void on_client_error(const AsDefects& d, bool unknown_client, bool basic_attempted, int& status,
                     bool& challenge);
std::string description(const AsDefects& d, const std::string& raw);
bool accepts_duplicate_parameters(const AsDefects& d);
// The trusted issuers' key caches keep keys the issuers withdrew.
bool jwks_keeps_withdrawn_keys(const AsDefects& d);
// Extra keys the JWKS lists before the signing keys (the quirk: an encryption key).
std::vector<nlohmann::json> extra_jwks_keys(const AsDefects& d);
// AS: a token too large for the verifier crashes the handler (a 500).
bool oversized_token_500(const AsDefects& d);
// AS client authentication: a failed Basic header rescued by a body secret; client ids
// compared ignoring case; the client_id parameter preferred over the authenticated client.
bool basic_failure_falls_back_to_body(const AsDefects& d);
bool client_id_case_insensitive(const AsDefects& d);
bool client_id_from_body(const AsDefects& d);
bool grant_check_skipped(const AsDefects& d, std::string_view grant);
// Client authentication: credentials as compared (Basic not decoded) and secrets accepted.
void on_basic_credentials(const AsDefects& d, std::string_view authorization, std::string& id,
                          std::string& secret);
bool secret_accepted_anyway(const AsDefects& d, bool post, const std::string& secret,
                            const std::string& registered);

// ---- gateways and resource servers (the bearer guard) ----
// Defects of the edge verifier: skip-aud (no audience check), alg-from-header (alg none and
// HS256 keyed with the issuer's published JWK text accepted), jwks-union (every AS's keys for
// every issuer).
void on_edge_policy(const std::vector<std::string>& d, jose::VerifyPolicy& policy);
bool edge_jwks_union(const std::vector<std::string>& d);
bool edge_dpop_bearer_accepted(const std::vector<std::string>& d);
bool edge_dpop_proof_unchecked(const std::vector<std::string>& d);
bool edge_mtls_binding_unchecked(const std::vector<std::string>& d);
// AS: tls_client_auth accepts a certificate whatever its issuer (self-check only).
bool tls_chain_unchecked(const AsDefects& d);
// AS request reading: unknown parameters refused, empty ones kept, names left encoded.
bool rejects_unknown_parameters(const AsDefects& d);
bool keeps_empty_parameters(const AsDefects& d);
bool form_names_not_decoded(const AsDefects& d);
// form-names-not-decoded: the names put back as they were sent, percent-encoding and all.
void undecode_names(const std::string& body, http::FormParams& form);
// reject-unknown-parameters: the first parameter not in the token endpoint's vocabulary.
std::optional<std::string> unknown_parameter(const http::FormParams& form);
bool content_type_exact(const AsDefects& d);
bool accepts_missing_sub(const AsDefects& d);
bool basic_scheme_case_sensitive(const AsDefects& d);
bool malformed_body_500(const AsDefects& d);
// AS: a dpop_bound_access_tokens client may ask without a proof (self-check only).
bool dpop_bound_unenforced(const AsDefects& d);
// AS: x5t#S256 computed over the certificate's public key instead of the certificate.
bool mtls_thumbprint_of_key(const AsDefects& d);
std::optional<nlohmann::json> edge_accept_anyway(
    const std::vector<std::string>& d, std::string_view token, const jose::VerifiedJwt& strict,
    const std::function<std::optional<jose::Key>(const std::string& iss, const std::string& kid)>&
        key);

}  // namespace defects

}  // namespace txlab
