// Forgeries for the negative probe families.
#include "conformance/forge.h"

#include <cctype>
#include <cstdio>

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"

namespace txlab::conformance::forge {

using Json = nlohmann::json;

namespace {

const char* kSignature =
    "However, in all cases, at least one JWS Signature value MUST successfully validate, or the "
    "JWS MUST be considered invalid. ... Validate the JWS Signature against the JWS Signing Input "
    "ASCII(BASE64URL(UTF8(JWS Protected Header)) || '.' || BASE64URL(JWS Payload)) in the manner "
    "defined for the algorithm being used, which MUST be accurately represented by the value of "
    "the \"alg\" (algorithm) Header Parameter, which MUST be present.";
// A key or key location carried in the token is the forger's: the key that signed is not the
// issuer's (RFC 8725 §3.10 adds a SHOULD against fetching jku/x5u URLs at all).
const char* kKeysBelongToIssuer =
    "When a JWT contains an \"iss\" (issuer) claim, the application MUST validate that the "
    "cryptographic keys used for the cryptographic operations in the JWT belong to the issuer. If "
    "they do not, the application MUST reject the JWT.";
const char* kAlgNone =
    "Implementations that support Unsecured JWSs MUST NOT accept such objects as valid unless the "
    "application specifies that it is acceptable for a specific object to not be integrity "
    "protected. Implementations MUST NOT accept Unsecured JWSs by default.";
const char* kAlgConfusion =
    "each key MUST be used with exactly one algorithm, and this MUST be checked when the "
    "cryptographic operation is performed.";
const char* kEcdsaSignature =
    "The JWS Signature value MUST be a 64-octet sequence. If it is not a 64-octet sequence, the "
    "validation has failed.";
const char* kBase64Strict =
    "If any of the listed steps fails, then the signature or MAC cannot be validated. ... "
    "Base64url-decode the encoded representation of the JWS Signature, following the "
    "restriction that no line breaks, whitespace, or other additional characters have been used. "
    "... However, in all cases, at least one JWS Signature value MUST successfully validate, or "
    "the JWS MUST be considered invalid.";
const char* kCompact =
    "Verify that the JWT contains at least one period ('.') character. ... Determine whether the "
    "JWT is a JWS or a JWE using any of the methods described in Section 9 of [JWE]. ... If any of "
    "the listed steps fail, then the JWT MUST be rejected -- that is, treated by the application "
    "as an invalid input.";

// The order of the P-256 group, big-endian.
const unsigned char kP256Order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51};

// One ASN.1 DER INTEGER of a big-endian unsigned value.
std::string der_integer(std::string v) {
  while (v.size() > 1 && v[0] == '\0') v.erase(0, 1);
  if (!v.empty() && (static_cast<unsigned char>(v[0]) & 0x80)) v.insert(0, 1, '\0');
  return std::string("\x02") + static_cast<char>(v.size()) + v;
}

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
      {Kind::kEmbeddedJwk, "embedded-jwk", "RFC 8725 §3.8",
       "verification key carried in the jwk header", kKeysBelongToIssuer},
      {Kind::kJku, "jku-header", "RFC 8725 §3.8",
       "verification keys fetched from a jku URL in the token", kKeysBelongToIssuer},
      {Kind::kX5u, "x5u-header", "RFC 8725 §3.8",
       "verification certificate fetched from an x5u URL in the token", kKeysBelongToIssuer},
      {Kind::kX5c, "x5c-header", "RFC 8725 §3.8",
       "verification certificate carried in the x5c header", kKeysBelongToIssuer},
      {Kind::kAlgNone, "alg-none", "RFC 7518 §3.6", "unsecured: alg none in every letter case",
       kAlgNone},
      {Kind::kTamperedPayload, "tampered-payload", "RFC 7515 §5.2", "claims altered after signing",
       kSignature},
      {Kind::kEmptySignature, "empty-signature", "RFC 7515 §5.2", "the signature removed",
       kSignature},
      {Kind::kAttackerIssuer, "attacker-issuer", "RFC 8725 §3.8",
       "an issuer nobody configured, whose keys its discovery names", kKeysBelongToIssuer},
      {Kind::kPsychicSignature, "psychic-signature", "RFC 7515 §5.2",
       "an ECDSA signature with r = s = 0 or r = s = n (CVE-2022-21449)", kSignature},
      {Kind::kTruncatedSignature, "truncated-signature", "RFC 7515 §5.2",
       "the valid signature one octet short or one octet long", kSignature},
      {Kind::kDerSignature, "der-signature", "RFC 7518 §3.4",
       "the valid ECDSA signature in ASN.1 DER instead of R || S", kEcdsaSignature},
      {Kind::kExtraSegments, "extra-segments", "RFC 7519 §7.2",
       "the valid token with a fourth or fifth segment appended", kCompact},
      {Kind::kJsonSerialization, "jws-json-serialization", "RFC 7519 §7.2",
       "the valid token in the JWS JSON Serialization", kCompact},
      {Kind::kNonCanonicalBase64, "non-canonical-base64url", "RFC 7515 §5.2",
       "the valid signature encoded with padding, the standard alphabet or a space", kBase64Strict},
  };
  return v;
}

