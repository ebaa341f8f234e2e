// Conformance vocabulary: levels (RFC 2119), grades (after Autobahn), profiles, the target a
// suite runs against, and the shape of a case: a stable id by RFC section, the quoted
// requirement, and a check that returns a graded finding with Expected vs Actual.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/jose/key.h"

namespace txlab {
class Clock;
}

namespace txlab::conformance {

// The BCP 14 keyword of the quoted sentence (RFC 2119, RFC 8174); kNone: the case rests on no
// normative sentence (a definition, a description) and is INFORMATIONAL at most.
enum class Level { kMust, kShould, kMay, kNone };
// Whom the quoted sentence binds. Only a sentence binding the server under test can fail it: a
// sentence that binds the client, a token's producer, a resource server or a JOSE library makes
// a case NON-STRICT at most (the server tolerated what another party must not do).
enum class Binds { kServer, kClient, kProducer, kResourceServer, kLibrary };
enum class Grade { kOk, kNonStrict, kInformational, kUnimplemented, kFailed };
// rfc8693: the RFC's literal text; common: widespread practice accepted (invalid_grant for bad
// subject tokens); keycloak: Keycloak's documented deviations graded NON-STRICT (the table of
// vendor deviations and gaps: vendor_profiles.cpp).
enum class Profile { kRfc8693, kCommon, kKeycloak };

std::string_view to_string(Level l);
std::string_view to_string(Binds b);
std::string_view to_string(Grade g);
std::string_view to_string(Profile p);
std::optional<Profile> profile_from_string(std::string_view s);

struct Credentials {
  std::string id;
  std::string secret;
};

// A private key of an issuer the target trusts: the runner signs subject and actor tokens with
// it for the checks that need a validly signed token with one thing wrong (expired, wrong aud,
// unknown crit, issuer/key mix-up ...).
struct IssuerKey {
  std::string issuer;                    // the iss it signs for
  std::shared_ptr<const jose::Key> key;  // private; its kid is what the target's JWKS publishes
};

// Mutual TLS (RFC 8705) at the target: a client registered for tls_client_auth that may
// exchange tokens, and the certificates the cases present (PEM).
struct MtlsClient {
  std::string client_id;
  std::string cert_pem, key_pem;  // the registered subject, from a CA the target trusts
  std::string wrong_subject_cert_pem, wrong_subject_key_pem;  // a trusted CA, another subject
  std::string untrusted_cert_pem, untrusted_key_pem;          // the registered subject, another CA
  bool bound_tokens = false;  // registered for certificate-bound tokens (RFC 8705 §3.4)
};

// What a suite needs to know about the server under test.
struct Target {
  std::string name;            // for reports
  std::string token_endpoint;  // absolute URL
  std::string issuer;          // the AS's issuer; empty if unknown
  std::vector<std::string>
      accepted_issuers;  // iss values its exchanged tokens may carry (broker: the next AS)
  std::vector<std::string>
      jwks_uris;          // keys of accepted_issuers, for signature checks of issued tokens
  Credentials exchanger;  // the client that performs exchanges
  std::string audience;   // a target the exchanger may request
  std::string forbidden_audience = "urn:txlab:conformance:forbidden";
  // True when forbidden_audience is known to be refused by policy (built-in targets,
  // --forbidden-audience); a guess otherwise, and issuing for it is then NON-STRICT, not FAILED.
  bool forbidden_audience_known = false;
  Profile profile = Profile::kCommon;
  int timeout_ms = 5000;

