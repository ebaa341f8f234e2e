// RFC 8693 §4.1 (act: sub stays the subject, the actor is named, earlier actors nest) and
// §4.4 (may_act).
#include "conformance/case_table.h"
#include "conformance/cases.h"
#include "conformance/judge.h"
#include "conformance/vendor_profiles.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {

// RFC 8693 binds no server to where the subject and the actor go in the issued token: §4.1
// defines act and binds the token's consumer (a resource server), which relies on the top-level
// claims and the current actor. A token that puts them elsewhere misleads that consumer: the
// cases quote its MUST with Binds::kResourceServer (NON-STRICT at most).
const char* kActText =
    "The act (actor) claim provides a means within a JWT to express that delegation has occurred "
    "and identify the acting party to whom authority has been delegated. ... For the purpose of "
    "applying access control policy, the consumer of a token MUST only consider the token's "
    "top-level claims and the party identified as the current actor by the act claim.";
const char* kSubText =
    "Typically, the subject of this token will be the subject of the security token issued in "
    "response to the request. (RFC 8693 §2.1) The act (actor) claim provides a means within a JWT "
    "to express that delegation has occurred and identify the acting party to whom authority has "
    "been delegated. ... For the purpose of applying access control policy, the consumer of a "
    "token MUST only consider the token's top-level claims and the party identified as the "
    "current actor by the act claim.";
// Nesting is a possibility ("can be expressed"), and prior actors are informational only.
const char* kNestText =
    "A chain of delegation can be expressed by nesting one act claim within another. The "
    "outermost act claim represents the current actor while nested act claims represent prior "
    "actors.";

// True when the act chain's current actor is `who`, directly or behind a known intermediary
// (a brokering AS's back-channel client).
bool acts(const Probe& p, const Json& act, const Json& who) {
  if (!act.is_object()) return false;
  if (act.value("sub", Json()) == who) return true;
  const auto& mids = p.target().intermediaries;
  const std::string cur = act.value("sub", Json()).is_string() ? act["sub"].get<std::string>() : "";
  return std::find(mids.begin(), mids.end(), cur) != mids.end() && act.contains("act") &&
         act["act"].value("sub", Json()) == who;
}

// True when `prior` is the innermost act of the chain.
bool innermost_is(const Json& act, const Json& prior) {
  const Json* cur = &act;
  for (int i = 0; i < 64 && cur->is_object() && cur->contains("act"); ++i) {
    if ((*cur)["act"] == prior) return true;
    cur = &(*cur)["act"];
  }
  return false;
}

// The notes' inverted convention: sub is the exchanging client (or a brokering intermediary)
// and the original caller appears in the act chain.
bool caller_in_act(const Probe& p, const Json& issued) {
  const Json sub = issued.value("sub", Json());
  const auto& mids = p.target().intermediaries;
  const bool sub_is_client = sub == Json(p.target().exchanger.id) ||
                             (sub.is_string() && std::find(mids.begin(), mids.end(),
                                                           sub.get<std::string>()) != mids.end());
  if (!sub_is_client || !issued.contains("act")) return false;
  const Json caller = p.subject_claims().value("sub", Json());
  const Json* cur = &issued["act"];
  for (int i = 0; i < 64 && cur->is_object(); ++i) {
    if (cur->value("sub", Json()) == caller) return true;
    if (!cur->contains("act")) break;
    cur = &(*cur)["act"];
  }
  return false;
}

// The caller-in-act convention contradicts RFC 8693 §4.1: FAILED under the RFC's own profile,
// NON-STRICT (with the reason) where common practice is accepted. The case's sentence binds the
// token's consumer, so the runner caps both at NON-STRICT (bounded_by_sentence).
Finding caller_in_act_finding(const Probe& p, std::string expected, std::string actual,
                              std::string note) {
  if (is_profile(p, Profile::kRfc8693))
    return failed(std::move(expected), std::move(actual), std::move(note));
  return non_strict(std::move(expected), std::move(actual), std::move(note));
}

Finding sub_is_subject(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const Json want = p.subject_claims().value("sub", Json());
  const Json got = jwt->second.value("sub", Json());
  if (got == want) return ok(got.dump());
  if (caller_in_act(p, jwt->second))
    return caller_in_act_finding(
        p, "sub " + want.dump(), got.dump(),
        "caller-in-act convention: the exchanging client is sub and the caller is act, "
        "the inverse of RFC 8693 §4.1");
  return failed("sub " + want.dump(), got.dump());
}

