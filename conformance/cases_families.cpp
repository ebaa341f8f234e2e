// Probe families: every negative check in the shapes real bugs take, for the subject token and
// the actor token, and for each token type the target accepts (RFC 8693 §2.1 subject_token_type
// / actor_token_type: access_token, jwt).
//  - forgeries (RFC 7515 §5.2, RFC 8725 §3.1/§3.2/§3.10): no key of the issuer is needed;
//  - claims (RFC 7519 §4.1, RFC 7515 §4.1.11, RFC 8725 §3.8): signed with a trusted issuer's key
//    (built-in targets, --issuer-key, --serve-issuer), INFORMATIONAL without one;
//  - the issued token presented again as a subject token (RFC 7519 §4.1.3).
#include "conformance/cases.h"
#include "conformance/forge.h"
#include "conformance/judge.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

enum class Role { kSubject, kActor };

struct Slot {
  Role role;
  const char* type;       // token type URI
  const char* type_slug;  // "access-token" / "jwt"
};

const Slot kSlots[] = {{Role::kSubject, kTypeAccess, "access-token"},
                       {Role::kSubject, kTypeJwt, "jwt"},
                       {Role::kActor, kTypeAccess, "access-token"},
                       {Role::kActor, kTypeJwt, "jwt"}};

const char* role_name(Role r) { return r == Role::kSubject ? "subject" : "actor"; }

std::string section_id(const std::string& section) {
  // "RFC 8725 §3.10" -> "rfc8725/3.10"
  std::string out;
  for (char c : section) {
    if (c == ' ') continue;
    if (std::isalpha(static_cast<unsigned char>(c)))
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.')
      out += c;
    else if (out.find('/') == std::string::npos && !out.empty() &&
             std::isdigit(static_cast<unsigned char>(out.back())))
      out += '/';
  }
  return out;
}

// The request that presents `token` in the slot, everything else valid.
http::FormParams request_for(const Slot& s, const http::FormParams& valid,
                             const std::string& token) {
  if (s.role == Role::kSubject)
    return replaced(replaced(valid, "subject_token", token), "subject_token_type", s.type);
  return with(with(valid, "actor_token", token), "actor_token_type", s.type);
}

// A valid request to build a baseline on; without one, `failure` says why (as a no-answer).
std::optional<http::FormParams> base_form(Probe& p, Answer* failure) {
  std::string err;
  auto f = p.valid_exchange(&err);
  if (!f) failure->transport_error = "no subject token: " + err;
  return f;
}

// Does the target accept a valid token in this slot? Asked once per run. The answer (200 or
// the refusal) decides whether the slot's negative cases mean anything.
const Answer& slot_baseline(Probe& p, const Slot& s) {
  const std::string key = std::string("slot-baseline/") + role_name(s.role) + "/" + s.type;
  return p.once(key, [&]() {
    Answer a;
    auto f = base_form(p, &a);
    if (!f) return a;
    std::string token = f->at(1).second;
    if (s.role == Role::kActor) {
      std::string err;
      auto actor = p.actor_token(&err);
      if (!actor) {
        a.transport_error = "no actor token: " + err;
        return a;
      }
      token = *actor;
    }
    return p.post(request_for(s, *f, token));
  });
}

std::string slot_label(const Slot& s) {
  return std::string(role_name(s.role)) + " token of type " + s.type;
}

// UNIMPLEMENTED when the slot's valid baseline was not accepted: a refusal of the bad token
// would prove nothing.
std::optional<Finding> slot_unusable(Probe& p, const Slot& s) {
  const Answer& base = slot_baseline(p, s);
  if (base.status == 200) return std::nullopt;
  if (base.status == 0 && base.transport_error.rfind("no ", 0) == 0) {
    if (s.role == Role::kActor)
      return unimplemented("no actor token available: " + base.transport_error);
    return failed("a subject token for the request", "none",
                  "precondition failed: " + base.transport_error);
  }
  return unimplemented("the target does not accept a valid " + slot_label(s), base.describe());
}

