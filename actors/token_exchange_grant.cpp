// The RFC 8693 token-exchange grant of the built-in AS: request validation (§2.1), subject and
// actor token verification, may_act (§4.4), targets (audience, RFC 8707 resource), scope
// narrowing, act nesting (§4.1) or the caller-in-act convention, requested token types (§3),
// the brokered second exchange, and the response (§2.2.1).
#include <algorithm>

#include "actors/as_defects.h"
#include "actors/as_internal.h"
#include "actors/token_client.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;
using namespace as_detail;

namespace {

// GET for the jku/x5u defects only (a strict AS never fetches what a token names).
std::string http_get_for_defect(const std::string& url) {
  static const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) return {};
  const auto slash = url.find('/', prefix.size());
  const std::string base = url.substr(0, slash);
  http::HttpClientPool pool(http::ClientOptions{1000, 1000, 1});
  http::OutboundRequest req;
  req.path = slash == std::string::npos ? "/" : url.substr(slash);
  auto res = pool.send(base, req);
  return res.status == 200 && res.body.size() < 65536 ? res.body : std::string();
}

}  // namespace

void AuthorizationServer::ensure_trust() {
  std::call_once(impl_->trust_once, [&] {
    const ExchangePolicy& policy = *spec_.exchange;
    jose::VerifyPolicy access;
    access.leeway_s = env_.leeway_s;
    if (defect("accept-expired-subject")) access.leeway_s = int64_t{1} << 40;
    jose::VerifyPolicy any_jwt = access;
    any_jwt.typ.reset();
    jose::VerifyPolicy actor = any_jwt;
    actor.leeway_s = env_.leeway_s;
    // RFC 8693 does not constrain an actor token's audience; its issuer, signature and
    // lifetime are checked.
    actor.require_audience = false;
    impl_->access_verifier = std::make_unique<jose::JwtVerifier>(access, *env_.clock);
    impl_->jwt_verifier = std::make_unique<jose::JwtVerifier>(any_jwt, *env_.clock);
    impl_->actor_verifier = std::make_unique<jose::JwtVerifier>(actor, *env_.clock);
    auto source_for = [&](const std::string& role) {
      for (const auto& s : impl_->sources)
        if (s->issuer_role() == role) return s;
      auto src = std::make_shared<RemoteJwks>(outbound_, role, env_.directory.url_of(role), "/jwks", *env_.clock, jwks_options(env_.jwks));
      impl_->sources.push_back(src);
      return src;
    };
    for (const auto& role : policy.trust) {
      auto src = source_for(role);
      impl_->access_verifier->trust(env_.directory.issuer_of(role), src);
      impl_->jwt_verifier->trust(env_.directory.issuer_of(role), src);
      impl_->trusted_sources[env_.directory.issuer_of(role)] = src;
    }
    std::vector<std::string> actor_roles = policy.actor_trust;
    if (actor_roles.empty()) {
      actor_roles = policy.trust;
      actor_roles.push_back(id());
    }
    for (const auto& role : actor_roles) {
      if (role == id()) {
        // This AS's own keys, read live so that rotation is honoured.
        struct Own : jose::KeySource {
          const AuthorizationServer* as;
          jose::KeyLookup find(const std::string& kid) override { return jose::StaticKeySource(as->keys()).find(kid); }
        };
        auto own = std::make_shared<Own>();
        own->as = this;
        impl_->actor_verifier->trust(issuer(), own);
        impl_->trusted_sources.emplace(issuer(), own);
      } else {
        auto src = source_for(role);
        impl_->actor_verifier->trust(env_.directory.issuer_of(role), src);
        impl_->trusted_sources.emplace(env_.directory.issuer_of(role), src);
      }
    }
  });
}