Finding act_names_actor(Probe& p, const Answer& a) {
  auto jwt = a.issued_jwt();
  if (!jwt) return informational("issued token is not a JWT");
  const Json& c = jwt->second;
  const auto expects = p.target().expects_delegation;
  if (!c.contains("act")) {
    if (expects && *expects)
      return failed("act {\"sub\": \"" + p.target().exchanger.id + "\"}", "(absent)");
    if (expects && !*expects) return ok("impersonation: no act");
    if (auto gap = vendor_lacks(p, VendorFeature::kDelegation)) return *gap;
    return informational("no act: impersonation semantics (RFC 8693 §1.1)");
  }
  if (expects && !*expects)
    return failed("no act (the AS is configured for impersonation)", c["act"].dump());
  if (caller_in_act(p, c))
    return caller_in_act_finding(
        p, "act.sub \"" + p.target().exchanger.id + "\"", c["act"].dump(),
        "caller-in-act convention: act names the original caller, not the actor");
  if (acts(p, c["act"], Json(p.target().exchanger.id))) return ok(c["act"].dump());
  return failed("act.sub \"" + p.target().exchanger.id + "\"", c["act"].dump());
}

Finding actor_token_delegation(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    if (!p.target().actor_token) return informational("no actor token available");
    std::string err;
    auto actor = p.target().actor_token(&err);
    if (!actor) return failed("an actor token", "none", "precondition failed: " + err);
    auto ad = jose::decode_unverified(*actor);
    const Json actor_sub = ad ? ad->second.value("sub", Json()) : Json();
    if (!actor_sub.is_string())
      return informational(ad ? "the actor token carries no sub to look for in act"
                              : "the actor token is not a JWT: its sub cannot be read");
    Answer a = p.post(with(with(f, "actor_token", *actor), "actor_token_type", kTypeAccess));
    if (a.status == 400 && a.error() == "invalid_request")
      return unimplemented("the server refuses actor_token (no delegation)", a.describe());
    if (a.status != 200) return failed("200", a.describe());
    auto jwt = a.issued_jwt();
    if (!jwt) return informational("issued token is not a JWT");
    const Json& c = jwt->second;
    if (!c.contains("act")) {
      if (auto gap = vendor_lacks(p, VendorFeature::kActorToken)) return *gap;
      if (p.target().expects_delegation.value_or(false))
        return failed("act {\"sub\": " + actor_sub.dump() + "}", "(absent)");
      return non_strict("act {\"sub\": " + actor_sub.dump() + "}", "(absent)",
                        "the actor token was accepted, yet the issued token does not say "
                        "who acts (RFC 8693 §4.1): "
                        "impersonation");
    }
    if (acts(p, c["act"], actor_sub)) return ok(c["act"].dump());
    if (c.value("sub", Json()) == actor_sub)
      return caller_in_act_finding(p, "act.sub " + actor_sub.dump(), c["act"].dump(),
                                   "caller-in-act convention");
    return failed("act.sub " + actor_sub.dump(), c["act"].dump());
  });
}

// §4.1: who the issued token names (sub, act), judged as its consumer reads them.
void add_act_claim_cases(std::vector<Case>& out) {
  add_rows(out, {
                    {{"rfc8693/4.1/sub-is-subject", "RFC 8693 §4.1", Level::kMust,
                      "The issued token's sub is the subject token's sub", kSubText, true,
                      Binds::kResourceServer},
                     judges(sub_is_subject)},
                    {{"rfc8693/4.1/act-names-actor", "RFC 8693 §4.1", Level::kMust,
                      "In delegation, act names the requesting client as the current actor",
                      kActText, true, Binds::kResourceServer},
                     judges(act_names_actor)},
                    {{"rfc8693/4.1/actor-token-delegation", "RFC 8693 §4.1", Level::kMust,
                      "With actor_token, the issued act names the actor token's subject", kActText,
                      true, Binds::kResourceServer},
                     actor_token_delegation},
                });
}

Finding earlier_actors_nested(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const Json prior = {{"sub", "txlab-conformance-upstream-actor"}};
    const std::string subject = mint(p, {{"act", prior}});
    if (subject.empty()) return informational(needs_key_note());
    if (auto u = minted_refused(p)) return *u;
    Answer a = p.post(replaced(f, "subject_token", subject));
    if (a.status != 200) return failed("200", a.describe());
    auto jwt = a.issued_jwt();
    if (!jwt) return informational("issued token is not a JWT");
    const Json& c = jwt->second;
    if (!c.contains("act")) {
      if (p.target().expects_delegation.value_or(false))
        return failed("act.act " + prior.dump(), "(no act)");
      return informational("no act in the issued token: impersonation semantics (RFC 8693 §1.1)");
    }
    if (innermost_is(c["act"], prior)) return ok(c["act"].dump());
    // §4.1: a chain "can be expressed by nesting" (no keyword): a lost history, worse for a
    // target known to delegate (built-in, --semantics delegation); reported, not graded.
    if (p.target().expects_delegation.value_or(false))
      return failed("act.act " + prior.dump(), c["act"].dump(), "the delegation history was lost");
    return non_strict("act.act " + prior.dump(), c["act"].dump(),
                      "the delegation history was lost (RFC 8693 §4.1: a chain can be "
                      "expressed by nesting)");
  });
}

