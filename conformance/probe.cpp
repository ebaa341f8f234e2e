// Probe: HTTP to the server under test, request building, answer decoding.
#include "conformance/probe.h"

#include <atomic>
#include <chrono>
#include <regex>
#include <utility>

#include "sim/enum_names.h"
#include "sim/http/message.h"
#include "sim/http/server.h"
#include "sim/jose/base64url.h"
#include "sim/jose/dpop.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

namespace {
constexpr const char* kGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr const char* kAccessToken = "urn:ietf:params:oauth:token-type:access_token";
constexpr size_t kWireSideMax = 4096;

std::string bounded(std::string s) {
  if (s.size() <= kWireSideMax) return s;
  const size_t more = s.size() - kWireSideMax;
  s.resize(kWireSideMax);
  return s + "… (" + std::to_string(more) + " more bytes)";
}

// Authorization: Basic keeps the client id readable and drops the password (RFC 6749 §2.3.1);
// any other scheme keeps its name only when it carries a secret-looking value.
std::string redacted_authorization(const std::string& value) {
  if (value.size() > 6 && http::iequals(std::string_view(value).substr(0, 6), "basic ")) {
    std::string b64 = value.substr(6);
    for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    const auto decoded = jose::base64url_decode(b64);
    if (!decoded) return value + "   [not base64]";
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return value + "   [no ':' in the decoded value]";
    return "Basic [redacted; decodes to id " + Json(decoded->substr(0, colon)).dump() + " and a " +
           std::to_string(decoded->size() - colon - 1) + "-byte password]";
  }
  return value;
}

// A form-encoded text with client_secret values redacted (as sent when it is not a form).
std::string redacted_form(const std::string& text) {
  auto form = http::parse_form(text);
  if (!form) return text;
  bool secret = false;
  for (auto& [k, v] : *form)
    if (k == "client_secret") {
      v = "[redacted]";
      secret = true;
    }
  return secret ? http::encode_form(*form) : text;
}

std::string request_text(const std::string& base, const http::OutboundRequest& req) {
  std::string host = base;
  if (const size_t p = host.find("://"); p != std::string::npos) host = host.substr(p + 3);
  std::string target = req.path;
  if (const size_t q = target.find('?'); q != std::string::npos)
    target = target.substr(0, q + 1) + redacted_form(target.substr(q + 1));
  std::string out = req.method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  if (!req.content_type.empty()) out += "Content-Type: " + req.content_type + "\r\n";
  for (const auto& [k, v] : req.headers)
    out += k + ": " + (http::iequals(k, "Authorization") ? redacted_authorization(v) : v) + "\r\n";
  return out + "\r\n" + redacted_form(req.body);
}

std::string response_text(const http::InboundResponse& res) {
  if (res.status == 0) return "(no answer: " + std::string(http::to_string(res.error)) + ")";
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + "\r\n";
  for (const auto& [k, v] : res.headers) out += k + ": " + v + "\r\n";
  return out + "\r\n" + res.body;
}
}  // namespace

constexpr EnumName<Level> kLevelNames[] = {
    {Level::kMust, "MUST"},
    {Level::kShould, "SHOULD"},
    {Level::kMay, "MAY"},
    {Level::kNone, "NONE"},
};
static_assert(covers_in_order(kLevelNames, Level::kNone));

std::string_view to_string(Level l) { return name_of(kLevelNames, l, "?"); }

constexpr EnumName<Binds> kBindsNames[] = {
    {Binds::kServer, "authorization server"}, {Binds::kClient, "client"},
    {Binds::kProducer, "token producer"},     {Binds::kResourceServer, "resource server"},
    {Binds::kLibrary, "JOSE library"},
};
static_assert(covers_in_order(kBindsNames, Binds::kLibrary));

std::string_view to_string(Binds b) { return name_of(kBindsNames, b, "?"); }

constexpr EnumName<Grade> kGradeNames[] = {
    {Grade::kOk, "OK"},
    {Grade::kNonStrict, "NON-STRICT"},
    {Grade::kInformational, "INFORMATIONAL"},
    {Grade::kUnimplemented, "UNIMPLEMENTED"},
    {Grade::kFailed, "FAILED"},
};
static_assert(covers_in_order(kGradeNames, Grade::kFailed));

std::string_view to_string(Grade g) { return name_of(kGradeNames, g, "?"); }

constexpr EnumName<Profile> kProfileNames[] = {
    {Profile::kRfc8693, "rfc8693"},
    {Profile::kCommon, "common"},
    {Profile::kKeycloak, "keycloak"},
};
static_assert(covers_in_order(kProfileNames, Profile::kKeycloak));

std::string_view to_string(Profile p) { return name_of(kProfileNames, p, "?"); }

std::optional<Profile> profile_from_string(std::string_view s) {
  return value_of(kProfileNames, s);
}

