// Probes by bug class, for every token slot (subject and actor, each token type): not one
// example of a bug but every shape its class takes.
//  - exact comparison: iss and aud varied as prefix, suffix, substring, letter case, trailing
//    slash, percent-encoding and one changed character (RFC 7519 §2, §4.1.3; RFC 8725 §3.8);
//  - parser differentials: duplicate claims and header members (RFC 7519 §4, RFC 7515 §4),
//    NumericDate spellings (fraction, exponent, zero, negative, beyond 64 bits);
//  - the algorithm of the signature is the one its header names (RFC 7515 §5.2);
//  - client authentication compared exactly, and a failed Basic attempt not rescued by the body
//    (RFC 6749 §5.2).
// Each slot's cases depend on the plain case of the same rule (a target that accepts any iss is
// one cause, not eight): they are UNIMPLEMENTED, pointing at it, when it FAILED.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "conformance/cases.h"
#include "conformance/forge.h"
#include "conformance/judge.h"
#include "conformance/slots.h"
#include "sim/jose/base64url.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

const char* kKeysBelongToIssuer =
    "When a JWT contains an \"iss\" (issuer) claim, the application MUST validate that the "
    "cryptographic keys used for the cryptographic operations in the JWT belong to the issuer. If "
    "they do not, the application MUST reject the JWT.";
const char* kAudience =
    "If the principal processing the claim does not identify itself with a value in the \"aud\" "
    "claim when this claim is present, then the JWT MUST be rejected.";
const char* kDuplicateClaims =
    "The Claim Names within a JWT Claims Set MUST be unique; JWT parsers MUST either reject JWTs "
    "with duplicate Claim Names or use a JSON parser that returns only the lexically last "
    "duplicate member name, as specified in Section 15.12 (\"The JSON Object\") of ECMAScript 5.1 "
    "[ECMAScript].";
const char* kDuplicateHeader =
    "The Header Parameter names within the JOSE Header MUST be unique; JWS parsers MUST either "
    "reject JWSs with duplicate Header Parameter names or use a JSON parser that returns only the "
    "lexically last duplicate member name, as specified in Section 15.12 (\"The JSON Object\") of "
    "ECMAScript 5.1 [ECMAScript].";
const char* kExp =
    "The \"exp\" (expiration time) claim identifies the expiration time on or after which the JWT "
    "MUST NOT be accepted for processing.";
const char* kNbf =
    "The \"nbf\" (not before) claim identifies the time before which the JWT MUST NOT be accepted "
    "for processing.";
const char* kAlgAccurate =
    "Validate the JWS Signature against the JWS Signing Input ASCII(BASE64URL(UTF8(JWS Protected "
    "Header)) || '.' || BASE64URL(JWS Payload)) in the manner defined for the algorithm being "
    "used, which MUST be accurately represented by the value of the \"alg\" (algorithm) Header "
    "Parameter, which MUST be present.";
const char* kBasic401 =
    "If the client attempted to authenticate via the \"Authorization\" request header field, the "
    "authorization server MUST respond with an HTTP 401 (Unauthorized) status code and include "
    "the \"WWW-Authenticate\" response header field matching the authentication scheme used by "
    "the client.";

std::string slot_id(const std::string& section, const Slot& s, const std::string& slug) {
  return section_id(section) + "/" + role_name(s.role) + "-" + s.type_slug + "-" + slug;
}

// The claims of a clean minted token for the slot, with `over` applied (null removes).
Json slot_claims(const Probe& p, const Slot& s, const Json& over) {
  Json c = p.target().mint_template;
  const int64_t now = target_now(p);
  c["iat"] = now;
  c["exp"] = now + 300;
  static std::atomic<uint64_t> serial{0};
  c["jti"] = "txlab-conformance-class-" + std::to_string(now) + "-" + std::to_string(++serial);
  if (s.role == Role::kActor) actor_claims(c);
  for (auto it = over.begin(); it != over.end(); ++it) {
    if (it.value().is_null())
      c.erase(it.key());
    else
      c[it.key()] = it.value();
  }
  return c;
}

