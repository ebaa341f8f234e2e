// HTTP as the token endpoint reads it (RFC 9110): media types and authentication schemes
// compared case-insensitively, media type parameters allowed; malformed bodies answered with a
// precise error (RFC 6749 §5.2 invalid_request), never a server error or no answer. RFC 9110
// states the first as prose and RFC 6749 §5.2 only defines invalid_request: no BCP 14 keyword
// binds the server, so those cases report (Level::kNone). An oversized subject token is an
// invalid subject_token, which RFC 8693 §2.2.2 requires an error response for.
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/http/form.h"

namespace txlab::conformance {

namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

}  // namespace

Finding without_basic(const Probe& p) {
  if (p.default_auth() == Auth::kTls)
    return informational(
        "the exchanger authenticates with its certificate: no password to send "
        "with Basic");
  return unimplemented("the exchanger does not authenticate with Basic here");
}

namespace {

// The valid exchange sent with the exchanger's Basic credentials, a Content-Type and an
// Authorization scheme as given: must be served like the plain one.
Finding served_with(Probe& p, const std::string& content_type, const std::string& scheme) {
  if (p.default_auth() != Auth::kBasic) return without_basic(p);
  const Credentials& c = p.target().exchanger;
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const Answer plain = p.post(f);
    if (plain.status != 200)
      return failed("a served baseline exchange", plain.describe(),
                    "precondition failed: the unchanged request is not served");
    std::string error;
    auto again = p.valid_exchange(&error);
    if (!again) return failed("a subject token for the request", "none", error);
    std::string basic = http::basic_authorization(c.id, c.secret);
    basic = scheme + basic.substr(basic.find(' '));
    const Answer a =
        p.send_raw("POST", "", http::encode_form(*again), content_type, {{"Authorization", basic}});
    if (a.status == 200) return ok(a.describe());
    return failed("200, as with 'Content-Type: " + std::string(kForm) + "' and 'Basic'",
                  a.describe());
  });
}

// A body that is not a well-formed form (or not UTF-8): 400 invalid_request; another 4xx is
// NON-STRICT, a token NON-STRICT (a lenient parser), a 5xx or no answer FAILED.
Finding malformed(Probe& p, const std::string& damage) {
  if (p.default_auth() != Auth::kBasic) return without_basic(p);
  const Credentials& c = p.target().exchanger;
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string body = http::encode_form(f) + "&" + damage;
    const Answer a = p.send_raw("POST", "", body, kForm,
                                {{"Authorization", http::basic_authorization(c.id, c.secret)}});
    if (a.status == 400 && a.error() == "invalid_request") return ok(a.describe());
    if (a.status == 200)
      return non_strict("400 invalid_request", a.describe(),
                        "served anyway: the malformed part was skipped or repaired");
    if (a.status >= 400 && a.status < 500)
      return non_strict("400 invalid_request", a.describe(),
                        "refused, but RFC 6749 §5.2 names invalid_request for a malformed request");
    return failed("400 invalid_request", a.describe(),
                  "a malformed body must get an error response, not a server failure");
  });
}

constexpr const char* kInvalidSubject =
    "If the request itself is not valid or if either the subject_token or actor_token are "
    "invalid for any reason, or are unacceptable based on policy, the authorization server MUST "
    "construct an error response, as specified in Section 5.2 of [RFC6749].";

}  // namespace

void add_http_cases(std::vector<Case>& out) {
  out.push_back(
      {{"rfc9110/8.3.1/media-type-case-insensitive", "RFC 9110 §8.3.1", Level::kNone,
        "Content-Type APPLICATION/X-WWW-FORM-URLENCODED is the form media type",
        "The type and subtype tokens are case-insensitive."},
       [](Probe& p) { return served_with(p, "APPLICATION/X-WWW-FORM-URLENCODED", "Basic"); }});
  out.push_back(
      {{"rfc9110/8.3.1/media-type-charset-parameter", "RFC 9110 §8.3.1", Level::kNone,
        "Content-Type with '; charset=UTF-8' is the form media type",
        "Content-Type = media-type (RFC 9110 §8.3) ... media-type = type \"/\" subtype "
        "parameters"},
       [](Probe& p) { return served_with(p, std::string(kForm) + "; charset=UTF-8", "Basic"); }});
  out.push_back({{"rfc9110/11.1/basic-scheme-case-insensitive", "RFC 9110 §11.1", Level::kNone,
                  "The Basic authentication scheme is matched case-insensitively ('basic')",
                  "It uses a case-insensitive token to identify the authentication scheme"},
                 [](Probe& p) { return served_with(p, kForm, "basic"); }});
  out.push_back(
      {{"rfc8693/2.2.2/oversized-subject-token", "RFC 8693 §2.2.2", Level::kMust,
        "A 300 KiB subject_token is refused with a 4xx error, not a server error", kInvalidSubject},
       [](Probe& p) {
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           const Answer a = p.post(replaced(f, "subject_token", std::string(300 * 1024, 'a')));
           if (a.status == 413 || (a.status >= 400 && a.status < 500 && !a.error().empty()))
             return ok(a.describe());
           if (a.status >= 400 && a.status < 500)
             return non_strict("a 4xx OAuth error (or 413)", a.describe(),
                               "refused, but without an OAuth error body (RFC 6749 §5.2)");
           if (a.status == 0 && !a.timed_out())
             return non_strict("a 4xx OAuth error (or 413)", a.describe(),
                               "the connection was closed without an answer");
           return failed("a 4xx OAuth error (or 413)", a.describe(),
                         "an oversized parameter must get an error response");
         });
       }});
  const std::vector<std::tuple<std::string, std::string, std::string>> bodies = {
      {"bad-percent-escape", "A '%' not followed by two hex digits", "txlab=%ZZ"},
      {"invalid-utf8", "A value that is not UTF-8 (%C3%28)", "txlab=%C3%28"},
      {"truncated-escape", "A body ending in the middle of an escape", "txlab=%4"},
  };
  for (const auto& [id, title, damage] : bodies) {
    // Built member by member: GCC 12 at -O3 warns (maybe-uninitialized) on the braced form.
    Case c;
    // A malformed body is a request that is not valid: RFC 8693 §2.2.2's MUST asks for an error
    // response as RFC 6749 §5.2 specifies it (a 4xx with an error code), never a server error.
    c.info.id = "rfc8693/2.2.2/malformed-body-" + id;
    c.info.section = "RFC 8693 §2.2.2";
    c.info.level = Level::kMust;
    c.info.title = title + " gets an error response (invalid_request), not a server error";
    c.info.requirement = kInvalidSubject;
    // One form decoder: the later shapes fail the same way as the first, one cause.
    if (id != std::get<0>(bodies.front()))
      c.info.same_cause_as = "rfc8693/2.2.2/malformed-body-" + std::get<0>(bodies.front());
    c.check = [damage = damage](Probe& p) { return malformed(p, damage); };
    out.push_back(std::move(c));
  }
}

}  // namespace txlab::conformance
