// RFC 8693 §2.1 request rules, RFC 6749 §3.2 / §2.3.1 / §5.2 client and grant rules.
#include "conformance/case_table.h"
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "conformance/vendor_profiles.h"
#include "sim/http/oauth_error.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

const char* kBasic401 =
    "If the client attempted to authenticate via the \"Authorization\" request header field, the "
    "authorization server MUST respond with an HTTP 401 (Unauthorized) status code and include "
    "the \"WWW-Authenticate\" response header field matching the authentication scheme used by "
    "the client.";

// RFC 6749 §5.2: "error REQUIRED. A single ASCII [USASCII] error code from the following:"
// joined with the definition of the code a case expects.
std::string error_code(const std::string& definition) {
  return "error REQUIRED. A single ASCII [USASCII] error code from the following: ... " +
         definition;
}

// RFC 8693 §2.2.2: the server's side of the REQUIRED request parameters of §2.1.
constexpr const char* kInvalidRequest =
    " (RFC 8693 §2.1) If the request itself is not valid or if either the subject_token or "
    "actor_token are invalid for any reason, or are unacceptable based on policy, the "
    "authorization server MUST construct an error response, as specified in Section 5.2 of "
    "[RFC6749]. The value of the error parameter MUST be the invalid_request error code. (RFC "
    "8693 §2.2.2)";

// The MUST of kBasic401 (401 with a WWW-Authenticate challenge for the scheme the client used)
// holds for every profile; only the choice of error code may deviate (a vendor's code for
// failed authentication, vendor_profiles.cpp: NON-STRICT).
Finding expect_basic_401(const Probe& p, const Answer& a) {
  if (a.status == 401) {
    const auto challenges = http::parse_www_authenticate(a.www_authenticate);
    std::string scheme = challenges.empty() ? "" : challenges.front().scheme;
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "basic")
      return failed("401 invalid_client with WWW-Authenticate: Basic ...",
                    a.describe() + ", WWW-Authenticate: '" + a.www_authenticate + "'");
    if (a.error() == "invalid_client") return ok(a.describe());
  }
  return expect_error(p, a, 401, "invalid_client",
                      vendor_deviations(VendorSituation::kFailedBasicAuthentication));
}

Finding valid_request_succeeds(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    Answer a = p.post(f);
    if (a.status == 200 && a.json() && !a.body.value("access_token", "").empty())
      return ok(a.describe());
    return failed("200 with an access_token", a.describe() + " " + a.raw.substr(0, 200));
  });
}

Finding subject_token_type_near_miss(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string type = kTypeAccess;
    const std::vector<std::pair<std::string, std::string>> near = {
        {"a prefix", type.substr(0, type.size() - 1)},
        {"a suffix added", type + "x"},
        {"a substring", type.substr(4)},
        {"the last part alone", "access_token"},
        {"another final part", "urn:ietf:params:oauth:token-type:access_tokens"}};
    Finding worst = ok();
    for (const auto& [label, t] : near) {
      Finding r = expect_refused(p, p.post(replaced(f, "subject_token_type", t)));
      if (r.grade == Grade::kFailed) {
        r.actual = "subject_token_type " + label + " (" + t + "): " + r.actual;
        return r;
      }
      if (worst.grade == Grade::kOk && r.grade != Grade::kOk) worst = r;
    }
    return worst;
  });
}

// No profile excuses the MUST of §2.2.2; a server that ignores actor_token altogether (a vendor
// gap, vendor_profiles.cpp) is one cause, rfc8693/2.1/actor-token-validated.
Answer send_actor_token_without_type(Probe& p, const http::FormParams& f) {
  std::string err;
  std::string actor = p.target().actor_token ? p.target().actor_token(&err).value_or("") : "";
  if (actor.empty()) actor = f[1].second;  // the subject token itself, as an actor token
  return p.post(with(f, "actor_token", actor));
}

