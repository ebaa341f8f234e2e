// BearerGuard: RFC 6750 extraction, JwtVerifier, and the WWW-Authenticate answers.
#include "actors/bearer_guard.h"

#include "actors/as_defects.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <sstream>

#include "sim/http/form.h"
#include "sim/http/message.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

BearerGuard::BearerGuard(const RoleEnv& env, Outbound& outbound, std::vector<std::string> trust,
                         std::vector<std::string> audiences, std::string required_scope,
                         std::vector<std::string> defects, bool verified_cache, DpopInbound dpop)
    : env_(&env),
      outbound_(&outbound),
      trust_(std::move(trust)),
      audiences_(std::move(audiences)),
      required_scope_(std::move(required_scope)),
      defects_(std::move(defects)),
      dpop_(dpop),
      verified_cache_(verified_cache) {}

void BearerGuard::ensure_trust() {
  std::call_once(once_, [&] {
    jose::VerifyPolicy policy;
    policy.audiences = audiences_;
    policy.leeway_s = env_->leeway_s;
    defects::on_edge_policy(defects_, policy);
    verifier_ = std::make_unique<jose::JwtVerifier>(policy, *env_->clock);
    if (defects::edge_jwks_union(defects_)) {
      // The defect: one key set made of every AS's keys, accepted for any of their issuers.
      std::vector<std::shared_ptr<jose::KeySource>> all;
      for (const auto& role : env_->directory.authorization_servers())
        all.push_back(std::make_shared<RemoteJwks>(*outbound_, role, env_->directory.url_of(role),
                                                   env_->directory.entry_of(role).jwks_path,
                                                   *env_->clock, jwks_options(env_->jwks)));
      struct Union : jose::KeySource {
        std::vector<std::shared_ptr<jose::KeySource>> parts;
        jose::KeyLookup find(const std::string& kid) override {
          for (auto& p : parts)
            if (auto r = p->find(kid); r.key) return r;
          return {};
        }
      };
      auto u = std::make_shared<Union>();
      u->parts = all;
      for (const auto& role : env_->directory.authorization_servers())
        verifier_->trust(env_->directory.issuer_of(role), u);
      return;
    }
    for (const auto& role : trust_) {
      const auto entry = env_->directory.entry_of(role);
      auto src = std::make_shared<RemoteJwks>(*outbound_, role, entry.url, entry.jwks_path,
                                              *env_->clock, jwks_options(env_->jwks));
      verifier_->trust(entry.issuer, src);
      if (entry.access_token_typ != "at+jwt")
        verifier_->expect_typ(entry.issuer,
                              entry.access_token_typ.empty()
                                  ? std::nullopt
                                  : std::optional<std::string>(entry.access_token_typ));
      sources_[env_->directory.issuer_of(role)] = src;
      if (!entry.access_token_claims.empty())
        required_claims_[entry.issuer] = entry.access_token_claims;
    }
  });
}

void reply_edge_error(http::Response& res, EdgeError e, const std::string& realm,
                      const std::string& raw_description, bool dpop) {
  const WireError w = to_wire(e);
  // RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E (it sits inside a
  // quoted string of WWW-Authenticate too).
  const std::string description = safe_error_description(raw_description);
  if (w.http_status == 401 || e == EdgeError::kInsufficientScope ||
      e == EdgeError::kInvalidRequest) {
    // RFC 6750 §3: WWW-Authenticate: Bearer realm, error, error_description.
    std::string v = (dpop ? "DPoP" : "Bearer") + std::string(" realm=\"") + realm + "\"";
    if (dpop) v += ", algs=\"ES256 RS256 PS256 EdDSA\"";  // RFC 9449 §7.1
    if (!w.code.empty()) v += ", error=\"" + std::string(w.code) + "\"";
    if (!w.code.empty() && !description.empty()) v += ", error_description=\"" + description + "\"";
    res.set_header("WWW-Authenticate", v);
  }
  nlohmann::json body = {{"error", w.code.empty() ? "unauthorized" : std::string(w.code)}};
  if (!description.empty()) body["error_description"] = description;
  body["role"] = realm;
  if (w.http_status == 503) res.set_header("Retry-After", "1");
  reply_json(res, w.http_status, safe_dump(body));
}