// The header a minted token carries (typ, kid of issuer key 0).
Json slot_header(const Probe& p) {
  Json h = Json::object();
  if (!p.target().minted_typ.empty()) h["typ"] = p.target().minted_typ;
  h["kid"] = p.target().issuer_keys[0].key->kid();
  return h;
}

const jose::Key& key0(const Probe& p) { return *p.target().issuer_keys[0].key; }

// A JSON object text with one more member appended ("name": raw) after the others.
std::string with_member_appended(const Json& object, const std::string& name,
                                 const std::string& raw_value) {
  std::string text = object.dump();
  text.pop_back();  // '}'
  return text + (object.empty() ? "" : ",") + Json(name).dump() + ":" + raw_value + "}";
}

// A key-dependent case on one slot: `tokens` makes the labelled variants, each must be refused.
using Variants = std::vector<std::pair<std::string, std::string>>;  // (label, token)
Case keyed_case(const Slot& s, CaseInfo info, std::function<Variants(Probe&, const Slot&)> tokens) {
  if (s.role == Role::kActor) {
    // The plain case of the rule on this slot is the usual cause; without one, the actor slot's.
    if (!info.depends_on.empty()) info.same_cause_as = info.depends_on;
    info.depends_on = kActorValidatedId;
  }
  if (info.same_cause_as.empty()) info.same_cause_as = first_slot_twin(s, info.id);
  return {std::move(info), [s, tokens](Probe& p) {
            if (auto u = minted_unusable(p, s)) return *u;
            Finding failure;
            auto f = fresh(p, s, &failure);
            if (!f) return failure;
            Variants v = tokens(p, s);
            if (v.empty()) return informational("nothing to vary for this target");
            std::vector<std::string> list, labels;
            for (auto& [label, token] : v) {
              labels.push_back(label);
              list.push_back(token);
            }
            return grade_variants(p, s, f->form, list, labels);
          }};
}

// The audience a minted subject token carries (the first, when it is a list).
std::string template_audience(const Probe& p) {
  const Json& aud = p.target().mint_template.value("aud", Json());
  if (aud.is_string()) return aud.get<std::string>();
  if (aud.is_array() && !aud.empty() && aud[0].is_string()) return aud[0].get<std::string>();
  return {};
}

void add_comparison_cases(std::vector<Case>& out) {
  for (const Slot& s : kSlots) {
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 8725 §3.8", s, "iss-near-miss"), "RFC 8725 §3.8", Level::kMust,
         std::string(role_name(s.role)) + " token (" + s.type_slug +
             "): a trusted key's signature over an iss that nearly names the trusted issuer "
             "(prefix, suffix, case, slash, percent-encoding, one character) is refused",
         kKeysBelongToIssuer, true, Binds::kServer,
         slot_id("RFC 8725 §3.8", s, "untrusted-issuer")},
        [](Probe& p, const Slot& slot) {
          Variants v;
          for (const auto& [label, iss] : forge::near_misses(p.target().issuer_keys[0].issuer))
            v.emplace_back(
                "iss " + label + " (" + iss + ")",
                forge::sign_with(key0(p), slot_header(p), slot_claims(p, slot, {{"iss", iss}})));
          return v;
        }));
    if (s.role == Role::kSubject)
      out.push_back(keyed_case(
          s,
          {slot_id("RFC 7519 §4.1.3", s, "aud-near-miss"), "RFC 7519 §4.1.3", Level::kMust,
           std::string("subject token (") + s.type_slug +
               "): an aud that nearly names the target (prefix, suffix, case, slash, "
               "percent-encoding, one character) is refused",
           kAudience, true, Binds::kServer, slot_id("RFC 7519 §4.1.3", s, "wrong-audience")},
          [](Probe& p, const Slot& slot) {
            Variants v;
            const std::string aud = template_audience(p);
            for (const auto& [label, near] : forge::near_misses(aud))
              v.emplace_back(
                  "aud " + label + " (" + near + ")",
                  forge::sign_with(key0(p), slot_header(p), slot_claims(p, slot, {{"aud", near}})));
            return v;
          }));
  }
}