// subject_token, subject_token_type and actor_token_type as §2.1 requires them.
void add_parameter_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {{{"rfc8693/2.1/valid-request-succeeds", "RFC 8693 §2.1", Level::kMust,
         "A well-formed exchange by an authorized client succeeds",
         "The client makes a token exchange request to the token endpoint ... grant_type "
         "REQUIRED ... subject_token REQUIRED ... subject_token_type REQUIRED."},
        valid_request_succeeds},
       {{"rfc8693/2.1/missing-subject-token", "RFC 8693 §2.1", Level::kMust,
         "subject_token is REQUIRED",
         std::string("subject_token REQUIRED. A security token that represents the identity of "
                     "the party on behalf of whom the request is being made.") +
             kInvalidRequest},
        sends(removes("subject_token"), error_answer(400, "invalid_request"))},
       {{"rfc8693/2.1/missing-subject-token-type", "RFC 8693 §2.1", Level::kMust,
         "subject_token_type is REQUIRED",
         std::string("subject_token_type REQUIRED. An identifier, as described in Section 3, "
                     "that indicates the type of the security token in the subject_token "
                     "parameter.") +
             kInvalidRequest},
        sends(removes("subject_token_type"), error_answer(400, "invalid_request"))},
       {{"rfc8693/2.2.2/mismatched-subject-token-type", "RFC 8693 §2.2.2", Level::kMust,
         "A subject_token_type that does not describe the token is refused",
         "If the request itself is not valid or if either the subject_token or actor_token are "
         "invalid for any reason, or are unacceptable based on policy, the authorization server "
         "MUST construct an error response ... invalid_request."},
        sends(replaces("subject_token_type", kTypeSaml2), token_refused())},
       // Exact comparison of token type URIs: a near miss names no type the server knows, so
       // the request is not valid (a server matching by prefix, suffix or substring serves it).
       {{"rfc8693/2.2.2/subject-token-type-near-miss", "RFC 8693 §2.2.2", Level::kMust,
         "A subject_token_type that nearly names the access_token type (a prefix, a suffix, a "
         "substring, the URN's last part alone) is refused",
         "If the request itself is not valid or if either the subject_token or actor_token are "
         "invalid for any reason, or are unacceptable based on policy, the authorization server "
         "MUST construct an error response ... invalid_request.",
         true, Binds::kServer, "rfc8693/2.2.2/mismatched-subject-token-type"},
        subject_token_type_near_miss},
       {{"rfc8693/2.1/actor-token-requires-type", "RFC 8693 §2.1", Level::kMust,
         "actor_token_type is REQUIRED when actor_token is present",
         std::string("actor_token_type ... This is REQUIRED when the actor_token parameter is "
                     "present in the request but MUST NOT be included otherwise.") +
             kInvalidRequest,
         true, Binds::kServer, "rfc8693/2.1/actor-token-validated"},
        sends(send_actor_token_without_type, error_answer(400, "invalid_request"))},
       {{"rfc8693/2.1/actor-token-type-without-token", "RFC 8693 §2.1", Level::kMust,
         "actor_token_type without actor_token is refused (the MUST NOT binds the client)",
         "actor_token_type ... MUST NOT be included otherwise.", true, Binds::kClient},
        sends(adds("actor_token_type", kTypeAccess), error_answer(400, "invalid_request"))},
       {{"rfc6749/3.2/repeated-parameter", "RFC 6749 §3.2", Level::kMust,
         "A repeated non-repeatable parameter is invalid_request (the MUST NOT binds the client)",
         "Request and response parameters MUST NOT be included more than once.", true,
         Binds::kClient},
        sends(adds("subject_token_type", kTypeAccess), error_answer(400, "invalid_request"))}});
}

Finding audience_is_repeatable(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    if (p.target().audience.empty()) return informational("no --audience given: nothing to repeat");
    Answer a = p.post(with(f, "audience", p.target().audience));
    if (a.status == 200 || a.error() == "invalid_target") return ok(a.describe());
    if (a.status >= 400 && a.status < 500 && a.json())
      return non_strict("200 (or invalid_target by policy)", a.describe(),
                        "repeating audience is allowed by RFC 8693 §2.1");
    return failed("200 (or invalid_target by policy)", a.describe(),
                  "repeating audience is allowed by RFC 8693 §2.1");
  });
}