// A fresh valid token for the slot (and the valid request around it).
struct Fresh {
  http::FormParams form;
  std::string token;
};
std::optional<Fresh> fresh(Probe& p, const Slot& s, Finding* failure) {
  std::string err;
  auto f = p.valid_exchange(&err);
  if (!f) {
    *failure = failed("a subject token for the request", "none", "precondition failed: " + err);
    return std::nullopt;
  }
  Fresh out{*f, f->at(1).second};
  if (s.role == Role::kActor) {
    auto actor = p.actor_token(&err);
    if (!actor) {
      *failure = unimplemented("no actor token available: " + err);
      return std::nullopt;
    }
    out.token = *actor;
  }
  return out;
}

// Grades each variant; the first one that is not refused decides.
Finding grade_variants(Probe& p, const Slot& s, const http::FormParams& valid,
                       const std::vector<std::string>& variants,
                       const std::vector<std::string>& labels) {
  Finding worst = ok();
  std::vector<Deviation> extra;
  for (size_t i = 0; i < variants.size(); ++i) {
    Answer a = p.post(request_for(s, valid, variants[i]));
    Finding f = expect_refused(p, a, extra);
    if (f.grade == Grade::kFailed) {
      f.actual = (labels.size() > i ? labels[i] + ": " : "") + f.actual;
      // Say whether the actor was used or ignored; either way RFC 8693 §2.2.2 requires an error
      // response for an invalid actor_token.
      if (auto jwt = a.issued_jwt(); jwt && s.role == Role::kActor && a.status == 200)
        f.note += jwt->second.contains("act")
                      ? "; the issued token names an actor (act)"
                      : "; the actor token was ignored (no act in the issued token), yet "
                        "RFC 8693 §2.2.2 requires an error for an invalid actor_token";
      return f;
    }
    if (worst.grade == Grade::kOk && f.grade != Grade::kOk) worst = f;
    if (worst.grade == Grade::kOk) worst.actual = a.describe();
  }
  return worst;
}

std::string header_label(const std::string& token) {
  auto d = jose::decode_unverified(token);
  if (!d) return "token";
  Json h = d->first;
  for (const char* big : {"jwk", "x5c"})
    if (h.contains(big)) h[big] = "…";
  return "header " + h.dump();
}

void add_forgery_cases(std::vector<Case>& out) {
  for (const Slot& s : kSlots) {
    for (const auto& fg : forge::all_forgeries()) {
      const std::string id =
          section_id(fg.section) + "/" + role_name(s.role) + "-" + s.type_slug + "-" + fg.slug;
      const std::string title = std::string(role_name(s.role)) + " token (" + s.type_slug +
                                "): " + fg.title + " is refused";
      const Slot slot = s;
      const forge::Kind kind = fg.kind;
      out.push_back({{id, fg.section, Level::kMust, title, fg.requirement}, [slot, kind](Probe& p) {
                       if (auto u = slot_unusable(p, slot)) return *u;
                       Finding failure;
                       auto f = fresh(p, slot, &failure);
                       if (!f) return failure;
                       const auto& m = p.materials();
                       auto variants = forge::make(kind, f->token, m);
                       if (variants.empty())
                         return informational(
                             kind == forge::Kind::kHs256PublicKey
                                 ? "the issuer's published keys are unknown (no JWKS from "
                                   "discovery or --jwks-uri)"
                                 : "the valid token is not a JWS: nothing to forge from");
                       std::vector<std::string> labels;
                       for (const auto& v : variants) labels.push_back(header_label(v));
                       const size_t fetched_before = p.attacker_fetches();
                       Finding r = grade_variants(p, slot, f->form, variants, labels);
                       if (p.attacker_fetches() > fetched_before) {
                         if (r.grade == Grade::kOk)
                           return non_strict("the token refused without fetching its key location",
                                             "refused, after fetching the attacker's URL",
                                             "fetching a URL named by an unverified token is a "
                                             "server-side request forgery risk (RFC 8725 §3.10)");
                         r.note += (r.note.empty() ? "" : "; ") +
                                   std::string("the target fetched the attacker's URL");
                       }
                       return r;
                     }});
    }
  }
}

// ---- claims: signed with a trusted issuer's key, one claim wrong ----

