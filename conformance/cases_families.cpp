// Probe families: every negative check in the shapes real bugs take, for the subject token and
// the actor token, and for each token type the target accepts (RFC 8693 §2.1 subject_token_type
// / actor_token_type: access_token, jwt).
//  - forgeries (RFC 7515 §5.2, RFC 7518 §3.4/§3.6, RFC 7519 §7.2, RFC 8725 §3.1/§3.8): no key
//    of the issuer is needed;
//  - claims (RFC 7519 §4.1, RFC 7515 §4.1.11, RFC 8725 §3.8): signed with a trusted issuer's key
//    (built-in targets, --issuer-key, --serve-issuer), INFORMATIONAL without one;
//  - the issued token presented again as a subject token (RFC 7519 §4.1.3).
#include "conformance/cases.h"
#include "conformance/forge.h"
#include "conformance/judge.h"
#include "conformance/slots.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

// The actor slot is worth probing only when the target validates actor tokens at all (RFC 8693
// §2.1); otherwise every actor-slot case would fail for that one cause.
CaseInfo slot_info(const Slot& s, CaseInfo info) {
  if (s.role == Role::kActor) info.depends_on = kActorValidatedId;
  info.same_cause_as = first_slot_twin(s, info.id);
  return info;
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
      out.push_back({slot_info(s, {id, fg.section, Level::kMust, title, fg.requirement}),
                     [slot, kind](Probe& p) {
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
                             : kind == forge::Kind::kDerSignature
                                 ? "the valid token is not ECDSA-signed: it has no DER form"
                                 : "the valid token is not a JWS: nothing to forge from");
                       std::vector<std::string> labels;
                       for (const auto& v : variants) labels.push_back(shape_label(v));
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
  Binds binds = Binds::kServer;    // whom the quoted sentence binds
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
       },
       false, Binds::kProducer},
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
      {"unknown-crit", "RFC 7519 §7.2", Level::kMust,
       "a token with an unknown critical header extension is refused",
       "Verify that the resulting JOSE Header includes only parameters and values whose syntax "
       "and semantics are both understood and supported or that are specified as being ignored "
       "when not understood. ... If any of the listed steps fail, then the JWT MUST be rejected -- "
       "that is, treated by the application as an invalid input.",
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
          {slot_info(s, {id, cp.section, cp.level, title, cp.requirement, true, cp.binds}),
           [slot, probe](Probe& p) {
             // A case that needs a second trusted issuer also runs with one key: the target's
             // own issuer (from its metadata) is an issuer it trusts that key 0 does not speak
             // for.
             size_t key = probe->key;
             std::string own_issuer;
             const Target& t = p.target();
             if (key == 1 && !can_mint(p, 1) && can_mint(p) && !t.issuer.empty() &&
                 t.issuer != t.issuer_keys[0].issuer) {
               key = 0;
               own_issuer = t.issuer;
             }
             if (auto u = minted_unusable(p, slot, key)) return *u;
             Finding failure;
             auto f = fresh(p, slot, &failure);
             if (!f) return failure;
             auto [claims, header] = probe->change(p);
             if (!own_issuer.empty()) claims = {{"iss", own_issuer}};
             if (slot.role == Role::kActor) actor_claims(claims);
             const std::string bad = mint(p, claims, header, key);
             Finding r = grade_variants(p, slot, f->form, {bad}, {header_label(bad)});
             if ((r.grade == Grade::kFailed || r.grade == Grade::kNonStrict) &&
                 probe->access_token_only && !claims_rfc9068(p)) {
               // RFC 7519 makes exp and sub optional; only RFC 9068 access tokens must carry
               // them, and this target does not claim RFC 9068.
               r.grade = Grade::kInformational;
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

// One cause for the whole actor slot: a value that is no token at all in actor_token is refused.
// A target that ignores actor_token would otherwise fail every actor-slot case for this one
// reason; those cases depend on this one and are UNIMPLEMENTED when it FAILED.
void add_actor_validated_case(std::vector<Case>& out) {
  out.push_back(
      {{kActorValidatedId, "RFC 8693 §2.1", Level::kMust,
        "An actor_token is validated: a value that is not a token at all is refused",
        "In processing the request, the authorization server MUST perform the appropriate "
        "validation procedures for the indicated token type and, if the actor token is present, "
        "also perform the appropriate validation procedures for its indicated token type."},
       [](Probe& p) {
         Finding failure;
         auto f = fresh(p, kSlots[2], &failure);
         if (!f) return failure;
         Answer a = p.post(request_for(kSlots[2], f->form, "txlab-conformance-not-a-token"));
         if (a.status == 200) {
           auto jwt = a.issued_jwt();
           return failed("a refusal (4xx with an OAuth error)", a.describe(),
                         std::string("an actor_token that is not a token was accepted: the ") +
                             "actor token is not validated" +
                             (jwt && !jwt->second.contains("act")
                                  ? " (it has no effect: the issued token names no actor)"
                                  : ""));
         }
         if (a.status == 0 || a.status >= 500)
           return failed("a refusal (4xx with an OAuth error)", a.describe());
         return ok(a.describe());
       }});
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
  add_actor_validated_case(out);
  add_forgery_cases(out);
  add_claim_cases(out);
  add_reexchange_case(out);
}

}  // namespace txlab::conformance
