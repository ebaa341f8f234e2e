// The RFC 8693 token-exchange grant of the built-in AS, as steps of the token endpoint:
// parse and targets (the pure rules, exchange_rules.h), subject and actor token verification,
// bound subject tokens, may_act / scope / lifetime / act (decide), and the brokered second
// exchange. What to issue goes to issue() like every grant's.
#include <algorithm>

#include "actors/authorization_server.h"
#include "actors/token_client.h"
#include "actors/token_endpoint.h"
#include "sim/json_util.h"

namespace txlab::as_detail {

using Json = nlohmann::json;
using oauth::Refusal;
using oauth::Status;

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

std::string describe(const jose::VerifiedJwt& v) {
  std::string d(jose::describe(v.status));
  if (!v.detail.empty()) d += " (" + v.detail + ")";
  return d;
}

// The strict verifier's verdict on a subject or actor token, then — self-check only — what a
// deliberate defect makes of it: nullopt when the token is refused.
std::optional<Json> after_defects(const AsDefects& d, const defects::TokenContext& ctx,
                                  const std::string& token, jose::VerifiedJwt& v) {
  if (!v.ok()) return defects::accept_anyway(d, ctx, token, v);
  if (d.empty()) return v.claims;
  if (defects::refuse_anyway(d, ctx, token, v.claims)) return std::nullopt;
  defects::on_accepted(d, ctx, token, v.claims);
  return v.claims;
}

}  // namespace

void TokenEndpoint::ensure_trust() {
  Exchange& x = *exchange_;
  std::call_once(x.trust_once, [&] {
    const ExchangePolicy& policy = *spec().exchange;
    jose::VerifyPolicy access;
    access.leeway_s = env().leeway_s;
    defects::on_subject_policy(env().defects, access);
    jose::VerifyPolicy any_jwt = access;
    any_jwt.typ.reset();
    jose::VerifyPolicy actor = any_jwt;
    actor.leeway_s = env().leeway_s;
    // RFC 8693 does not constrain an actor token's audience; its issuer, signature and
    // lifetime are checked.
    actor.require_audience = false;
    x.access_verifier = std::make_unique<jose::JwtVerifier>(access, *env().clock);
    x.jwt_verifier = std::make_unique<jose::JwtVerifier>(any_jwt, *env().clock);
    x.actor_verifier = std::make_unique<jose::JwtVerifier>(actor, *env().clock);
    auto source_for = [&](const std::string& role) {
      for (const auto& s : x.sources)
        if (s->issuer_role() == role) return s;
      JwksOptions options = jwks_options(env().jwks);
      options.keep_withdrawn_keys = defects::jwks_keeps_withdrawn_keys(env().defects);
      auto src = std::make_shared<RemoteJwks>(as_.outbound_, role, env().directory.url_of(role),
                                              env().directory.entry_of(role).jwks_path,
                                              *env().clock, options);
      x.sources.push_back(src);
      return src;
    };
    for (const auto& role : policy.trust) {
      auto src = source_for(role);
      const std::string iss = env().directory.issuer_of(role);
      x.access_verifier->trust(iss, src);
      x.jwt_verifier->trust(iss, src);
      x.trusted_sources[iss] = src;
    }
    std::vector<std::string> actor_roles = policy.actor_trust;
    if (actor_roles.empty()) {
      actor_roles = policy.trust;
      actor_roles.push_back(as_.id());
    }
    for (const auto& role : actor_roles) {
      if (role == as_.id()) {
        // This AS's own keys, read live so that rotation is honoured.
        struct Own : jose::KeySource {
          const KeyStore* keys;
          jose::KeyLookup find(const std::string& kid) override {
            return jose::StaticKeySource(keys->keys()).find(kid);
          }
        };
        auto own = std::make_shared<Own>();
        own->keys = &as_.keys_;
        x.actor_verifier->trust(issuer(), own);
        x.trusted_sources.emplace(issuer(), own);
      } else {
        auto src = source_for(role);
        x.actor_verifier->trust(env().directory.issuer_of(role), src);
        x.trusted_sources.emplace(env().directory.issuer_of(role), src);
      }
    }
  });
}

defects::TokenContext TokenEndpoint::defect_context(const ClientRegistration& client,
                                                    const std::vector<std::string>& accepted_aud) {
  defects::TokenContext ctx;
  if (env().defects.empty()) return ctx;
  Exchange& x = *exchange_;
  ctx.client_audiences = client.audiences;
  ctx.issuer_key = [&x](const std::string& iss,
                        const std::string& kid) -> std::optional<jose::Key> {
    auto it = x.trusted_sources.find(iss);
    if (it == x.trusted_sources.end()) return std::nullopt;
    return it->second->find(kid).key;
  };
  ctx.any_trusted_key = [&x](const std::string& kid) {
    std::vector<jose::Key> keys;
    for (auto& [iss, src] : x.trusted_sources)
      if (auto k = src->find(kid).key) keys.push_back(*k);
    return keys;
  };
  ctx.fetch = [](const std::string& url) { return http_get_for_defect(url); };
  ctx.now_s = env().clock->now_s();
  for (const auto& [iss, src] : x.trusted_sources) ctx.trusted_issuers.push_back(iss);
  ctx.accepted_audiences = accepted_aud;
  return ctx;
}

