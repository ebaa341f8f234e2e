// Forgeries for the negative probe families.
#include "conformance/forge.h"

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

namespace txlab::conformance::forge {

using Json = nlohmann::json;

namespace {

const char* kSignature =
    "Validate the JWS Signature against the JWS Signing Input ... in the manner defined for the "
    "algorithm being used, "
    "which MUST be accurately represented by the value of the \"alg\" (algorithm) Header Parameter "
    "... If the JWS "
    "Signature was not successfully validated, the JWS MUST be rejected. (RFC 7515 §5.2; RFC 8693 "
    "§2.2.2: an invalid "
    "subject_token or actor_token MUST be answered with an error.)";
const char* kKeyLocation =
    "The key used to verify a JWS MUST come from the issuer's configured keys; a key or key "
    "location carried in the "
    "token itself is chosen by whoever made the token. \"When used with a JWK, the key MUST be ... "
    "validated\" and RFC "
    "8725 §3.10: \"the recipient MUST NOT trust\" key material it did not obtain from a trusted "
    "source.";
const char* kAlgNone =
    "RFC 8725 §3.2: \"Libraries MUST enable the caller to specify a supported set of algorithms "
    "and MUST NOT use any "
    "other algorithms when performing cryptographic operations.\" An unsecured JWS (alg none, any "
    "letter case) is "
    "never acceptable as a subject or actor token.";
const char* kAlgConfusion =
    "RFC 8725 §3.1: \"Each key MUST be used with exactly one algorithm, and this MUST be checked "
    "when the "
    "cryptographic operation is performed.\" An RS/ES/EdDSA public key used as an HMAC secret is "
    "the classic "
    "confusion.";

struct Parts {
  Json header;
  Json claims;
  std::string header_b64, payload_b64, signature_b64;
};

std::optional<Parts> parts_of(const std::string& token) {
  auto split = jose::split_compact(token);
  auto decoded = jose::decode_unverified(token);
  if (!split || !decoded) return std::nullopt;
  return Parts{decoded->first, decoded->second, std::string(split->header_b64),
               std::string(split->payload_b64), std::string(split->signature_b64)};
}

// The token's header with the signing-relevant members replaced.
Json base_header(const Json& h) {
  Json out = Json::object();
  if (h.contains("typ")) out["typ"] = h["typ"];
  return out;
}

std::string unsigned_token(const Json& header, const Json& claims,
                           const std::string& signature = "") {
  return jose::base64url_encode(header.dump()) + "." + jose::base64url_encode(claims.dump()) + "." +
         signature;
}

std::string hs256(const std::string& secret, const Json& header, const Json& claims) {
  const std::string input =
      jose::base64url_encode(header.dump()) + "." + jose::base64url_encode(claims.dump());
  return input + "." + jose::base64url_encode(jose::hmac_sha256(secret, input));
}

std::string pem_of_der(const std::string& der, const char* label) {
  const std::string b64 = jose::base64url_encode(der);
  // Standard base64 with padding, wrapped at 64 columns (RFC 7468).
  std::string std64;
  for (char c : b64) std64 += c == '-' ? '+' : c == '_' ? '/' : c;
  while (std64.size() % 4) std64 += '=';
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t i = 0; i < std64.size(); i += 64) out += std64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

// json.dumps(obj) of Python: ", " and ": " separators, non-ASCII escaped (keys here are ASCII).
std::string python_json(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out += (first ? "" : ", ") + nlohmann::ordered_json(it.key()).dump() + ": " +
             python_json(it.value());
      first = false;
    }
    return out + "}";
  }
  if (j.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + python_json(j[i]);
    return out + "]";
  }
  return j.dump();
}

std::string std_base64(const std::string& bytes) {
  std::string b64 = jose::base64url_encode(bytes), out;
  for (char c : b64) out += c == '-' ? '+' : c == '_' ? '/' : c;
  while (out.size() % 4) out += '=';
  return out;
}

}  // namespace

