// The validated scenario model: roles (ASes, gateways, resource servers, clients), their
// trust and policies, and the workload with its expectations. Loaded from YAML by
// load_scenario(), which reports errors with file, line and column.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/jose/key.h"

namespace txlab {

struct SourcePos {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

enum class RoleKind { kAuthorizationServer, kGateway, kResourceServer, kClient };
std::string_view to_string(RoleKind k);

enum class ActStyle { kRfc8693, kCallerInAct };
// RFC 6749 §2.3.1 secrets, RFC 7523 private_key_jwt, RFC 8705 §2.1 tls_client_auth (a
// certificate of the run's CA with the registered subject) and §2.2 self_signed_tls_client_auth
// (the registered self-signed certificate).
enum class ClientAuthMethod {
  kClientSecretBasic,
  kClientSecretPost,
  kPrivateKeyJwt,
  kTlsClientAuth,
  kSelfSignedTlsClientAuth
};
inline bool is_tls_auth(ClientAuthMethod m) {
  return m == ClientAuthMethod::kTlsClientAuth || m == ClientAuthMethod::kSelfSignedTlsClientAuth;
}
std::string_view to_string(ClientAuthMethod m);

struct ClientRegistration {
  std::string id;
  std::string secret;
  ClientAuthMethod auth = ClientAuthMethod::kClientSecretBasic;
  std::vector<std::string> grants;     // "client_credentials", "token-exchange"
  std::vector<std::string> audiences;  // audiences this client may obtain tokens for
  std::vector<std::string> scopes;     // scopes this client may hold
  // Token exchange: the subject token's aud must name this client, this AS, or one of these
  // (e.g. the audience of the gateway that holds this registration).
  std::vector<std::string> subject_audiences;
  std::string public_jwk;  // private_key_jwt (RFC 7523): the client's public key as JWK JSON
  // RFC 9449 §5.2 dpop_bound_access_tokens: every token request must carry a DPoP proof.
  bool dpop_bound_access_tokens = false;
  // A trusted broker may ask, with its own valid proof, that the token be bound to another
  // key it vouches for (`dpop_jkt` in the token request; txlab's broker extension, see README).
  bool dpop_bind_for_others = false;
  // RFC 8705 §2.1.2 tls_client_auth_subject_dn: the subject the client's certificate must carry
  // (default: CN=<the role holding these credentials>,O=txlab, filled in by the loader).
  std::string tls_client_auth_subject_dn;
  // self_signed_tls_client_auth: the role whose self-signed certificate (made per run) is this
  // client's registered certificate (RFC 8705 §2.2; filled in by the loader).
  std::string tls_certificate_holder;
  // RFC 8705 §3: access tokens issued to this client are bound to the certificate it used on
  // the connection (cnf.x5t#S256); a request without one is refused.
  bool certificate_bound_access_tokens = false;
  // A trusted broker may ask that the token be bound to another client's certificate
  // thumbprint (`tls_x5t_s256` in the token request; txlab's extension like dpop_jkt).
  bool certificate_bind_for_others = false;
  SourcePos pos;
};

// Credentials one role uses to call another role's token endpoint.
struct ClientCredentials {
  std::string as_role;
  std::string client_id;
  std::string secret;
  ClientAuthMethod auth = ClientAuthMethod::kClientSecretBasic;
  // RFC 9449: prove possession of this role's own key (ES256) with every token request made
  // with these credentials, and present the tokens so obtained with DPoP proofs.
  bool dpop = false;
};

// DPoP at an authorization server (RFC 9449).
struct DpopPolicy {
  bool nonce = false;      // require a server nonce (§8: use_dpop_nonce, DPoP-Nonce)
  int64_t max_age_s = 60;  // how old a proof's iat may be (§4.3 check 11)
  // A DPoP-bound subject token in a token exchange: "rebind" (default) accepts it when the
  // exchanger proves its own key and binds the issued token to that key; "refuse" refuses it.
  std::string bound_subject_tokens = "rebind";
};

// What a gateway or resource server asks of presented tokens (RFC 9449 §7).
enum class DpopInbound {
  kAllowed,   // bound tokens need their proof; unbound tokens pass as Bearer
  kRequired,  // only DPoP-bound tokens with a valid proof
};

struct BrokerRule {
  ClientCredentials via;               // AS-C2P's back-channel registration at the next AS
  std::vector<std::string> audiences;  // requests for these audiences are brokered
  // Cache the next AS's answers, keyed by the subject token and every parameter that shapes
  // the result (client, targets, scope, requested type, actor token).
  bool cache = false;
  int64_t cache_margin_s = 15;
  size_t cache_max_entries = 10000;
  // How the intermediate token is declared to the next AS (RFC 8693 §3): an access token, or a
  // JWT (what Keycloak's external-to-internal exchange validates by signature).
  bool subject_token_type_jwt = false;
  // Further form parameters of the back-channel request, for the next AS's own extensions
  // (Keycloak's `subject_issuer` naming its identity provider); never an RFC 8693 parameter.
  std::vector<std::pair<std::string, std::string>> params;
  // Send the requested audiences on (RFC 8693 §2.1). Off when the next AS sets the audiences
  // from the back-channel client's registration: Keycloak's V1 exchange honours only the first
  // `audience` and then drops the client's audience mappers.
  bool send_audience = true;
};

struct ExchangePolicy {
  std::vector<std::string> trust;  // AS roles whose tokens are accepted as subject tokens
  int64_t max_ttl_s = 300;
  bool cap_to_subject_exp = true;
  ActStyle act_style = ActStyle::kRfc8693;
  // OAuth error for an invalid subject token: "invalid_grant" (common practice, default) or
  // "invalid_request" (RFC 8693 §2.2.2 literal text).
  std::string invalid_subject_error = "invalid_grant";
  std::optional<BrokerRule> broker;
  // RFC 8693 §1.1: delegation adds `act` for the acting party; impersonation issues a token
  // indistinguishable from one issued to the subject (no `act`).
  bool delegation = true;
  // AS roles whose tokens are accepted as actor tokens (default: the subject token issuers and
  // this AS itself).
  std::vector<std::string> actor_trust;
  int max_act_depth = 4;  // refuse exchanges that would nest `act` deeper than this
  // Issue rotating refresh tokens with exchanged access tokens (RFC 6749 §6, seed 003: reuse
  // of a rotated refresh token revokes its whole family).
  bool refresh_tokens = false;
  int64_t refresh_ttl_s = 3600;
};

struct AuthorizationServerSpec {
  std::string issuer;  // empty = the role's base URL
  std::string alg = "ES256";
  // The signing key, when the scenario names one (signing_key: FILE); else a fresh key per run.
  std::optional<jose::Key> signing_key;
  int64_t access_token_ttl_s = 300;
  int64_t jwks_max_age_s = 300;  // Cache-Control of GET /jwks; 0 sends no-cache (as Keycloak does)
  size_t audit_max_entries = 20000;  // the in-memory audit log keeps the newest entries
  std::vector<ClientRegistration> clients;
  std::optional<ExchangePolicy> exchange;
  DpopPolicy dpop;
};

struct GatewayExchange {
  ClientCredentials client;
  std::vector<std::string> audiences;
  std::string scope;
  bool cache = false;           // cache exchanged tokens (per subject token and parameters)
  int64_t cache_margin_s = 15;  // drop a cached token this long before its exp
  size_t cache_max_entries = 10000;
};

struct Route {
  std::string prefix;
  std::string to;
  bool introspect = false;  // ask the issuer (RFC 7662) before forwarding: catches revoked tokens
};

struct GatewaySpec {
  std::vector<std::string> trust;
  std::vector<std::string> audiences;
  std::optional<GatewayExchange> exchange;
  std::vector<Route> routes;
  std::optional<ClientCredentials> introspection;  // the gateway's registration at the issuing AS
  bool verified_token_cache = false;  // reuse a verification result until the token's exp
  int64_t timeout_ms = 5000;          // per call to an AS or upstream
  int retries = 1;                    // extra attempts for what is safe to retry (see Gateway)
  DpopInbound dpop = DpopInbound::kAllowed;
  // RFC 8705 §3 at this edge: certificate-bound tokens are always checked against the
  // connection's certificate; `required` refuses every token that is not certificate-bound.
  bool mtls_required = false;
};

struct ResourceServerSpec {
  std::vector<std::string> trust;
  std::vector<std::string> audiences;
  std::string required_scope;
  bool verified_token_cache = false;
  DpopInbound dpop = DpopInbound::kAllowed;
  bool mtls_required = false;  // as GatewaySpec::mtls_required
};

struct ClientSpec {
  ClientCredentials credentials;
  std::vector<std::string> audiences;
  std::string scope;
};

// How a verifier caches its trusted issuers' JWKS (see sim/jwks_source.h).
struct JwksSettings {
  int64_t min_refresh_interval_s = 10;  // at most one refetch per interval (unknown kid, no-cache)
  int64_t max_stale_s = 600;            // keep serving the last good keys this long on an outage
};

// An authorization server txlab does not run (Keycloak, Spring Authorization Server, ...):
// where its endpoints are, and how its access tokens are typed. Registrations live in it.
struct ExternalAuthorizationServer {
  std::string token_endpoint;  // absolute http(s) URL
  std::string jwks_uri;        // absolute http(s) URL, same scheme, host and port
  // The header typ its access tokens carry; "" when they may carry any (or none).
  std::string access_token_typ = "at+jwt";
  // Claims an access token of this AS must carry with exactly these (string) values, where the
  // header typ cannot tell an access token from another JWT (Keycloak: typ JWT on both, and
  // a `typ` claim of Bearer or ID).
  std::map<std::string, std::string> access_token_claims;
};

struct RoleSpec {
  std::string id;
  RoleKind kind = RoleKind::kClient;
  std::string zone;
  std::optional<int64_t> clock_offset_s;  // this role's clock vs real time (else its zone's)
  std::optional<double> drift_ppm;        // this role's clock rate error (else its zone's)
  std::optional<int64_t> leeway_s;        // this verifier's leeway (else the scenario's)
  JwksSettings jwks;
  SourcePos pos;
  AuthorizationServerSpec as;
  std::optional<ExternalAuthorizationServer> external;  // kind: external_authorization_server
  // Runs in another process (serve --role): reached at this base URL ("" when nothing here
  // calls it).
  std::optional<std::string> remote_url;
  bool runs_here() const { return !external && !remote_url; }
  GatewaySpec gateway;
  ResourceServerSpec resource;
  ClientSpec client;
};

// Expected values by dotted claim path ("act.act.sub"); values compare as JSON scalars
// written the YAML way (strings, numbers, booleans).
using ClaimExpectations = std::map<std::string, std::string>;

struct Expectation {
  std::optional<int> status;
  std::string error;  // expected OAuth/RFC 6750 error code in the final response
  ClaimExpectations backend;
  std::map<std::string, ClaimExpectations> tokens;  // by label: AT1, AT2, AT3
};

struct WorkloadCall {
  std::string name;
  std::string from;  // a client role
  std::string to;    // the role it calls
  std::string method = "GET";
  std::string path = "/";
  int repeat = 1;
  Expectation expect;
  SourcePos pos;
};

// A link between two roles that passes through a fault-injecting proxy (issue: simulation).
struct LinkFaults {
  std::string from;  // a role id, or "*" for every caller
  std::string to;    // a role id
  int64_t latency_ms = 0, jitter_ms = 0;
  double down = 0, reset = 0, stall = 0;
  int64_t bandwidth_kbps = 0, slow_close_ms = 0;
  double loss = 0;  // per-chunk probability of a retransmission delay
  int64_t loss_delay_ms = 200;
  double at_s = 0, for_s = 0;  // window on simulation time (for_s 0 = to the end)
  std::string origin;          // what declared it: "links", "zone cloud->on-prem", "swarm"
  SourcePos pos;
};

// --- Time and events (scenario `timeline:`) -------------------------------------------------

enum class EventKind {
  kRotateKey,      // AS publishes a new signing key next to the old ones ...
  kRetireKeys,     // ... and withdraws the old ones (rotate_key with overlap_s schedules this)
  kRevokeClient,   // AS refuses the client's authentication from now on
  kRestoreClient,  // ... and accepts it again
  kRevokeTokens,   // AS revokes (RFC 7009) every token it issued so far (to one client, or all)
  kRotateSecret,   // AS replaces a client's secret; holders of the old one fail
  kDown,           // the role's server stops (connections refused) ...
  kUp,             // ... and comes back on the same address
  kClockStep,      // a zone's or role's clock jumps by by_s
  kPolicy,         // AS exchange policy / client registration change
};
std::string_view to_string(EventKind k);

struct TimelineEvent {
  double at_s = 0;      // simulation time
  double jitter_s = 0;  // the seed moves the event by up to this much (either way, >= 0)
  EventKind kind = EventKind::kRotateKey;
  std::string role;       // target role
  std::string zone;       // clock_step: every role of this zone
  std::string client;     // client events; policy on a client registration
  int64_t by_s = 0;       // clock_step
  double overlap_s = -1;  // rotate_key: retire the old keys this long after (< 0: keep them)
  std::optional<int64_t> max_ttl_s;                   // policy: exchange max_ttl_s
  std::optional<std::vector<std::string>> audiences;  // policy: the client's audiences
  std::optional<std::vector<std::string>> scopes;     // policy: the client's scope
  std::string origin;                                 // "timeline", "swarm", "rotate_key overlap"
  SourcePos pos;
  std::string describe() const;
};

// A comparison written as ">= 0.99", "<= 5", "== 0" or a bare number (equality).
struct Bound {
  enum class Op { kGe, kLe, kEq, kGt, kLt } op = Op::kGe;
  double value = 0;
  bool holds(double x) const;
  std::string text() const;
};

struct WindowExpect {
  std::optional<Bound> success_rate;  // successful calls / calls, in [0, 1]
  std::optional<Bound> calls;         // how many calls fell in the window
  std::optional<int64_t> max_latency_ms;
  std::optional<int64_t> p99_ms;
  bool empty() const { return !success_rate && !calls && !max_latency_ms && !p99_ms; }
};

struct TimeWindow {
  std::string name;
  double from_s = 0, to_s = 0;  // [from, to) on simulation time
  WindowExpect expect;
  SourcePos pos;
};

// The seed picks `pick` of the candidates and gives each a start and a length in range.
struct SwarmCandidate {
  std::optional<LinkFaults> link;        // a fault on a link, active for the picked window
  std::optional<std::string> down_role;  // a role down for the picked window
  std::optional<TimelineEvent> event;    // an instant event at the picked start
  SourcePos pos;
  std::string describe() const;
};

struct Swarm {
  int pick = 1;
  double start_min_s = 0, start_max_s = 0;
  double length_min_s = 1, length_max_s = 1;
  std::vector<SwarmCandidate> candidates;
  SourcePos pos;
};

struct Timeline {
  double duration_s = 10;
  double step_s = 1;
  bool simulated = true;  // simulated: time jumps step by step, no sleeping; real: wall clock
  std::vector<std::string>
      traffic;             // workload entries (by name) that make the traffic; empty = all
  int calls_per_step = 1;  // cycling through the traffic's entries
  int concurrency = 1;     // calls of one step in flight at once
  std::vector<TimelineEvent> events;
  std::vector<TimeWindow> windows;
  // Whole-run expectations.
  bool audit_complete = false;  // every token of every successful call is in its AS's audit
  std::optional<int64_t> max_latency_ms;  // no call took longer
  std::optional<Bound> success_rate;      // over the whole run
  std::optional<Swarm> swarm;
  SourcePos pos;
};

struct Diagnostic {
  std::string file;
  SourcePos pos;
  std::string message;
  // "file:line:column: severity: message", always valid UTF-8 (see printable).
  std::string format(std::string_view severity) const;
};

// `s` with every byte that is not part of well-formed UTF-8, and every control character but
// newline, written as \xNN: a scenario's bytes quoted in a diagnostic stay printable text.
std::string printable(std::string_view s);

struct Scenario {
  std::string file;
  std::string name;
  std::string topology;
  std::string description;
  int64_t leeway_s = 30;
  std::vector<RoleSpec> roles;
  std::vector<WorkloadCall> workload;
  std::vector<LinkFaults> links;
  std::map<std::string, int64_t> zone_clock_offsets_s;  // zone -> clock offset
  std::map<std::string, double> zone_drift_ppm;         // zone -> clock drift
  int64_t clock_offset_of(const RoleSpec& role) const;
  double drift_ppm_of(const RoleSpec& role) const;
  int64_t leeway_of(const RoleSpec& role) const { return role.leeway_s.value_or(leeway_s); }
  std::optional<Timeline> timeline;
  std::vector<Diagnostic> warnings;
  // The house client-id convention (<zone>-svc-<caller>-to-<audAlias>) is a warning unless a
  // scenario says `client_id_convention: off` (e.g. to keep the brief's own ids).
  bool client_id_convention = true;
  // `tls: mutual`: every role serves https only with a certificate of a per-run CA and presents
  // its own certificate on every call it makes (RFC 8705 needs this to bind tokens).
  bool mutual_tls = false;

