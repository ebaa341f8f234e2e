// Token slots and their baselines (see slots.h).
#include "conformance/slots.h"

#include <algorithm>

#include "conformance/forge.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

const Slot kSlots[4] = {{Role::kSubject, kTypeAccess, "access-token"},
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
std::string shape_label(const std::string& token) {
  if (!token.empty() && token[0] == '{') return "the JWS JSON serialization";
  const size_t dots = static_cast<size_t>(std::count(token.begin(), token.end(), '.'));
  if (dots != 2) {
    const size_t third = [&] {
      size_t at = 0;
      for (int i = 0; i < 3 && at != std::string::npos; ++i) at = token.find('.', at ? at + 1 : 0);
      return at;
    }();
    return std::to_string(dots + 1) + " segments, the valid token followed by '" +
           (third == std::string::npos ? std::string() : token.substr(third).substr(0, 40)) + "'";
  }
  // The signature segment re-encoded (non-canonical base64url): say how.
  const std::string sig = token.substr(token.rfind('.') + 1);
  if (!sig.empty() && sig.back() == '=') return "the signature padded with '='";
  if (sig.find(' ') != std::string::npos) return "a space inside the signature";
  if (sig.find_first_of("+/") != std::string::npos)
    return "the signature in the standard base64 alphabet (+ /)";
  return header_label(token);
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

std::string first_slot_twin(const Slot& s, const std::string& id) {
  if (&s == &kSlots[0] || (s.role == kSlots[0].role && s.type == kSlots[0].type)) return {};
  const std::string marker = std::string("/") + role_name(s.role) + "-" + s.type_slug + "-";
  const size_t at = id.find(marker);
  if (at == std::string::npos) return {};
  return id.substr(0, at) + "/subject-access-token-" + id.substr(at + marker.size());
}

void actor_claims(Json& claims) {
  if (!claims.contains("sub")) claims["sub"] = "txlab-conformance-actor";
  if (!claims.contains("client_id")) claims["client_id"] = "txlab-conformance-actor";
}

std::optional<Finding> minted_unusable(Probe& p, const Slot& s, size_t key) {
  if (!can_mint(p)) return informational(needs_key_note());
  if (!can_mint(p, key)) return informational(needs_key_note(key));
  const Answer& base = minted_baseline(p, s);
  if (base.status == 200) return std::nullopt;
  if (s.role == Role::kSubject && s.type == std::string(kTypeAccess))
    return unimplemented(
        "the clean minted token was refused too (see rfc8693/2.1/minted-subject-accepted)",
        base.describe());
  return unimplemented("the target does not accept a clean minted " + slot_label(s),
                       base.describe());
}

}  // namespace txlab::conformance
