// Token slots: where a token sits in an exchange request (subject or actor, each token type the
// target accepts, RFC 8693 §2.1), the valid baselines a slot's negative cases stand on, and the
// grading of a token variant presented in a slot. Shared by the probe families.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "conformance/judge.h"

namespace txlab::conformance {

enum class Role { kSubject, kActor };

struct Slot {
  Role role;
  const char* type;       // token type URI
  const char* type_slug;  // "access-token" / "jwt"
};

// subject access_token, subject jwt, actor access_token, actor jwt.
extern const Slot kSlots[4];

const char* role_name(Role r);
// "RFC 8725 §3.10" -> "rfc8725/3.10"
std::string section_id(const std::string& section);
// The request that presents `token` in the slot, everything else valid.
http::FormParams request_for(const Slot& s, const http::FormParams& valid,
                             const std::string& token);
// A valid request to build a baseline on; without one, `failure` says why (as a no-answer).
std::optional<http::FormParams> base_form(Probe& p, Answer* failure);
// Does the target accept a valid token in this slot? Asked once per run.
const Answer& slot_baseline(Probe& p, const Slot& s);
std::string slot_label(const Slot& s);
// UNIMPLEMENTED when the slot's valid baseline was not accepted: a refusal of the bad token
// would prove nothing.
std::optional<Finding> slot_unusable(Probe& p, const Slot& s);
// A fresh valid token for the slot (and the valid request around it).
struct Fresh {
  http::FormParams form;
  std::string token;
};
std::optional<Fresh> fresh(Probe& p, const Slot& s, Finding* failure);
// Grades each variant presented in the slot; the first one that is not refused decides.
Finding grade_variants(Probe& p, const Slot& s, const http::FormParams& valid,
                       const std::vector<std::string>& variants,
                       const std::vector<std::string>& labels);
// "header {...}" of a token, for reports.
std::string header_label(const std::string& token);
// The header, or for what is not one compact JWS its shape ("4 segments, ending '.'", "JSON").
std::string shape_label(const std::string& token);
// Whether the target claims RFC 9068 JWT access tokens: stated, or its tokens are typed at+jwt.
bool claims_rfc9068(const Probe& p);
// A clean token minted with issuer key 0 for the slot (asked once per run): the baseline of the
// key-dependent cases.
const Answer& minted_baseline(Probe& p, const Slot& s);
// Claims an actor token needs besides the template (its own sub and client_id).
void actor_claims(nlohmann::json& claims);
// UNIMPLEMENTED/INFORMATIONAL when the slot's key-dependent cases cannot be judged (no key, the
// clean minted token refused); nullopt when they can.
std::optional<Finding> minted_unusable(Probe& p, const Slot& s, size_t key = 0);

// The id of the same probe on the first slot (subject, access_token), or "" for that slot.
std::string first_slot_twin(const Slot& s, const std::string& id);

// The case every actor-slot case depends on (RFC 8693 §2.1: the actor token is validated).
inline constexpr const char* kActorValidatedId = "rfc8693/2.1/actor-token-validated";

}  // namespace txlab::conformance