Finding unsupported_requested_token_type(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string unknown = "urn:txlab:conformance:no-such-type";
    Answer a = p.post(with(f, "requested_token_type", unknown));
    if (a.status == 200) {
      // What was issued instead is this case's concern; a missing issued_token_type is
      // rfc8693/2.2.1/issued-token-type-present's.
      const std::string issued = a.json() ? json_str(a.body, "issued_token_type") : "";
      if (issued.empty())
        return informational(
            "200 for an unknown requested_token_type; no issued_token_type says what was "
            "issued instead (graded by rfc8693/2.2.1/issued-token-type-present)");
      return failed("a refusal (400 invalid_request)",
                    a.describe() + ", issued_token_type " + issued + " instead of " + unknown);
    }
    Finding r = expect_error(p, a, 400, "invalid_request");
    if (r.grade == Grade::kFailed && a.status >= 400 && a.status < 500 && a.json() &&
        !a.error().empty())
      return non_strict("400 invalid_request", a.describe(),
                        "refused; RFC 8693 §2.2.2 names invalid_request for a request "
                        "that is not valid");
    return r;
  });
}

Finding unsupported_grant_type(Probe& p) {
  return expect_error(p, p.post({{"grant_type", "urn:txlab:conformance:no-such-grant"}}), 400,
                      "unsupported_grant_type");
}

// The optional parameters (audience, requested_token_type) and the grant type.
void add_optional_parameter_cases(std::vector<Case>& out) {
  add_rows(out,
           {{{"rfc8693/2.1/audience-is-repeatable", "RFC 8693 §2.1", Level::kMay,
              "audience may be repeated; repetition alone is not an error",
              "audience OPTIONAL ... Multiple audience parameters may be used to indicate that the "
              "issued token is intended to be used at the multiple audiences listed.",
              true, Binds::kClient},
             audience_is_repeatable},
            // No sentence requires refusing a requested_token_type the server cannot issue: §2.1
            // only leaves an unspecified type to the server's discretion. Reported, not graded.
            {{"rfc8693/2.1/unsupported-requested-token-type", "RFC 8693 §2.1", Level::kNone,
              "An unknown requested_token_type is refused rather than silently replaced",
              "An identifier, as described in Section 3, for the type of the requested security "
              "token. If the requested type is unspecified, the issued token type is at the "
              "discretion of the authorization server and may be dictated by knowledge of the "
              "requirements of the service or resource indicated by the resource or audience "
              "parameter."},
             unsupported_requested_token_type},
            {{"rfc6749/5.2/unsupported-grant-type", "RFC 6749 §5.2", Level::kMust,
              "An unknown grant_type is unsupported_grant_type",
              error_code("unsupported_grant_type The authorization grant type is not supported by "
                         "the authorization server."),
              false},
             unsupported_grant_type}});
}

Answer send_wrong_secret_basic(Probe& p, const http::FormParams& f) {
  Credentials wrong{p.target().exchanger.id, p.target().exchanger.secret + "-wrong"};
  return p.post(f, Auth::kBasic, &wrong);
}

Answer send_unknown_client_basic(Probe& p, const http::FormParams& f) {
  Credentials unknown{"txlab-conformance-unknown-client", "not-a-secret"};
  return p.post(f, Auth::kBasic, &unknown);
}

Finding empty_secret_basic(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    if (p.target().exchanger.secret.empty()) return informational("the exchanger has no secret");
    return expect_basic_401(p, p.post_basic_raw(f, p.target().exchanger.id + ":"));
  });
}

// Deviations a case accepts from every profile, then the vendors' (vendor_profiles.cpp).
std::vector<Deviation> with_vendors(std::vector<Deviation> own, VendorSituation s) {
  for (auto& d : vendor_deviations(s)) own.push_back(std::move(d));
  return own;
}

