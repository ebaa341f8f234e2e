// Conformance vocabulary: levels (RFC 2119), grades (after Autobahn), profiles, the target a
// suite runs against, and the shape of a case: a stable id by RFC section, the quoted
// requirement, and a check that returns a graded finding with Expected vs Actual.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace txlab {
class Clock;
}

namespace txlab::conformance {

enum class Level { kMust, kShould, kMay };
enum class Grade { kOk, kNonStrict, kInformational, kUnimplemented, kFailed };
// rfc8693: the RFC's literal text; common: widespread practice accepted (invalid_grant for bad
// subject tokens); keycloak: Keycloak's documented deviations graded NON-STRICT.
enum class Profile { kRfc8693, kCommon, kKeycloak };

std::string_view to_string(Level l);
std::string_view to_string(Grade g);
std::string_view to_string(Profile p);
std::optional<Profile> profile_from_string(std::string_view s);

struct Credentials {
  std::string id;
  std::string secret;
};

// What a suite needs to know about the server under test.
struct Target {
  std::string name;            // for reports
  std::string token_endpoint;  // absolute URL
  std::string issuer;          // the AS's issuer; empty if unknown
  std::vector<std::string> accepted_issuers;  // iss values its exchanged tokens may carry (broker: the next AS)
  std::vector<std::string> jwks_uris;  // keys of accepted_issuers, for signature checks of issued tokens
  Credentials exchanger;       // the client that performs exchanges
  std::string audience;        // a target the exchanger may request
  std::string forbidden_audience = "urn:txlab:conformance:forbidden";
  Profile profile = Profile::kCommon;
  int timeout_ms = 5000;

  // A fresh, valid subject token and the sub it carries.
  std::function<std::optional<std::string>(std::string* error)> subject_token;
  // Optional: a valid actor token (delegation cases are UNIMPLEMENTED-checked without one).
  std::function<std::optional<std::string>(std::string* error)> actor_token;
  // Optional: mints a token with the subject issuer's real key (expired, may_act, act, wrong
  // aud...). Available for built-in targets; for remote targets those cases are INFORMATIONAL.
  std::function<std::string(const nlohmann::json& claims)> mint;
  // Claims a minted subject token should carry to be valid (iss, aud, scope ...).
  nlohmann::json mint_template;
  const Clock* clock = nullptr;  // the subject issuer's clock, for minted iat/exp
  // When known: whether the AS is configured for delegation (act expected). Unknown: judged
  // from behaviour.
  std::optional<bool> expects_delegation;
  // Clients that may act between the exchanger and the issued token (a brokering AS's
  // back-channel registration): act.sub may name one of them with the exchanger nested.
  std::vector<std::string> intermediaries;
};

struct Finding {
  Grade grade = Grade::kOk;
  std::string expected;
  std::string actual;
  std::string note;  // why NON-STRICT / UNIMPLEMENTED / INFORMATIONAL
};

struct CaseInfo {
  std::string id;           // "rfc8693/2.2.2/unknown-audience-invalid-target"
  std::string section;      // "RFC 8693 §2.2.2"
  Level level = Level::kMust;
  std::string title;
  std::string requirement;  // quoted text
};

class Probe;
struct Case {
  CaseInfo info;
  std::function<Finding(Probe&)> check;
};

// Every case, in report order.
const std::vector<Case>& all_cases();

}  // namespace txlab::conformance
