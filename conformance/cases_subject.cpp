// RFC 8693 §2.2.2: invalid or unacceptable subject tokens and targets; RFC 8707 resource.
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "conformance/vendor_profiles.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

const char* kTargetSentence =
    "If the authorization server is unwilling or unable to issue a token for any target service "
    "indicated by the resource or audience parameters, the invalid_target error code SHOULD be "
    "used in the error response.";

const char* kInvalidSubject =
    "If the request itself is not valid or if either the subject_token or actor_token are invalid "
    "for any reason, or are "
    "unacceptable based on policy, the authorization server MUST construct an error response ... "
    "The value of the error "
    "parameter MUST be the invalid_request error code.";

// Replaces the subject token of a valid request and grades the refusal.
Finding refuse_subject(Probe& p, const std::function<std::string(const std::string& valid)>& make,
                       std::vector<Deviation> extra = {}) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string bad = make(f[1].second);
    if (bad.empty())
      return informational(
          "needs a token minted with the subject issuer's key (built-in targets only)");
    return expect_invalid_subject(p, p.post(replaced(f, "subject_token", bad)), std::move(extra));
  });
}

// A 200 whose issued token does not name the resource: the server does not implement RFC 8707
// and ignores the parameter, as RFC 6749 §3.1 lets it ("MUST ignore unrecognized request
// parameters"). A token that names it was issued for it.
std::optional<Finding> resource_ignored(const Answer& a, const std::string& resource) {
  if (a.status != 200) return std::nullopt;
  auto jwt = a.issued_jwt();
  if (!jwt)
    return unimplemented(
        "200 with a token that is not a JWT: RFC 8707 resource support cannot be told",
        a.describe());
  if (jose::audience_contains(jwt->second.value("aud", Json()), resource)) return std::nullopt;
  return unimplemented(
      "the server ignores resource (RFC 8707 not implemented; RFC 6749 §3.1 lets it ignore unknown "
      "parameters)",
      "200, aud " + jwt->second.value("aud", Json()).dump());
}

}  // namespace

void add_subject_cases(std::vector<Case>& out) {
  out.push_back(
      {{"rfc8693/2.2.2/unknown-audience-invalid-target", "RFC 8693 §2.2.2", Level::kShould,
        "A target the client may not obtain is invalid_target", kTargetSentence},
       [](Probe& p) {
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           Answer a = p.post(replaced(f, "audience", p.target().forbidden_audience));
           return expect_target_refused(p, a,
                                        vendor_deviations(VendorSituation::kForbiddenAudience));
         });
       }});

  out.push_back(
      {{"rfc8707/2/relative-resource-invalid-target", "RFC 8707 §2", Level::kMust,
        "A resource that is not an absolute URI is refused (the MUST binds the client)",
        "Its value MUST be an absolute URI, as specified by Section 4.3 of [RFC3986]. The URI MUST "
        "NOT include a fragment component. ... invalid_target The requested resource is invalid, "
        "missing, unknown, or malformed.",
        true, Binds::kClient},
       [](Probe& p) {
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           const std::string resource = "relative/path#fragment";
           Answer a = p.post(with(f, "resource", resource));
           // A server that ignores resource altogether (Keycloak V2 among them) is UNIMPLEMENTED
           // here; one that issued a token for the relative resource tolerated the client's
           // mistake, whatever its profile.
           if (auto ignored = resource_ignored(a, resource)) return *ignored;
           return expect_error(
               p, a, 400, "invalid_target",
               {{{}, 400, "invalid_request", Grade::kNonStrict, "RFC 8707 names invalid_target"}});
         });
       }});

  out.push_back(
      {{"rfc8693/2.2.2/forbidden-resource-invalid-target", "RFC 8693 §2.2.2", Level::kShould,
        "A resource (RFC 8707) the client may not obtain is invalid_target", kTargetSentence},
       [](Probe& p) {
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           const std::string resource = "https://forbidden.txlab.invalid/api";
           Answer a = p.post(with(without(f, "audience"), "resource", resource));
           if (auto ignored = resource_ignored(a, resource)) return *ignored;
           return expect_target_refused(p, a,
                                        vendor_deviations(VendorSituation::kForbiddenResource));
         });
       }});

  out.push_back({{"rfc8693/2.2.2/garbage-subject-token", "RFC 8693 §2.2.2", Level::kMust,
                  "A subject token that is not a token is refused", kInvalidSubject},
                 [](Probe& p) {
                   return refuse_subject(
                       p, [](const std::string&) { return std::string("not-a-token"); });
                 }});
}

}  // namespace txlab::conformance
