// Against an external authorization server (a vendor): txlab holds none of its keys, so only the
// attacks built from its genuine tokens and published keys run — forgeries at txlab's gateways
// (alg none, HS256 keyed with the vendor's published JWK, a stranger's key, a stripped signature,
// altered claims), cross-zone replay, and what a leaked exchange secret can get at the vendor.
// At the vendor any refusal passes (the error code is txlab conform's business); at txlab's own
// gateways the RFC 6750 answer is expected as usual.
#include "conformance/attacks_catalogue.h"
#include "conformance/judge.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "world/world.h"

namespace txlab::conformance::attacks {

namespace {

const char* kJwt = "JWT attacks (RFC 8725) on the vendor's tokens";
const char* kLeak = "Leaked client credentials at the vendor";

// Every forgery starts from a genuine token: its header (typ, kid) and claims.
std::pair<Json, Json> genuine(Context& c) {
  auto d = jose::decode_unverified(c.at1());
  return d.value_or(std::make_pair(Json::object(), Json::object()));
}

Attack vendor(std::string id, std::string category, std::string title, Role target, Send send,
              Expectation expected, Applies applies = Applies::kEvery) {
  return {std::move(id),   std::move(category), std::move(title), target,
          std::move(send), std::move(expected), applies,          Issuer::kVendor};
}

// A forged token at a txlab gateway, refused with 401 invalid_token (RFC 6750 §3.1).
Attack forged(std::string id, std::string category, std::string title,
              std::function<std::string(Context&)> token, Role target = Role::kEntryGateway,
              Applies applies = Applies::kEvery) {
  return vendor(std::move(id), std::move(category), std::move(title), target,
                present(std::move(token)), refused(401, "invalid_token"), applies);
}

// HS256 keyed with the vendor's published key, as its JWKS serves it, for the token's kid.
std::string hs256_with_published_jwk(Context& c) {
  auto [h, claims] = genuine(c);
  const RoleSpec* spec = c.w.scenario().find_role(c.t.entry_as);
  const std::string jwks_url = spec->external->jwks_uri;
  const size_t at = jwks_url.find('/', jwks_url.find("://") + 3);
  http::OutboundRequest get;
  get.path = jwks_url.substr(at);
  const Json jwks =
      Json::parse(c.w.transport().http().send(jwks_url.substr(0, at), get).body, nullptr, false);
  std::string secret;
  if (jwks.is_object() && jwks.contains("keys") && jwks["keys"].is_array())
    for (const auto& k : jwks["keys"])
      if (json_str(k, "kid") == json_str(h, "kid")) secret = k.dump();
  h["alg"] = "HS256";
  const std::string input =
      jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(claims.dump());
  return input + "." + jose::base64url_encode(jose::hmac_sha256(secret, input));
}

// A 4xx refusal, or a token (or answer) without scope admin.
bool no_admin_scope(const Observed& o, Context&) {
  if (o.status >= 400 && o.status < 500) return true;
  if (o.status != 200) return false;
  const auto d = jose::decode_unverified(json_str(o.body, "access_token"));
  const std::string scope = d ? json_str(d->second, "scope") : json_str(o.body, "scope");
  return (" " + scope + " ").find(" admin ") == std::string::npos;
}

void add_vendor_forgeries(std::vector<Attack>& out) {
  out.push_back(forged("jwt/alg-none", kJwt,
                       "The vendor's token re-sent with alg none (RFC 8725 §3.2)", [](Context& c) {
                         auto [h, claims] = genuine(c);
                         h["alg"] = "none";
                         return Context::raw_token(h, claims, "");
                       }));
  out.push_back(forged("jwt/hs256-key-confusion", kJwt,
                       "HS256 keyed with the vendor's published JWK for the token's kid (RFC 8725 "
                       "§2.1)",
                       hs256_with_published_jwk));
  out.push_back(
      forged("jwt/foreign-key-real-kid", kJwt,
             "The vendor's claims signed by a stranger under the vendor's kid", [](Context& c) {
               auto [h, claims] = genuine(c);
               return signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", h["kid"]}}, claims);
             }));
  out.push_back(
      forged("jwt/kid-unknown", kJwt, "The vendor's claims under an unknown kid", [](Context& c) {
        auto [h, claims] = genuine(c);
        return signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", "no-such-key"}}, claims);
      }));
  out.push_back(forged("jwt/signature-stripped", kJwt, "A genuine token with its signature removed",
                       [](Context& c) {
                         const std::string t = c.at1();
                         return t.substr(0, t.rfind('.') + 1);
                       }));
  out.push_back(forged(
      "jwt/payload-tampered", kJwt, "A genuine token whose claims were altered", [](Context& c) {
        const std::string t = c.at1();
        auto [h, claims] = genuine(c);
        claims["sub"] = "someone-else";
        const size_t d1 = t.find('.'), d2 = t.rfind('.');
        return t.substr(0, d1 + 1) + jose::base64url_encode(claims.dump()) + t.substr(d2);
      }));
}

}  // namespace

void add_vendor_attacks(std::vector<Attack>& out) {
  out.push_back(vendor("control/legitimate-token-accepted", "Control",
                       "A legitimate AT1 from the vendor passes the entry gateway's verification",
                       Role::kEntryGateway, present([](Context& c) { return c.at1(); }),
                       not_401("not 401")));
  add_vendor_forgeries(out);
  // Seed 004 #1 needs an ID token for the entry audience: when the vendor will not issue one by
  // exchange (a refusal, or another token type), there is nothing to misuse and the attack
  // reports the vendor's answer; an ID token it does issue must be refused at the gateway.
  out.push_back(vendor(
      "type/vendor-id-token-as-access-token", "Token-type confusion (seed 004 #1)",
      "An ID token the vendor issues by exchange, for the entry audience, used as an access token",
      Role::kEntryGateway,
      [](Context& c, const std::string& target) {
        Observed issued = c.exchange({{"requested_token_type", kTypeIdToken}}, c.at1());
        const std::string token = json_str(issued.body, "access_token");
        if (issued.status != 200 || token.empty() ||
            json_str(issued.body, "issued_token_type") != kTypeIdToken) {
          issued.at = c.t.exchange_as;
          return issued;
        }
        return c.bearer(target, token);
      },
      {"401 invalid_token, or no ID token issued", [](const Observed& o, Context&) {
         return o.at.empty() ? o.status == 401 && o.error == "invalid_token" : o.status != 0;
       }}));
  out.push_back(forged(
      "replay/at1-at-edge-gateway", "Cross-zone replay",
      "The vendor's AT1 replayed at the on-prem gateway (not its audience)",
      [](Context& c) { return c.at1(); }, Role::kEdgeGateway, Applies::kEdgeGateway));
  const Expectation refusal = refused_4xx("a 4xx refusal");
  out.push_back(vendor(
      "leak/other-audience", kLeak,
      "A leaked exchanger secret cannot reach an unregistered audience at the vendor",
      Role::kExchangeAs,
      [](Context& c, const std::string&) {
        return c.exchange({{"audience", "api://not-registered"}}, c.at1());
      },
      refusal));
  out.push_back(vendor(
      "leak/no-subject-no-token", kLeak,
      "A leaked exchanger secret alone yields nothing without a valid subject token",
      Role::kExchangeAs, [](Context& c, const std::string&) { return c.exchange({}, "forged"); },
      refusal));
  out.push_back(vendor(
      "leak/forged-subject", kLeak,
      "A subject token forged under the vendor's kid is not exchanged by the vendor",
      Role::kExchangeAs,
      [](Context& c, const std::string&) {
        auto [h, claims] = genuine(c);
        return c.exchange(
            {}, signed_by_stranger({{"typ", json_str(h, "typ")}, {"kid", h["kid"]}}, claims));
      },
      refusal));
  out.push_back(vendor("leak/broader-scope", kLeak,
                       "A leaked exchanger secret does not obtain a scope nobody granted (admin)",
                       Role::kExchangeAs,
                       [](Context& c, const std::string&) {
                         return c.exchange({{"scope", "admin"}}, c.at1());
                       },
                       {"a 4xx refusal, or a token without scope admin", no_admin_scope}));
}

}  // namespace txlab::conformance::attacks