void add_parser_cases(std::vector<Case>& out) {
  for (const Slot& s : kSlots) {
    const std::string who = std::string(role_name(s.role)) + " token (" + s.type_slug + "): ";
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 7519 §4", s, "duplicate-exp"), "RFC 7519 §4", Level::kMust,
         who + "a claims set with exp twice, the lexically last one past, is refused",
         kDuplicateClaims, true, Binds::kServer, slot_id("RFC 7519 §4.1.4", s, "expired")},
        [](Probe& p, const Slot& slot) {
          const Json c = slot_claims(p, slot, {});
          const std::string past = std::to_string(target_now(p) - 3600);
          return Variants{{"exp twice, the last one an hour ago",
                           forge::sign_raw(
                               key0(p),
                               [&] {
                                 Json h = slot_header(p);
                                 h["alg"] = std::string(jose::to_string(key0(p).alg()));
                                 return h.dump();
                               }(),
                               with_member_appended(c, "exp", past))}};
        }));
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 7515 §4", s, "duplicate-alg"), "RFC 7515 §4", Level::kMust,
         who + "a header with alg twice, the lexically last one none, is refused", kDuplicateHeader,
         true, Binds::kServer, slot_id("RFC 7518 §3.6", s, "alg-none")},
        [](Probe& p, const Slot& slot) {
          Json h = slot_header(p);
          h["alg"] = std::string(jose::to_string(key0(p).alg()));
          return Variants{{"alg twice, the last one none",
                           forge::sign_raw(key0(p), with_member_appended(h, "alg", "\"none\""),
                                           slot_claims(p, slot, {}).dump())}};
        }));
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 7519 §4.1.4", s, "expired-numericdate-forms"), "RFC 7519 §4.1.4",
         Level::kMust,
         who + "an exp in the past written as a fraction, in exponent notation, as 0 or "
               "negative is refused",
         kExp, true, Binds::kServer, slot_id("RFC 7519 §4.1.4", s, "expired")},
        [](Probe& p, const Slot& slot) {
          const int64_t past = target_now(p) - 3600;
          Json c = slot_claims(p, slot, {});
          c.erase("exp");
          Json h = slot_header(p);
          h["alg"] = std::string(jose::to_string(key0(p).alg()));
          const std::string header = h.dump();
          char exponent[64];
          std::snprintf(exponent, sizeof exponent, "%.6e", static_cast<double>(past - 86400));
          Variants v;
          for (const auto& [label, raw] : std::vector<std::pair<std::string, std::string>>{
                   {"exp an hour ago plus half a second", std::to_string(past) + ".5"},
                   {std::string("exp a day ago in exponent notation (") + exponent + ")", exponent},
                   {"exp 0", "0"},
                   {"exp -1", "-1"},
                   {"exp -9223372036854775808", "-9223372036854775808"}})
            v.emplace_back(label,
                           forge::sign_raw(key0(p), header, with_member_appended(c, "exp", raw)));
          return v;
        }));
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 7519 §4.1.5", s, "not-yet-valid-numericdate-forms"), "RFC 7519 §4.1.5",
         Level::kMust,
         who + "an nbf in the future written as a fraction, in exponent notation, or beyond "
               "64 bits is refused",
         kNbf, true, Binds::kServer, slot_id("RFC 7519 §4.1.5", s, "not-yet-valid")},
        [](Probe& p, const Slot& slot) {
          const int64_t ahead = target_now(p) + 3600;
          Json c = slot_claims(p, slot, {{"exp", ahead + 7200}});
          Json h = slot_header(p);
          h["alg"] = std::string(jose::to_string(key0(p).alg()));
          const std::string header = h.dump();
          char exponent[64];
          std::snprintf(exponent, sizeof exponent, "%.6e", static_cast<double>(ahead + 86400));
          Variants v;
          for (const auto& [label, raw] : std::vector<std::pair<std::string, std::string>>{
                   {"nbf an hour ahead plus half a second", std::to_string(ahead) + ".5"},
                   {std::string("nbf a day ahead in exponent notation (") + exponent + ")",
                    exponent},
                   {"nbf 1e19 (beyond a signed 64-bit integer)", "1e19"},
                   {"nbf 18446744073709551617 (beyond an unsigned 64-bit integer)",
                    "18446744073709551617"}})
            v.emplace_back(label,
                           forge::sign_raw(key0(p), header, with_member_appended(c, "nbf", raw)));
          return v;
        }));
    out.push_back(keyed_case(
        s,
        {slot_id("RFC 7515 §5.2", s, "alg-not-the-signatures"), "RFC 7515 §5.2", Level::kMust,
         who + "a trusted key's signature under a header alg of another algorithm (or another "
               "letter case) is refused",
         kAlgAccurate},
        [](Probe& p, const Slot& slot) {
          const std::string real(jose::to_string(key0(p).alg()));
          std::vector<std::string> labels;
          if (real.rfind("ES", 0) == 0)
            labels = {"ES384", "ES512", "RS256", "PS256"};
          else if (real.rfind("PS", 0) == 0)
            labels = {"RS256", "PS384", "ES256"};
          else
            labels = {"PS256", "RS384", "RS512", "ES256"};
          std::string lower = real;
          for (auto& ch : lower)
            ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          labels.push_back(lower);
          Variants v;
          const Json c = slot_claims(p, slot, {});
          for (const auto& alg : labels) {
            Json h = slot_header(p);
            h["alg"] = alg;  // the signature stays the key's own algorithm's
            v.emplace_back("header alg " + alg + " over a " + real + " signature",
                           forge::sign_with(key0(p), h, c));
          }
          return v;
        }));
  }
}

