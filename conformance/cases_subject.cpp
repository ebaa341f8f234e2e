// RFC 8693 §2.2.2: invalid or unacceptable subject tokens and targets; RFC 8707 resource.
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

const char* kInvalidSubject =
    "If the request itself is not valid or if either the subject_token or actor_token are invalid for any reason, or are "
    "unacceptable based on policy, the authorization server MUST construct an error response ... The value of the error "
    "parameter MUST be the invalid_request error code.";

// Replaces the subject token of a valid request and grades the refusal.
Finding refuse_subject(Probe& p, const std::function<std::string(const std::string& valid)>& make,
                       std::vector<Deviation> extra = {}) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string bad = make(f[1].second);
    if (bad.empty()) return informational("needs a token minted with the subject issuer's key (built-in targets only)");
    return expect_invalid_subject(p, p.post(replaced(f, "subject_token", bad)), std::move(extra));
  });
}

}  // namespace

void add_subject_cases(std::vector<Case>& out) {
  out.push_back({{"rfc8693/2.2.2/unknown-audience-invalid-target", "RFC 8693 §2.2.2", Level::kShould,
                  "A target the client may not obtain is invalid_target",
                  "If the authorization server is unwilling or unable to issue a token for any target service indicated by the resource or audience parameters, the invalid_target error code SHOULD be used in the error response."},
                 [](Probe& p) {
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     Answer a = p.post(replaced(f, "audience", p.target().forbidden_audience));
                     return expect_target_refused(p, a,
                                                  {{{Profile::kKeycloak}, 400, "invalid_client", Grade::kNonStrict, "Keycloak: \"Audience not found\""}});
                   });
                 }});

  out.push_back({{"rfc8707/2/relative-resource-invalid-target", "RFC 8707 §2", Level::kMust,
                  "A resource that is not an absolute URI is refused",
                  "The value of the resource parameter MUST be an absolute URI, as specified by Section 4.3 of [RFC3986], which MAY include a query component but MUST NOT include a fragment component. ... invalid_target."},
                 [](Probe& p) {
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     Answer a = p.post(with(f, "resource", "relative/path#fragment"));
                     return expect_error(p, a, 400, "invalid_target",
                                         {{{}, 400, "invalid_request", Grade::kNonStrict, "RFC 8707 names invalid_target"},
                                          {{Profile::kKeycloak}, 200, "", Grade::kUnimplemented, "Keycloak V2 ignores resource"}});
                   });
                 }});

  out.push_back({{"rfc8707/2/forbidden-resource-invalid-target", "RFC 8707 §2", Level::kShould,
                  "A resource the client may not obtain is invalid_target",
                  "If the requested resource is invalid, unknown, or the client is not allowed to obtain a token for it, the authorization server SHOULD reject the request with an invalid_target error."},
                 [](Probe& p) {
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     Answer a = p.post(with(without(f, "audience"), "resource", "https://forbidden.txlab.invalid/api"));
                     return expect_target_refused(p, a, {{{Profile::kKeycloak}, 200, "", Grade::kUnimplemented, "Keycloak V2 ignores resource"}});
                   });
                 }});

  out.push_back({{"rfc8693/2.2.2/garbage-subject-token", "RFC 8693 §2.2.2", Level::kMust, "A subject token that is not a token is refused",
                  kInvalidSubject},
                 [](Probe& p) { return refuse_subject(p, [](const std::string&) { return std::string("not-a-token"); }); }});

}

}  // namespace txlab::conformance
