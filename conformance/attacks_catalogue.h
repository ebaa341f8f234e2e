// The attack catalogue as data (internal to the attack runner): one entry per attack — its id,
// category, title, the role it targets, the topologies it applies to, what it sends and the
// answer it expects — registered by category in report order, like the conformance cases.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/token_client.h"
#include "sim/http/client_pool.h"
#include "sim/http/form.h"

namespace txlab {
class World;
class DpopProver;
}  // namespace txlab

namespace txlab::conformance::attacks {

using Json = nlohmann::json;

// What came back: status, OAuth error code (RFC 6749 §5.2 / RFC 6750 §3) and the parsed body.
struct Observed {
  int status = 0;
  std::string error;
  Json body;
  // The role that answered when it is not the attack's target (an attack stopped at an earlier
  // step, e.g. the vendor refused to issue the token to be misused); "" for the target.
  std::string at;
  std::string describe() const;
};
Observed observe(const http::InboundResponse& r);

// What the topology offers to attack.
struct Topology {
  std::string entry_gw;                  // a gateway that exchanges (clients call it)
  std::string entry_as;                  // the AS the entry gateway trusts (issues AT1)
  std::string client_id, client_secret;  // a client of entry_as
  std::vector<std::string> client_audiences;
  std::string entry_audience;  // aud the entry gateway requires
  std::string exchange_as;     // where the entry gateway exchanges
  ClientCredentials exchanger;
  std::vector<std::string> exchanger_audiences;
  std::string edge_gw;  // a gateway that does not exchange ("" if none)
  std::string edge_as;  // the AS the edge gateway trusts
  std::string edge_audience;
  std::string backend;     // a resource server ("" if none)
  std::string foreign_as;  // an AS the entry gateway does not trust ("" if none)
};
Topology discover(World& w);

// The role an attack is sent to, resolved against the topology.
enum class Role { kEntryGateway, kEntryAs, kExchangeAs, kEdgeGateway, kBackend };

// The topologies an attack applies to (besides the issuer kind below).
enum class Applies {
  kEvery,
  kDpopBoundClient,      // the entry client's tokens are DPoP-bound (RFC 9449)
  kCertificateBoundAt1,  // mutual TLS and AT1 carries cnf.x5t#S256 (RFC 8705 §3)
  kTlsClientAuth,        // ... and the entry client authenticates with its certificate (§2)
  kForeignAs,            // an AS the entry gateway does not trust
  kEdgeGateway,          // a gateway that does not exchange
  kBackend,              // a resource server
  kRefreshTokens,        // the exchange AS issues refresh tokens (seed 003)
  kRotatableSecret,      // the exchanger authenticates with a secret (not its certificate)
};

// Whose authorization servers the attack runs against: txlab's own (it holds their keys), or an
// external one (a vendor), where only attacks built from genuine tokens and published keys run.
enum class Issuer { kTxlab, kVendor };

class Context;

// The answer an attack expects: as reported ("401 invalid_token"; {entry_issuer} and
// {exchanger} stand for the topology's values) and the judgement of an observation.
struct Expectation {
  std::string text;
  std::function<bool(const Observed&, Context&)> holds;
};
// One of `statuses` with one of the OAuth `errors`: "400/401 invalid_client", "400
// invalid_grant or invalid_request". (Not an overload of refused: a braced pair of literals
// would pick std::string's iterator-pair constructor.)
Expectation refused_any(std::vector<int> statuses, std::vector<std::string> errors);
// `status` with the OAuth `error`: "401 invalid_token".
Expectation refused(int status, const std::string& error);
// A 4xx answer, whatever its error code.
Expectation refused_4xx(const std::string& text);
// An answer that is neither 401 nor missing.
Expectation not_401(const std::string& text);
// Introspection's 200 with active `active` (RFC 7662 §2.2).
Expectation introspected_active(bool active);
// `e` and a further condition, its text appended.
Expectation also(Expectation e, const std::string& more,
                 std::function<bool(const Observed&, Context&)> holds);

// Sends the attack to `target` (the role id) and returns what came back.
using Send = std::function<Observed(Context&, const std::string& target)>;
// A token presented to the target as its holder would present it (bearer, or DPoP with the
// holder's proof), headers padded by `pad` bytes when set.
Send present(std::function<std::string(Context&)> token, size_t pad = 0);

struct Attack {
  std::string id;        // "jwt/alg-none"
  std::string category;  // "JWT attacks (RFC 8725)"
  std::string title;
  Role target;
  Send send;
  Expectation expected;
  Applies applies = Applies::kEvery;
  Issuer issuer = Issuer::kTxlab;
  // Defects (by their catalogue name) of the target's verifier that tests/attack_test.cpp shows
  // make this attack leak.
  std::vector<std::string> leaks_with = {};
};

// The live world, its discovered topology, the requests attacks are built from, and what the
// attacks of one run share (refresh tokens, the rotated secret, an attacker's servers and keys).
class Context {
 public:
  explicit Context(World& w);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  World& w;
  const Topology t;

