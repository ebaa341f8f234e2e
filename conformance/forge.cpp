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

namespace {

// What every forgery is made from: the valid token, its parts, its kid, the materials.
struct Source {
  const std::string& valid;
  const Parts& p;
  const std::string& real_kid;
  const Materials& m;
  const Json& h() const { return p.header; }
  const Json& c() const { return p.claims; }
};

using Maker = std::vector<std::string> (*)(const Source& s);

// Signed by the stranger, under a kid (or key location) of the forger's choosing.
std::vector<std::string> unknown_kid(const Source& s) {
  if (!s.m.stranger) return {};
  Json hh = base_header(s.h());
  hh["kid"] = "txlab-conformance-unknown-kid";
  return {sign_with(*s.m.stranger, hh, s.c())};
}

std::vector<std::string> foreign_key_real_kid(const Source& s) {
  if (!s.m.stranger || s.real_kid.empty()) return {};
  Json hh = base_header(s.h());
  hh["kid"] = s.real_kid;
  return {sign_with(*s.m.stranger, hh, s.c())};
}

std::vector<std::string> no_kid(const Source& s) {
  if (!s.m.stranger) return {};
  return {sign_with(*s.m.stranger, base_header(s.h()), s.c())};
}

std::vector<std::string> hs256_public_key(const Source& s) {
  const nlohmann::ordered_json* pub = published_key_for(s.valid, s.m);
  if (!pub) return {};
  std::string err;
  auto key = jose::Key::from_jwk(Json::parse(pub->dump()), &err);
  Json hh = base_header(s.h());
  hh["alg"] = "HS256";
  if (!s.real_kid.empty()) hh["kid"] = s.real_kid;
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
  std::vector<std::string> out;
  for (size_t i = 0; i < secrets.size(); ++i) {
    bool dup = false;
    for (size_t j = 0; j < i; ++j) dup = dup || secrets[j] == secrets[i];
    if (!dup && !secrets[i].empty()) out.push_back(hs256(secrets[i], hh, s.c()));
  }
  return out;
}

std::vector<std::string> embedded_jwk(const Source& s) {
  const jose::Key* k = s.m.stranger;
  if (!k) return {};
  Json hh = base_header(s.h());
  Json jwk = k->public_jwk();
  hh["jwk"] = jwk;
  hh["kid"] = k->kid();
  std::vector<std::string> out = {sign_with(*k, hh, s.c())};
  Json real = base_header(s.h());  // the same key, the issuer's kid
  real["jwk"] = jwk;
  if (!s.real_kid.empty()) real["kid"] = s.real_kid;
  out.push_back(sign_with(*k, real, s.c()));
  return out;
}

std::vector<std::string> jku(const Source& s) {
  if (!s.m.stranger || s.m.attacker_jwks_url.empty()) return {};
  Json hh = base_header(s.h());
  hh["jku"] = s.m.attacker_jwks_url;
  hh["kid"] = s.m.stranger->kid();
  return {sign_with(*s.m.stranger, hh, s.c())};
}

std::vector<std::string> x5u(const Source& s) {
  if (!s.m.stranger || s.m.attacker_x5u_url.empty()) return {};
  Json hh = base_header(s.h());
  hh["x5u"] = s.m.attacker_x5u_url;
  return {sign_with(*s.m.stranger, hh, s.c())};
}

std::vector<std::string> x5c(const Source& s) {
  if (!s.m.stranger || s.m.stranger_cert_der.empty()) return {};
  Json hh = base_header(s.h());
  hh["x5c"] = Json::array({std_base64(s.m.stranger_cert_der)});
  return {sign_with(*s.m.stranger, hh, s.c())};
}

std::vector<std::string> attacker_issuer(const Source& s) {
  if (!s.m.stranger || s.m.attacker_issuer.empty()) return {};
  Json hh = base_header(s.h());
  hh["kid"] = s.m.stranger->kid();
  Json cc = s.c();
  cc["iss"] = s.m.attacker_issuer;
  return {sign_with(*s.m.stranger, hh, cc)};
}

// Unsigned, or the issuer's signature kept over other bytes.
std::vector<std::string> alg_none(const Source& s) {
  std::vector<std::string> out;
  for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
    Json hh = base_header(s.h());
    hh["alg"] = alg;
    out.push_back(unsigned_token(hh, s.c()));
  }
  return out;
}

std::vector<std::string> tampered_payload(const Source& s) {
  const Json& c = s.c();
  Json c1 = c;
  c1["sub"] = "txlab-conformance-attacker";
  std::vector<std::string> out = {s.p.header_b64 + "." + jose::base64url_encode(c1.dump()) + "." +
                                  s.p.signature_b64};
  Json c2 = c;
  if (c2.contains("exp") && c2["exp"].is_number_integer())
    c2["exp"] = c2["exp"].get<int64_t>() + 86400;
  c2["scope"] = c.value("scope", std::string()) + (c.contains("scope") ? " " : "") +
                "txlab-conformance-admin";
  out.push_back(s.p.header_b64 + "." + jose::base64url_encode(c2.dump()) + "." + s.p.signature_b64);
  return out;
}