Finding wrong_secret_post(Probe& p) {
  // A certificate-authenticated exchanger has no secret to send (RFC 8705 §2).
  if (p.default_auth() == Auth::kTls && !p.target().post_client) return without_basic(p);
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    // Only where the client may use client_secret_post at all.
    const Credentials& client =
        p.target().post_client ? *p.target().post_client : p.target().exchanger;
    Answer right = p.post(f, Auth::kPost, &client);
    if (right.status == 400 || right.status == 401) {
      if (right.error() == "invalid_client" || right.error() == "unauthorized_client" ||
          right.error() == "invalid_request")
        return unimplemented("'" + client.id + "' cannot authenticate with client_secret_post",
                             right.describe());
    }
    std::string err;
    auto f2 = p.valid_exchange(&err);
    if (!f2)
      return failed("a subject token for the request", "none", "precondition failed: " + err);
    Credentials wrong{client.id, client.secret + "-wrong"};
    Answer a = p.post(*f2, Auth::kPost, &wrong);
    return expect_error(p, a, 401, "invalid_client",
                        with_vendors({{{}, 400, "invalid_client", Grade::kOk, ""}},
                                     VendorSituation::kWrongSecretPost));
  });
}

// Client authentication: Basic (RFC 6749 §2.3.1, §5.2), client_secret_post, none.
void add_client_authentication_cases(std::vector<Case>& out) {
  add_rows(out,
           {{{"rfc6749/5.2/invalid-client-401", "RFC 6749 §5.2", Level::kMust,
              "Failed Basic client authentication is 401 invalid_client with WWW-Authenticate",
              kBasic401, false},
             sends(send_wrong_secret_basic, expect_basic_401)},
            {{"rfc6749/5.2/unknown-client-401",
              "RFC 6749 §5.2",
              Level::kMust,
              "An unknown client id over Basic is 401 invalid_client with WWW-Authenticate",
              kBasic401,
              false,
              Binds::kServer,
              {},
              "rfc6749/5.2/invalid-client-401"},
             sends(send_unknown_client_basic, expect_basic_401)},
            {{"rfc6749/5.2/empty-secret-basic-401",
              "RFC 6749 §5.2",
              Level::kMust,
              "The exchanger's id with an empty password over Basic is 401 invalid_client",
              kBasic401,
              false,
              Binds::kServer,
              {},
              "rfc6749/5.2/invalid-client-401"},
             empty_secret_basic},
            {{"rfc6749/5.2/wrong-secret-post", "RFC 6749 §5.2", Level::kMust,
              "A wrong client_secret in the request body (client_secret_post) is invalid_client",
              error_code("invalid_client Client authentication failed (e.g., unknown client, no "
                         "client authentication included, or unsupported authentication method)."),
              false},
             wrong_secret_post}});
}

Finding error_description_charset(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string hostile = "urn:txlab:\"quoted\"\\back\nline\t\xc3\xa9";
    const std::vector<http::FormParams> probes = {
        replaced(f, "subject_token_type", hostile), replaced(f, "requested_token_type", hostile),
        replaced(f, "audience", hostile),           replaced(f, "grant_type", hostile),
        replaced(f, "subject_token", hostile),
    };
    size_t seen = 0;
    for (const auto& form : probes) {
      Answer a = p.post(form);
      if (!a.json()) continue;
      for (const char* member : {"error", "error_description"}) {
        if (!a.body.contains(member)) continue;
        ++seen;
        if (!a.body[member].is_string())
          return failed(std::string(member) + " as a string", a.body[member].dump());
        const std::string d = a.body[member].get<std::string>();
        for (unsigned char c : d)
          if (!(c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E)))
            return failed(std::string(member) + " in %x20-21 / %x23-5B / %x5D-7E",
                          a.describe() + ": " + Json(d).dump());
      }
    }
    if (seen == 0) return informational("no error response to inspect");
    return ok(std::to_string(seen) + " error members checked");
  });
}