  const RoleSpec* find_role(const std::string& id) const;
};

// One or more errors; what() lists each as file:line:column: error: message, one per line.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(Diagnostic d) : ScenarioError(std::vector<Diagnostic>{std::move(d)}) {}
  explicit ScenarioError(std::vector<Diagnostic> all);           // `all` is not empty
  const Diagnostic& diagnostic() const { return all_.front(); }  // the first
  const std::vector<Diagnostic>& diagnostics() const { return all_; }

 private:
  std::vector<Diagnostic> all_;
};

// The value of environment variable NAME, or nullopt when it is not set: what `${NAME}` in a
// scenario stands for (an external AS's issuer and URLs, every `secret`).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv).
std::optional<std::string> process_env(const std::string& name);

struct ScenarioLoadOptions {
  EnvLookup env = process_env;
  // Lint mode: an unset ${NAME} is a warning at its value (file:line:column, the name), and the
  // value is checked with a stand-in: kUnsetUrl where the reference opens an external AS's
  // issuer, token_endpoint or jwks_uri, kUnsetText anywhere else. Otherwise it is an error.
  bool lint = false;
};
inline constexpr const char* kUnsetUrl = "http://unset.invalid";
inline constexpr const char* kUnsetText = "unset.invalid";

// Loads and validates. Throws ScenarioError (file:line:column: what was expected).
Scenario load_scenario(const std::string& path, const ScenarioLoadOptions& options = {});
Scenario load_scenario_text(const std::string& yaml, const std::string& file_label,
                            const ScenarioLoadOptions& options = {});
// One event written as a timeline entry is (`{rotate_key: as-c}`, `{revoke_client: {as: as-c,
// client: svc-cfa}}`, or the short form `rotate_key as-c` for events that name a role), checked
// against `s` like the timeline's: what `txlab serve` takes while it runs. `at`, `jitter` and
// `overlap` are refused (it applies now). Throws ScenarioError with `label`:line:column.
TimelineEvent parse_event(const std::string& text, const Scenario& s, const std::string& label);

}  // namespace txlab