const std::vector<Forgery>& all_forgeries() {
  static const std::vector<Forgery> v = {
      {Kind::kUnknownKid, "unknown-kid", "RFC 7515 §5.2",
       "signed by an unknown key under an unpublished kid", kSignature},
      {Kind::kForeignKeyRealKid, "foreign-key-real-kid", "RFC 7515 §5.2",
       "signed by a foreign key under the issuer's real kid", kSignature},
      {Kind::kNoKid, "no-kid", "RFC 7515 §5.2", "signed by a foreign key, no kid header",
       kSignature},
      {Kind::kHs256PublicKey, "hs256-public-key", "RFC 8725 §3.1",
       "HS256 keyed with the issuer's public key (algorithm confusion)", kAlgConfusion},
      {Kind::kEmbeddedJwk, "embedded-jwk", "RFC 8725 §3.10",
       "verification key carried in the jwk header", kKeyLocation},
      {Kind::kJku, "jku-header", "RFC 8725 §3.10",
       "verification keys fetched from a jku URL in the token", kKeyLocation},
      {Kind::kX5u, "x5u-header", "RFC 8725 §3.10",
       "verification certificate fetched from an x5u URL in the token", kKeyLocation},
      {Kind::kX5c, "x5c-header", "RFC 8725 §3.10",
       "verification certificate carried in the x5c header", kKeyLocation},
      {Kind::kAlgNone, "alg-none", "RFC 8725 §3.2", "unsecured: alg none in every letter case",
       kAlgNone},
      {Kind::kTamperedPayload, "tampered-payload", "RFC 7515 §5.2", "claims altered after signing",
       kSignature},
      {Kind::kEmptySignature, "empty-signature", "RFC 7515 §5.2", "the signature removed",
       kSignature},
      {Kind::kAttackerIssuer, "attacker-issuer", "RFC 8725 §3.8",
       "an issuer nobody configured, whose keys its discovery names",
       "When a JWT contains an \"iss\" (issuer) claim, the application MUST validate that the "
       "cryptographic keys used for the "
       "cryptographic operations in the JWT belong to the issuer. (RFC 8725 §3.8) Only configured "
       "issuers are trusted: keys "
       "found by following an unknown iss to its discovery document belong to whoever wrote the "
       "token."},
  };
  return v;
}

std::string sign_with(const jose::Key& key, const Json& header, const Json& claims) {
  Json h = header;
  if (!h.contains("alg")) h["alg"] = std::string(jose::to_string(key.alg()));
  const std::string input =
      jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(claims.dump());
  auto sig = jose::sign_bytes(key, input);
  return input + "." + (sig ? jose::base64url_encode(*sig) : std::string());
}

const nlohmann::ordered_json* published_key_for(const std::string& token, const Materials& m) {
  if (m.published.empty()) return nullptr;
  auto d = jose::decode_unverified(token);
  const std::string kid = d && d->first.contains("kid") && d->first["kid"].is_string()
                              ? d->first["kid"].get<std::string>()
                              : "";
  for (const auto& k : m.published)
    if (k.contains("kid") && k["kid"].is_string() && k["kid"].get<std::string>() == kid) return &k;
  return &m.published.front();
}