  // A fresh, valid subject token and the sub it carries.
  std::function<std::optional<std::string>(std::string* error)> subject_token;
  // Optional: a valid actor token (delegation cases are UNIMPLEMENTED-checked without one).
  std::function<std::optional<std::string>(std::string* error)> actor_token;
  // Keys of issuers the target trusts ([0] the subject issuer, [1] a second trusted issuer for
  // mix-up checks). Built-in targets have them; remote targets get them from --issuer-key or
  // --serve-issuer; without them the key-dependent cases are INFORMATIONAL.
  std::vector<IssuerKey> issuer_keys;
  // Claims a minted subject token should carry to be valid (iss, aud, scope ...), and its typ.
  nlohmann::json mint_template;
  std::string minted_typ = "at+jwt";
  // JWKS of the issuer of the subject (and actor) tokens, for forgeries that need the
  // published key (algorithm confusion).
  std::vector<std::string> subject_jwks_uris;
  // Whether the target claims RFC 9068 JWT access tokens (its tokens are typ at+jwt, or it is
  // known to). Unknown: judged from the issued token's typ.
  std::optional<bool> jwt_access_tokens;
  // Policy hints. A registered client that may not use token exchange (unauthorized_client
  // expected); scopes the exchanger may hold but a subject token does not (for the wider-scope
  // probes, besides discovery's scopes_supported).
  std::optional<Credentials> unauthorized_client;
  // A client that authenticates with client_secret_post (default: the exchanger, if it can).
  std::optional<Credentials> post_client;
  // A client registered with dpop_bound_access_tokens (RFC 9449 §5.2) that may exchange.
  std::optional<Credentials> dpop_bound_client;
  // The exchanger itself is registered so (RFC 9449 §5.2): its requests carry a DPoP proof
  // (with the server's nonce when it asks for one, §8), except where a case sends its own.
  bool exchanger_dpop = false;
  std::vector<std::string> scopes_beyond_subject;
  // From discovery: grant_types_supported (nullopt: not advertised) and scopes_supported.
  std::optional<std::vector<std::string>> grant_types_supported;
  std::vector<std::string> scopes_supported;
  const Clock* clock = nullptr;  // the subject issuer's clock, for minted iat/exp
  // Lets `seconds` pass for the target (the time cases): a built-in target advances its world's
  // clocks; empty means real time (the probe sleeps).
  std::function<void(int seconds)> pass_time;
  // Key rotation at the subject issuer (built-in targets; --serve-issuer): publishes a fresh
  // key, withdraws every earlier one from the issuer's JWKS and returns the new private key.
  // Empty when txlab does not publish the issuer's keys.
  std::function<std::shared_ptr<const jose::Key>()> rotate_issuer_key;
  // When known: whether the AS is configured for delegation (act expected). Unknown: judged
  // from behaviour.
  std::optional<bool> expects_delegation;
  // Whether the target applies may_act (RFC 8693 §4.4: a MAY). Unknown: ignoring it is
  // UNIMPLEMENTED, not FAILED.
  std::optional<bool> honours_may_act;
  // Clients that may act between the exchanger and the issued token (a brokering AS's
  // back-channel registration): act.sub may name one of them with the exchanger nested.
  std::vector<std::string> intermediaries;
  // https: the CA the target's server certificate chains to (PEM); "" leaves https to the
  // generic client.
  std::string tls_ca_pem;
  // Mutual TLS client authentication and certificate binding (RFC 8705 cases); without it
  // they are INFORMATIONAL.
  std::optional<MtlsClient> mtls;
};

// One request as sent and its answer as received, for reports: client secrets redacted
// (RFC 6749 §2.3.1 Basic password, client_secret), each side at most 4 KiB.
struct WireExchange {
  std::string request;   // "POST /token HTTP/1.1\r\nHost: …\r\n\r\nbody"
  std::string response;  // "HTTP/1.1 400\r\n…\r\n\r\nbody", or "(no answer: timeout)"
};

struct Finding {
  Grade grade = Grade::kOk;
  std::string expected;
  std::string actual;
  std::string note;  // why NON-STRICT / UNIMPLEMENTED / INFORMATIONAL
  // The id of the case that names the root cause when this one could not be graded because of
  // it (UNIMPLEMENTED: the feature it needs has no effect at the target).
  std::string cause = {};
};

struct CaseInfo {
  std::string id;              // "rfc8693/2.2.2/unknown-audience-invalid-target"
  std::string section;         // "RFC 8693 §2.2.2"
  Level level = Level::kMust;  // the keyword of the quoted sentence
  std::string title;
  std::string requirement;  // quoted text
  // False for the few cases that do not depend on a working token exchange (unknown grant,
  // client authentication): they still run against a server without the grant.
  bool needs_exchange = true;
  Binds binds = Binds::kServer;  // whom the quoted sentence binds
  // A case whose FAILED grade means this one cannot be judged (it names the root cause: a slot
  // or feature with no observable effect). Then this case is UNIMPLEMENTED and points at it.
  std::string depends_on = {};
  // The same probe on the first slot (subject, access_token): when both FAILED, this one is the
  // same cause (one verifier, one bug) and is reported UNIMPLEMENTED pointing at it; when this
  // one alone fails, it is FAILED as usual.
  std::string same_cause_as = {};
};

// The grade a finding may have given the sentence behind the case (one place, pure): a MUST
// may fail a server; a SHOULD is NON-STRICT at most; a MAY never fails (UNIMPLEMENTED at most,
// when the server chose not to); a sentence that binds another party is NON-STRICT at most; no
// normative sentence at all is INFORMATIONAL.
Finding bounded_by_sentence(const CaseInfo& info, Finding f);

class Probe;
struct Case {
  CaseInfo info;
  std::function<Finding(Probe&)> check;
};

// Every case, in report order.
const std::vector<Case>& all_cases();

}  // namespace txlab::conformance
