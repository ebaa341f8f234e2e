// The seams where deliberate defects (conformance self-check only) bend the AS's behaviour.
#include "actors/as_defects.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/json_util.h"

namespace txlab {

bool is_known_defect(std::string_view name) {
  for (const auto& d : kAsDefects)
    if (d.name == name) return true;
  for (const auto& d : kAsQuirks)
    if (d.name == name) return true;
  for (const auto& d : kEdgeDefects)
    if (d.name == name) return true;
  return false;
}

}  // namespace txlab

namespace txlab::defects {

using Json = nlohmann::json;

namespace {

bool on(const AsDefects& d, std::string_view name) { return has_defect(d, name); }

}  // namespace

std::vector<std::string> on_form(const AsDefects& d, http::FormParams& form) {
  std::vector<std::string> unchecked;
  if (d.empty()) return unchecked;
  auto has = [&](const char* name) {
    return std::any_of(form.begin(), form.end(), [&](const auto& kv) { return kv.first == name; });
  };
  auto erase = [&](const char* name) {
    form.erase(
        std::remove_if(form.begin(), form.end(), [&](const auto& kv) { return kv.first == name; }),
        form.end());
  };
  if (on(d, "token-type-prefix-match"))
    for (auto& [k, v] : form)
      if (k == "subject_token_type" && v != "urn:ietf:params:oauth:token-type:access_token" &&
          (v.find("access_token") != std::string::npos ||
           std::string("urn:ietf:params:oauth:token-type:access_token").rfind(v, 0) == 0))
        v = "urn:ietf:params:oauth:token-type:access_token";  // compared by substring or prefix
  if (on(d, "ignore-actor-token-type") && has("actor_token") && !has("actor_token_type"))
    form.emplace_back("actor_token_type", "urn:ietf:params:oauth:token-type:access_token");
  if (on(d, "ignore-requested-token-type")) erase("requested_token_type");
  if (on(d, "accept-relative-resource")) {
    unchecked = http::form_values(form, "resource");
    erase("resource");
  }
  return unchecked;
}

void on_targets(const AsDefects& d, const std::vector<std::string>& requested,
                ClientRegistration& client) {
  if (on(d, "allow-forbidden-audience"))
    client.audiences.insert(client.audiences.end(), requested.begin(), requested.end());
}

void before_decide(const AsDefects& d, const ClientRegistration& client,
                   std::vector<std::string>* requested_scope, Json& subject) {
  if (d.empty()) return;
  if (on(d, "ignore-may-act")) subject.erase("may_act");
  if (on(d, "drop-prior-act")) subject.erase("act");
  if (on(d, "accept-expired-subject")) subject.erase("exp");
  if (on(d, "widen-scope") || on(d, "grant-requested-scope")) {
    std::string all;
    for (const auto& sc : client.scopes) all += (all.empty() ? "" : " ") + sc;
    subject["scope"] = all;
  }
  if (on(d, "narrow-scope-silently") && requested_scope) {
    std::vector<std::string> held;
    std::istringstream in(json_str(subject, "scope"));
    for (std::string t; in >> t;) held.push_back(t);
    std::vector<std::string> narrowed;
    for (const auto& t : *requested_scope)
      if (std::find(held.begin(), held.end(), t) != held.end() &&
          std::find(client.scopes.begin(), client.scopes.end(), t) != client.scopes.end())
        narrowed.push_back(t);
    *requested_scope = narrowed;
  }
}

void after_decide(const AsDefects& d, bool scope_was_narrowed, Json& act, bool& report_scope) {
  if (d.empty()) return;
  if (on(d, "drop-act")) act = Json();
  if (on(d, "narrow-scope-silently") && scope_was_narrowed) report_scope = false;
}

void on_bad_token_error(const AsDefects& d, TokenError& error) {
  if (on(d, "quirk-invalid-request-for-bad-subject")) error = TokenError::kInvalidRequest;
}

void on_refusal(const AsDefects& d, oauth::Status status, TokenError& error) {
  if (d.empty()) return;
  if (on(d, "server-error-on-missing-subject") && status == oauth::Status::kMissingSubjectToken)
    error = TokenError::kServerError;
  if (on(d, "wrong-error-missing-type") && status == oauth::Status::kMissingSubjectTokenType)
    error = TokenError::kInvalidGrant;
  if (on(d, "unsupported-grant-as-invalid-request") &&
      status == oauth::Status::kUnsupportedGrantType)
    error = TokenError::kInvalidRequest;
}

std::string access_token_typ(const AsDefects& d) { return on(d, "typ-missing") ? "" : "at+jwt"; }

void on_subject_policy(const AsDefects& d, jose::VerifyPolicy& policy) {
  if (on(d, "quirk-strict-time-window")) policy.leeway_s = 0;
  if (on(d, "accept-expired-subject")) policy.leeway_s = int64_t{1} << 40;
}

void on_reply(const AsDefects& d, ReplyHeaders& h) {
  if (d.empty()) return;
  if (on(d, "no-cache-control")) h.cache_headers = false;
  if (on(d, "quirk-cache-control-no-cache-no-store")) h.cache_control = "no-cache, no-store";
  if (on(d, "text-plain-response")) h.content_type = "text/plain";
}

void on_client_error(const AsDefects& d, bool unknown_client, bool basic_attempted, int& status,
                     bool& challenge) {
  if (on(d, "quirk-post-failure-400") && !basic_attempted) {
    status = 400;
    challenge = false;
  }
  if (on(d, "invalid-client-400")) {
    status = 400;
    challenge = false;
  }
  if (on(d, "unknown-client-no-challenge") && unknown_client) challenge = false;
}

std::string description(const AsDefects& d, const std::string& raw) {
  return on(d, "raw-error-description") ? raw : safe_error_description(raw);
}

void undecode_names(const std::string& body, http::FormParams& form) {
  // The deliberate defect: names taken as sent (a decoder that forgot them).
  size_t start = 0;
  for (auto& [name, value] : form) {
    const size_t amp = body.find('&', start);
    const std::string pair = body.substr(start, amp == std::string::npos ? amp : amp - start);
    name = pair.substr(0, pair.find('='));
    start = amp == std::string::npos ? body.size() : amp + 1;
  }
}

std::optional<std::string> unknown_parameter(const http::FormParams& form) {
  static const std::set<std::string> known = {"grant_type",
                                              "subject_token",
                                              "subject_token_type",
                                              "actor_token",
                                              "actor_token_type",
                                              "requested_token_type",
                                              "audience",
                                              "resource",
                                              "scope",
                                              "client_id",
                                              "client_secret",
                                              "client_assertion",
                                              "client_assertion_type",
                                              "refresh_token",
                                              "dpop_jkt",
                                              "tls_x5t_s256"};
  for (const auto& [name, value] : form)
    if (!known.count(name)) return name;
  return std::nullopt;
}

bool accepts_duplicate_parameters(const AsDefects& d) { return on(d, "accept-duplicate-params"); }

bool jwks_keeps_withdrawn_keys(const AsDefects& d) { return on(d, "jwks-keeps-withdrawn-keys"); }

std::vector<Json> extra_jwks_keys(const AsDefects& d) {
  if (!on(d, "quirk-jwks-other-keys")) return {};
  static const Json enc = [] {
    Json k = jose::Key::generate(jose::Alg::kRS256).public_jwk();
    k["kid"] = "txlab-quirk-encryption-key";
    k["use"] = "enc";
    k.erase("alg");
    return k;
  }();
  return {enc};
}

bool oversized_token_500(const AsDefects& d) { return on(d, "oversized-token-500"); }
bool basic_failure_falls_back_to_body(const AsDefects& d) {
  return on(d, "basic-failure-falls-back-to-body");
}
bool client_id_case_insensitive(const AsDefects& d) { return on(d, "client-id-case-insensitive"); }
bool client_id_from_body(const AsDefects& d) { return on(d, "client-id-from-body"); }

bool grant_check_skipped(const AsDefects& d, std::string_view grant) {
  return grant == "token-exchange" && on(d, "exchange-without-grant");
}

void on_basic_credentials(const AsDefects& d, std::string_view authorization, std::string& id,
                          std::string& secret) {
  if (!on(d, "basic-not-urldecoded")) return;
  // The defect: the credentials are compared as sent, without RFC 6749 §2.3.1 decoding.
  auto raw = http::base64_decode(authorization.substr(std::min<size_t>(6, authorization.size())));
  const size_t colon = raw ? raw->find(':') : std::string::npos;
  if (colon == std::string::npos) return;
  id = raw->substr(0, colon);
  secret = raw->substr(colon + 1);
}

bool secret_accepted_anyway(const AsDefects& d, bool post, const std::string& secret,
                            const std::string& registered) {
  return (on(d, "accept-empty-secret") && secret.empty()) ||
         (on(d, "post-secret-unchecked") && post) ||
         (on(d, "secret-prefix-compare") && !secret.empty() && registered.rfind(secret, 0) == 0);
}

void on_edge_policy(const std::vector<std::string>& d, jose::VerifyPolicy& policy) {
  if (on(d, defect_name::kSkipAud)) policy.require_audience = false;
}

bool edge_jwks_union(const std::vector<std::string>& d) { return on(d, defect_name::kJwksUnion); }
bool dpop_excused(const AsDefects& d, jose::dpop::Status s) {
  return (s == jose::dpop::Status::kHtuMismatch && on(d, "dpop-htu-unchecked")) ||
         (s == jose::dpop::Status::kIatOutOfWindow && on(d, "dpop-iat-unchecked"));
}
bool edge_dpop_bearer_accepted(const std::vector<std::string>& d) {
  return on(d, defect_name::kDpopBearerAccepted);
}
bool edge_dpop_proof_unchecked(const std::vector<std::string>& d) {
  return on(d, defect_name::kDpopProofUnchecked);
}
bool edge_mtls_binding_unchecked(const std::vector<std::string>& d) {
  return on(d, defect_name::kMtlsBindingUnchecked);
}
bool tls_chain_unchecked(const AsDefects& d) { return on(d, defect_name::kTlsChainUnchecked); }
bool rejects_unknown_parameters(const AsDefects& d) { return on(d, "reject-unknown-parameters"); }
bool keeps_empty_parameters(const AsDefects& d) { return on(d, "keep-empty-parameters"); }
bool form_names_not_decoded(const AsDefects& d) { return on(d, "form-names-not-decoded"); }
bool content_type_exact(const AsDefects& d) { return on(d, "content-type-exact"); }
bool accepts_missing_sub(const AsDefects& d) { return on(d, "accept-missing-sub"); }
bool basic_scheme_case_sensitive(const AsDefects& d) {
  return on(d, "basic-scheme-case-sensitive");
}
bool malformed_body_500(const AsDefects& d) { return on(d, "malformed-body-500"); }
bool dpop_bound_unenforced(const AsDefects& d) { return on(d, "dpop-bound-unenforced"); }
bool mtls_thumbprint_of_key(const AsDefects& d) { return on(d, "mtls-thumbprint-of-key"); }

void on_claims(const AsDefects& d, Json& claims, const Json& subject_claims,
               const std::string& client_id) {
  if (d.empty()) return;
  if (on(d, "missing-jti-client-id")) {
    claims.erase("jti");
    claims.erase("client_id");
  }
  if (on(d, "sub-from-client") && !client_id.empty() && claims.contains("sub_id"))
    claims["sub"] = client_id;
  if (on(d, "copy-subject-jti") && subject_claims.contains("jti"))
    claims["jti"] = subject_claims["jti"];
  if (on(d, "constant-jti") && claims.contains("jti")) claims["jti"] = "txlab-constant-jti";
  if (on(d, "client-id-of-subject") && subject_claims.contains("client_id"))
    claims["client_id"] = subject_claims["client_id"];
  if (on(d, "quirk-aud-string") && claims.contains("aud") && claims["aud"].is_array() &&
      !claims["aud"].empty())
    claims["aud"] = claims["aud"][0];
}

void on_response(const AsDefects& d, Json& body) {
  if (d.empty()) return;
  if (on(d, "expires-in-string") && body.contains("expires_in"))
    body["expires_in"] = body["expires_in"].dump();
  if (on(d, "expires-in-mismatch") && body.contains("expires_in")) body["expires_in"] = 86400;
  if (on(d, "quirk-refresh-token-in-exchange"))
    body["refresh_token"] = "txlab-quirk-refresh-" + json_str(body, "access_token").substr(0, 12);
  if (on(d, "issued-type-refresh-label"))
    body["issued_token_type"] = "urn:ietf:params:oauth:token-type:refresh_token";
  if (on(d, "issued-type-id-token-label"))
    body["issued_token_type"] = "urn:ietf:params:oauth:token-type:id_token";
  if (on(d, "scope-as-array") && body.contains("scope") && body["scope"].is_string())
    body["scope"] = Json::array({body["scope"]});
  if (on(d, "wrong-token-type")) body["token_type"] = "mac";
  if (on(d, "dpop-token-type-bearer") && body.value("token_type", "") == "DPoP")
    body["token_type"] = "Bearer";
  if (on(d, "omit-issued-token-type")) body.erase("issued_token_type");
  if (on(d, "quirk-lowercase-bearer") && json_str(body, "token_type") == "Bearer")
    body["token_type"] = "bearer";
  if (on(d, "quirk-no-expires-in")) body.erase("expires_in");
  if (on(d, "quirk-extra-members")) {
    body["x_txlab_note"] = "extra members are ignored by clients";
    body["not_before_policy"] = 0;
  }
}

}  // namespace txlab::defects