std::vector<std::string> make(Kind kind, const std::string& valid, const Materials& m) {
  auto p = parts_of(valid);
  if (!p) return {};
  const Json& h = p->header;
  const Json& c = p->claims;
  const std::string real_kid =
      h.contains("kid") && h["kid"].is_string() ? h["kid"].get<std::string>() : "";
  std::vector<std::string> out;
  const jose::Key* s = m.stranger;
  switch (kind) {
    case Kind::kUnknownKid: {
      if (!s) break;
      Json hh = base_header(h);
      hh["kid"] = "txlab-conformance-unknown-kid";
      out.push_back(sign_with(*s, hh, c));
      break;
    }
    case Kind::kForeignKeyRealKid: {
      if (!s || real_kid.empty()) break;
      Json hh = base_header(h);
      hh["kid"] = real_kid;
      out.push_back(sign_with(*s, hh, c));
      break;
    }
    case Kind::kNoKid: {
      if (!s) break;
      out.push_back(sign_with(*s, base_header(h), c));
      break;
    }
    case Kind::kHs256PublicKey: {
      const nlohmann::ordered_json* pub = published_key_for(valid, m);
      if (!pub) break;
      std::string err;
      auto key = jose::Key::from_jwk(Json::parse(pub->dump()), &err);
      Json hh = base_header(h);
      hh["alg"] = "HS256";
      if (!real_kid.empty()) hh["kid"] = real_kid;
      // The key's text as the server may hold it: the JWK as published (compact, or with the
      // separators of Python's json.dumps), sorted, and the key's PEM/DER/raw forms.
      std::vector<std::string> secrets = {
          pub->dump(), Json::parse(pub->dump()).dump(), python_json(*pub),
          python_json(nlohmann::ordered_json::parse(Json::parse(pub->dump()).dump()))};
      if (key) {
        const std::string pem = key->public_pem();
        secrets.push_back(pem);
        if (!pem.empty() && pem.back() == '\n') secrets.push_back(pem.substr(0, pem.size() - 1));
        secrets.push_back(key->public_der());
        secrets.push_back(key->public_jwk().dump());
        secrets.push_back(key->public_raw());
      }
      for (size_t i = 0; i < secrets.size(); ++i) {
        bool dup = false;
        for (size_t j = 0; j < i; ++j) dup = dup || secrets[j] == secrets[i];
        if (!dup && !secrets[i].empty()) out.push_back(hs256(secrets[i], hh, c));
      }
      break;
    }
    case Kind::kEmbeddedJwk: {
      if (!s) break;
      Json hh = base_header(h);
      Json jwk = s->public_jwk();
      hh["jwk"] = jwk;
      hh["kid"] = s->kid();
      out.push_back(sign_with(*s, hh, c));
      Json real = base_header(h);  // the same key, the issuer's kid
      real["jwk"] = jwk;
      if (!real_kid.empty()) real["kid"] = real_kid;
      out.push_back(sign_with(*s, real, c));
      break;
    }
    case Kind::kJku: {
      if (!s || m.attacker_jwks_url.empty()) break;
      Json hh = base_header(h);
      hh["jku"] = m.attacker_jwks_url;
      hh["kid"] = s->kid();
      out.push_back(sign_with(*s, hh, c));
      break;
    }
    case Kind::kX5u: {
      if (!s || m.attacker_x5u_url.empty()) break;
      Json hh = base_header(h);
      hh["x5u"] = m.attacker_x5u_url;
      out.push_back(sign_with(*s, hh, c));
      break;
    }
    case Kind::kX5c: {
      if (!s || m.stranger_cert_der.empty()) break;
      Json hh = base_header(h);
      hh["x5c"] = Json::array({std_base64(m.stranger_cert_der)});
      out.push_back(sign_with(*s, hh, c));
      break;
    }
    case Kind::kAlgNone: {
      for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        Json hh = base_header(h);
        hh["alg"] = alg;
        out.push_back(unsigned_token(hh, c));
      }
      break;
    }
    case Kind::kTamperedPayload: {
      Json c1 = c;
      c1["sub"] = "txlab-conformance-attacker";
      out.push_back(p->header_b64 + "." + jose::base64url_encode(c1.dump()) + "." +
                    p->signature_b64);
      Json c2 = c;
      if (c2.contains("exp") && c2["exp"].is_number_integer())
        c2["exp"] = c2["exp"].get<int64_t>() + 86400;
      c2["scope"] = c.value("scope", std::string()) + (c.contains("scope") ? " " : "") +
                    "txlab-conformance-admin";
      out.push_back(p->header_b64 + "." + jose::base64url_encode(c2.dump()) + "." +
                    p->signature_b64);
      break;
    }
    case Kind::kEmptySignature: {
      out.push_back(p->header_b64 + "." + p->payload_b64 + ".");
      break;
    }
    case Kind::kAttackerIssuer: {
      if (!s || m.attacker_issuer.empty()) break;
      Json hh = base_header(h);
      hh["kid"] = s->kid();
      Json cc = c;
      cc["iss"] = m.attacker_issuer;
      out.push_back(sign_with(*s, hh, cc));
      break;
    }
  }
  return out;
}

// Referenced by the attacker's document server.
std::string certificate_pem(const std::string& der) { return pem_of_der(der, "CERTIFICATE"); }

}  // namespace txlab::conformance::forge