bool split_url(const std::string& url, std::string* base, std::string* path) {
  static const std::regex kUrl(R"(^(https?://[^/?#]+)([^#]*)$)");
  std::smatch m;
  if (!std::regex_match(url, m, kUrl)) return false;
  *base = m[1];
  *path = m[2].length() ? std::string(m[2]) : "/";
  return true;
}

http::FormParams without(http::FormParams f, const std::string& name) {
  f.erase(std::remove_if(f.begin(), f.end(), [&](const auto& kv) { return kv.first == name; }),
          f.end());
  return f;
}

http::FormParams with(http::FormParams f, const std::string& name, const std::string& value) {
  f.emplace_back(name, value);
  return f;
}

http::FormParams replaced(http::FormParams f, const std::string& name, const std::string& value) {
  return with(without(std::move(f), name), name, value);
}

std::string Answer::error() const { return json_str(body, "error"); }

std::string Answer::describe() const {
  if (status == 0) return "no answer (" + transport_error + ")";
  std::string s = std::to_string(status);
  if (!json()) return s + " with a non-JSON body";
  if (auto e = error(); !e.empty()) s += " " + e;
  return s;
}

std::optional<std::pair<Json, Json>> Answer::issued_jwt() const {
  const std::string t = json_str(body, "access_token");
  if (t.empty()) return std::nullopt;
  return jose::decode_unverified(t);
}

// The attacker's side: a stranger key and a loopback server with its JWKS (jku) and
// certificate (x5u). A target that fetches them is counted.
struct Probe::Attacker {
  jose::Key stranger = jose::Key::generate(jose::Alg::kES256);
  http::LoopbackServer server;
  std::atomic<size_t> fetches{0};
  forge::Materials materials;
};

Probe::Probe(const Target& target)
    : target_(target), pool_(http::ClientOptions{target.timeout_ms, target.timeout_ms, 4}) {
  if (!split_url(target.token_endpoint, &base_, &path_)) base_.clear();
  if (!target.tls_ca_pem.empty()) pool_.set_tls({target.tls_ca_pem, "", ""});
  if (target.mtls && target.mtls->client_id == target.exchanger.id) default_auth_ = Auth::kTls;
}

Answer Probe::post_mtls(const http::FormParams& form, TlsCert cert,
                        std::vector<std::pair<std::string, std::string>> headers) {
  if (!target_.mtls) {
    Answer a;
    a.transport_error = "no mutual-TLS client configured";
    return a;
  }
  const MtlsClient& m = *target_.mtls;
  auto& pool = mtls_pools_[cert];
  if (!pool) {
    pool = std::make_unique<http::HttpClientPool>(
        http::ClientOptions{target_.timeout_ms, target_.timeout_ms, 2});
    http::ClientOptions::Tls tls{target_.tls_ca_pem, "", ""};
    if (cert == TlsCert::kRegistered) tls = {target_.tls_ca_pem, m.cert_pem, m.key_pem};
    if (cert == TlsCert::kWrongSubject)
      tls = {target_.tls_ca_pem, m.wrong_subject_cert_pem, m.wrong_subject_key_pem};
    if (cert == TlsCert::kUntrusted)
      tls = {target_.tls_ca_pem, m.untrusted_cert_pem, m.untrusted_key_pem};
    pool->set_tls(std::move(tls));
  }
  return send(with(form, "client_id", m.client_id), std::move(headers), pool.get());
}

Probe::~Probe() {
  if (attacker_) attacker_->server.stop();
}

const forge::Materials& Probe::materials() {
  if (attacker_) return attacker_->materials;
  attacker_ = std::make_unique<Attacker>();
  Attacker& a = *attacker_;
  a.stranger.set_kid("txlab-conformance-stranger");
  const std::string cert = a.stranger.self_signed_cert_der("txlab conformance stranger");
  const std::string jwks = Json{{"keys", Json::array({a.stranger.public_jwk()})}}.dump();
  const std::string pem = forge::certificate_pem(cert);
  a.server.routes().get("/jwks.json", [&a, jwks](const http::Request&, http::Response& res) {
    ++a.fetches;
    res.set_content(jwks, "application/json");
  });
  a.server.routes().get("/cert.pem", [&a, pem](const http::Request&, http::Response& res) {
    ++a.fetches;
    res.set_content(pem, "application/pem-certificate-chain");
  });
  // An issuer nobody configured: discovery under the attacker's base names the stranger's JWKS.
  auto discovery = [&a](const http::Request&, http::Response& res) {
    ++a.fetches;
    const std::string base = a.server.base_url();
    res.set_content(Json{{"issuer", base},
                         {"jwks_uri", base + "/jwks.json"},
                         {"token_endpoint", base + "/token"}}
                        .dump(),
                    "application/json");
  };
  a.server.routes().get("/.well-known/openid-configuration", discovery);
  a.server.routes().get("/.well-known/oauth-authorization-server", discovery);
  a.server.start();
  a.materials.attacker_issuer = a.server.base_url();
  a.materials.stranger = &a.stranger;
  a.materials.stranger_cert_der = cert;
  a.materials.attacker_jwks_url = a.server.base_url() + "/jwks.json";
  a.materials.attacker_x5u_url = a.server.base_url() + "/cert.pem";
  // The subject issuer's published keys, member order kept (HMAC secrets are the key's text).
  for (const auto& uri : target_.subject_jwks_uris) {
    auto j = nlohmann::ordered_json::parse(get(uri), nullptr, false);
    if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array()) continue;
    for (const auto& k : j["keys"])
      if (k.is_object()) a.materials.published.push_back(k);
  }
  return a.materials;
}

