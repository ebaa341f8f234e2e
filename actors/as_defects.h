// The catalogue of deliberate authorization-server defects used by the conformance
// self-check: each one makes the built-in AS break exactly one rule, so a test can prove the
// suite notices. Switched on only from code (AuthorizationServerSpec::defects), never from a
// scenario file.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include "sim/scenario.h"

namespace txlab {

struct AsDefectInfo {
  std::string_view name;
  std::string_view breaks;  // the rule it breaks
};

inline constexpr AsDefectInfo kAsDefects[] = {
    {"skip-subject-aud-check", "RFC 8693 §2.1: subject token must be meant for this exchange (aud)"},
    {"accept-expired-subject", "RFC 7519 §4.1.4: expired subject tokens are invalid"},
    {"accept-alg-none-subject", "RFC 8725 §3.2: unsecured JWTs are never accepted"},
    {"skip-signature-check", "RFC 7515 §5.2: the subject token's signature must verify"},
    {"trust-any-issuer", "RFC 8693 §2.1: only trusted issuers' subject tokens are acceptable"},
    {"omit-issued-token-type", "RFC 8693 §2.2.1: issued_token_type is REQUIRED"},
    {"allow-forbidden-audience", "RFC 8693 §2.2.2: a disallowed audience is invalid_target"},
    {"invalid-client-400", "RFC 6749 §5.2: invalid_client via Authorization header is 401 with WWW-Authenticate"},
    {"widen-scope", "RFC 8693 §2.1 / RFC 6749 §3.3: issued scope never exceeds the subject's"},
    {"drop-act", "RFC 8693 §4.1: the act claim names the acting party in delegation"},
    {"ignore-actor-token-type", "RFC 8693 §2.1: actor_token_type is REQUIRED with actor_token"},
    {"no-cache-control", "RFC 6749 §5.1: token responses carry Cache-Control: no-store"},
    {"accept-duplicate-params", "RFC 6749 §3.2: parameters MUST NOT be repeated"},
    {"server-error-on-missing-subject", "RFC 8693 §2.2.2: a missing subject_token is invalid_request, not a 500"},
    {"wrong-error-missing-type", "RFC 8693 §2.2.2: a missing subject_token_type is invalid_request"},
    {"unsupported-grant-as-invalid-request", "RFC 6749 §5.2: an unknown grant is unsupported_grant_type"},
    {"sub-from-client", "RFC 8693 §4.1: sub stays the subject token's subject"},
    {"ignore-may-act", "RFC 8693 §4.4: may_act limits who may act for the subject"},
    {"typ-missing", "RFC 9068 §2.1: JWT access tokens carry typ at+jwt"},
    {"missing-jti-client-id", "RFC 9068 §2.2: jti and client_id are REQUIRED claims"},
    {"wrong-token-type", "RFC 8693 §2.2.1 / RFC 6749 §7.1: token_type is Bearer for access tokens"},
    {"text-plain-response", "RFC 6749 §5.1: responses are application/json"},
    {"accept-relative-resource", "RFC 8707 §2: resource must be an absolute URI the client may reach"},
    {"ignore-requested-token-type", "RFC 8693 §2.2.1: issued_token_type reflects what was issued for the request"},
};

inline bool has_defect(const AsDefects& defects, std::string_view name) {
  return std::find(defects.begin(), defects.end(), name) != defects.end();
}

}  // namespace txlab