Finding act_depth_bounded(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    Json deep = {{"sub", "actor-0"}};
    for (int i = 1; i < 12; ++i) deep = {{"sub", "actor-" + std::to_string(i)}, {"act", deep}};
    const std::string subject = mint(p, {{"act", deep}});
    if (subject.empty()) return informational(needs_key_note());
    if (auto u = minted_refused(p)) return *u;
    if (auto u = minted_refused(p)) return *u;
    Answer a = p.post(replaced(f, "subject_token", subject));
    if (a.status == 400) return ok(a.describe());
    return non_strict("400 (chain too deep)", a.describe(),
                      "unbounded act nesting grows tokens without limit");
  });
}

// §4.1: earlier actors nest under the new one.
void add_nesting_cases(std::vector<Case>& out) {
  add_rows(
      out,
      {{{"rfc8693/4.1/earlier-actors-nested", "RFC 8693 §4.1", Level::kNone,
         "An act already in the subject token is kept, nested under the new actor", kNestText},
        earlier_actors_nested},
       // The RFC bounds no nesting depth: txlab's hardening advice (every exchange adds a
       // level, and an unbounded chain grows tokens without limit), reported, not graded.
       {{"rfc8693/4.1/act-depth-bounded", "RFC 8693 §4.1", Level::kNone,
         "An absurdly deep delegation chain is refused rather than extended (hardening advice; "
         "the RFC sets no bound)",
         "A chain of delegation can be expressed by nesting one act claim within another. ... "
         "The nested act claims serve as a history trail that connects the initial request and "
         "subject through the various delegation steps undertaken before reaching the current "
         "actor."},
        act_depth_bounded}});
}

Finding may_act_permits_listed_actor(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string subject = mint(p, {{"may_act", {{"sub", p.target().exchanger.id}}}});
    if (subject.empty()) return informational(needs_key_note());
    if (auto u = minted_refused(p)) return *u;
    Answer a = p.post(replaced(f, "subject_token", subject));
    if (a.status == 200) return ok();
    return failed("200", a.describe());
  });
}

Finding may_act_refuses_other_actor(Probe& p) {
  return with_valid_exchange(p, [&](const http::FormParams& f) {
    const std::string subject = mint(p, {{"may_act", {{"sub", "txlab-conformance-someone-else"}}}});
    if (subject.empty()) return informational(needs_key_note());
    if (auto u = minted_refused(p)) return *u;
    if (auto u = minted_refused(p)) return *u;
    Answer a = p.post(replaced(f, "subject_token", subject));
    if (a.status == 200)
      if (auto gap = vendor_lacks(p, VendorFeature::kMayAct)) return *gap;
    // §4.4: may_act "can be used by the authorization server": a MAY, unless the target is
    // known to honour it.
    if (a.status == 200 && !p.target().honours_may_act.value_or(false))
      return unimplemented("the server does not apply may_act (RFC 8693 §4.4: it can be used)",
                           a.describe());
    return expect_invalid_subject(p, a);
  });
}

// §4.4: may_act "can be used by the authorization server" (no keyword): a server may apply it;
// one that does refuses an actor it does not name. Reported, not graded.
const char* kMayActText =
    "The may_act claim makes a statement that one party is authorized to become the actor and "
    "act on behalf of another party. The claim might be used, for example, when a subject_token "
    "is presented to the token endpoint in a token exchange request and may_act claim in the "
    "subject token can be used by the authorization server to determine whether the client (or "
    "party identified in the actor_token) is authorized to engage in the requested delegation "
    "or impersonation.";

void add_may_act_cases(std::vector<Case>& out) {
  add_rows(out, {{{"rfc8693/4.4/may-act-permits-listed-actor", "RFC 8693 §4.4", Level::kNone,
                   "may_act naming the requesting client permits the exchange", kMayActText},
                  may_act_permits_listed_actor},
                 {{"rfc8693/4.4/may-act-refuses-other-actor", "RFC 8693 §4.4", Level::kNone,
                   "may_act naming someone else refuses the exchange", kMayActText},
                  may_act_refuses_other_actor}});
}

}  // namespace

void add_act_cases(std::vector<Case>& out) {
  add_act_claim_cases(out);
  add_nesting_cases(out);
  add_may_act_cases(out);
}

}  // namespace txlab::conformance