size_t Probe::attacker_fetches() const { return attacker_ ? attacker_->fetches.load() : 0; }

std::string Probe::get(const std::string& url) {
  std::string base, path;
  if (!split_url(url, &base, &path)) return {};
  http::OutboundRequest req;
  req.path = path;
  auto res = pool_.send(base, req);
  return res.status == 200 ? res.body : std::string();
}

const Answer& Probe::once(const std::string& key, const std::function<Answer()>& compute) {
  auto it = memo_.find(key);
  if (it != memo_.end()) {
    record(it->second.wire);
    return it->second;
  }
  return memo_.emplace(key, compute()).first->second;
}

void Probe::record(const std::shared_ptr<const WireExchange>& w) {
  if (!w) return;
  if (transcript_.size() == kTranscriptMax) {
    transcript_.erase(transcript_.begin());
    ++transcript_dropped_;
  }
  transcript_.push_back(*w);
}

void Probe::begin_case() {
  transcript_.clear();
  transcript_dropped_ = 0;
}

std::vector<WireExchange> Probe::take_transcript(size_t* dropped) {
  *dropped = transcript_dropped_;
  transcript_dropped_ = 0;
  return std::exchange(transcript_, {});
}

std::optional<std::string> Probe::actor_token(std::string* error) {
  if (!target_.actor_token) {
    *error = "no way to obtain an actor token";
    return std::nullopt;
  }
  return target_.actor_token(error);
}

std::optional<http::FormParams> Probe::valid_exchange(std::string* error) {
  if (!target_.subject_token) {
    *error = "no way to obtain a subject token";
    return std::nullopt;
  }
  auto token = target_.subject_token(error);
  if (!token) return std::nullopt;
  auto d = jose::decode_unverified(*token);
  subject_claims_ = d ? d->second : Json::object();
  http::FormParams f = {
      {"grant_type", kGrant}, {"subject_token", *token}, {"subject_token_type", kAccessToken}};
  if (!target_.audience.empty()) f.emplace_back("audience", target_.audience);
  return f;
}

Answer Probe::post(const http::FormParams& form, Auth auth, const Credentials* credentials,
                   std::vector<std::pair<std::string, std::string>> extra) {
  const Credentials& c = credentials ? *credentials : target_.exchanger;
  if (auth == Auth::kDefault)
    // Another client than a certificate-authenticated exchanger uses its secret (Basic).
    auth = default_auth_ == Auth::kTls && credentials && credentials->id != target_.exchanger.id
               ? Auth::kBasic
               : default_auth_;
  if (auth == Auth::kTls) return post_mtls(form, TlsCert::kRegistered, std::move(extra));
  http::FormParams f = form;
  std::vector<std::pair<std::string, std::string>> headers = std::move(extra);
  if (auth == Auth::kBasic)
    headers.emplace_back("Authorization", http::basic_authorization(c.id, c.secret));
  if (auth == Auth::kPost) {
    f.emplace_back("client_id", c.id);
    f.emplace_back("client_secret", c.secret);
  }
  return send(f, std::move(headers));
}

Answer Probe::post_basic_raw(const http::FormParams& form, const std::string& userpass) {
  return send(form, {{"Authorization", "Basic " + http::base64_encode(userpass)}});
}

Answer Probe::post_with(const http::FormParams& form,
                        const std::vector<std::pair<std::string, std::string>>& extra) {
  const Credentials& c = target_.exchanger;
  if (default_auth_ == Auth::kTls) return post_mtls(form, TlsCert::kRegistered, extra);
  http::FormParams f = form;
  std::vector<std::pair<std::string, std::string>> headers = extra;
  if (default_auth_ == Auth::kBasic)
    headers.emplace_back("Authorization", http::basic_authorization(c.id, c.secret));
  if (default_auth_ == Auth::kPost) {
    f.emplace_back("client_id", c.id);
    f.emplace_back("client_secret", c.secret);
  }
  return send(f, std::move(headers));
}