std::vector<std::string> empty_signature(const Source& s) {
  return {s.p.header_b64 + "." + s.p.payload_b64 + "."};
}

// Signature edge cases, made from the valid token without any key.
std::vector<std::string> psychic_signature(const Source& s) {
  Json hh = base_header(s.h());
  hh["alg"] = "ES256";
  if (!s.real_kid.empty()) hh["kid"] = s.real_kid;
  const std::string n(reinterpret_cast<const char*>(kP256Order), sizeof kP256Order);
  return {unsigned_token(hh, s.c(), jose::base64url_encode(std::string(64, '\0'))),
          unsigned_token(hh, s.c(), jose::base64url_encode(n + n))};
}

std::vector<std::string> truncated_signature(const Source& s) {
  const std::string sig = jose::base64url_decode(s.p.signature_b64).value_or("");
  if (sig.size() < 2) return {};
  const std::string input = s.p.header_b64 + "." + s.p.payload_b64 + ".";
  return {input + jose::base64url_encode(sig.substr(0, sig.size() - 1)),
          input + jose::base64url_encode(sig + std::string(1, '\0'))};
}

std::vector<std::string> der_signature(const Source& s) {
  const std::string alg = s.h().value("alg", std::string());
  const std::string sig = jose::base64url_decode(s.p.signature_b64).value_or("");
  if (alg.rfind("ES", 0) != 0 || sig.size() < 2 || sig.size() % 2) return {};
  const std::string body =
      der_integer(sig.substr(0, sig.size() / 2)) + der_integer(sig.substr(sig.size() / 2));
  if (body.size() > 127) return {};
  const std::string der = std::string("\x30") + static_cast<char>(body.size()) + body;
  return {s.p.header_b64 + "." + s.p.payload_b64 + "." + jose::base64url_encode(der)};
}

// Serialization differentials: the valid token, not as one JWS Compact Serialization.
std::vector<std::string> extra_segments(const Source& s) {
  return {s.valid + ".", s.valid + "." + jose::base64url_encode("{}"), s.valid + ".."};
}

std::vector<std::string> json_serialization(const Source& s) {
  const Parts& p = s.p;
  Json flat = {
      {"protected", p.header_b64}, {"payload", p.payload_b64}, {"signature", p.signature_b64}};
  Json general = {
      {"payload", p.payload_b64},
      {"signatures", Json::array({{{"protected", p.header_b64}, {"signature", p.signature_b64}}})}};
  return {flat.dump(), general.dump()};
}

std::vector<std::string> non_canonical_base64(const Source& s) {
  // The same signature octets, only their encoding differs: a lenient decoder verifies them.
  std::vector<std::string> out;
  const std::string input = s.p.header_b64 + "." + s.p.payload_b64 + ".";
  const std::string& sig = s.p.signature_b64;
  std::string padded = sig;
  while (padded.size() % 4) padded += '=';
  if (padded != sig) out.push_back(input + padded);
  std::string standard = sig;
  for (auto& c : standard) c = c == '-' ? '+' : c == '_' ? '/' : c;
  if (standard != sig) out.push_back(input + standard);
  if (sig.size() > 8)
    out.push_back(input + sig.substr(0, sig.size() / 2) + " " + sig.substr(sig.size() / 2));
  return out;
}

// Every kind and how it is made.
constexpr std::pair<Kind, Maker> kMakers[] = {
    {Kind::kUnknownKid, unknown_kid},
    {Kind::kForeignKeyRealKid, foreign_key_real_kid},
    {Kind::kNoKid, no_kid},
    {Kind::kHs256PublicKey, hs256_public_key},
    {Kind::kEmbeddedJwk, embedded_jwk},
    {Kind::kJku, jku},
    {Kind::kX5u, x5u},
    {Kind::kX5c, x5c},
    {Kind::kAlgNone, alg_none},
    {Kind::kTamperedPayload, tampered_payload},
    {Kind::kEmptySignature, empty_signature},
    {Kind::kAttackerIssuer, attacker_issuer},
    {Kind::kPsychicSignature, psychic_signature},
    {Kind::kTruncatedSignature, truncated_signature},
    {Kind::kDerSignature, der_signature},
    {Kind::kExtraSegments, extra_segments},
    {Kind::kJsonSerialization, json_serialization},
    {Kind::kNonCanonicalBase64, non_canonical_base64},
};

}  // namespace

std::vector<std::string> make(Kind kind, const std::string& valid, const Materials& m) {
  auto p = parts_of(valid);
  if (!p) return {};
  const Json& h = p->header;
  const std::string real_kid =
      h.contains("kid") && h["kid"].is_string() ? h["kid"].get<std::string>() : "";
  const Source source{valid, *p, real_kid, m};
  for (const auto& [k, maker] : kMakers)
    if (k == kind) return maker(source);
  return {};
}

// Referenced by the attacker's document server.
std::string certificate_pem(const std::string& der) { return pem_of_der(der, "CERTIFICATE"); }

}  // namespace txlab::conformance::forge
