// The token-exchange grant's pure rules.
#include "actors/exchange_rules.h"

#include <algorithm>

#include "actors/as_internal.h"
#include "sim/json_util.h"

namespace txlab::exchange {

using Json = nlohmann::json;
using namespace as_detail;

namespace {

std::optional<std::string> one(const http::FormParams& form, const char* name) {
  for (const auto& [k, v] : form)
    if (k == name) return v;
  return std::nullopt;
}

bool token_type_accepted(const std::string& t) { return t == kTypeAccessToken || t == kTypeJwt; }

}  // namespace

Result<Request> parse(const http::FormParams& form, const ParsePolicy& policy) {
  Request r;
  const auto subject_token = one(form, "subject_token");
  const auto subject_type = one(form, "subject_token_type");
  if (!subject_token || subject_token->empty()) return Refusal{Status::kMissingSubjectToken, ""};
  if (!subject_type || subject_type->empty()) return Refusal{Status::kMissingSubjectTokenType, ""};
  if (!token_type_accepted(*subject_type))
    return Refusal{Status::kUnsupportedSubjectTokenType, *subject_type};
  r.subject_token = *subject_token;
  r.subject_type = *subject_type;
  // actor_token_type is REQUIRED when actor_token is present and MUST NOT be sent otherwise.
  r.actor_token = one(form, "actor_token");
  r.actor_type = one(form, "actor_token_type");
  if (r.actor_token && !r.actor_type) return Refusal{Status::kActorTokenTypeRequired, ""};
  if (r.actor_type && !r.actor_token) return Refusal{Status::kActorTokenTypeWithoutToken, ""};
  if (r.actor_type && !token_type_accepted(*r.actor_type))
    return Refusal{Status::kUnsupportedActorTokenType, *r.actor_type};
  if (r.actor_token && !policy.delegation) return Refusal{Status::kActorTokenNotAccepted, ""};
  // RFC 8693 §3: the types this AS issues.
  if (auto rt = one(form, "requested_token_type")) {
    if (*rt == kTypeJwt || *rt == kTypeIdToken ||
        (*rt == kTypeRefreshToken && policy.refresh_tokens))
      r.issued_type = *rt;
    else if (*rt != kTypeAccessToken)
      return Refusal{Status::kUnsupportedRequestedTokenType, *rt};
  }
  // Targets: resource values (RFC 8707 absolute URIs) and audience values (logical names).
  for (const auto& v : http::form_values(form, "resource")) {
    if (!is_absolute_uri(v)) return Refusal{Status::kResourceNotAbsolute, v};
    r.resources.push_back(v);
  }
  r.audiences = http::form_values(form, "audience");
  if (auto s = one(form, "scope")) {
    r.scope = split_scope(*s);
    for (const auto& t : *r.scope)
      if (!valid_scope_token(t)) return Refusal{Status::kMalformedScope, t};
  }
  return r;
}

Result<std::vector<std::string>> targets(const Request& r, const ClientRegistration& client) {
  std::vector<std::string> out = r.resources;
  out.insert(out.end(), r.audiences.begin(), r.audiences.end());
  for (const auto& t : out)
    if (!contains(client.audiences, t)) return Refusal{Status::kTargetNotAllowed, t};
  if (out.empty()) out = client.audiences;
  if (out.empty()) return Refusal{Status::kNoTarget, ""};
  return out;
}

Result<Decision> decide(const Inputs& in) {
  const Json& sc = in.subject;
  const ExchangePolicy& policy = in.policy;
  Decision d;
  // Without actor_token the requesting client acts.
  d.actor = {{"sub", in.client.id}};
  if (in.actor) {
    d.actor = {{"sub", in.actor->value("sub", Json())}};
    if (in.actor->contains("iss")) d.actor["iss"] = (*in.actor)["iss"];
  }

  // RFC 8693 §4.4: may_act names who may act for the subject.
  if (sc.contains("may_act")) {
    const Json& may = sc["may_act"];
    const bool sub_ok = may.is_object() && may.contains("sub") && may["sub"] == d.actor["sub"];
    const bool iss_ok = !may.is_object() || !may.contains("iss") ||
                        (d.actor.contains("iss") && may["iss"] == d.actor["iss"]);
    if (!sub_ok || !iss_ok) return Refusal{Status::kMayActRefuses, json_str(d.actor, "sub")};
  }

  // Scope: issued ⊆ subject ∩ client (RFC 6749 §3.3); a request beyond it is invalid_scope.
  std::vector<std::string> allowed;
  for (const auto& t : split_scope(json_str(sc, "scope")))
    if (contains(in.client.scopes, t)) allowed.push_back(t);
  d.scope = allowed;
  if (in.request.scope) {
    for (const auto& t : *in.request.scope)
      if (!contains(allowed, t)) return Refusal{Status::kScopeExceeds, t};
    d.scope = *in.request.scope;
  }
  d.report_scope = !d.scope.empty() && (!in.request.scope || *in.request.scope != d.scope);

  // Lifetime: the policy cap, and never beyond the subject token unless policy says so.
  d.ttl_s = policy.max_ttl_s;
  if (policy.cap_to_subject_exp) {
    // Overflow-safe: exp may be any 64-bit value (only a past one is refused here).
    if (const auto exp = json_int(sc, "exp")) {
      if (*exp <= in.now_s) return Refusal{Status::kSubjectExpiresTooSoon, ""};
      d.ttl_s = std::min(d.ttl_s, *exp - in.now_s);
    }
    if (d.ttl_s <= 0) return Refusal{Status::kSubjectExpiresTooSoon, ""};
  }

  // RFC 8693 §4.1: the current actor outermost, earlier actors nested inside; or the notes'
  // caller-in-act convention.
  if (policy.act_style == ActStyle::kRfc8693) {
    if (policy.delegation) {
      d.act = d.actor;
      if (sc.contains("act")) d.act["act"] = sc["act"];
    }
  } else {
    d.act = {{"sub", sc.value("sub", Json())}, {"iss", sc.value("iss", Json())}};
    if (sc.contains("act")) d.act["act"] = sc["act"];
  }
  if (!d.act.is_null() && act_depth(d.act) > policy.max_act_depth)
    return Refusal{Status::kActChainTooDeep, std::to_string(policy.max_act_depth)};
  return d;
}

}  // namespace txlab::exchange