std::string AuthorizationServer::token_exchange(const ClientRegistration& client, const TokenRequest& tr, Failure* failure) {
  auto fail = [&](TokenError e, std::string d) {
    *failure = {e, std::move(d)};
    return std::string();
  };
  const ExchangePolicy& policy = *spec_.exchange;
  const TokenError subject_error = policy.invalid_subject_error == "invalid_request" || defect("quirk-invalid-request-for-bad-subject")
                                       ? TokenError::kInvalidRequest
                                       : TokenError::kInvalidGrant;

  // ---- RFC 8693 §2.1 request parameters ----
  const auto subject_token = tr.param("subject_token");
  const auto subject_type = tr.param("subject_token_type");
  if (!subject_token || subject_token->empty())
    return fail(defect("server-error-on-missing-subject") ? TokenError::kServerError : TokenError::kInvalidRequest,
                "missing subject_token");
  if (!subject_type || subject_type->empty())
    return fail(defect("wrong-error-missing-type") ? TokenError::kInvalidGrant : TokenError::kInvalidRequest,
                "missing subject_token_type");
  if (*subject_type != kTypeAccessToken && *subject_type != kTypeJwt)
    return fail(TokenError::kInvalidRequest, "unsupported subject_token_type '" + *subject_type + "'");
  // actor_token_type is REQUIRED when actor_token is present and MUST NOT be sent otherwise.
  const auto actor_token = tr.param("actor_token");
  const auto actor_type = tr.param("actor_token_type");
  if (actor_token && !actor_type && !defect("ignore-actor-token-type"))
    return fail(TokenError::kInvalidRequest, "actor_token_type is required with actor_token");
  if (actor_type && !actor_token) return fail(TokenError::kInvalidRequest, "actor_token_type without actor_token");
  if (actor_type && *actor_type != kTypeAccessToken && *actor_type != kTypeJwt)
    return fail(TokenError::kInvalidRequest, "unsupported actor_token_type '" + *actor_type + "'");
  if (actor_token && !policy.delegation)
    return fail(TokenError::kInvalidRequest, "this AS performs impersonation only; actor_token is not accepted");

  // RFC 8693 §3: requested_token_type.
  std::string issued_type = kTypeAccessToken;
  if (auto rt = tr.param("requested_token_type"); rt && !defect("ignore-requested-token-type")) {
    if (*rt == kTypeJwt || *rt == kTypeIdToken || (*rt == kTypeRefreshToken && policy.refresh_tokens)) issued_type = *rt;
    else if (*rt != kTypeAccessToken)
      return fail(TokenError::kInvalidRequest, "requested_token_type '" + *rt + "' is not issued by this AS");
  }

  // Targets: audience values (logical names) and resource values (RFC 8707 absolute URIs).
  std::vector<std::string> targets;
  std::vector<std::string> unchecked;  // the accept-relative-resource defect: resources used as they come
  for (const auto& r : tr.values("resource")) {
    if (defect("accept-relative-resource")) {
      unchecked.push_back(r);
      continue;
    }
    if (!is_absolute_uri(r))
      return fail(TokenError::kInvalidTarget, "resource '" + r + "' is not an absolute URI without fragment (RFC 8707 §2)");
    targets.push_back(r);
  }
  for (const auto& a : tr.values("audience")) targets.push_back(a);
  for (const auto& t : targets) {
    if (!contains(client.audiences, t) && !defect("allow-forbidden-audience"))
      return fail(TokenError::kInvalidTarget, "target '" + t + "' is not allowed for this client");
  }
  targets.insert(targets.end(), unchecked.begin(), unchecked.end());
  if (targets.empty()) targets = client.audiences;
  if (targets.empty()) return fail(TokenError::kInvalidTarget, "no audience requested and none registered for this client");

  std::optional<std::vector<std::string>> requested_scope;
  if (auto s = tr.param("scope")) {
    requested_scope = split_scope(*s);
    for (const auto& t : *requested_scope)
      if (!valid_scope_token(t)) return fail(TokenError::kInvalidScope, "malformed scope token");
  }

  // ---- subject token ----
  ensure_trust();
  // It must be meant for this exchange: its aud names the requesting client, this AS, or an
  // audience the client's registration lists as its own.
  std::vector<std::string> accepted_aud = {client.id, issuer()};
  accepted_aud.insert(accepted_aud.end(), client.subject_audiences.begin(), client.subject_audiences.end());
  const auto& verifier = *subject_type == kTypeAccessToken ? *impl_->access_verifier : *impl_->jwt_verifier;
  auto subject = verifier.verify(*subject_token, accepted_aud);
  // Deliberate defects (self-check only) may accept what the strict verifier refused.
  defects::TokenContext defect_ctx;
  if (!spec_.defects.empty()) {
    defect_ctx.client_audiences = client.audiences;
    defect_ctx.issuer_key = [this](const std::string& iss, const std::string& kid) -> std::optional<jose::Key> {
      auto it = impl_->trusted_sources.find(iss);
      if (it == impl_->trusted_sources.end()) return std::nullopt;
      return it->second->find(kid).key;
    };
    defect_ctx.any_trusted_key = [this](const std::string& kid) {
      std::vector<jose::Key> keys;
      for (auto& [iss, src] : impl_->trusted_sources)
        if (auto k = src->find(kid).key) keys.push_back(*k);
      return keys;
    };
    defect_ctx.fetch = [](const std::string& url) { return http_get_for_defect(url); };
  }
  if (!subject.ok()) {
    defect_ctx.slot = defects::Slot::kSubject;
    defect_ctx.jwt_type = *subject_type == kTypeJwt;
    auto excused = defects::accept_anyway(spec_.defects, defect_ctx, *subject_token, subject);
    if (!excused) {
      std::string d = "subject_token: " + std::string(jose::describe(subject.status));
      if (!subject.detail.empty()) d += " (" + subject.detail + ")";
      return fail(subject_error, d);
    }
    subject.claims = *excused;
  }
  const Json& sc = subject.claims;

  // ---- actor token (delegation) ----
  Json actor = {{"sub", client.id}};  // without actor_token, the requesting client acts
  if (actor_token) {
    auto a = impl_->actor_verifier->verify(*actor_token, {});
    if (!a.ok()) {
      defect_ctx.slot = defects::Slot::kActor;
      defect_ctx.jwt_type = actor_type && *actor_type == kTypeJwt;
      auto excused = defects::accept_anyway(spec_.defects, defect_ctx, *actor_token, a);
      if (!excused) return fail(subject_error, "actor_token: " + std::string(jose::describe(a.status)));
      a.claims = *excused;
    }
    actor = {{"sub", a.claims.value("sub", Json())}};
    if (a.claims.contains("iss")) actor["iss"] = a.claims["iss"];
  }

  // RFC 8693 §4.4: may_act names who may act for the subject.
  if (sc.contains("may_act") && !defect("ignore-may-act")) {
    const Json& may = sc["may_act"];
    const bool sub_ok = may.is_object() && may.contains("sub") && may["sub"] == actor["sub"];
    const bool iss_ok = !may.is_object() || !may.contains("iss") || (actor.contains("iss") && may["iss"] == actor["iss"]);
    if (!sub_ok || !iss_ok)
      return fail(subject_error, "may_act of the subject token does not permit actor '" + json_str(actor, "sub") + "'");
  }

  // Scope: issued ⊆ subject ∩ client (RFC 8693 §2.1 scope, RFC 6749 §3.3).
  std::vector<std::string> allowed_scope;
  for (const auto& t : split_scope(json_str(sc, "scope")))
    if (contains(client.scopes, t)) allowed_scope.push_back(t);
  if (defect("widen-scope") || defect("grant-requested-scope")) allowed_scope = client.scopes;
  std::vector<std::string> scope = allowed_scope;
  bool report_scope = true;
  if (requested_scope) {
    std::vector<std::string> narrowed;
    for (const auto& t : *requested_scope) {
      if (contains(allowed_scope, t)) narrowed.push_back(t);
      else if (!defect("narrow-scope-silently"))
        return fail(TokenError::kInvalidScope, "scope '" + t + "' exceeds the subject token or the client's registration");
    }
    report_scope = narrowed == *requested_scope || !defect("narrow-scope-silently");
    scope = narrowed;
  }

  // Lifetime: policy cap, and never beyond the subject token unless policy says so.
  const int64_t now = env_.clock->now_s();
  int64_t ttl = policy.max_ttl_s;
  if (policy.cap_to_subject_exp && !defect("accept-expired-subject")) {
    ttl = std::min(ttl, json_int(sc, "exp").value_or(now + ttl) - now);
    if (ttl <= 0) return fail(subject_error, "subject_token expires too soon to be exchanged");
  }

  // The act claim of the new token (RFC 8693 §4.1): the current actor outermost, earlier
  // actors nested inside.
  Json act;
  if (policy.act_style == ActStyle::kRfc8693) {
    if (policy.delegation) {
      act = actor;
      if (sc.contains("act") && !defect("drop-prior-act")) act["act"] = sc["act"];
    }
  } else {
    act = {{"sub", sc.value("sub", Json())}, {"iss", sc.value("iss", Json())}};
    if (sc.contains("act")) act["act"] = sc["act"];
  }
  if (!act.is_null() && act_depth(act) > policy.max_act_depth)
    return fail(TokenError::kInvalidRequest, "delegation chain deeper than " + std::to_string(policy.max_act_depth));
  if (defect("drop-act")) act = Json();

  auto claims_for = [&](const std::vector<std::string>& aud, const std::string& jti) {
    Json c = {{"iss", issuer()}, {"aud", audience_claim(aud)}, {"exp", now + ttl}, {"iat", now}};
    if (!defect("missing-jti-client-id")) {
      c["jti"] = jti;
      c["client_id"] = client.id;
    }
    if (!scope.empty()) c["scope"] = join_scope(scope);
    if (policy.act_style == ActStyle::kRfc8693) {
      c["sub"] = defect("sub-from-client") ? Json(client.id) : sc.value("sub", Json());
      // RFC 9493: keep the original caller's issuer.
      c["sub_id"] = sc.contains("sub_id") ? sc["sub_id"]
                                          : Json{{"format", "iss_sub"}, {"iss", sc.value("iss", Json())}, {"sub", sc.value("sub", Json())}};
    } else {
      c["sub"] = json_str(actor, "sub");  // the notes' convention: the acting party is sub
    }
    if (!act.is_null()) c["act"] = act;
    defects::on_claims(spec_.defects, c, sc);
    return c;
  };
  const std::string subject_jti = json_str(sc, "jti");

  // Brokered exchange: issue the intermediate token for the next AS and exchange it there on
  // the back channel (the broker topology's AT2 -> AT3).
  if (policy.broker) {
    const auto& rule = *policy.broker;
    const size_t brokered = std::count_if(targets.begin(), targets.end(), [&](const auto& a) { return contains(rule.audiences, a); });
    if (brokered > 0 && brokered != targets.size())
      return fail(TokenError::kInvalidTarget, "cannot mix targets served by '" + rule.via.as_role + "' with local ones");
    if (brokered > 0) {
      const std::vector<std::string> next_aud = {env_.directory.issuer_of(rule.via.as_role)};
      // One back-channel exchange: mint the intermediate token, exchange it at the next AS.
      auto exchange_next = [&]() -> ExchangeCache::Result {
        const std::string jti = random_jti();
        const std::string intermediate = sign(claims_for(next_aud, jti));
        record("token-exchange", client.id, subject_jti, jti, next_aud);
        http::FormParams p = {{"grant_type", kGrantTokenExchange},
                              {"subject_token", intermediate},
                              {"subject_token_type", kTypeAccessToken},
                              {"requested_token_type", issued_type}};
        for (const auto& a : targets) p.emplace_back("audience", a);
        if (!scope.empty()) p.emplace_back("scope", join_scope(scope));
        auto t = request_token(outbound_, env_.directory, rule.via, std::move(p), "POST /token token-exchange (back channel)", intermediate);
        ExchangeCache::Result r;
        r.ok = t.ok();
        r.token = t.body;  // the whole answer: relayed as is
        r.exp_s = env_.clock->now_s() + t.expires_in;
        r.status = t.status;
        r.error = t.error;
        r.description = t.error_description;
        return r;
      };
      ExchangeCache::Result next;
      bool from_cache = false;
      if (impl_->broker_cache) {
        // Keyed by everything that shapes the answer; a different subject, client, target,
        // scope, token type or actor can never share an entry.
        std::string params = client.id + "|" + issued_type + "|" + join_scope(scope) + "|" + actor_token.value_or("");
        for (const auto& a : targets) params += "|" + a;
        next = impl_->broker_cache->get_or_exchange(ExchangeCache::key_of(*subject_token, params), env_.clock->now_s(), exchange_next,
                                                    &from_cache);
      } else {
        next = exchange_next();
      }
      if (next.ok) {
        // RFC 8693 §2.2.1: our client's request decides whether scope must be returned.
        Json relayed = Json::parse(next.token, nullptr, false);
        if (!relayed.is_object()) return fail(TokenError::kServerError, "back-channel AS answered with a non-JSON body");
        if (!scope.empty() && (!requested_scope || *requested_scope != scope)) relayed["scope"] = join_scope(scope);
        if (from_cache) {
          relayed["expires_in"] = std::max<int64_t>(0, next.exp_s - env_.clock->now_s());  // what is left of it
          std::string served_jti;
          if (auto d = jose::decode_unverified(json_str(relayed, "access_token"))) served_jti = json_str(d->second, "jti");
          record("token-exchange (back-channel cache)", client.id, subject_jti, served_jti, targets);
        }
        return safe_dump(relayed);
      }
      if (next.status == 0)
        return fail(TokenError::kTemporarilyUnavailable, "back-channel AS '" + rule.via.as_role + "' unreachable");
      TokenError relayed;
      if (token_error_from_code(next.error, &relayed) && relayed != TokenError::kInvalidClient &&
          relayed != TokenError::kUnauthorizedClient && relayed != TokenError::kServerError)
        return fail(relayed, "back-channel exchange at '" + rule.via.as_role + "': " + next.description);
      return fail(TokenError::kServerError, "back-channel exchange at '" + rule.via.as_role + "' failed: " +
                                               (next.error.empty() ? "HTTP " + std::to_string(next.status) : next.error));
    }
  }

  const std::string jti = random_jti();
  std::string token;
  std::string token_type = "Bearer";
  if (issued_type == kTypeIdToken) {
    // RFC 8693 §3 / §2.2.1: an ID token is not an access token: token_type N_A.
    Json c = {{"iss", issuer()}, {"sub", sc.value("sub", Json())}, {"aud", client.id}, {"exp", now + ttl}, {"iat", now}, {"jti", jti}};
    token = sign(c, "JWT");
    token_type = "N_A";
  } else {
    token = sign(claims_for(targets, jti), defect("typ-missing") ? "" : "at+jwt");
  }
  std::string refresh_token;
  if (policy.refresh_tokens && issued_type != kTypeIdToken) {
    refresh_token = new_refresh_family(client.id, claims_for(targets, jti), ttl);
    if (issued_type == kTypeRefreshToken) {
      // RFC 8693 §3: a refresh token was asked for; it is not an access token.
      token = refresh_token;
      refresh_token.clear();
      token_type = "N_A";
    }
  }
  if (defect("wrong-token-type")) token_type = "mac";
  record("token-exchange", client.id, subject_jti, jti, targets);
  // RFC 8693 §2.2.1: issued_token_type is REQUIRED; scope when it differs from the request.
  Json body = {{"access_token", token}, {"token_type", token_type}, {"expires_in", ttl}};
  if (!defect("omit-issued-token-type")) body["issued_token_type"] = issued_type;
  if (!scope.empty() && (!requested_scope || *requested_scope != scope) && report_scope) body["scope"] = join_scope(scope);
  if (!refresh_token.empty()) body["refresh_token"] = refresh_token;
  defects::on_response(spec_.defects, body);
  return safe_dump(body);
}

}  // namespace txlab