// ---- the other side of strictness: what a verifier MUST accept ----

const char* kUnknownIgnored =
    "However, in the absence of such requirements, all claims that are not understood by "
    "implementations MUST be ignored.";
const char* kTypPrefix =
    "A recipient using the media type value MUST treat it as if \"application/\" were prepended "
    "to any \"typ\" value not containing a '/'.";

// A key-dependent case on one slot whose token is valid and must be served like a clean one.
Case accepted_case(const Slot& s, CaseInfo info,
                   std::function<std::pair<std::string, std::string>(Probe&, const Slot&)> token) {
  if (s.role == Role::kActor) info.depends_on = kActorValidatedId;
  info.same_cause_as = first_slot_twin(s, info.id);
  return {std::move(info), [s, token](Probe& p) {
            if (auto u = minted_unusable(p, s)) return *u;
            Finding failure;
            auto f = fresh(p, s, &failure);
            if (!f) return failure;
            auto [label, t] = token(p, s);
            if (t.empty()) return informational(label);
            const Answer a = p.post(request_for(s, f->form, t));
            if (a.status == 200) return ok(a.describe());
            return failed("200, as for the clean minted token", label + ": " + a.describe(),
                          "a valid token was refused for something the RFC says to accept");
          }};
}

void add_acceptance_cases(std::vector<Case>& out) {
  for (const Slot& s : kSlots) {
    const std::string who = std::string(role_name(s.role)) + " token (" + s.type_slug + "): ";
    out.push_back(accepted_case(
        s,
        {slot_id("RFC 7519 §4", s, "unknown-claims-ignored"), "RFC 7519 §4", Level::kMust,
         who + "a valid token with a claim and a header member nobody defined is accepted",
         kUnknownIgnored},
        [](Probe& p, const Slot& slot) {
          Json h = slot_header(p);
          h["urn:txlab:conformance:header-extension"] = "ignore me";  // not listed in crit
          return std::pair<std::string, std::string>{
              "an unknown claim and an unknown non-critical header member",
              forge::sign_with(
                  key0(p), h,
                  slot_claims(p, slot,
                              {{"urn:txlab:conformance:unknown-claim", {{"nested", true}}}}))};
        }));
    out.push_back(accepted_case(
        s,
        {slot_id("RFC 7515 §4.1.9", s, "typ-application-prefix"), "RFC 7515 §4.1.9", Level::kMust,
         who + "typ application/at+jwt is the same media type as at+jwt", kTypPrefix},
        [](Probe& p, const Slot& slot) {
          const std::string typ = p.target().minted_typ;
          if (typ.empty() || typ.find('/') != std::string::npos)
            return std::pair<std::string, std::string>{
                "the target's tokens carry no short typ to prefix", ""};
          Json h = slot_header(p);
          h["typ"] = "application/" + typ;
          return std::pair<std::string, std::string>{
              "typ " + h["typ"].get<std::string>(),
              forge::sign_with(key0(p), h, slot_claims(p, slot, {}))};
        }));
  }
}