struct ClaimProbe {
  const char* slug;
  const char* section;
  Level level;
  const char* title;
  const char* requirement;
  bool subject_only;
  size_t key;  // which issuer key signs
  // Claims and header changes relative to a clean minted token.
  std::function<std::pair<Json, Json>(const Probe&)> change;
  bool access_token_only = false;  // RFC 9068 rules: the access_token type only
};

const char* kKeysBelongToIssuer =
    "When a JWT contains an \"iss\" (issuer) claim, the application MUST validate that the "
    "cryptographic keys used for the "
    "cryptographic operations in the JWT belong to the issuer. If they do not, the application "
    "MUST reject the JWT.";

const std::vector<ClaimProbe>& claim_probes() {
  static const std::vector<ClaimProbe> v = {
      {"expired", "RFC 7519 §4.1.4", Level::kMust, "an expired token is refused",
       "The \"exp\" (expiration time) claim identifies the expiration time on or after which the "
       "JWT MUST NOT be accepted for "
       "processing.",
       false, 0,
       [](const Probe& p) {
         const int64_t past = target_now(p) - 3600;
         return std::pair<Json, Json>{{{"iat", past - 300}, {"exp", past}}, Json::object()};
       }},
      {"not-yet-valid", "RFC 7519 §4.1.5", Level::kMust,
       "a token whose nbf lies an hour ahead is refused",
       "The \"nbf\" (not before) claim identifies the time before which the JWT MUST NOT be "
       "accepted for processing.",
       false, 0,
       [](const Probe& p) {
         return std::pair<Json, Json>{
             {{"nbf", target_now(p) + 3600}, {"exp", target_now(p) + 7200}}, Json::object()};
       }},
      {"expired-beyond-leeway", "RFC 7519 §4.1.4", Level::kMust,
       "a token expired ten minutes ago is refused (leeway is a few minutes at most)",
       "The \"exp\" (expiration time) claim identifies the expiration time on or after which the "
       "JWT MUST NOT be accepted for processing. ... Implementers MAY provide for some small "
       "leeway, usually no more than a few minutes, to account for clock skew.",
       false, 0,
       [](const Probe& p) {
         const int64_t past = target_now(p) - 600;
         return std::pair<Json, Json>{{{"iat", past - 300}, {"exp", past}}, Json::object()};
       }},
      {"not-yet-valid-beyond-leeway", "RFC 7519 §4.1.5", Level::kMust,
       "a token whose nbf lies ten minutes ahead is refused (leeway is a few minutes at most)",
       "The \"nbf\" (not before) claim identifies the time before which the JWT MUST NOT be "
       "accepted for processing. ... Implementers MAY provide for some small leeway, usually no "
       "more than a few minutes, to account for clock skew.",
       false, 0,
       [](const Probe& p) {
         return std::pair<Json, Json>{{{"nbf", target_now(p) + 600}, {"exp", target_now(p) + 3600}},
                                      Json::object()};
       }},
      {"exp-not-a-number", "RFC 7519 §4.1.4", Level::kMust,
       "a token whose exp is a string, not a number, is refused",
       "Its value MUST be a number containing a NumericDate value.", false, 0,
       [](const Probe& p) {
         return std::pair<Json, Json>{{{"exp", std::to_string(target_now(p) + 3600)}},
                                      Json::object()};
       }},
      {"untrusted-issuer", "RFC 8725 §3.8", Level::kMust,
       "a trusted key's signature over an iss the target does not trust is refused",
       kKeysBelongToIssuer, false, 0,
       [](const Probe&) {
         return std::pair<Json, Json>{{{"iss", "https://untrusted.txlab.invalid"}}, Json::object()};
       }},
      {"issuer-key-mixup", "RFC 8725 §3.8", Level::kMust,
       "issuer A's iss signed with trusted issuer B's key is refused", kKeysBelongToIssuer, false,
       1,
       [](const Probe& p) {
         // Signed by key 1 (issuer B) but claiming issuer A (key 0's issuer).
         return std::pair<Json, Json>{{{"iss", p.target().issuer_keys[0].issuer}}, Json::object()};
       }},
      {"unknown-crit", "RFC 7515 §4.1.11", Level::kMust,
       "a token with an unknown critical header extension is refused",
       "If any of the listed extension Header Parameters are not understood and supported by the "
       "recipient, then the JWS is "
       "invalid.",
       false, 0,
       [](const Probe&) {
         return std::pair<Json, Json>{Json::object(),
                                      {{"crit", Json::array({"urn:txlab:conformance:crit"})},
                                       {"urn:txlab:conformance:crit", true}}};
       }},
      {"wrong-audience", "RFC 7519 §4.1.3", Level::kMust,
       "a subject token addressed to another audience is refused",
       "Each principal intended to process the JWT MUST identify itself with a value in the "
       "audience claim. If the principal "
       "processing the claim does not identify itself with a value in the \"aud\" claim when this "
       "claim is present, then the "
       "JWT MUST be rejected.",
       true, 0,
       [](const Probe&) {
         return std::pair<Json, Json>{{{"aud", "urn:txlab:conformance:someone-else"}},
                                      Json::object()};
       }},
      {"missing-exp", "RFC 9068 §2.2", Level::kMust, "a JWT access token without exp is refused",
       "exp REQUIRED - as defined in Section 4.1.4 of [RFC7519]. (RFC 9068 §2.2) The current time "
       "MUST be before the time "
       "represented by the \"exp\" claim. (RFC 9068 §4)",
       false, 0,
       [](const Probe&) {
         return std::pair<Json, Json>{{{"exp", nullptr}}, Json::object()};
       },
       true},
      {"missing-sub", "RFC 9068 §2.2", Level::kMust, "a JWT access token without sub is refused",
       "sub REQUIRED - as defined in Section 4.1.2 of [RFC7519].", false, 0,
       [](const Probe&) {
         return std::pair<Json, Json>{{{"sub", nullptr}}, Json::object()};
       },
       true},
  };
  return v;
}

