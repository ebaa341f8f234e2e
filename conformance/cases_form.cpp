// How the token endpoint reads a request (RFC 6749 §3.2, §2.3.1; RFC 8693 §2.1): unrecognized
// parameters ignored, parameters without a value treated as omitted, names and values
// percent-decoded, the POST method and client credentials only in the body. Each case changes
// one thing about a request that otherwise succeeds, so a refusal is about that one thing.
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/http/form.h"

namespace txlab::conformance {

namespace {

constexpr const char* kSection32 =
    "Parameters sent without a value MUST be treated as if they were omitted from the request. "
    "The authorization server MUST ignore unrecognized request parameters.";
// RFC 8693 §2.1 describes the request (no keyword), RFC 6749 Appendix B how a form is parsed
// ("need to be", no keyword either): no normative sentence binds the server to decode.
constexpr const char* kFormat =
    "The following parameters are included in the HTTP request entity-body using the "
    "application/x-www-form-urlencoded format with a character encoding of UTF-8 as described in "
    "Appendix B of [RFC6749]. (RFC 8693 §2.1) When parsing data from a payload using this media "
    "type, the names and values resulting from reversing the name/value encoding consequently "
    "need to be treated as octet sequences, to be decoded using the UTF-8 character encoding "
    "scheme. (RFC 6749 §B)";

// A valid exchange as the exchanger sends it, answered once per run: what every case compares
// with (a target that refuses this is judged elsewhere, rfc8693/2.1/valid-request-succeeds).
const Answer& baseline(Probe& p) {
  return exchange_once(p, "form/baseline", [&p](const http::FormParams& f) { return p.post(f); });
}

// The valid exchange with `change` applied must still be served.
Finding still_served(Probe& p, const std::string& what,
                     const std::function<http::FormParams(http::FormParams)>& change) {
  const Answer& base = baseline(p);
  if (base.status != 200)
    return failed("a served baseline exchange", base.describe(),
                  "precondition failed: the unchanged request is not served");
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const Answer a = p.post(change(f));
    if (a.status == 200) return ok(a.describe());
    return failed("200, as without " + what, a.describe());
  });
}

// Every octet of `s` percent-encoded (what a form decoder must undo, Appendix B).
std::string encode_every_octet(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

// The exchanger's credentials as Basic (nullopt when it does not use Basic: these cases then
// cannot be observed).
std::optional<std::pair<std::string, std::string>> basic_header(Probe& p) {
  if (p.default_auth() != Auth::kBasic) return std::nullopt;
  const Credentials& c = p.target().exchanger;
  return std::make_pair(std::string("Authorization"), http::basic_authorization(c.id, c.secret));
}

}  // namespace

void add_form_cases(std::vector<Case>& out) {
  out.push_back({{"rfc6749/3.2/unrecognized-parameter-ignored", "RFC 6749 §3.2", Level::kMust,
                  "An unrecognized request parameter is ignored", kSection32},
                 [](Probe& p) {
                   return still_served(p, "an unrecognized parameter", [](http::FormParams f) {
                     return with(std::move(f), "txlab_unrecognized_parameter", "1");
                   });
                 }});
  // Parameters without a value, each one the exchange may carry.
  const std::vector<std::pair<std::string, std::string>> empty = {
      {"scope", "An empty scope is treated as omitted"},
      {"requested_token_type", "An empty requested_token_type is treated as omitted"},
      {"actor_token_type",
       "An empty actor_token_type (no actor_token) is treated as omitted, not as a type without "
       "a token"},
      {"resource", "An empty resource is treated as omitted"},
  };
  for (const auto& [name, title] : empty) {
    // Built member by member: GCC 12 at -O3 warns (maybe-uninitialized) on the braced form.
    const std::string slug = name == "requested_token_type" ? "requested-token-type"
                             : name == "actor_token_type"   ? "actor-token-type"
                                                            : name;
    Case c;
    c.info.id = "rfc6749/3.2/empty-" + slug + "-is-omitted";
    c.info.section = "RFC 6749 §3.2";
    c.info.level = Level::kMust;
    c.info.title = title;
    c.info.requirement = kSection32;
    c.check = [name = name](Probe& p) {
      return still_served(p, "the empty " + name,
                          [&](http::FormParams f) { return with(std::move(f), name, ""); });
    };
    out.push_back(std::move(c));
  }
  out.push_back(
      {{"rfc8693/2.1/percent-encoded-names-and-values", "RFC 8693 §2.1", Level::kNone,
        "Every octet of every parameter name and value percent-encoded is the same request",
        kFormat},
       [](Probe& p) {
         const auto auth = basic_header(p);
         if (!auth) return without_basic(p);
         const Answer& base = baseline(p);
         if (base.status != 200)
           return failed("a served baseline exchange", base.describe(),
                         "precondition failed: the unchanged request is not served");
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           std::string body;
           for (const auto& [k, v] : f)
             body +=
                 (body.empty() ? "" : "&") + encode_every_octet(k) + "=" + encode_every_octet(v);
           const Answer a =
               p.send_raw("POST", "", body, "application/x-www-form-urlencoded", {*auth});
           if (a.status == 200) return ok(a.describe());
           return failed("200, as for the same request encoded minimally", a.describe());
         });
       }});
  out.push_back({{"rfc6749/3.2/get-not-served", "RFC 6749 §3.2", Level::kMust,
                  "A token exchange sent with GET (parameters in the URL) is not served (the MUST "
                  "binds the client)",
                  "The client MUST use the HTTP \"POST\" method when making access token requests.",
                  true, Binds::kClient},
                 [](Probe& p) {
                   const auto auth = basic_header(p);
                   if (!auth) return without_basic(p);
                   return with_valid_exchange(p, [&](const http::FormParams& f) {
                     const Answer a = p.send_raw("GET", http::encode_form(f), "", "", {*auth});
                     if (a.status == 200)
                       return non_strict(
                           "a refusal (405 or 400)", a.describe(),
                           "a token was issued for a GET: the subject token travelled in the "
                           "URL, where logs and proxies keep it (the MUST is on the client)");
                     if (a.status >= 400 && a.status < 500) return ok(a.describe());
                     return failed("a 4xx refusal", a.describe());
                   });
                 }});
  out.push_back(
      {{"rfc6749/2.3.1/credentials-in-uri-not-accepted", "RFC 6749 §2.3.1", Level::kMust,
        "client_id and client_secret in the request URI do not authenticate the client",
        "The parameters can only be transmitted in the request-body and MUST NOT be included in "
        "the request URI.",
        true, Binds::kClient},
       [](Probe& p) {
         if (p.default_auth() == Auth::kTls) return without_basic(p);
         const Credentials& c = p.target().exchanger;
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           const Answer a = p.send_raw(
               "POST", http::encode_form({{"client_id", c.id}, {"client_secret", c.secret}}),
               http::encode_form(f), "application/x-www-form-urlencoded");
           if (a.status == 200)
             return non_strict("401/400 invalid_client", a.describe(),
                               "the client was authenticated by a secret in the URL, where logs "
                               "and proxies keep it (the MUST NOT is on the client)");
           if ((a.status == 400 || a.status == 401) && a.error() == "invalid_client")
             return ok(a.describe());
           if (a.status >= 400 && a.status < 500)
             return non_strict("401/400 invalid_client", a.describe(),
                               "refused, but RFC 6749 §5.2 names invalid_client for a request "
                               "without client authentication");
           return failed("401/400 invalid_client", a.describe());
         });
       }});
}

}  // namespace txlab::conformance
