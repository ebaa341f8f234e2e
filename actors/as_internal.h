// Internals shared by the authorization server's translation units (token endpoint, client
// authentication, binding, grants, issue). Not part of the public actor API.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "actors/dpop.h"
#include "actors/errors.h"
#include "actors/exchange_cache.h"
#include "sim/http/form.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/jwks_source.h"

namespace txlab::as_detail {

// A parsed, de-duplicated token request.
struct TokenRequest {
  http::FormParams form;
  std::optional<std::string> param(const char* name) const {
    for (const auto& [k, v] : form)
      if (k == name) return v;
    return std::nullopt;
  }
  std::vector<std::string> values(const char* name) const { return http::form_values(form, name); }
  // RFC 9449: the key the issued access token is bound to (cnf.jkt), when the request carried
  // a valid DPoP proof (or, from a trusted broker, the key it vouches for).
  std::optional<std::string> dpop_jkt;
  // RFC 8705 §3.1: the SHA-256 thumbprint of the client certificate of the connection (when
  // one was presented), and the one the issued token is bound to (cnf.x5t#S256) — the
  // client's own, or from a trusted broker the one it vouches for.
  std::optional<std::string> client_x5t;
  std::optional<std::string> cert_x5t;
};

// The cnf claim of an issued access token (RFC 9449 §6.1 jkt, RFC 8705 §3.1 x5t#S256); null
// when the token is not bound. `dpop` false leaves the DPoP key out (see the broker).
inline nlohmann::json cnf_claim(const TokenRequest& tr, bool dpop = true) {
  nlohmann::json cnf = nlohmann::json::object();
  if (dpop && tr.dpop_jkt) cnf["jkt"] = *tr.dpop_jkt;
  if (tr.cert_x5t) cnf["x5t#S256"] = *tr.cert_x5t;
  return cnf.empty() ? nlohmann::json() : cnf;
}

std::string random_jti();
std::vector<std::string> split_scope(const std::string& s);
std::string join_scope(const std::vector<std::string>& v);
bool contains(const std::vector<std::string>& v, const std::string& x);
bool valid_scope_token(const std::string& t);
nlohmann::json audience_claim(const std::vector<std::string>& aud);
// RFC 8707 §2: an absolute URI without a fragment.
bool is_absolute_uri(const std::string& s);
// Depth of nested act claims (0 when absent).
int act_depth(const nlohmann::json& act);

// Replay cache for client assertion jti values (RFC 7523 §3 item 7), bounded per client: an
// entry lives until its assertion's exp, capped at kMaxLifetimeS from now (an assertion with a
// far exp cannot pin memory); expired entries leave in exp order (O(log n) each); a client at
// its cap evicts its own soonest-expiring entry, so no client's flood refuses another's — or
// its own next assertion.
class JtiCache {
 public:
  static constexpr int64_t kMaxLifetimeS = 600;
  static constexpr size_t kMaxPerClient = 10000;
  // False when `jti` was already seen for `client` and has not expired.
  bool remember(const std::string& client, const std::string& jti, int64_t exp_s, int64_t now_s);
  size_t size(const std::string& client) const;

 private:
  struct Client {
    std::map<std::string, int64_t> seen;           // jti -> until
    std::multimap<int64_t, std::string> by_until;  // until -> jti
  };
  mutable std::mutex mu_;
  std::map<std::string, Client> clients_;
};

}  // namespace txlab::as_detail