// Whether the target claims RFC 9068 JWT access tokens: stated, or its tokens are typed at+jwt.
bool claims_rfc9068(const Probe& p) {
  if (p.target().jwt_access_tokens) return *p.target().jwt_access_tokens;
  std::string typ = p.target().minted_typ;
  for (auto& ch : typ) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return typ == "at+jwt" || typ == "application/at+jwt";
}

// A clean minted token for the slot must be accepted first.
const Answer& minted_baseline(Probe& p, const Slot& s) {
  const std::string key = std::string("minted-baseline/") + role_name(s.role) + "/" + s.type;
  return p.once(key, [&]() {
    Answer a;
    auto f = base_form(p, &a);
    if (!f) return a;
    Json over = Json::object();
    if (s.role == Role::kActor)
      over = {{"sub", "txlab-conformance-actor"}, {"client_id", "txlab-conformance-actor"}};
    return p.post(request_for(s, *f, mint(p, over)));
  });
}

void add_claim_cases(std::vector<Case>& out) {
  out.push_back({{"rfc8693/2.1/minted-subject-accepted", "RFC 8693 §2.1", Level::kMust,
                  "A subject token signed with the trusted issuer's key is accepted (the "
                  "key-dependent cases' baseline)",
                  "subject_token REQUIRED. A security token that represents the identity of the "
                  "party on behalf of whom the request "
                  "is being made."},
                 [](Probe& p) {
                   if (!can_mint(p)) return informational(needs_key_note());
                   const Answer& a = minted_baseline(p, kSlots[0]);
                   if (a.status == 200) return ok(a.describe());
                   // Not an RFC violation: the target may not trust that issuer, or may accept
                   // only tokens it issued and recorded itself (Spring Authorization Server).
                   return informational(
                       "a clean token from " + p.target().issuer_keys[0].issuer + " was refused (" +
                       a.describe() +
                       "): the target does not trust that key, or accepts only tokens it issued "
                       "itself; the key-dependent cases are not graded");
                 }});
  for (const Slot& s : kSlots) {
    for (const auto& cp : claim_probes()) {
      if (cp.subject_only && s.role != Role::kSubject) continue;
      if (cp.access_token_only && std::string(s.type) != kTypeAccess) continue;
      const std::string id =
          section_id(cp.section) + "/" + role_name(s.role) + "-" + s.type_slug + "-" + cp.slug;
      const std::string title =
          std::string(role_name(s.role)) + " token (" + s.type_slug + "): " + cp.title;
      const Slot slot = s;
      const ClaimProbe* probe = &cp;
      out.push_back(
          {{id, cp.section, cp.level, title, cp.requirement}, [slot, probe](Probe& p) {
             if (!can_mint(p)) return informational(needs_key_note());
             if (!can_mint(p, probe->key)) return informational(needs_key_note(probe->key));
             const Answer& base = minted_baseline(p, slot);
             if (base.status != 200) {
               if (slot.role == Role::kSubject && slot.type == std::string(kTypeAccess))
                 return unimplemented(
                     "the clean minted token was refused too (see "
                     "rfc8693/2.1/minted-subject-accepted)",
                     base.describe());
               return unimplemented("the target does not accept a clean minted " + slot_label(slot),
                                    base.describe());
             }
             Finding failure;
             auto f = fresh(p, slot, &failure);
             if (!f) return failure;
             auto [claims, header] = probe->change(p);
             if (slot.role == Role::kActor) {
               if (!claims.contains("sub")) claims["sub"] = "txlab-conformance-actor";
               if (!claims.contains("client_id")) claims["client_id"] = "txlab-conformance-actor";
             }
             const std::string bad = mint(p, claims, header, probe->key);
             Finding r = grade_variants(p, slot, f->form, {bad}, {header_label(bad)});
             if (r.grade == Grade::kFailed && probe->access_token_only && !claims_rfc9068(p)) {
               // RFC 7519 makes exp and sub optional; only RFC 9068 access tokens must carry
               // them.
               r.grade = Grade::kNonStrict;
               r.note = std::string(probe->slug == std::string("missing-exp")
                                        ? "a token that never expires was accepted"
                                        : "a token without sub was accepted") +
                        "; RFC 9068 requires it, but the target does not claim RFC 9068 JWT "
                        "access tokens (--jwt-access-tokens asserts it does)";
             }
             return r;
           }});
    }
  }
}