oauth::Result<Json> TokenEndpoint::verify_subject(const exchange::Request& req,
                                                  const ClientRegistration& client,
                                                  defects::TokenContext& ctx) {
  // It must be meant for this exchange: its aud names the requesting client, this AS, or an
  // audience the client's registration lists as its own.
  std::vector<std::string> accepted_aud = {client.id, issuer()};
  accepted_aud.insert(accepted_aud.end(), client.subject_audiences.begin(),
                      client.subject_audiences.end());
  const auto& verifier =
      req.subject_type == kTypeAccessToken ? *exchange_->access_verifier : *exchange_->jwt_verifier;
  auto subject = verifier.verify(req.subject_token, accepted_aud);
  ctx = defect_context(client, accepted_aud);
  if (subject.status == jose::VerifyStatus::kTokenTooLarge &&
      defects::oversized_token_500(env().defects))
    throw std::runtime_error("token buffer exceeded");  // the deliberate defect: a 500
  ctx.slot = defects::Slot::kSubject;
  ctx.jwt_type = req.subject_type == kTypeJwt;
  const bool strict_ok = subject.ok();
  auto claims = after_defects(env().defects, ctx, req.subject_token, subject);
  if (!claims)
    return Refusal{Status::kSubjectTokenInvalid,
                   strict_ok ? "refused by a deliberate defect" : describe(subject)};
  // RFC 9068 §2.2: an access token names its subject (sub REQUIRED); without one there is no
  // party to exchange for.
  if (req.subject_type == kTypeAccessToken && !json_path(*claims, "sub") &&
      !defects::accepts_missing_sub(env().defects))
    return Refusal{Status::kSubjectTokenInvalid,
                   "the subject access token has no sub (RFC 9068 §2.2: REQUIRED)"};
  return std::move(*claims);
}

oauth::Result<std::optional<Json>> TokenEndpoint::verify_actor(const exchange::Request& req,
                                                               defects::TokenContext& ctx) {
  if (!req.actor_token) return std::optional<Json>();
  auto a = exchange_->actor_verifier->verify(*req.actor_token, {});
  ctx.slot = defects::Slot::kActor;
  ctx.jwt_type = req.actor_type && *req.actor_type == kTypeJwt;
  const bool strict_ok = a.ok();
  auto claims = after_defects(env().defects, ctx, *req.actor_token, a);
  if (!claims)
    return Refusal{Status::kActorTokenInvalid, strict_ok ? "refused by a deliberate defect"
                                                         : std::string(jose::describe(a.status))};
  if (req.actor_type && *req.actor_type == kTypeAccessToken && !json_path(*claims, "sub"))
    return Refusal{Status::kActorTokenInvalid,
                   "the actor access token has no sub (RFC 9068 §2.2: REQUIRED)"};
  return std::optional<Json>(std::move(*claims));
}

std::optional<Refusal> TokenEndpoint::check_bound_subject(
    const Json& sc, const TokenRequest& tr, std::optional<std::string>* cert_x5t) const {
  const Json* cnf = sc.contains("cnf") && sc["cnf"].is_object() ? &sc["cnf"] : nullptr;
  // RFC 9449 defines no exchange of bound tokens; txlab's rule (README, "Sender-constrained
  // tokens"): the exchanger cannot prove the subject's key, so it proves its own, and the
  // issued token is bound to the exchanger's key — or, by policy, bound tokens are refused.
  if (cnf && cnf->contains("jkt")) {
    if (spec().dpop.bound_subject_tokens == "refuse")
      return Refusal{Status::kSubjectTokenInvalid,
                     "the subject token is DPoP-bound and this server does not exchange bound "
                     "tokens"};
    if (!tr.dpop_jkt) return Refusal{Status::kSubjectTokenDpopBound, ""};
  }
  // RFC 8705 §3.1, the same rule: the exchanger cannot present the subject's certificate, so it
  // connects with its own, and the issued token is bound to that one.
  *cert_x5t = tr.cert_x5t;
  if (cnf && cnf->contains("x5t#S256")) {
    if (!tr.client_x5t)
      return Refusal{Status::kSubjectTokenInvalid,
                     "the subject token is certificate-bound (RFC 8705 §3): the exchanger must "
                     "connect with its own client certificate"};
    if (!*cert_x5t) *cert_x5t = tr.client_x5t;
  }
  return std::nullopt;
}