std::string sign_raw(const jose::Key& key, const std::string& header_json,
                     const std::string& payload_json) {
  const std::string input =
      jose::base64url_encode(header_json) + "." + jose::base64url_encode(payload_json);
  auto sig = jose::sign_bytes(key, input);
  return input + "." + (sig ? jose::base64url_encode(*sig) : std::string());
}

std::vector<std::pair<std::string, std::string>> near_misses(const std::string& value) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const char* label, const std::string& v) {
    if (v.empty() || v == value) return;
    for (const auto& [l, o] : out)
      if (o == v) return;
    out.emplace_back(label, v);
  };
  if (value.empty()) return out;
  add("a prefix", value.substr(0, value.size() - 1));
  add("a suffix added", value + "x");
  if (value.size() > 2) add("a substring", value.substr(1, value.size() - 2));
  std::string cased = value;
  for (auto& c : cased)
    c = std::isupper(static_cast<unsigned char>(c))
            ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
            : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  add("another letter case", cased);
  add(value.back() == '/' ? "the trailing slash removed" : "a trailing slash added",
      value.back() == '/' ? value.substr(0, value.size() - 1) : value + "/");
  const size_t scheme = value.find("://");
  for (size_t i = scheme == std::string::npos ? 0 : scheme + 3; i < value.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(value[i]))) continue;
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(value[i]));
    add("one character percent-encoded", value.substr(0, i) + hex + value.substr(i + 1));
    break;
  }
  for (size_t i = value.size(); i-- > 0;) {
    const char c = value[i];
    if (!std::isalnum(static_cast<unsigned char>(c))) continue;
    std::string v = value;
    v[i] = c == 'z' ? 'y' : c == 'Z' ? 'Y' : c == '9' ? '8' : static_cast<char>(c + 1);
    add("one character changed", v);
    break;
  }
  return out;
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
    case Kind::kPsychicSignature: {
      Json hh = base_header(h);
      hh["alg"] = "ES256";
      if (!real_kid.empty()) hh["kid"] = real_kid;
      const std::string n(reinterpret_cast<const char*>(kP256Order), sizeof kP256Order);
      out.push_back(unsigned_token(hh, c, jose::base64url_encode(std::string(64, '\0'))));
      out.push_back(unsigned_token(hh, c, jose::base64url_encode(n + n)));
      break;
    }
    case Kind::kTruncatedSignature: {
      const std::string sig = jose::base64url_decode(p->signature_b64).value_or("");
      if (sig.size() < 2) break;
      const std::string input = p->header_b64 + "." + p->payload_b64 + ".";
      out.push_back(input + jose::base64url_encode(sig.substr(0, sig.size() - 1)));
      out.push_back(input + jose::base64url_encode(sig + std::string(1, '\0')));
      break;
    }
    case Kind::kDerSignature: {
      const std::string alg = h.value("alg", std::string());
      const std::string sig = jose::base64url_decode(p->signature_b64).value_or("");
      if (alg.rfind("ES", 0) != 0 || sig.size() < 2 || sig.size() % 2) break;
      const std::string body =
          der_integer(sig.substr(0, sig.size() / 2)) + der_integer(sig.substr(sig.size() / 2));
      if (body.size() > 127) break;
      const std::string der = std::string("\x30") + static_cast<char>(body.size()) + body;
      out.push_back(p->header_b64 + "." + p->payload_b64 + "." + jose::base64url_encode(der));
      break;
    }
    case Kind::kExtraSegments: {
      out.push_back(valid + ".");
      out.push_back(valid + "." + jose::base64url_encode("{}"));
      out.push_back(valid + "..");
      break;
    }
    case Kind::kJsonSerialization: {
      Json flat = {{"protected", p->header_b64},
                   {"payload", p->payload_b64},
                   {"signature", p->signature_b64}};
      out.push_back(flat.dump());
      Json general = {
          {"payload", p->payload_b64},
          {"signatures",
           Json::array({{{"protected", p->header_b64}, {"signature", p->signature_b64}}})}};
      out.push_back(general.dump());
      break;
    }
    case Kind::kNonCanonicalBase64: {
      // The same signature octets, only their encoding differs: a lenient decoder verifies them.
      const std::string input = p->header_b64 + "." + p->payload_b64 + ".";
      const std::string& sig = p->signature_b64;
      std::string padded = sig;
      while (padded.size() % 4) padded += '=';
      if (padded != sig) out.push_back(input + padded);
      std::string standard = sig;
      for (auto& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
      if (standard != sig) out.push_back(input + standard);
      if (sig.size() > 8)
        out.push_back(input + sig.substr(0, sig.size() / 2) + " " + sig.substr(sig.size() / 2));
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