Finding unauthorized_client(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    if (!p.target().unauthorized_client)
      return informational(
          "no client known to lack the grant: --unauthorized-client ID:SECRET names one");
    // A subject token the unauthorized client could otherwise use (addressed to it too), so
    // that only the grant check can refuse it.
    http::FormParams form = f;
    Json aud = Json::array({p.target().exchanger.id, p.target().unauthorized_client->id});
    if (!p.target().issuer.empty()) aud.push_back(p.target().issuer);
    if (const std::string minted = mint(p, {{"aud", aud}}); !minted.empty())
      form = replaced(form, "subject_token", minted);
    Answer a = p.post(form, Auth::kDefault, &*p.target().unauthorized_client);
    Finding r = expect_error(p, a, 400, "unauthorized_client");
    if (r.grade == Grade::kFailed && a.status >= 400 && a.status < 500 && a.json() &&
        !a.error().empty())
      return non_strict("400 unauthorized_client", a.describe(),
                        a.error() == "invalid_client"
                            ? "refused, but the client did authenticate: "
                              "unauthorized_client is the code for a grant it may not use"
                            : "refused; unauthorized_client is the precise code");
    return r;
  });
}

Answer send_unauthenticated(Probe& p, const http::FormParams& f) { return p.post(f, Auth::kNone); }

// Error answers, the grant a client may use, and who the served client is.
void add_client_rule_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {{{"rfc6749/5.2/error-description-charset", "RFC 6749 §5.2", Level::kMust,
         "error_description stays within the RFC's character set, whatever the request held",
         "Values for the \"error_description\" parameter MUST NOT include characters outside "
         "the set %x20-21 / %x23-5B / %x5D-7E.",
         false},
        error_description_charset},
       {{"rfc6749/5.2/unauthorized-client", "RFC 6749 §5.2", Level::kMust,
         "A client not allowed to use token exchange is unauthorized_client",
         error_code("unauthorized_client The authenticated client is not authorized to use this "
                    "authorization grant type.")},
        unauthorized_client},
       {{"rfc6749/3.2.1/no-client-authentication", "RFC 6749 §3.2.1", Level::kMust,
         "A confidential client that does not authenticate is refused (the MUST binds the "
         "client; RFC 8693 §2.1 leaves unauthenticated clients to the server)",
         "Confidential clients or other clients issued client credentials MUST authenticate "
         "with the authorization server as described in Section 2.3 when making requests to the "
         "token endpoint.",
         false, Binds::kClient},
        sends(send_unauthenticated,
              error_answer(401, "invalid_client",
                           with_vendors({{{}, 400, "invalid_client", Grade::kOk, ""},
                                         {{},
                                          400,
                                          "invalid_request",
                                          Grade::kNonStrict,
                                          "invalid_client is the precise code"}},
                                        VendorSituation::kNoClientAuthentication)))}});
}

Finding body_client_id_does_not_override(Probe& p) {
  if (p.default_auth() != Auth::kBasic) return without_basic(p);
  const auto& t = p.target();
  const std::string other = t.post_client && t.post_client->id != t.exchanger.id ? t.post_client->id
                            : t.unauthorized_client ? t.unauthorized_client->id
                                                    : "txlab-conformance-other-client";
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const Answer a = p.post(with(f, "client_id", other));
    if (a.status >= 400 && a.status < 500) return ok(a.describe() + " (refused)");
    if (a.status != 200) return failed("a refusal or a token for the exchanger", a.describe());
    auto jwt = a.issued_jwt();
    if (!jwt) return unimplemented("the issued token is opaque: who it names is unknown");
    std::string named = json_str(jwt->second, "client_id");
    if (named.empty()) named = json_str(jwt->second, "azp");
    if (named == other)
      return failed(
          "a token for the authenticated client " + t.exchanger.id,
          "a token for " + other + ", named only by the unauthenticated client_id parameter");
    if (named.empty()) return unimplemented("the issued token names no client (client_id, azp)");
    return ok("served as the authenticated client (" + named + ")");
  });
}