namespace {

std::string cnf_member(const Json& claims, const char* name) {
  return claims.contains("cnf") && claims["cnf"].is_object() ? json_str(claims["cnf"], name)
                                                             : std::string();
}

}  // namespace

// Stage 1, RFC 6750 §2.1 / RFC 9449 §7.1: "Bearer <token>" or "DPoP <token>", exactly once.
std::optional<EdgeRefusal> BearerGuard::extract(const http::Request& req, std::string* token,
                                                bool* dpop_scheme) const {
  const auto count = req.header_count("Authorization");
  if (count == 0) return EdgeRefusal{EdgeError::kNoToken, ""};
  const std::string authz = req.header("Authorization");
  *dpop_scheme = authz.size() > 5 && http::iequals(authz.substr(0, 5), "DPoP ");
  auto parsed = *dpop_scheme ? http::parse_bearer_authorization("Bearer " + authz.substr(5))
                             : http::parse_bearer_authorization(authz);
  if (count > 1 || !parsed)
    return EdgeRefusal{EdgeError::kInvalidRequest,
                       "Authorization must be a single Bearer or DPoP token", *dpop_scheme};
  *token = std::move(*parsed);
  return std::nullopt;
}

// Stage 2: the signature and claims, from the verified-token cache when it holds the token.
jose::VerifiedJwt BearerGuard::verify(const std::string& token, int64_t now) {
  if (verified_cache_) {
    std::lock_guard lock(cache_mu_);
    if (auto it = verified_.find(token); it != verified_.end()) {
      // Until exp, and only while the key that verified it is still published (a rotation
      // that withdraws a key must not be outlived by cached results).
      if (now <= json_int(it->second.claims, "exp").value_or(0) &&
          verifier_->key_still_published(it->second)) {
        ++cache_hits_;
        return it->second;
      }
      verified_.erase(it);
    }
  }
  jose::VerifiedJwt jwt = verifier_->verify(token);
  if (!jwt.ok() && !defects_.empty()) {
    // Deliberate defects (attack self-checks only) may accept what the strict verifier refused.
    auto key = [this](const std::string& iss, const std::string& kid) -> std::optional<jose::Key> {
      auto it = sources_.find(iss);
      return it == sources_.end() ? std::nullopt : it->second->find(kid).key;
    };
    if (auto claims = defects::edge_accept_anyway(defects_, token, jwt, key)) {
      jwt.status = jose::VerifyStatus::kOk;
      jwt.claims = *claims;
    }
  }
  if (verified_cache_ && jwt.ok()) {
    std::lock_guard lock(cache_mu_);
    if (verified_.size() >= 10000) {
      // Bounded: drop expired entries, and everything if that is not enough.
      for (auto it = verified_.begin(); it != verified_.end();)
        it = now > json_int(it->second.claims, "exp").value_or(0) ? verified_.erase(it)
                                                                  : std::next(it);
      if (verified_.size() >= 10000) verified_.clear();
    }
    verified_[token] = jwt;
  }
  return jwt;
}

// Stage 3: the token is valid and an access token of its issuer.
std::optional<EdgeRefusal> BearerGuard::accept(const jose::VerifiedJwt& jwt,
                                               bool dpop_scheme) const {
  if (!jwt.ok())
    return EdgeRefusal{jwt.status == jose::VerifyStatus::kKeysUnavailable
                           ? EdgeError::kKeysUnavailable
                           : EdgeError::kInvalidToken,
                       std::string(jose::describe(jwt.status)), dpop_scheme};
  // An issuer whose header typ cannot tell access tokens from other JWTs names the claims that
  // do (Keycloak: typ Bearer, not ID).
  if (auto rc = required_claims_.find(json_str(jwt.claims, "iss")); rc != required_claims_.end())
    for (const auto& [name, value] : rc->second)
      if (json_str(jwt.claims, name.c_str()) != value)
        return EdgeRefusal{
            EdgeError::kInvalidToken,
            "not an access token of its issuer (claim " + name + " is not " + value + ")",
            dpop_scheme};
  return std::nullopt;
}

