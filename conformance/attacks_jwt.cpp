// Token-type confusion (seed 004 #1) and the classic JWT attacks (RFC 8725) at the entry
// gateway: forged, altered and malformed access tokens.
#include "actors/as_defects.h"
#include "actors/authorization_server.h"
#include "conformance/attacks_catalogue.h"
#include "conformance/judge.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "world/world.h"

namespace txlab::conformance::attacks {

namespace {

const char* kType = "Token-type confusion (seed 004 #1)";
const char* kJwt = "JWT attacks (RFC 8725)";

using TokenFn = std::function<std::string(Context&)>;

// A token at the entry gateway, refused with 401 invalid_token (RFC 6750 §3.1).
Attack at_entry(std::string id, const char* category, std::string title, TokenFn token,
                std::vector<std::string> leaks_with = {}) {
  return {std::move(id),
          category,
          std::move(title),
          Role::kEntryGateway,
          present(std::move(token)),
          refused(401, "invalid_token"),
          Applies::kEvery,
          Issuer::kTxlab,
          std::move(leaks_with)};
}

// A token at the entry gateway (headers padded by `pad` bytes) that must be bounded.
Attack bounded(std::string id, std::string title, TokenFn token, size_t pad = 0) {
  return {std::move(id),
          kJwt,
          std::move(title),
          Role::kEntryGateway,
          present(std::move(token), pad),
          refused_4xx("4xx, no crash")};
}

// Claims of a valid AT1 for the entry gateway, signed by nobody yet.
Json legit(Context& c) { return c.access_claims(c.t.entry_as, c.t.entry_audience); }
std::string entry_kid(Context& c) {
  return c.w.authorization_server(c.t.entry_as).key_store().signing_key().kid();
}
std::string sign_entry(Context& c, const Json& claims, const std::string& typ = "at+jwt") {
  return c.sign(c.t.entry_as, claims, typ);
}

std::string hs256_with_public_jwk(Context& c) {
  const Json h = {{"alg", "HS256"}, {"typ", "at+jwt"}, {"kid", entry_kid(c)}};
  const std::string input =
      jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(legit(c).dump());
  return input + "." +
         jose::base64url_encode(jose::hmac_sha256(
             c.w.authorization_server(c.t.entry_as).key_store().signing_key().public_jwk().dump(),
             input));
}

std::string truncated_signature(Context& c) {
  const std::string t = sign_entry(c, legit(c));
  const size_t dot = t.rfind('.');
  std::string sig = *jose::base64url_decode(t.substr(dot + 1));
  sig.resize(sig.size() / 2);
  return t.substr(0, dot + 1) + jose::base64url_encode(sig);
}

// Claims of a valid AT1 changed by `edit` (given the entry AS's now), then signed.
TokenFn signed_with(std::function<void(Json&, int64_t now)> edit) {
  return [edit = std::move(edit)](Context& c) {
    Json claims = legit(c);
    edit(claims, c.now(c.t.entry_as));
    return sign_entry(c, claims);
  };
}

// A token signed by the attacker's key, which the header (jku, x5u, jwk) points at.
Attack attacker_key(const std::string& name, std::function<Json(Context&)> header) {
  return {"jwt/" + name + "-attacker-key",
          kJwt,
          name + " header pointing at the attacker's key (RFC 8725 §3.10)",
          Role::kEntryGateway,
          [header = std::move(header)](Context& c, const std::string& gw) {
            return c.bearer(gw, c.sign_as_attacker(header(c), legit(c)));
          },
          also(refused(401, "invalid_token"), ", attacker URL never fetched",
               [](const Observed&, Context& c) { return c.attacker_hits() == 0; })};
}

}  // namespace

void add_type_attacks(std::vector<Attack>& out) {
  out.push_back(at_entry("type/id-token-as-access-token", kType,
                         "An ID token (typ JWT) used as a bearer access token", [](Context& c) {
                           Json claims = legit(c);
                           claims.erase("client_id");
                           claims["nonce"] = "n-0S6_WzA2Mj";
                           return sign_entry(c, claims, "JWT");
                         }));
  out.push_back(at_entry("type/untyped-access-token", kType,
                         "An access token without typ at+jwt (RFC 9068 §2.1)",
                         [](Context& c) { return sign_entry(c, legit(c), ""); }));
  out.push_back(at_entry("type/refresh-token-as-access-token", kType,
                         "A refresh-token-typed JWT used as a bearer token",
                         [](Context& c) { return sign_entry(c, legit(c), "rt+jwt"); }));
  for (const auto& [type, name] : std::vector<std::pair<std::string, std::string>>{
           {kTypeIdToken, "id_token"}, {kTypeRefreshToken, "refresh_token"}}) {
    out.push_back(
        {"type/access-token-declared-" + name, kType,
         "An access token declared as subject_token_type " + name, Role::kExchangeAs,
         [type = type](Context& c, const std::string&) { return c.exchange({}, c.at1(), type); },
         refused(400, "invalid_request")});
  }
  out.push_back({"type/id-token-as-subject-access-token", kType,
                 "An ID token sent as subject_token_type access_token", Role::kExchangeAs,
                 [](Context& c, const std::string&) {
                   Json claims = c.access_claims(c.t.entry_as, c.t.exchanger.client_id);
                   return c.exchange({}, sign_entry(c, claims, "JWT"));
                 },
                 refused_any({400}, {"invalid_grant", "invalid_request"})});
}

void add_jwt_attacks(std::vector<Attack>& out) {
  out.push_back(at_entry("jwt/alg-none", kJwt, "alg none (RFC 8725 §3.2)",
                         [](Context& c) {
                           return Context::raw_token(
                               {{"alg", "none"}, {"typ", "at+jwt"}, {"kid", entry_kid(c)}},
                               legit(c), "");
                         },
                         {defect_name::kAlgFromHeader}));
  out.push_back(
      at_entry("jwt/hs256-key-confusion", kJwt,
               "ES/RS -> HS256 confusion keyed with the published public JWK (RFC 8725 §2.1)",
               hs256_with_public_jwk, {defect_name::kAlgFromHeader}));
  for (const auto& [name, bad_kid] : std::vector<std::pair<std::string, std::string>>{
           {"unknown", "no-such-key"},
           {"path-traversal", "../../../../etc/passwd"},
           {"sql-injection", "' OR '1'='1' --"}}) {
    out.push_back(
        at_entry("jwt/kid-" + name, kJwt, "kid " + name + " (" + bad_kid + ")",
                 [bad_kid = bad_kid](Context& c) {
                   return signed_by_stranger({{"typ", "at+jwt"}, {"kid", bad_kid}}, legit(c));
                 }));
  }
  // An attacker's JWKS on loopback, advertised through jku / x5u, or the key inlined as jwk.
  out.push_back(attacker_key("jku", [](Context& c) {
    return Json{{"jku", c.attacker_url() + "/jwks"}};
  }));
  out.push_back(attacker_key("x5u", [](Context& c) {
    return Json{{"x5u", c.attacker_url() + "/cert.pem"}};
  }));
  out.push_back(attacker_key("embedded-jwk", [](Context& c) {
    return Json{{"jwk", c.attacker_jwk()}};
  }));
  out.push_back(at_entry("jwt/signature-stripped", kJwt, "Signature removed", [](Context& c) {
    const std::string t = sign_entry(c, legit(c));
    return t.substr(0, t.rfind('.') + 1);
  }));
  out.push_back(
      at_entry("jwt/signature-truncated", kJwt, "Signature cut short", truncated_signature));
  out.push_back(
      at_entry("jwt/payload-tampered", kJwt, "Claims altered after signing", [](Context& c) {
        Json claims = legit(c);
        const std::string t = sign_entry(c, claims);
        claims["scope"] = "admin";
        return with_claims(t, claims);
      }));
  out.push_back(at_entry("jwt/expired", kJwt, "Expired beyond the leeway (RFC 7519 §4.1.4)",
                         signed_with([](Json& claims, int64_t now) {
                           claims["iat"] = now - 7200;
                           claims["exp"] = now - 3600;
                         })));
  out.push_back(
      at_entry("jwt/not-yet-valid", kJwt, "nbf in the future beyond the leeway (RFC 7519 §4.1.5)",
               signed_with([](Json& claims, int64_t now) { claims["nbf"] = now + 3600; })));
  out.push_back(at_entry("jwt/iat-in-future", kJwt, "iat far in the future",
                         signed_with([](Json& claims, int64_t now) {
                           claims["iat"] = now + 86400;
                           claims["exp"] = now + 90000;
                         })));
  out.push_back(at_entry("jwt/missing-exp", kJwt, "No exp claim (RFC 9068 §2.2)",
                         signed_with([](Json& claims, int64_t) { claims.erase("exp"); })));
  out.push_back(at_entry("jwt/malformed-base64", kJwt, "Malformed base64url in the header",
                         [](Context&) { return std::string("e30=.e30.AAAA"); }));
  out.push_back(at_entry(
      "jwt/duplicate-json-keys", kJwt, "Duplicate header members (alg twice)", [](Context& c) {
        const std::string h =
            R"({"alg":"ES256","typ":"at+jwt","alg":"none","kid":")" + entry_kid(c) + "\"}";
        return jose::base64url_encode(h) + "." + jose::base64url_encode(legit(c).dump()) + ".";
      }));
  out.push_back(at_entry("jwt/deep-nesting", kJwt,
                         "Claims nested 1,000 levels deep (within the size bound)", [](Context&) {
                           std::string deep(1000, '[');
                           deep += std::string(1000, ']');
                           return jose::base64url_encode(R"({"alg":"ES256","typ":"at+jwt"})") +
                                  "." + jose::base64url_encode("{\"a\":" + deep + "}") + ".AAAA";
                         }));
  out.push_back(
      bounded("jwt/oversized-token", "A 40 KB token is bounded (4xx, no crash)", [](Context& c) {
        Json claims = legit(c);
        claims["padding"] = std::string(40000, 'x');
        return sign_entry(c, claims);
      }));
  out.push_back(bounded(
      "jwt/oversized-header", "A 64 KB header section is bounded (4xx, no crash)",
      [](Context& c) { return c.at1(); }, 64 * 1024));
}

}  // namespace txlab::conformance::attacks
