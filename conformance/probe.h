// A probe talks to the server under test: it builds token requests (a valid exchange and
// mutations of it), sends them over HTTP with the exchanger's credentials, and returns what
// came back, never throwing and never hanging (bounded timeouts).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/case.h"
#include "conformance/forge.h"
#include "sim/http/client_pool.h"
#include "sim/http/form.h"

namespace txlab::http {
class LoopbackServer;
}

namespace txlab::conformance {

struct Answer {
  int status = 0;               // 0: no HTTP answer
  std::string transport_error;  // when status == 0
  nlohmann::json body;          // discarded() when not JSON
  std::string raw;
  std::shared_ptr<const WireExchange> wire;  // as sent and received (for reports)
  std::string content_type, cache_control, pragma, www_authenticate, dpop_nonce;
  bool json() const { return body.is_object(); }
  bool timed_out() const {
    return status == 0 && transport_error.find("timeout") != std::string::npos;
  }
  std::string error() const;     // OAuth error code or ""
  std::string describe() const;  // "400 invalid_request" / "200" / "no answer (timeout)"
  // Header and claims of the issued access_token, when it is a JWT.
  std::optional<std::pair<nlohmann::json, nlohmann::json>> issued_jwt() const;
};

// Which certificate an RFC 8705 request presents on its TLS connection.
enum class TlsCert { kNone, kRegistered, kWrongSubject, kUntrusted };

// kDefault: the exchanger's method as the preflight found it (Basic, or client_secret_post for
// a server that only takes that).
// kTls: the Target's mutual-TLS client (client_id, its registered certificate; RFC 8705 §2).
enum class Auth { kDefault, kBasic, kPost, kNone, kTls };

class Probe {
 public:
  explicit Probe(const Target& target);
  ~Probe();
  const Target& target() const { return target_; }

  // A valid exchange request: grant_type, subject_token (fresh), subject_token_type, audience.
  // nullopt (and *error) when no subject token could be obtained.
  std::optional<http::FormParams> valid_exchange(std::string* error);
  Answer post(const http::FormParams& form, Auth auth = Auth::kDefault,
              const Credentials* credentials = nullptr,
              std::vector<std::pair<std::string, std::string>> extra = {});
  // Basic authentication with a pre-encoded "id:secret" (no further form-encoding).
  Answer post_basic_raw(const http::FormParams& form, const std::string& userpass);
  // Any Authorization header value (or none when empty).
  Answer post_authorization(const http::FormParams& form, const std::string& authorization);
  // The exchanger's default authentication plus these extra header fields (DPoP proofs).
  Answer post_with(const http::FormParams& form,
                   const std::vector<std::pair<std::string, std::string>>& extra);
  // Basic as `c` and no DPoP proof, even for a DPoP-bound exchanger (RFC 9449 §5.2 cases).
  Answer post_without_proof(const http::FormParams& form, const Credentials& c);
  // RFC 8705 §2: the Target's mTLS client (client_id in the form, no secret) over a connection
  // presenting `cert`.
  Answer post_mtls(const http::FormParams& form, TlsCert cert,
                   std::vector<std::pair<std::string, std::string>> headers = {});
  // Anything at the token endpoint: `method`, a query string, a body as given (not encoded by
  // the probe), its Content-Type ("" for none), extra header fields. For the request-form rules.
  Answer send_raw(const std::string& method, const std::string& query, const std::string& body,
                  const std::string& content_type,
                  std::vector<std::pair<std::string, std::string>> headers = {});
  // The token endpoint as a DPoP proof names it (RFC 9449 §4.2 htu).
  std::string token_endpoint_url() const { return base_ + path_; }
  // Values shared by the cases of one run (a DPoP nonce the target handed out, ...).
  std::string& scratch(const std::string& key) { return scratch_[key]; }
  // The keys of every accepted issuer, fetched once from the target's jwks_uris.
  const std::vector<nlohmann::json>& jwks();

  // Subject token claims of the last valid_exchange() (decoded).
  const nlohmann::json& subject_claims() const { return subject_claims_; }
  // A fresh valid actor token, or nullopt (and *error).
  std::optional<std::string> actor_token(std::string* error);

  // What forgeries are made from: a stranger key, the subject issuer's published keys, and an
  // attacker document server on loopback (jku/x5u) that counts what the target fetched.
  const forge::Materials& materials();
  size_t attacker_fetches() const;

  // An answer computed once per run (preconditions shared by a family of cases).
  const Answer& once(const std::string& key, const std::function<Answer()>& compute);

  // The first error member seen in any answer of the run that breaks RFC 6749 §5.2's character
  // set (%x20-21 / %x23-5B / %x5D-7E), described; empty when none did. How many were checked.
  const std::string& charset_violation() const { return charset_violation_; }
  size_t error_members_seen() const { return error_members_seen_; }

  // The method kDefault means (client_secret_basic until the preflight finds otherwise).
  void set_default_auth(Auth a) { default_auth_ = a; }
  Auth default_auth() const { return default_auth_; }

  // Requests sent and how many timed out (the runner's budget and its one "timed out" verdict).
  size_t requests() const { return requests_; }

  // What a case sent and received, for reports: begin_case() empties it; the newest
  // kTranscriptMax exchanges are kept (older ones counted as dropped). Answers reused by once()
  // appear again.
  static constexpr size_t kTranscriptMax = 6;
  void begin_case();
  std::vector<WireExchange> take_transcript(size_t* dropped);
  size_t timeouts() const { return timeouts_; }

 private:
  Answer send(const http::FormParams& form,
              std::vector<std::pair<std::string, std::string>> headers,
              http::HttpClientPool* via = nullptr);
  Answer send_request(http::OutboundRequest req, http::HttpClientPool* via);
  // A DPoP proof for the token endpoint with this run's key and the server's latest nonce.
  std::string dpop_proof();
  Answer send_once(http::OutboundRequest req, http::HttpClientPool* via);
  std::unique_ptr<jose::Key> dpop_key_;
  bool suppress_proof_ = false;
  std::map<TlsCert, std::unique_ptr<http::HttpClientPool>> mtls_pools_;
  std::string get(const std::string& url);  // body of a 200 GET, else ""
  const Target& target_;
  http::HttpClientPool pool_;
  std::string base_, path_;
  nlohmann::json subject_claims_;
  std::optional<std::vector<nlohmann::json>> jwks_;
  std::map<std::string, Answer> memo_;
  std::map<std::string, std::string> scratch_;
  size_t requests_ = 0, timeouts_ = 0, error_members_seen_ = 0;
  Auth default_auth_ = Auth::kBasic;
  std::string charset_violation_;
  void record(const std::shared_ptr<const WireExchange>& w);
  std::vector<WireExchange> transcript_;
  size_t transcript_dropped_ = 0;
  struct Attacker;
  std::unique_ptr<Attacker> attacker_;
};

// Splits "http://host:port/path" into base and path; false if not http(s).
bool split_url(const std::string& url, std::string* base, std::string* path);

// Form helpers for mutations.
http::FormParams without(http::FormParams f, const std::string& name);
http::FormParams with(http::FormParams f, const std::string& name, const std::string& value);
http::FormParams replaced(http::FormParams f, const std::string& name, const std::string& value);

}  // namespace txlab::conformance