// Stage 4, RFC 9449 §7.1: a DPoP-bound token comes with the DPoP scheme and a valid proof.
std::optional<EdgeRefusal> BearerGuard::sender_constraint(const http::Request& req,
                                                          const std::string& token,
                                                          const Json& claims, bool dpop_scheme,
                                                          int64_t now) {
  const std::string jkt = cnf_member(claims, "jkt");
  if (!dpop_scheme) {
    if (defects::edge_dpop_bearer_accepted(defects_)) return std::nullopt;  // the defect
    // Whoever copied it holds no key: a bound token is never a bearer token.
    if (!jkt.empty())
      return EdgeRefusal{EdgeError::kInvalidToken,
                         "a DPoP-bound token must be presented with the DPoP scheme and a proof",
                         true};
    if (dpop_ == DpopInbound::kRequired)
      return EdgeRefusal{EdgeError::kInvalidToken, "only DPoP-bound tokens are accepted", true};
    return std::nullopt;
  }
  if (jkt.empty())
    return EdgeRefusal{EdgeError::kInvalidToken,
                       "the DPoP scheme needs a DPoP-bound token (cnf.jkt)", true};
  jose::dpop::Expect e;
  e.htm = req.method;
  e.now_s = now;
  e.access_token = token;
  e.jkt = jkt;
  e.htu = request_htu(req, "http");
  auto proof = check_request_proof(req, e, dpop_replay_);
  if (proof.status == jose::dpop::Status::kHtuMismatch) {
    e.htu = request_htu(req, "https");
    proof = check_request_proof(req, e, dpop_replay_);
  }
  if (!proof.ok() && !defects::edge_dpop_proof_unchecked(defects_))
    return EdgeRefusal{EdgeError::kInvalidDpopProof,
                       std::string(jose::dpop::describe(proof.status)), true};
  return std::nullopt;
}

// Stage 5, RFC 8705 §3: the token's cnf.x5t#S256 is the thumbprint of the client certificate of
// this very TLS connection (learned by the server from the TLS session, never from a header).
std::optional<EdgeRefusal> BearerGuard::certificate_binding(const http::Request& req,
                                                            const Json& claims,
                                                            bool dpop_scheme) const {
  const std::string x5t = cnf_member(claims, "x5t#S256");
  if (x5t.empty())
    return mtls_required_
               ? std::optional<EdgeRefusal>(EdgeRefusal{
                     EdgeError::kInvalidToken,
                     "only certificate-bound tokens are accepted (RFC 8705 §3)", dpop_scheme})
               : std::nullopt;
  if (defects::edge_mtls_binding_unchecked(defects_)) return std::nullopt;
  const std::string presented = req.client_cert_der.empty()
                                    ? std::string()
                                    : inspect_certificate(req.client_cert_der).x5t_s256;
  if (presented.empty())
    return EdgeRefusal{EdgeError::kInvalidToken,
                       "a certificate-bound token needs the client certificate it is bound to on "
                       "the connection (RFC 8705 §3)",
                       dpop_scheme};
  if (presented.size() != x5t.size() ||
      CRYPTO_memcmp(presented.data(), x5t.data(), x5t.size()) != 0)
    return EdgeRefusal{EdgeError::kInvalidToken,
                       "the token is bound to another client certificate (RFC 8705 §3)",
                       dpop_scheme};
  return std::nullopt;
}

// Stage 6, RFC 6750 §3.1: insufficient_scope.
std::optional<EdgeRefusal> BearerGuard::scope(const Json& claims) const {
  if (required_scope_.empty()) return std::nullopt;
  std::istringstream in(json_str(claims, "scope"));
  for (std::string t; in >> t;)
    if (t == required_scope_) return std::nullopt;
  return EdgeRefusal{EdgeError::kInsufficientScope, "scope '" + required_scope_ + "' required"};
}

GuardResult BearerGuard::check(const http::Request& req, http::Response& res) {
  GuardResult out;
  bool dpop_scheme = false;
  std::string token;
  auto refused = extract(req, &token, &dpop_scheme);
  if (!refused) {
    ensure_trust();
    const int64_t now = env_->clock->now_s();
    out.jwt = verify(token, now);
    refused = accept(out.jwt, dpop_scheme);
    if (!refused) refused = sender_constraint(req, token, out.jwt.claims, dpop_scheme, now);
    if (!refused) refused = certificate_binding(req, out.jwt.claims, dpop_scheme);
    if (!refused) refused = scope(out.jwt.claims);
  }
  if (refused) {
    reply_edge_error(res, refused->error, env_->id, refused->description, refused->dpop);
    return out;
  }
  out.ok = true;
  out.token = std::move(token);
  return out;
}

}  // namespace txlab