Answer Probe::post_authorization(const http::FormParams& form, const std::string& authorization) {
  if (authorization.empty()) return send(form, {});
  return send(form, {{"Authorization", authorization}});
}

Answer Probe::send(const http::FormParams& form,
                   std::vector<std::pair<std::string, std::string>> headers,
                   http::HttpClientPool* via) {
  Answer a;
  if (base_.empty()) {
    a.transport_error = "token endpoint is not an http(s) URL";
    return a;
  }
  http::OutboundRequest req;
  req.method = "POST";
  req.path = path_;
  req.content_type = "application/x-www-form-urlencoded";
  req.headers = std::move(headers);
  req.headers.emplace_back("Accept", "application/json");
  req.body = http::encode_form(form);
  return send_request(std::move(req), via);
}

std::string Probe::dpop_proof() {
  if (!dpop_key_) dpop_key_ = std::make_unique<jose::Key>(jose::Key::generate(jose::Alg::kES256));
  static std::atomic<uint64_t> n{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return jose::dpop::make(*dpop_key_, "POST", token_endpoint_url(), now,
                          "txlab-probe-" + std::to_string(n.fetch_add(1)), {},
                          scratch("dpop-nonce"));
}

Answer Probe::send_raw(const std::string& method, const std::string& query, const std::string& body,
                       const std::string& content_type,
                       std::vector<std::pair<std::string, std::string>> headers) {
  if (base_.empty()) {
    Answer a;
    a.transport_error = "token endpoint is not an http(s) URL";
    return a;
  }
  http::OutboundRequest req;
  req.method = method;
  req.path = path_ + (query.empty() ? "" : "?" + query);
  req.content_type = content_type;
  req.headers = std::move(headers);
  req.headers.emplace_back("Accept", "application/json");
  req.body = body;
  return send_request(std::move(req), nullptr);
}

Answer Probe::send_request(http::OutboundRequest req, http::HttpClientPool* via) {
  bool has_proof = false;
  for (const auto& [k, v] : req.headers) has_proof = has_proof || http::iequals(k, "DPoP");
  if (!target_.exchanger_dpop || has_proof || suppress_proof_ || req.method != "POST")
    return send_once(std::move(req), via);
  // A DPoP-bound exchanger (RFC 9449 §5.2): every request carries a proof, retried once with
  // the server's nonce (§8).
  http::OutboundRequest first = req;
  first.headers.emplace_back("DPoP", dpop_proof());
  Answer a = send_once(std::move(first), via);
  if (a.status == 400 && a.error() == "use_dpop_nonce" && !a.dpop_nonce.empty()) {
    scratch("dpop-nonce") = a.dpop_nonce;
    req.headers.emplace_back("DPoP", dpop_proof());
    a = send_once(std::move(req), via);
  }
  return a;
}

Answer Probe::post_without_proof(const http::FormParams& form, const Credentials& c) {
  suppress_proof_ = true;
  Answer a = post(form, Auth::kBasic, &c);
  suppress_proof_ = false;
  return a;
}

Answer Probe::send_once(http::OutboundRequest req, http::HttpClientPool* via) {
  Answer a;
  auto res = (via ? *via : pool_).send(base_, req);
  ++requests_;
  a.wire = std::make_shared<WireExchange>(
      WireExchange{bounded(request_text(base_, req)), bounded(response_text(res))});
  record(a.wire);
  a.status = res.status;
  a.transport_error = std::string(http::to_string(res.error));
  a.raw = res.body.size() > 65536 ? res.body.substr(0, 65536) : res.body;
  a.body = Json::parse(res.body, nullptr, false);
  a.content_type = res.header("Content-Type");
  a.cache_control = res.header("Cache-Control");
  a.pragma = res.header("Pragma");
  a.www_authenticate = res.header("WWW-Authenticate");
  a.dpop_nonce = res.header("DPoP-Nonce");
  if (a.timed_out()) ++timeouts_;
  if (a.json() && a.status >= 400) {
    for (const char* member : {"error", "error_description", "error_uri"}) {
      if (!a.body.contains(member)) continue;
      ++error_members_seen_;
      if (!charset_violation_.empty()) continue;
      if (!a.body[member].is_string()) {
        charset_violation_ = a.describe() + ": " + member + " is " + a.body[member].dump();
        continue;
      }
      for (unsigned char c : a.body[member].get<std::string>())
        if (!(c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E))) {
          charset_violation_ = a.describe() + ": " + member + " " + a.body[member].dump();
          break;
        }
    }
  }
  return a;
}

const std::vector<Json>& Probe::jwks() {
  if (jwks_) return *jwks_;
  jwks_.emplace();
  for (const auto& uri : target_.jwks_uris) {
    auto j = Json::parse(get(uri), nullptr, false);
    if (j.is_object()) jwks_->push_back(j);
  }
  return *jwks_;
}

}  // namespace txlab::conformance
