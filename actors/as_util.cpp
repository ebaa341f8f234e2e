// Small helpers of the authorization server: random ids, scope lists, audience claims, URIs,
// act depth, and the client-assertion replay cache (as_internal.h).
#include <openssl/rand.h>

#include <algorithm>
#include <sstream>

#include "actors/as_internal.h"
#include "sim/jose/base64url.h"

namespace txlab::as_detail {

using Json = nlohmann::json;

std::string random_jti() {
  unsigned char buf[16];
  RAND_bytes(buf, sizeof buf);
  return jose::base64url_encode(std::string_view(reinterpret_cast<char*>(buf), sizeof buf));
}

std::vector<std::string> split_scope(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string tok; in >> tok;)
    if (std::find(out.begin(), out.end(), tok) == out.end()) out.push_back(tok);
  return out;
}

std::string join_scope(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool valid_scope_token(const std::string& t) {
  for (unsigned char c : t)
    if (!(c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E))) return false;
  return !t.empty();
}

Json audience_claim(const std::vector<std::string>& aud) {
  return aud.size() == 1 ? Json(aud.front()) : Json(aud);
}

bool is_absolute_uri(const std::string& s) {
  // RFC 3986 §4.3: scheme ":" hier-part, no fragment (RFC 8707 §2).
  const size_t colon = s.find(':');
  if (colon == std::string::npos || colon == 0 || s.find('#') != std::string::npos) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
      return false;
  }
  return colon + 1 < s.size();
}

int act_depth(const Json& act) {
  int d = 0;
  const Json* cur = &act;
  while (cur->is_object() && d < 1000) {
    ++d;
    auto it = cur->find("act");
    if (it == cur->end()) break;
    cur = &*it;
  }
  return d;
}

bool JtiCache::remember(const std::string& client, const std::string& jti, int64_t exp_s,
                        int64_t now_s) {
  std::lock_guard lock(mu_);
  Client& c = clients_[client];
  // Expired entries leave first, soonest first.
  while (!c.by_until.empty() && c.by_until.begin()->first < now_s) {
    c.seen.erase(c.by_until.begin()->second);
    c.by_until.erase(c.by_until.begin());
  }
  if (c.seen.count(jti)) return false;
  if (c.seen.size() >= kMaxPerClient) {
    c.seen.erase(c.by_until.begin()->second);
    c.by_until.erase(c.by_until.begin());
  }
  const int64_t until = std::min(exp_s, now_s + kMaxLifetimeS);
  c.seen.emplace(jti, until);
  c.by_until.emplace(until, jti);
  return true;
}

size_t JtiCache::size(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.seen.size();
}

}  // namespace txlab::as_detail
