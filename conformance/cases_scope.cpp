// Scope (RFC 8693 §2.1 scope, §2.2.1 scope; RFC 6749 §3.3, §5.1, §5.2 invalid_scope): a
// granted scope that differs from the requested one is reported (the MUST of RFC 6749 §3.3 and
// RFC 8693 §2.2.1), and an exchange should not grant more than the subject token holds, whether
// the client asks for more or for nothing. No sentence forbids the latter (RFC 6749 §3.3 leaves
// the granted scope to policy; invalid_scope is only defined, RFC 6749 §5.2), so a wider grant
// that is reported truthfully is NON-STRICT, not FAILED.
#include <functional>
#include <set>
#include <sstream>

#include "conformance/cases.h"
#include "conformance/judge.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

std::set<std::string> scope_set(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string t; in >> t;) out.insert(t);
  return out;
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& t : s) out += (out.empty() ? "" : " ") + t;
  return out;
}

// The scope the answer grants: the response's scope member, else (RFC 6749 §5.1: "OPTIONAL, if
// identical to the scope requested by the client") what was requested; and the issued JWT's
// scope claim when there is one. Both must stay within the subject's.
std::set<std::string> granted(const Answer& a, const std::string& requested, std::string* source) {
  std::set<std::string> g;
  if (a.body.contains("scope") && a.body["scope"].is_string()) {
    g = scope_set(a.body["scope"].get<std::string>());
    *source = "response scope '" + a.body["scope"].get<std::string>() + "'";
  } else {
    g = scope_set(requested);
    *source = "no scope in the response, which means the requested '" + requested +
              "' was granted (RFC 6749 §5.1)";
  }
  if (auto jwt = a.issued_jwt();
      jwt && jwt->second.contains("scope") && jwt->second["scope"].is_string()) {
    for (const auto& t : scope_set(jwt->second["scope"].get<std::string>())) g.insert(t);
    *source += "; token scope '" + jwt->second["scope"].get<std::string>() + "'";
  }
  return g;
}

// Scopes to ask for that the subject does not hold: hints, discovery's scopes_supported, and
// names servers commonly register.
std::vector<std::string> beyond(const Probe& p, const std::set<std::string>& subject) {
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (!s.empty() && !subject.count(s) && std::find(out.begin(), out.end(), s) == out.end())
      out.push_back(s);
  };
  for (const auto& s : p.target().scopes_beyond_subject) add(s);
  // Sorted: servers list scopes_supported in no stable order (Keycloak's differs between
  // starts), and only the first few are asked for, so the grade must not depend on it.
  std::vector<std::string> supported = p.target().scopes_supported;
  std::sort(supported.begin(), supported.end());
  for (const auto& s : supported)
    if (s != "openid" && s != "offline_access") add(s);
  for (const char* s : {"admin", "write", "read", "txlab-conformance-wider"}) add(s);
  if (out.size() > 8) out.resize(8);
  return out;
}

const char* kInvalidScope =
    "The authorization server MAY fully or partially ignore the scope requested by the client, "
    "based on the authorization server policy or the resource owner's instructions. If the "
    "issued access token scope is different from the one requested by the client, the "
    "authorization server MUST include the \"scope\" response parameter to inform the client of "
    "the actual scope granted. (RFC 6749 §3.3) invalid_scope The requested scope is invalid, "
    "unknown, malformed, or exceeds the scope granted by the resource owner. (RFC 6749 §5.2)";

// Asks for `requested`; OK when refused (invalid_scope) or granted within the subject's scope
// and reported. FAILED when the token's scope differs from what the answer reports (the MUST);
// NON-STRICT when more than the subject holds is granted and said so (no sentence forbids it).
Finding wider(Probe& p, const http::FormParams& f, const std::set<std::string>& subject,
              const std::string& requested) {
  Answer a = p.post(with(without(f, "scope"), "scope", requested));
  if (a.status == 400 && a.error() == "invalid_scope") return ok(a.describe());
  if (a.status != 200) {
    if (a.status >= 400 && a.status < 500 && a.json() && !a.error().empty())
      return non_strict("400 invalid_scope (or 200 within '" + join(subject) + "')", a.describe(),
                        "refused; invalid_scope is the code for a scope beyond the grant");
    return failed("400 invalid_scope (or 200 within '" + join(subject) + "')", a.describe());
  }
  // What the answer tells the client it got: the scope member, else the requested scope
  // (RFC 6749 §5.1: "OPTIONAL, if identical to the scope requested by the client").
  const bool has_member = a.body.contains("scope") && a.body["scope"].is_string();
  const std::string told = has_member ? a.body["scope"].get<std::string>() : requested;
  if (auto jwt = a.issued_jwt();
      jwt && jwt->second.contains("scope") && jwt->second["scope"].is_string()) {
    const std::string in_token = jwt->second["scope"].get<std::string>();
    if (scope_set(in_token) != scope_set(told))
      return failed("the granted scope reported in scope",
                    "token scope '" + in_token + "', " +
                        (has_member ? "response scope '" + told + "'"
                                    : "no scope member (so the requested '" + told +
                                          "' as far as the client knows)"));
  }
  std::string source;
  std::set<std::string> extra;
  for (const auto& t : granted(a, requested, &source))
    if (!subject.count(t)) extra.insert(t);
  if (extra.empty()) return ok("200 narrowed: " + source);
  return non_strict("invalid_scope, or a grant within the subject token's '" + join(subject) +
                        "' reported in scope",
                    "200 granting '" + join(extra) + "' (" + source + ")",
                    "a grant beyond the subject token's scope, reported as such: least privilege, "
                    "not an RFC sentence, forbids it");
}

