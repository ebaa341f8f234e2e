// Helpers the cases use to grade answers consistently across profiles.
#pragma once

#include <optional>

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "conformance/case.h"
#include "conformance/probe.h"

namespace txlab::conformance {

inline constexpr const char* kGrantTe = "urn:ietf:params:oauth:grant-type:token-exchange";
inline constexpr const char* kTypeAccess = "urn:ietf:params:oauth:token-type:access_token";
inline constexpr const char* kTypeJwt = "urn:ietf:params:oauth:token-type:jwt";
inline constexpr const char* kTypeId = "urn:ietf:params:oauth:token-type:id_token";
inline constexpr const char* kTypeRefresh = "urn:ietf:params:oauth:token-type:refresh_token";
inline constexpr const char* kTypeSaml2 = "urn:ietf:params:oauth:token-type:saml2";

Finding ok(std::string actual = {});
Finding failed(std::string expected, std::string actual, std::string note = {});
Finding non_strict(std::string expected, std::string actual, std::string note);
Finding unimplemented(std::string note, std::string actual = {});
Finding informational(std::string note);

// An answer the profile tolerates instead of the strict one.
struct Deviation {
  std::vector<Profile> profiles;  // empty = every profile
  int status;
  std::string code;
  Grade grade;
  std::string note;
};

// Grades an answer that should be the OAuth error `code` with `status`.
Finding expect_error(const Probe& p, const Answer& a, int status, const std::string& code,
                     const std::vector<Deviation>& deviations = {});
// Grades the answer to a request carrying an invalid subject (or actor) token: RFC 8693 §2.2.2
// says invalid_request; common practice says invalid_grant. Keycloak-specific answers may
// be passed as extra deviations.
Finding expect_invalid_subject(const Probe& p, const Answer& a, std::vector<Deviation> extra = {});

// Runs `fn` with a valid exchange request, or fails the case when none can be built.
template <typename Fn>
Finding with_valid_exchange(Probe& p, Fn&& fn) {
  std::string error;
  auto form = p.valid_exchange(&error);
  if (!form)
    return failed("a subject token for the request", "none", "precondition failed: " + error);
  return fn(*form);
}

// Like with_valid_exchange, and the exchange must succeed; `fn` gets the 200 answer.
template <typename Fn>
Finding with_successful_exchange(Probe& p, Fn&& fn) {
  return with_valid_exchange(p, [&](const http::FormParams& form) {
    Answer a = p.post(form);
    if (a.status != 200 || !a.json())
      return failed("200 with a JSON body", a.describe(),
                    "precondition: a valid exchange must succeed");
    return fn(a, form);
  });
}

// An answer computed once per run from a fresh valid exchange request (`send` sends it): the
// shared precondition of a family of cases. "no subject token: ..." when none could be built.
const Answer& exchange_once(Probe& p, const std::string& key,
                            const std::function<Answer(const http::FormParams&)>& send);

// Grades the answer to a request whose subject or actor token is unacceptable (a forgery, a
// token with a bad claim): a 200 or a 5xx is FAILED; invalid_request OK (RFC 8693 §2.2.2),
// invalid_grant OK under common and NON-STRICT under rfc8693; another 4xx OAuth error is a
// refusal with an imprecise code (NON-STRICT); a non-JSON refusal is FAILED (RFC 6749 §5.2).
Finding expect_refused(const Probe& p, const Answer& a, std::vector<Deviation> extra = {});

// A target the client may not obtain: 200 is FAILED (a token was issued for it); invalid_target
// OK; another OAuth refusal NON-STRICT (RFC 8693 §2.2.2 and RFC 8707 §2: invalid_target SHOULD).
Finding expect_target_refused(const Probe& p, const Answer& a,
                              const std::vector<Deviation>& deviations = {});

bool is_profile(const Probe& p, Profile profile);
// A token equal to `token` but with claims changed (and the original signature kept).
std::string with_claims(const std::string& token, const nlohmann::json& claims);
// A token with the given header and claims signed by a fresh, unrelated EC key.
std::string signed_by_stranger(const nlohmann::json& header, const nlohmann::json& claims);
// A subject token signed with trusted issuer key `key` (0: the subject issuer): the target's
// template claims with fresh iat/exp/jti, merged with `overrides` (a null value removes the
// claim), header typ + kid merged with `header` likewise. "" when the target has no such key.
std::string mint(const Probe& p, const nlohmann::json& overrides,
                 const nlohmann::json& header = nlohmann::json::object(), size_t key = 0);
bool can_mint(const Probe& p, size_t key = 0);
// UNIMPLEMENTED when a clean minted subject token is refused (then a refusal of a minted token
// with one claim changed proves nothing); nullopt when minting works or is impossible.
std::optional<Finding> minted_refused(Probe& p);
// The INFORMATIONAL note of a case that needs an issuer key it does not have.
std::string needs_key_note(size_t key = 0);
// The subject or actor token's (or the target's) view of now.
int64_t target_now(const Probe& p);
int64_t now_s();

}  // namespace txlab::conformance