  std::string role(Role r) const;
  bool applies(Applies a);
  bool external(const std::string& role) const;
  // `text` with {entry_issuer} and {exchanger} replaced.
  std::string expand(const std::string& text) const;

  int64_t now(const std::string& role);
  // Claims of a valid access token of `as` for `aud` (a fresh jti each time).
  Json access_claims(const std::string& as, const std::string& aud);
  std::string sign(const std::string& as, const Json& claims, const std::string& typ = "at+jwt");
  static std::string raw_token(const Json& header, const Json& claims, const std::string& sig);
  // A fresh AT1 of the entry client.
  std::string at1();
  std::string token_path(const std::string& role) const;
  // The role that holds `client_id`'s credentials at `as_role` ("" when none runs here).
  std::string holder_role_of_client(const std::string& as_role, const std::string& client_id) const;

  // A token as its holder presents it: a DPoP-bound token of one of the world's roles with the
  // DPoP scheme and that role's proof (so a refusal is about the token, not about who sent it),
  // anything else as a bearer token.
  Observed bearer(const std::string& role, const std::string& token, size_t pad_header = 0);
  // As the role holding these credentials would send it (with its DPoP proof when it uses one).
  Observed post(const std::string& role, const std::string& path, const http::FormParams& form,
                const std::string& id, const std::string& secret);
  // A token exchange by the entry gateway's exchanger.
  Observed exchange(const http::FormParams& extra, const std::string& subject,
                    const std::string& type = kTypeAccessToken,
                    const std::string& secret_override = {});

  // Shared by the refresh-token attacks, in order.
  std::string rt1, rt2, at_from_rt2;
  // The exchanger's secret after rotation ("" until then).
  std::string rotated;

  // RFC 9449: the entry client's prover, and a thief's own key.
  const DpopProver* dpop_holder();
  const DpopProver& dpop_thief();
  // RFC 8705: connections of thieves (a certificate of the run's CA with another subject, the
  // victim's subject self-signed, the victim's subject from another CA), made together.
  struct MtlsThieves;
  MtlsThieves& mtls_thieves();
  http::HttpClientPool& mtls_thief();
  http::HttpClientPool& mtls_self_signed();
  http::HttpClientPool& mtls_foreign_ca();
  std::string mtls_victim();
  // An attacker's ES256 key and its JWKS served on loopback (jku / x5u), with the hits it saw.
  struct Attacker;
  Attacker& attacker();
  std::string attacker_url();
  Json attacker_jwk();
  int attacker_hits();
  std::string sign_as_attacker(Json header, const Json& claims);

 private:
  int jti_ = 0;
  std::optional<bool> certificate_bound_;
  std::unique_ptr<DpopProver> dpop_thief_;
  std::unique_ptr<MtlsThieves> mtls_;
  std::unique_ptr<Attacker> attacker_;
};

// The catalogue, in report order; each file adds the attacks of its categories.
const std::vector<Attack>& attack_catalogue();
void add_control_attacks(std::vector<Attack>& out);
void add_dpop_attacks(std::vector<Attack>& out);  // RFC 9449
void add_mtls_attacks(std::vector<Attack>& out);  // RFC 8705
void add_type_attacks(std::vector<Attack>& out);  // token-type confusion
void add_mixup_attacks(std::vector<Attack>& out);
void add_leak_attacks(std::vector<Attack>& out);  // what a leaked exchanger secret can get
void add_jwt_attacks(std::vector<Attack>& out);   // RFC 8725
void add_replay_attacks(std::vector<Attack>& out);
void add_refresh_attacks(std::vector<Attack>& out);     // seed 003
void add_revocation_attacks(std::vector<Attack>& out);  // RFC 7009, RFC 7662
// Last: secret rotation changes a live credential; then the audit log of the run.
void add_rotation_attacks(std::vector<Attack>& out);
void add_vendor_attacks(std::vector<Attack>& out);  // Issuer::kVendor

}  // namespace txlab::conformance::attacks