// Asks, each with a fresh subject token, for `request(subject, extra)` for the scopes beyond the
// subject's (the first `limit`); the worst grade wins, the first FAILED ends it.
Finding wider_requests(
    Probe& p,
    const std::function<std::string(const std::set<std::string>&, const std::string&)>& request,
    size_t limit = 8) {
  return with_valid_exchange(p, [&](const http::FormParams& first) {
    if (!p.subject_claims().contains("scope"))
      return informational("the subject token carries no scope claim to compare with");
    const auto subject = scope_set(json_str(p.subject_claims(), "scope"));
    Finding worst = ok();
    size_t n = 0;
    for (const auto& extra : beyond(p, subject)) {
      if (n == limit) break;
      std::string err;
      auto form = n++ == 0 ? std::optional<http::FormParams>(first) : p.valid_exchange(&err);
      if (!form)
        return failed("a subject token for the request", "none", "precondition failed: " + err);
      Finding r = wider(p, *form, subject, request(subject, extra));
      if (r.grade == Grade::kFailed) return r;
      if (worst.grade == Grade::kOk && r.grade != Grade::kOk) worst = r;
    }
    return worst;
  });
}

}  // namespace

void add_scope_cases(std::vector<Case>& out) {
  out.push_back({{"rfc6749/3.3/wider-scope-alone", "RFC 6749 §3.3", Level::kMust,
                  "A scope the subject token does not hold is refused, or narrowed and reported",
                  kInvalidScope},
                 [](Probe& p) {
                   return wider_requests(p, [](const std::set<std::string>&,
                                               const std::string& extra) { return extra; });
                 }});

  out.push_back(
      {{"rfc6749/3.3/wider-scope-superset", "RFC 6749 §3.3", Level::kMust,
        "The subject's scope plus one more is refused, or narrowed and reported", kInvalidScope},
       [](Probe& p) {
         return wider_requests(
             p,
             [](const std::set<std::string>& subject, const std::string& extra) {
               std::set<std::string> req = subject;
               req.insert(extra);
               return join(req);
             },
             3);
       }});

  out.push_back(
      {{"rfc8693/2.2.1/narrowed-scope-reported", "RFC 8693 §2.2.1", Level::kMust,
        "A narrower requested scope is issued as asked, or the difference is reported",
        "scope OPTIONAL if the scope of the issued security token is identical to the scope "
        "requested by the client; "
        "otherwise, it is REQUIRED."},
       [](Probe& p) {
         return with_valid_exchange(p, [&](const http::FormParams& f) {
           const auto subject = scope_set(json_str(p.subject_claims(), "scope"));
           if (subject.empty()) return informational("subject token has no scope to narrow");
           const std::string one = *subject.begin();
           Answer a = p.post(with(f, "scope", one));
           if (a.status == 400 && a.error() == "invalid_scope")
             return informational("server refused the narrower scope by policy");
           if (a.status != 200) return failed("200", a.describe());
           const std::string reported = a.body.contains("scope") && a.body["scope"].is_string()
                                            ? a.body["scope"].get<std::string>()
                                            : "";
           auto jwt = a.issued_jwt();
           if (jwt && jwt->second.contains("scope")) {
             const auto in_token = scope_set(json_str(jwt->second, "scope"));
             if (in_token != std::set<std::string>{one} && scope_set(reported) != in_token)
               return failed(
                   "scope '" + one + "', or the issued '" + join(in_token) + "' reported in scope",
                   reported.empty() ? "(no scope member)" : "scope '" + reported + "'");
           }
           if (!reported.empty()) {
             // Reported truthfully (the MUST): more than was asked for is a least-privilege
             // matter, not the RFC's.
             for (const auto& t : scope_set(reported))
               if (t != one)
                 return non_strict("no more than the requested '" + one + "'",
                                   "scope '" + reported + "'",
                                   "issued more than requested, and said so in scope");
           }
           return ok(reported.empty() ? "issued as requested" : "scope '" + reported + "'");
         });
       }});

  // Whether a difference is reported is rfc8693/2.2.1/scope-when-different's concern; how much
  // is granted by default is policy (RFC 6749 §3.3: "a pre-defined default value").
  out.push_back({{"rfc8693/2.1/default-scope-within-subject", "RFC 8693 §2.1", Level::kNone,
                  "Without a scope parameter, the issued scope stays within the subject token's",
                  "A list of space-delimited, case-sensitive strings, as defined in Section 3.3 of "
                  "[RFC6749], that allow the client to specify the desired scope of the requested "
                  "security token in the context of the service or resource where the token will "
                  "be used."},
                 [](Probe& p) {
                   return with_successful_exchange(p, [&](const Answer& a, const auto&) {
                     if (!p.subject_claims().contains("scope"))
                       return informational(
                           "the subject token carries no scope claim to compare with");
                     const auto subject = scope_set(json_str(p.subject_claims(), "scope"));
                     std::set<std::string> issued;
                     std::string source;
                     if (a.body.contains("scope") && a.body["scope"].is_string()) {
                       issued = scope_set(a.body["scope"].get<std::string>());
                       source = "response scope";
                     }
                     if (auto jwt = a.issued_jwt(); jwt && jwt->second.contains("scope")) {
                       for (const auto& t : scope_set(json_str(jwt->second, "scope")))
                         issued.insert(t);
                       source += source.empty() ? "token scope" : " and token scope";
                     }
                     if (source.empty())
                       return informational("neither the response nor the token states a scope");
                     std::set<std::string> extra;
                     for (const auto& t : issued)
                       if (!subject.count(t)) extra.insert(t);
                     if (extra.empty()) return ok(join(issued));
                     return failed("scope within '" + join(subject) + "'",
                                   "also '" + join(extra) + "' (" + source + ")");
                   });
                 }});
}

}  // namespace txlab::conformance