// Client authentication, compared exactly: a secret or client id that nearly matches does not
// authenticate, and a failed Basic attempt is not rescued by credentials in the body.
void add_client_auth_cases(std::vector<Case>& out) {
  // Basic with near misses of one half of the exchanger's credentials, the other half right.
  auto near_miss_case = [&out](const char* id, const char* title, bool vary_secret) {
    out.push_back(
        {{id, "RFC 6749 §5.2", Level::kMust, title, kBasic401}, [vary_secret](Probe& p) {
           const Credentials& ex = p.target().exchanger;
           if (ex.secret.empty())
             return informational("the exchanger has no client secret (certificate or none)");
           return with_valid_exchange(p, [&](const http::FormParams& form) {
             const std::string what = vary_secret ? "secret " : "client id ";
             for (const auto& [label, v] : forge::near_misses(vary_secret ? ex.secret : ex.id)) {
               const Credentials c{vary_secret ? ex.id : v, vary_secret ? v : ex.secret};
               Answer a = p.post(form, Auth::kBasic, &c);
               if (a.status == 200 || a.status == 0 || a.status >= 500)
                 return failed("401 invalid_client", what + label + ": " + a.describe(),
                               a.status == 200 ? "credentials that are not the "
                                                 "client's authenticated it"
                                               : "");
             }
             return ok("every near miss refused");
           });
         }});
  };
  near_miss_case("rfc6749/5.2/secret-near-miss-401",
                 "Basic with a secret that nearly matches (prefix, suffix, case, one character) "
                 "does not authenticate: 401",
                 true);
  near_miss_case("rfc6749/5.2/client-id-near-miss-401",
                 "Basic with the right secret under a client id that nearly matches (prefix, "
                 "suffix, case, one character) does not authenticate: 401",
                 false);
  out.push_back(
      {{"rfc6749/2.3/failed-basic-not-rescued-by-body", "RFC 6749 §2.3", Level::kMust,
        "A failed Basic attempt is refused even when the body carries the right client_secret "
        "(two methods at once: the client broke the rule first, so NON-STRICT at most)",
        "The client MUST NOT use more than one authentication method in each request.", true,
        Binds::kClient},
       [](Probe& p) {
         const Credentials& ex = p.target().exchanger;
         if (ex.secret.empty())
           return informational("the exchanger has no client secret (certificate or none)");
         return with_valid_exchange(p, [&](const http::FormParams& form) {
           const Credentials wrong{ex.id, ex.secret + "-wrong"};
           Answer a = p.post(with(with(form, "client_id", ex.id), "client_secret", ex.secret),
                             Auth::kBasic, &wrong);
           if (a.status == 200)
             return failed("401 invalid_client", a.describe(),
                           "the failed Basic attempt was ignored and the body's credentials "
                           "served");
           if (a.status == 0 || a.status >= 500) return failed("401 invalid_client", a.describe());
           return ok(a.describe());
         });
       }});
}

