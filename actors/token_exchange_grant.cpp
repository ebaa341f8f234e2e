// The RFC 8693 token-exchange grant of the built-in AS: request validation (§2.1), subject and
// actor token verification, may_act (§4.4), targets (audience, RFC 8707 resource), scope
// narrowing, act nesting (§4.1) or the caller-in-act convention, requested token types (§3),
// the brokered second exchange, and the response (§2.2.1).
#include <algorithm>

#include "actors/as_defects.h"
#include "actors/as_internal.h"
#include "actors/exchange_rules.h"
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
    defects::on_subject_policy(env_.defects, access);
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
      JwksOptions options = jwks_options(env_.jwks);
      options.keep_withdrawn_keys = defects::jwks_keeps_withdrawn_keys(env_.defects);
      auto src = std::make_shared<RemoteJwks>(outbound_, role, env_.directory.url_of(role),
                                              env_.directory.entry_of(role).jwks_path, *env_.clock,
                                              options);
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
          jose::KeyLookup find(const std::string& kid) override {
            return jose::StaticKeySource(as->keys()).find(kid);
          }
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

std::string AuthorizationServer::token_exchange(const ClientRegistration& client,
                                                const TokenRequest& tr, Failure* failure) {
  const ExchangePolicy& policy = *spec_.exchange;
  // Bad subject and actor tokens: invalid_grant (common practice) or RFC 8693 §2.2.2's
  // invalid_request, as the policy says.
  TokenError bad_token = policy.invalid_subject_error == "invalid_request"
                             ? TokenError::kInvalidRequest
                             : TokenError::kInvalidGrant;
  defects::on_bad_token_error(env_.defects, bad_token);
  // Every refusal goes through the one table (exchange::to_wire).
  auto refuse = [&](const exchange::Refusal& r) {
    exchange::WireRefusal w = exchange::to_wire(r, bad_token);
    defects::on_refusal(env_.defects, exchange::to_string(r.status), w.error);
    *failure = {w.error, w.description};
    return std::string();
  };

  // ---- parse: RFC 8693 §2.1 ----
  http::FormParams form = tr.form;
  const std::vector<std::string> unchecked = defects::on_form(env_.defects, form);
  auto parsed = exchange::parse(form, {policy.delegation, policy.refresh_tokens});
  if (const auto* r = std::get_if<exchange::Refusal>(&parsed)) return refuse(*r);
  const exchange::Request req = std::get<exchange::Request>(std::move(parsed));

  // ---- targets: audience and resource against the client's registration ----
  std::vector<std::string> targets;
  {
    ClientRegistration view = client;
    std::vector<std::string> requested = req.resources;
    requested.insert(requested.end(), req.audiences.begin(), req.audiences.end());
    defects::on_targets(env_.defects, requested, view);
    auto t = exchange::targets(req, view);
    if (const auto* r = std::get_if<exchange::Refusal>(&t)) return refuse(*r);
    targets = std::get<std::vector<std::string>>(std::move(t));
    targets.insert(targets.end(), unchecked.begin(), unchecked.end());
  }

  // ---- verify the subject token (I/O: the trusted issuers' JWKS) ----
  ensure_trust();
  // It must be meant for this exchange: its aud names the requesting client, this AS, or an
  // audience the client's registration lists as its own.
  std::vector<std::string> accepted_aud = {client.id, issuer()};
  accepted_aud.insert(accepted_aud.end(), client.subject_audiences.begin(),
                      client.subject_audiences.end());
  const auto& verifier =
      req.subject_type == kTypeAccessToken ? *impl_->access_verifier : *impl_->jwt_verifier;
  auto subject = verifier.verify(req.subject_token, accepted_aud);
  // Deliberate defects (self-check only) may accept what the strict verifier refused.
  defects::TokenContext defect_ctx;
  if (!env_.defects.empty()) {
    defect_ctx.client_audiences = client.audiences;
    defect_ctx.issuer_key = [this](const std::string& iss,
                                   const std::string& kid) -> std::optional<jose::Key> {
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
    defect_ctx.now_s = env_.clock->now_s();
    for (const auto& [iss, src] : impl_->trusted_sources) defect_ctx.trusted_issuers.push_back(iss);
    defect_ctx.accepted_audiences = accepted_aud;
  }
  auto describe = [](const jose::VerifiedJwt& v) {
    std::string d(jose::describe(v.status));
    if (!v.detail.empty()) d += " (" + v.detail + ")";
    return d;
  };
  if (subject.status == jose::VerifyStatus::kTokenTooLarge &&
      has_defect(env_.defects, "oversized-token-500"))
    throw std::runtime_error("token buffer exceeded");  // the deliberate defect: a 500
  if (!subject.ok()) {
    defect_ctx.slot = defects::Slot::kSubject;
    defect_ctx.jwt_type = req.subject_type == kTypeJwt;
    auto excused = defects::accept_anyway(env_.defects, defect_ctx, req.subject_token, subject);
    if (!excused) return refuse({exchange::Status::kSubjectTokenInvalid, describe(subject)});
    subject.claims = *excused;
  } else if (!env_.defects.empty()) {
    defect_ctx.slot = defects::Slot::kSubject;
    if (defects::refuse_anyway(env_.defects, defect_ctx, req.subject_token, subject.claims))
      return refuse({exchange::Status::kSubjectTokenInvalid, "refused by a deliberate defect"});
    defects::on_accepted(env_.defects, defect_ctx, req.subject_token, subject.claims);
  }
  // RFC 9068 §2.2: an access token names its subject (sub REQUIRED); without one there is no
  // party to exchange for.
  if (req.subject_type == kTypeAccessToken && !json_path(subject.claims, "sub") &&
      !defects::accepts_missing_sub(env_.defects))
    return refuse({exchange::Status::kSubjectTokenInvalid,
                   "the subject access token has no sub (RFC 9068 §2.2: REQUIRED)"});
  const Json& sc = subject.claims;

  // ---- a DPoP-bound subject token (RFC 9449 §6.1 cnf.jkt) ----
  // RFC 9449 defines no exchange of bound tokens; txlab's rule (README, "Sender-constrained
  // tokens"): the exchanger cannot prove the subject's key, so it proves its own, and the
  // issued token is bound to the exchanger's key — or, by policy, bound tokens are refused.
  if (sc.contains("cnf") && sc["cnf"].is_object() && sc["cnf"].contains("jkt")) {
    if (spec_.dpop.bound_subject_tokens == "refuse")
      return refuse({exchange::Status::kSubjectTokenInvalid,
                     "the subject token is DPoP-bound and this server does not exchange bound "
                     "tokens"});
    if (!tr.dpop_jkt) {
      *failure = {TokenError::kInvalidDpopProof,
                  "the subject token is DPoP-bound: prove the exchanger's own key with a DPoP "
                  "proof"};
      return std::string();
    }
  }

  // ---- a certificate-bound subject token (RFC 8705 §3.1 cnf.x5t#S256) ----
  // The same rule: the exchanger cannot present the subject's certificate, so it connects with
  // its own, and the issued token is bound to that one.
  std::optional<std::string> cert_x5t = tr.cert_x5t;
  if (sc.contains("cnf") && sc["cnf"].is_object() && sc["cnf"].contains("x5t#S256")) {
    if (!tr.client_x5t)
      return refuse({exchange::Status::kSubjectTokenInvalid,
                     "the subject token is certificate-bound (RFC 8705 §3): the exchanger must "
                     "connect with its own client certificate"});
    if (!cert_x5t) cert_x5t = tr.client_x5t;
  }

  // ---- verify the actor token (delegation) ----
  std::optional<Json> actor_claims;
  if (req.actor_token) {
    auto a = impl_->actor_verifier->verify(*req.actor_token, {});
    if (!a.ok()) {
      defect_ctx.slot = defects::Slot::kActor;
      defect_ctx.jwt_type = req.actor_type && *req.actor_type == kTypeJwt;
      auto excused = defects::accept_anyway(env_.defects, defect_ctx, *req.actor_token, a);
      if (!excused)
        return refuse(
            {exchange::Status::kActorTokenInvalid, std::string(jose::describe(a.status))});
      a.claims = *excused;
    } else if (!env_.defects.empty()) {
      defect_ctx.slot = defects::Slot::kActor;
      if (defects::refuse_anyway(env_.defects, defect_ctx, *req.actor_token, a.claims))
        return refuse({exchange::Status::kActorTokenInvalid, "refused by a deliberate defect"});
      defects::on_accepted(env_.defects, defect_ctx, *req.actor_token, a.claims);
    }
    if (req.actor_type && *req.actor_type == kTypeAccessToken && !json_path(a.claims, "sub"))
      return refuse({exchange::Status::kActorTokenInvalid,
                     "the actor access token has no sub (RFC 9068 §2.2: REQUIRED)"});
    actor_claims = a.claims;
  }

  // ---- decide: may_act, scope, lifetime, act (pure) ----
  const int64_t now = env_.clock->now_s();
  exchange::Decision decision;
  {
    exchange::Request req_view = req;
    Json subject_view = sc;
    if (!env_.defects.empty()) {
      std::vector<std::string> scope = req.scope.value_or(std::vector<std::string>());
      defects::before_decide(env_.defects, client, req.scope ? &scope : nullptr, subject_view);
      if (req.scope) req_view.scope = scope;
    }
    auto d = exchange::decide(
        {req_view, client, policy, subject_view, actor_claims ? &*actor_claims : nullptr, now});
    if (const auto* r = std::get_if<exchange::Refusal>(&d)) return refuse(*r);
    decision = std::get<exchange::Decision>(std::move(d));
    const bool narrowed = req.scope && req_view.scope != req.scope;
    defects::after_decide(env_.defects, narrowed, decision.act, decision.report_scope);
  }
  const std::vector<std::string>& scope = decision.scope;
  const int64_t ttl = decision.ttl_s;
  const Json& act = decision.act;
  const Json& actor = decision.actor;
  const std::string& issued_type = req.issued_type;
  const auto& actor_token = req.actor_token;
  const std::string* subject_token = &req.subject_token;

  auto claims_for = [&](const std::vector<std::string>& aud, const std::string& jti,
                        bool bind = true) {
    Json c = {{"iss", issuer()}, {"aud", audience_claim(aud)}, {"exp", now + ttl}, {"iat", now},
              {"jti", jti},      {"client_id", client.id}};
    if (!scope.empty()) c["scope"] = join_scope(scope);
    if (policy.act_style == ActStyle::kRfc8693) {
      c["sub"] = sc.value("sub", Json());
      // RFC 9493: keep the original caller's issuer.
      c["sub_id"] = sc.contains("sub_id") ? sc["sub_id"]
                                          : Json{{"format", "iss_sub"},
                                                 {"iss", sc.value("iss", Json())},
                                                 {"sub", sc.value("sub", Json())}};
    } else {
      c["sub"] = json_str(actor, "sub");  // the notes' convention: the acting party is sub
    }
    if (!act.is_null()) c["act"] = act;
    as_detail::TokenRequest binding;
    binding.dpop_jkt = tr.dpop_jkt;
    binding.cert_x5t = cert_x5t;
    // RFC 9449 §6.1, RFC 8705 §3.1. The broker's intermediate token carries the caller's key
    // only when the back channel proves keys; its certificate binding always (the back channel
    // is mutual TLS whenever certificates exist).
    if (auto cnf = cnf_claim(binding, bind); !cnf.is_null()) c["cnf"] = cnf;
    defects::on_claims(env_.defects, c, sc, client.id);
    return c;
  };
  const std::string subject_jti = json_str(sc, "jti");

  // Brokered exchange: issue the intermediate token for the next AS and exchange it there on
  // the back channel (the broker topology's AT2 -> AT3).
  if (policy.broker) {
    const auto& rule = *policy.broker;
    const size_t brokered = std::count_if(
        targets.begin(), targets.end(), [&](const auto& a) { return contains(rule.audiences, a); });
    if (brokered > 0 && brokered != targets.size())
      return refuse({exchange::Status::kMixedBrokeredTargets, rule.via.as_role});
    if (brokered > 0) {
      const std::vector<std::string> next_aud = {env_.directory.issuer_of(rule.via.as_role)};
      // One back-channel exchange: mint the intermediate token, exchange it at the next AS.
      auto exchange_next = [&]() -> ExchangeCache::Result {
        const std::string jti = random_jti();
        // The intermediate token is presented by this AS itself: bound to its caller's key only
        // when the back channel proves keys too (the next AS then re-binds, or refuses).
        const std::string intermediate = sign(claims_for(next_aud, jti, rule.via.dpop));
        record("token-exchange", client.id, subject_jti, jti, next_aud);
        http::FormParams p = {{"grant_type", kGrantTokenExchange},
                              {"subject_token", intermediate},
                              {"subject_token_type", kTypeAccessToken},
                              {"requested_token_type", issued_type}};
        for (const auto& a : targets) p.emplace_back("audience", a);
        if (!scope.empty()) p.emplace_back("scope", join_scope(scope));
        // The broker proves its own key; the token is bound to its caller's (broker extension).
        if (rule.via.dpop && tr.dpop_jkt) p.emplace_back("dpop_jkt", *tr.dpop_jkt);
        // Likewise for the caller's certificate (RFC 8705 binding; broker extension).
        if (cert_x5t) p.emplace_back("tls_x5t_s256", *cert_x5t);
        auto t = request_token(outbound_, env_.directory, rule.via, std::move(p),
                               "POST /token token-exchange (back channel)", intermediate, 0,
                               rule.via.dpop ? &dpop_prover() : nullptr);
        ExchangeCache::Result r;
        r.ok = t.ok();
        r.token = t.body;  // the whole answer: relayed as is
        r.exp_s = env_.clock->now_s() + t.expires_in;
        r.status = t.status;
        r.error = t.error;
        r.code = t.code;
        r.description = t.error_description;
        return r;
      };
      ExchangeCache::Result next;
      bool from_cache = false;
      if (impl_->broker_cache) {
        // Keyed by everything that shapes the answer; a different subject, client, target,
        // scope, token type or actor can never share an entry.
        std::string params = client.id + "|" + issued_type + "|" + join_scope(scope) + "|" +
                             actor_token.value_or("") + "|" + tr.dpop_jkt.value_or("") + "|" +
                             cert_x5t.value_or("");
        for (const auto& a : targets) params += "|" + a;
        next =
            impl_->broker_cache->get_or_exchange(ExchangeCache::key_of(*subject_token, params),
                                                 env_.clock->now_s(), exchange_next, &from_cache);
      } else {
        next = exchange_next();
      }
      if (next.ok) {
        // RFC 8693 §2.2.1: our client's request decides whether scope must be returned.
        Json relayed = Json::parse(next.token, nullptr, false);
        if (!relayed.is_object())
          return refuse({exchange::Status::kBackChannelFailed,
                         "'" + rule.via.as_role + "' failed: the answer is not JSON"});
        if (decision.report_scope) relayed["scope"] = join_scope(scope);
        if (from_cache) {
          relayed["expires_in"] =
              std::max<int64_t>(0, next.exp_s - env_.clock->now_s());  // what is left of it
          std::string served_jti;
          if (auto d = jose::decode_unverified(json_str(relayed, "access_token")))
            served_jti = json_str(d->second, "jti");
          record("token-exchange (back-channel cache)", client.id, subject_jti, served_jti,
                 targets);
        }
        return safe_dump(relayed);
      }
      if (next.status == 0)
        return refuse({exchange::Status::kBackChannelUnreachable, rule.via.as_role});
      if (next.code && *next.code != TokenError::kInvalidClient &&
          *next.code != TokenError::kUnauthorizedClient && *next.code != TokenError::kServerError)
        return refuse({exchange::Status::kBackChannelRefused,
                       "'" + rule.via.as_role + "': " + next.description, *next.code});
      return refuse(
          {exchange::Status::kBackChannelFailed,
           "'" + rule.via.as_role + "' failed: " +
               (next.error.empty() ? "HTTP " + std::to_string(next.status) : next.error)});
    }
  }

  const std::string jti = random_jti();
  std::string token;
  std::string token_type = tr.dpop_jkt ? "DPoP" : "Bearer";  // RFC 9449 §5
  if (issued_type == kTypeIdToken) {
    // RFC 8693 §3 / §2.2.1: an ID token is not an access token: token_type N_A.
    Json c = {{"iss", issuer()},  {"sub", sc.value("sub", Json())},
              {"aud", client.id}, {"exp", now + ttl},
              {"iat", now},       {"jti", jti}};
    token = sign(c, "JWT");
    token_type = "N_A";
  } else {
    token = sign(claims_for(targets, jti), defects::access_token_typ(env_.defects));
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
  record("token-exchange", client.id, subject_jti, jti, targets);
  // RFC 8693 §2.2.1: issued_token_type is REQUIRED; scope when it differs from the request.
  Json body = {{"access_token", token},
               {"token_type", token_type},
               {"expires_in", ttl},
               {"issued_token_type", issued_type}};
  if (decision.report_scope) body["scope"] = join_scope(scope);
  if (!refresh_token.empty()) body["refresh_token"] = refresh_token;
  defects::on_response(env_.defects, body);
  return safe_dump(body);
}

}  // namespace txlab
