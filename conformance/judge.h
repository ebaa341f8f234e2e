// Helpers the cases use to grade answers consistently across profiles.
#pragma once

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
  if (!form) return failed("a subject token for the request", "none", "precondition failed: " + error);
  return fn(*form);
}

// Like with_valid_exchange, and the exchange must succeed; `fn` gets the 200 answer.
template <typename Fn>
Finding with_successful_exchange(Probe& p, Fn&& fn) {
  return with_valid_exchange(p, [&](const http::FormParams& form) {
    Answer a = p.post(form);
    if (a.status != 200 || !a.json()) return failed("200 with a JSON body", a.describe(), "precondition: a valid exchange must succeed");
    return fn(a, form);
  });
}

bool is_profile(const Probe& p, Profile profile);
// A token equal to `token` but with claims changed (and the original signature kept).
std::string with_claims(const std::string& token, const nlohmann::json& claims);
// A token with the given header and claims signed by a fresh, unrelated EC key.
std::string signed_by_stranger(const nlohmann::json& header, const nlohmann::json& claims);
// A minted subject token (template claims merged with `overrides`), or "" without minting.
std::string mint(const Probe& p, const nlohmann::json& overrides);
int64_t now_s();

}  // namespace txlab::conformance