// ---- time: a token that expires between two exchanges ----

// Lets `seconds` pass for the target: a built-in target's world advances, a real one is waited
// for.
void pass_time(const Probe& p, int seconds) {
  if (p.target().pass_time)
    p.target().pass_time(seconds);
  else
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
}

const Slot* kCacheSlots[] = {&kSlots[0], &kSlots[2]};

std::string cache_key(const Slot& s, const char* what) {
  return std::string("cache/") + role_name(s.role) + "/" + what;
}

// One run for both slots (one wait): a token living two seconds is exchanged, time passes beyond
// its exp (and beyond the target's leeway, measured with a never-seen twin of the same exp), and
// the same token is presented again.
void run_cache_probe(Probe& p) {
  p.once("cache/run", [&p]() {
    struct Armed {
      const Slot* slot;
      http::FormParams form;
      int64_t exp;
    };
    std::vector<Armed> armed;
    for (const Slot* s : kCacheSlots) {
      Answer skip;
      if (auto u = minted_unusable(p, *s)) {
        skip.transport_error = "skip: " + u->note;
        p.once(cache_key(*s, "first"), [&] { return skip; });
        continue;
      }
      Finding failure;
      auto f = fresh(p, *s, &failure);
      if (!f) {
        skip.transport_error = "skip: " + failure.note;
        p.once(cache_key(*s, "first"), [&] { return skip; });
        continue;
      }
      const int64_t exp = target_now(p) + 2;
      const std::string token =
          forge::sign_with(key0(p), slot_header(p), slot_claims(p, *s, {{"exp", exp}}));
      p.scratch(cache_key(*s, "token")) = token;
      const Answer& first =
          p.once(cache_key(*s, "first"), [&] { return p.post(request_for(*s, f->form, token)); });
      if (first.status == 200) armed.push_back({s, f->form, exp});
    }
    // Past exp by 5 s; a built-in target's time is free, so its leeway is outwaited too.
    const std::vector<int> steps =
        p.target().pass_time ? std::vector<int>{7, 33, 30, 60} : std::vector<int>{7};
    for (const auto& a : armed) {
      Answer twin;
      for (int step : steps) {
        pass_time(p, step);
        Json claims = slot_claims(p, *a.slot, {{"exp", a.exp}, {"iat", a.exp - 2}});
        twin =
            p.post(request_for(*a.slot, a.form, forge::sign_with(key0(p), slot_header(p), claims)));
        if (twin.status != 200) break;
      }
      p.once(cache_key(*a.slot, "twin"), [&] { return twin; });
      const std::string token = p.scratch(cache_key(*a.slot, "token"));
      Finding failure;
      auto f = fresh(p, *a.slot, &failure);
      const http::FormParams form = f ? f->form : a.form;
      p.once(cache_key(*a.slot, "again"),
             [&] { return p.post(request_for(*a.slot, form, token)); });
    }
    return Answer{};
  });
}