oauth::Result<exchange::Decision> TokenEndpoint::decide(const exchange::Request& req,
                                                        const ClientRegistration& client,
                                                        const Json& subject,
                                                        const std::optional<Json>& actor) {
  exchange::Request req_view = req;
  Json subject_view = subject;
  if (!env().defects.empty()) {
    std::vector<std::string> scope = req.scope.value_or(std::vector<std::string>());
    defects::before_decide(env().defects, client, req.scope ? &scope : nullptr, subject_view);
    if (req.scope) req_view.scope = scope;
  }
  auto d = exchange::decide({req_view, client, *spec().exchange, subject_view,
                             actor ? &*actor : nullptr, env().clock->now_s()});
  if (const auto* r = std::get_if<Refusal>(&d)) return *r;
  auto decision = std::get<exchange::Decision>(std::move(d));
  const bool narrowed = req.scope && req_view.scope != req.scope;
  defects::after_decide(env().defects, narrowed, decision.act, decision.report_scope);
  return decision;
}

oauth::Result<Granted> TokenEndpoint::token_exchange(const ClientRegistration& client,
                                                     const TokenRequest& tr) {
  const ExchangePolicy& policy = *spec().exchange;
  // parse: RFC 8693 §2.1
  http::FormParams form = tr.form;
  const std::vector<std::string> unchecked = defects::on_form(env().defects, form);
  auto parsed = exchange::parse(form, {policy.delegation, policy.refresh_tokens});
  if (const auto* r = std::get_if<Refusal>(&parsed)) return *r;
  const exchange::Request req = std::get<exchange::Request>(std::move(parsed));
  // targets: audience and resource against the client's registration
  ClientRegistration view = client;
  std::vector<std::string> requested = req.resources;
  requested.insert(requested.end(), req.audiences.begin(), req.audiences.end());
  defects::on_targets(env().defects, requested, view);
  auto t = exchange::targets(req, view);
  if (const auto* r = std::get_if<Refusal>(&t)) return *r;
  // verify the subject and actor tokens (I/O: the trusted issuers' JWKS)
  ensure_trust();
  defects::TokenContext ctx;
  auto subject = verify_subject(req, client, ctx);
  if (const auto* r = std::get_if<Refusal>(&subject)) return *r;
  const Json& sc = std::get<Json>(subject);
  Issue in;
  in.cert_x5t = tr.cert_x5t;
  if (auto r = check_bound_subject(sc, tr, &in.cert_x5t)) return *r;
  auto actor = verify_actor(req, ctx);
  if (const auto* r = std::get_if<Refusal>(&actor)) return *r;
  // decide: may_act, scope, lifetime, act (pure)
  auto decided = decide(req, client, sc, std::get<std::optional<Json>>(actor));
  if (const auto* r = std::get_if<Refusal>(&decided)) return *r;
  const auto& decision = std::get<exchange::Decision>(decided);

  in.grant = "token-exchange";
  in.client = &client;
  in.audience = std::get<std::vector<std::string>>(std::move(t));
  in.audience.insert(in.audience.end(), unchecked.begin(), unchecked.end());
  in.scope = decision.scope;
  in.report_scope = decision.report_scope;
  in.ttl_s = decision.ttl_s;
  in.issued_type = req.issued_type;
  in.token_type_in_response = true;  // RFC 8693 §2.2.1: REQUIRED
  in.dpop_jkt = tr.dpop_jkt;
  in.start_refresh_family = policy.refresh_tokens && req.issued_type != kTypeIdToken;
  in.subject = sc;
  in.subject_jti = json_str(sc, "jti");
  if (policy.act_style == ActStyle::kRfc8693) {
    in.claims["sub"] = sc.value("sub", Json());
    // RFC 9493: keep the original caller's issuer.
    in.claims["sub_id"] = sc.contains("sub_id") ? sc["sub_id"]
                                                : Json{{"format", "iss_sub"},
                                                       {"iss", sc.value("iss", Json())},
                                                       {"sub", sc.value("sub", Json())}};
  } else {
    in.claims["sub"] = json_str(decision.actor, "sub");  // the notes' convention: actor is sub
  }
  if (!decision.act.is_null()) in.claims["act"] = decision.act;
  if (policy.broker) return broker(in, req);
  return Granted{std::move(in)};
}