// Percent-encode every non-alphanumeric character, as openid-client does ("-" -> %2D).
std::string encode_all(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c))
      out.push_back(static_cast<char>(c));
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Finding basic_credentials_form_urlencoded(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    if (p.default_auth() == Auth::kTls) return without_basic(p);
    if (p.default_auth() == Auth::kPost)
      return unimplemented(
          "the exchanger authenticates with client_secret_post: Basic is not in use");
    const auto& c = p.target().exchanger;
    std::string id = encode_all(c.id), secret = encode_all(c.secret);
    if (id == c.id && secret == c.secret && !c.id.empty()) {
      // Nothing needs encoding: percent-encode one letter, which form-urldecoding
      // turns back into itself ("%65x" is "ex").
      static const char* hex = "0123456789ABCDEF";
      const unsigned char first = static_cast<unsigned char>(c.id[0]);
      id = std::string("%") + hex[first >> 4] + hex[first & 15] + c.id.substr(1);
    }
    // Sent through Basic as is, without our encoder's own (lighter) encoding.
    Answer a = p.post_basic_raw(f, id + ":" + secret);
    if (a.status == 200) return ok(a.describe());
    return failed("200 (credentials decoded per RFC 6749 §2.3.1)", a.describe(),
                  "clients such as openid-client send '-' as %2D in Basic credentials");
  });
}

// Who is served: the authenticated client, whatever the body says, with its credentials
// decoded as RFC 6749 §2.3.1 encodes them.
void add_served_client_cases(std::vector<Case>& out) {
  add_rows(
      out,
      // RFC 6749 states the rule in each of its grants' token requests (§4.1.3, §4.3.2, §6);
      // RFC 8693 §2.1 takes client authentication from OAuth 2.0 as it is.
      {{{"rfc8693/2.1/body-client-id-does-not-override-authentication", "RFC 8693 §2.1",
         Level::kMust,
         "A client_id in the body naming another client does not change who is served",
         "Client authentication to the authorization server is done using the normal "
         "mechanisms provided by OAuth 2.0. (RFC 8693 §2.1) The authorization server MUST: ... "
         "authenticate the client if client authentication is included (RFC 6749 §6)"},
        body_client_id_does_not_override},
       {{"rfc6749/2.3.1/basic-credentials-form-urlencoded", "RFC 6749 §2.3.1", Level::kMust,
         "client_secret_basic credentials are form-urldecoded by the server",
         "The client identifier is encoded using the \"application/x-www-form-urlencoded\" "
         "encoding algorithm per Appendix B, and the encoded value is used as the username; the "
         "client password is encoded using the same algorithm and used as the password. The "
         "authorization server MUST support the HTTP Basic authentication scheme for "
         "authenticating clients that were issued a client password."},
        basic_credentials_form_urlencoded}});
}

}  // namespace

void add_request_cases(std::vector<Case>& out) {
  add_parameter_cases(out);
  add_optional_parameter_cases(out);
  add_client_authentication_cases(out);
  add_client_rule_cases(out);
  add_served_client_cases(out);
}

void add_summary_cases(std::vector<Case>& out) {
  out.push_back({{"rfc6749/5.2/error-members-charset-everywhere", "RFC 6749 §5.2", Level::kMust,
                  "Every error answer of the run kept error, error_description and error_uri in "
                  "the RFC's character set",
                  "Values for the \"error\" parameter MUST NOT include characters outside the set "
                  "%x20-21 / %x23-5B / %x5D-7E. ... "
                  "Values for the \"error_description\" parameter MUST NOT include characters "
                  "outside the set %x20-21 / %x23-5B / "
                  "%x5D-7E.",
                  false},
                 [](Probe& p) {
                   if (p.error_members_seen() == 0)
                     return informational("no error answer was seen in this run");
                   if (!p.charset_violation().empty())
                     return failed("error members within %x20-21 / %x23-5B / %x5D-7E",
                                   p.charset_violation());
                   return ok(std::to_string(p.error_members_seen()) + " error members checked");
                 }});
}

}  // namespace txlab::conformance