// The token the exchange issued, addressed to --audience, presented again as a subject token:
// the target is not in its aud (RFC 7519 §4.1.3).
void add_reexchange_case(std::vector<Case>& out) {
  out.push_back(
      {{"rfc7519/4.1.3/issued-token-reexchanged", "RFC 7519 §4.1.3", Level::kMust,
        "A token the exchange issued for another audience is refused as a subject token",
        "If the principal processing the claim does not identify itself with a value in the "
        "\"aud\" claim when this claim "
        "is present, then the JWT MUST be rejected."},
       [](Probe& p) {
         return with_successful_exchange(p, [&](const Answer& a, const http::FormParams& f) {
           const std::string issued = json_str(a.body, "access_token");
           auto jwt = a.issued_jwt();
           if (!jwt)
             return informational("the issued token is not a JWT: its audience cannot be read");
           const Json aud = jwt->second.value("aud", Json());
           if (aud.is_null()) return informational("the issued token has no aud");
           std::vector<std::string> self = {p.target().exchanger.id};
           if (!p.target().issuer.empty()) self.push_back(p.target().issuer);
           for (const auto& i : p.target().accepted_issuers) self.push_back(i);
           for (const auto& me : self)
             if (jose::audience_contains(aud, me))
               return informational("the issued token is addressed to " + me +
                                    ", so presenting it again is legitimate");
           Answer again = p.post(replaced(f, "subject_token", issued));
           Finding r = expect_refused(p, again);
           if (r.grade == Grade::kFailed) r.expected += " (the token's aud is " + aud.dump() + ")";
           return r;
         });
       }});
}

}  // namespace

std::optional<Finding> minted_refused(Probe& p) {
  if (!can_mint(p)) return std::nullopt;
  const Answer& a = minted_baseline(p, kSlots[0]);
  if (a.status == 200) return std::nullopt;
  return unimplemented(
      "the target refuses a clean token minted with the given key (see "
      "rfc8693/2.1/minted-subject-accepted): a refusal here proves nothing",
      a.describe());
}

void add_family_cases(std::vector<Case>& out) {
  add_forgery_cases(out);
  add_claim_cases(out);
  add_reexchange_case(out);
}

}  // namespace txlab::conformance