ExchangeCache::Result TokenEndpoint::exchange_next(const Issue& in, const exchange::Request& req) {
  const auto& via = spec().exchange->broker->via;
  const std::string jti = random_jti();
  Issue intermediate = in;
  intermediate.audience = {env().directory.issuer_of(via.as_role)};
  // The intermediate token is presented by this AS itself: bound to its caller's key only when
  // the back channel proves keys too (the next AS then re-binds, or refuses); its certificate
  // binding always (the back channel is mutual TLS whenever certificates exist).
  const std::string token = sign_access_token(intermediate, jti, env().clock->now_s(), via.dpop);
  as_.audit_.record({as_.id(), CallScope::current(), "token-exchange", in.client->id,
                     in.subject_jti, jti, intermediate.audience, env().clock->now_s()});
  const auto& rule = *spec().exchange->broker;
  http::FormParams p = {
      {"grant_type", kGrantTokenExchange},
      {"subject_token", token},
      {"subject_token_type", rule.subject_token_type_jwt ? kTypeJwt : kTypeAccessToken},
      {"requested_token_type", req.issued_type}};
  for (const auto& param : rule.params) p.push_back(param);
  if (rule.send_audience)
    for (const auto& a : in.audience) p.emplace_back("audience", a);
  if (!in.scope.empty()) p.emplace_back("scope", join_scope(in.scope));
  // The broker proves its own key; the token is bound to its caller's (broker extension).
  if (via.dpop && in.dpop_jkt) p.emplace_back("dpop_jkt", *in.dpop_jkt);
  // Likewise for the caller's certificate (RFC 8705 binding; broker extension).
  if (in.cert_x5t) p.emplace_back("tls_x5t_s256", *in.cert_x5t);
  auto t = request_token(as_.outbound_, env().directory, via, std::move(p),
                         "POST /token token-exchange (back channel)", token, 0,
                         via.dpop ? &as_.dpop_prover() : nullptr);
  ExchangeCache::Result r;
  r.ok = t.ok();
  r.token = t.body;  // the whole answer: relayed as is
  r.exp_s = env().clock->now_s() + t.expires_in;
  r.status = t.status;
  r.error = t.error;
  r.code = t.code;
  r.description = t.error_description;
  return r;
}

oauth::Result<Granted> TokenEndpoint::broker(const Issue& in, const exchange::Request& req) {
  // Brokered exchange: issue the intermediate token for the next AS and exchange it there on
  // the back channel (the broker topology's AT2 -> AT3).
  const auto& rule = *spec().exchange->broker;
  const auto& targets = in.audience;
  const size_t brokered = std::count_if(targets.begin(), targets.end(),
                                        [&](const auto& a) { return contains(rule.audiences, a); });
  if (brokered == 0) return Granted{in};
  if (brokered != targets.size()) return Refusal{Status::kMixedBrokeredTargets, rule.via.as_role};
  ExchangeCache::Result next;
  bool from_cache = false;
  auto once = [&] { return exchange_next(in, req); };
  if (exchange_->broker_cache) {
    // Keyed by everything that shapes the answer; a different subject, client, target, scope,
    // token type or actor can never share an entry.
    std::string params = in.client->id + "|" + req.issued_type + "|" + join_scope(in.scope) + "|" +
                         req.actor_token.value_or("") + "|" + in.dpop_jkt.value_or("") + "|" +
                         in.cert_x5t.value_or("");
    for (const auto& a : targets) params += "|" + a;
    next = exchange_->broker_cache->get_or_exchange(
        ExchangeCache::key_of(req.subject_token, params), env().clock->now_s(), once, &from_cache);
  } else {
    next = once();
  }
  const std::string& via = rule.via.as_role;
  if (next.ok) {
    // RFC 8693 §2.2.1: our client's request decides whether scope must be returned.
    Json relayed = Json::parse(next.token, nullptr, false);
    if (!relayed.is_object())
      return Refusal{Status::kBackChannelFailed, "'" + via + "' failed: the answer is not JSON"};
    if (in.report_scope) relayed["scope"] = join_scope(in.scope);
    if (from_cache) {
      relayed["expires_in"] =
          std::max<int64_t>(0, next.exp_s - env().clock->now_s());  // what is left of it
      std::string served_jti;
      if (auto d = jose::decode_unverified(json_str(relayed, "access_token")))
        served_jti = json_str(d->second, "jti");
      as_.audit_.record({as_.id(), CallScope::current(), "token-exchange (back-channel cache)",
                         in.client->id, in.subject_jti, served_jti, targets, env().clock->now_s()});
    }
    return Granted{Relayed{safe_dump(relayed)}};
  }
  if (next.status == 0) return Refusal{Status::kBackChannelUnreachable, via};
  if (next.code && *next.code != TokenError::kInvalidClient &&
      *next.code != TokenError::kUnauthorizedClient && *next.code != TokenError::kServerError)
    return Refusal{Status::kBackChannelRefused, "'" + via + "': " + next.description, *next.code};
  return Refusal{Status::kBackChannelFailed,
                 "'" + via + "' failed: " +
                     (next.error.empty() ? "HTTP " + std::to_string(next.status) : next.error)};
}

}  // namespace txlab::as_detail