void add_time_cases(std::vector<Case>& out) {
  for (const Slot* sp : kCacheSlots) {
    const Slot s = *sp;
    CaseInfo info{slot_id("RFC 7519 §4.1.4", s, "expired-after-acceptance"),
                  "RFC 7519 §4.1.4",
                  Level::kMust,
                  std::string(role_name(s.role)) + " token (" + s.type_slug +
                      "): a token accepted before its exp is refused after it (no validation "
                      "cache outlives exp)",
                  kExp,
                  true,
                  Binds::kServer,
                  slot_id("RFC 7519 §4.1.4", s, "expired")};
    out.push_back({info, [s](Probe& p) {
                     if (auto u = minted_unusable(p, s)) return *u;
                     run_cache_probe(p);
                     const Answer& first = p.once(cache_key(s, "first"), [] { return Answer{}; });
                     if (first.status == 0 && first.transport_error.rfind("skip: ", 0) == 0)
                       return unimplemented(first.transport_error.substr(6));
                     if (first.status != 200)
                       return informational("a valid token living two seconds was refused (" +
                                            first.describe() + "): nothing to cache");
                     const Answer& twin = p.once(cache_key(s, "twin"), [] { return Answer{}; });
                     if (twin.status == 200)
                       return informational(
                           "a never-seen token with the same exp is still accepted after the "
                           "wait (the target's leeway is longer): a cache cannot be told from "
                           "leeway");
                     const Answer& again = p.once(cache_key(s, "again"), [] { return Answer{}; });
                     if (again.status == 200)
                       return failed("a refusal: the token's exp has passed", again.describe(),
                                     "the token was accepted again after its exp while a "
                                     "never-seen token with the same exp was refused (" +
                                         twin.describe() + "): a validation cache outlives exp");
                     if (again.status == 0 || again.status >= 500)
                       return failed("a refusal: the token's exp has passed", again.describe());
                     return ok(again.describe() + " (a never-seen twin: " + twin.describe() + ")");
                   }});
  }
}

}  // namespace

// Key rotation: after the issuer withdraws a key and the target has fetched the issuer's new one,
// a token under the withdrawn key no longer verifies (the key is no longer the issuer's). Runs
// last: the suite's minted tokens use the key it withdraws.
void add_rotation_cases(std::vector<Case>& out) {
  out.push_back(
      {{"rfc8725/3.8/withdrawn-key-refused", "RFC 8725 §3.8", Level::kMust,
        "After the issuer rotates its key and the target has fetched the new one, a token signed "
        "with the withdrawn key is refused",
        kKeysBelongToIssuer},
       [](Probe& p) {
         const Target& t = p.target();
         if (!t.rotate_issuer_key)
           return informational(
               "needs an issuer whose keys txlab publishes: --serve-issuer PORT (or a built-in "
               "target)");
         const Slot& s = kSlots[0];
         if (auto u = minted_unusable(p, s)) return *u;
         Finding failure;
         auto f = fresh(p, s, &failure);
         if (!f) return failure;
         const auto next = t.rotate_issuer_key();
         if (!next) return informational("the issuer's key could not be rotated");
         pass_time(p, 11);  // past a careful key cache's minimum refresh interval
         Json h = slot_header(p);
         h["kid"] = next->kid();
         const Answer with_new =
             p.post(request_for(s, f->form, forge::sign_with(*next, h, slot_claims(p, s, {}))));
         auto again = fresh(p, s, &failure);
         const Answer with_old =
             p.post(request_for(s, again ? again->form : f->form,
                                forge::sign_with(key0(p), slot_header(p), slot_claims(p, s, {}))));
         if (with_new.status != 200)
           return informational(
               std::string("a token under the issuer's new key was refused (") +
               with_new.describe() +
               "): the target did not fetch the issuer's new keys in this run (refetching on an "
               "unfamiliar kid is common practice, not an RFC requirement), so the withdrawn "
               "key cannot be judged" +
               (with_old.status == 200 ? "; the withdrawn key still verifies" : ""));
         if (with_old.status == 200)
           return failed("a refusal: the key is no longer in the issuer's JWKS", "200",
                         "after fetching the issuer's new key, the target still accepted a token "
                         "signed with the key the issuer withdrew");
         if (with_old.status == 0 || with_old.status >= 500)
           return failed("a refusal: the key is no longer in the issuer's JWKS",
                         with_old.describe());
         return ok("the new key " + with_new.describe() + ", the withdrawn one " +
                   with_old.describe());
       }});
}

void add_class_cases(std::vector<Case>& out) {
  add_comparison_cases(out);
  add_parser_cases(out);
  add_acceptance_cases(out);
  add_client_auth_cases(out);
  add_time_cases(out);
}

}  // namespace txlab::conformance
