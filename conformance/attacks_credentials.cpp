// Leaked client credentials (seed 004 #3): what the gateway's exchange registration yields to a
// thief; refresh tokens (seed 003: rotation, reuse detection, never a bearer token); revocation
// and introspection (RFC 7009, RFC 7662); and, last, secret rotation and the audit log.
#include "actors/authorization_server.h"
#include "conformance/attacks_catalogue.h"
#include "sim/json_util.h"
#include "world/world.h"

namespace txlab::conformance::attacks {

namespace {

const char* kLeak = "Leaked client credentials (seed 004 #3)";
const char* kRt = "Refresh tokens (seed 003, RFC 6749 §6)";
const char* kRev = "Revocation and introspection (RFC 7009, RFC 7662)";

// An attack at the exchange AS with the exchanger's credentials.
Attack at_exchange_as(std::string id, const char* category, std::string title, Send send,
                      Expectation expected, Applies applies = Applies::kEvery) {
  return {std::move(id),       category, std::move(title), Role::kExchangeAs, std::move(send),
          std::move(expected), applies};
}

// A token exchange of a fresh AT1 with these extra parameters.
Send exchange_at1(http::FormParams extra) {
  return [extra = std::move(extra)](Context& c, const std::string&) {
    return c.exchange(extra, c.at1());
  };
}

Observed refresh_with(Context& c, const std::string& rt) {
  return c.post(c.t.exchange_as, "/token", {{"grant_type", "refresh_token"}, {"refresh_token", rt}},
                c.t.exchanger.client_id, c.t.exchanger.secret);
}

Observed introspect(Context& c, const std::string& token, const std::string& id,
                    const std::string& secret) {
  return c.post(c.t.entry_as, "/introspect", {{"token", token}}, id, secret);
}

// The exchanger's secret rotated through the AS's admin API, then an exchange with the old one.
Observed rotate_then_use_old_secret(Context& c, const std::string& as) {
  http::OutboundRequest req;
  req.method = "POST";
  req.path = "/admin/clients/" + c.t.exchanger.client_id + "/rotate-secret";
  req.headers.emplace_back("X-Txlab-Admin", c.w.authorization_server(as).admin_key());
  auto r = c.w.transport().http().send(c.w.directory().url_of(as), req);
  c.rotated = json_str(Json::parse(r.body, nullptr, false), "client_secret");
  return c.exchange({}, c.at1());
}

// The exchanger's entries in the AS's audit log, as "N entries".
Observed audited(Context& c, const std::string& as) {
  Observed o;
  size_t n = 0;
  for (const auto& e : c.w.authorization_server(as).audit_log().entries())
    n += e.client_id == c.t.exchanger.client_id ? 1 : 0;
  o.status = 200;
  o.error = std::to_string(n) + " entries";
  return o;
}

}  // namespace

void add_leak_attacks(std::vector<Attack>& out) {
  out.push_back(at_exchange_as("leak/other-audience", kLeak,
                               "A leaked exchanger secret cannot reach an unregistered audience",
                               exchange_at1({{"audience", "api://not-registered"}}),
                               refused(400, "invalid_target")));
  out.push_back(at_exchange_as("leak/broader-scope", kLeak,
                               "A leaked exchanger secret cannot obtain a broader scope",
                               exchange_at1({{"scope", "admin"}}), refused(400, "invalid_scope")));
  out.push_back(at_exchange_as(
      "leak/other-grant", kLeak, "A leaked exchanger secret cannot use an unregistered grant",
      [](Context& c, const std::string& as) {
        return c.post(as, "/token", {{"grant_type", "client_credentials"}}, c.t.exchanger.client_id,
                      c.t.exchanger.secret);
      },
      refused(400, "unauthorized_client")));
  out.push_back(at_exchange_as(
      "leak/no-subject-no-token", kLeak,
      "A leaked exchanger secret alone yields nothing without a valid subject token",
      [](Context& c, const std::string&) { return c.exchange({}, "forged"); },
      refused_any({400}, {"invalid_grant", "invalid_request"})));
}

void add_refresh_attacks(std::vector<Attack>& out) {
  const auto rt = Applies::kRefreshTokens;
  out.push_back(at_exchange_as(
      "rt/issued-with-exchange", kRt, "A token exchange returns a refresh token",
      [](Context& c, const std::string&) {
        Observed o = c.exchange({}, c.at1());
        c.rt1 = json_str(o.body, "refresh_token");
        return o;
      },
      {"200 with refresh_token",
       [](const Observed& o, Context& c) { return o.status == 200 && !c.rt1.empty(); }},
      rt));
  out.push_back(at_exchange_as(
      "rt/rotation-on-use", kRt, "Each use returns a new refresh token",
      [](Context& c, const std::string&) {
        Observed o = refresh_with(c, c.rt1);
        c.rt2 = json_str(o.body, "refresh_token");
        c.at_from_rt2 = json_str(o.body, "access_token");
        return o;
      },
      {"200 with a different refresh_token",
       [](const Observed& o, Context& c) {
         return o.status == 200 && !c.rt2.empty() && c.rt2 != c.rt1 && !c.at_from_rt2.empty();
       }},
      rt));
  out.push_back({"rt/not-a-bearer-token", kRt, "A refresh token presented as a bearer token",
                 Role::kEntryGateway, present([](Context& c) { return c.rt2; }),
                 refused(401, "invalid_token"), rt});
  out.push_back(at_exchange_as(
      "rt/reuse-rejected", kRt, "Reusing a rotated refresh token is refused",
      [](Context& c, const std::string&) { return refresh_with(c, c.rt1); },
      refused(400, "invalid_grant"), rt));
  out.push_back(at_exchange_as(
      "rt/reuse-revokes-family", kRt,
      "After reuse, the newest refresh token of the family is dead too",
      [](Context& c, const std::string&) { return refresh_with(c, c.rt2); },
      refused(400, "invalid_grant"), rt));
  out.push_back(at_exchange_as(
      "rt/reuse-revokes-access-tokens", kRt,
      "Access tokens of the revoked family are inactive at introspection",
      [](Context& c, const std::string& as) {
        return c.post(as, "/introspect", {{"token", c.at_from_rt2}}, c.t.exchanger.client_id,
                      c.t.exchanger.secret);
      },
      introspected_active(false), rt));
}

void add_revocation_attacks(std::vector<Attack>& out) {
  out.push_back({"revoke/introspection-active", kRev,
                 "Introspection reports a live token active (RFC 7662 §2.2)", Role::kEntryAs,
                 [](Context& c, const std::string&) {
                   return introspect(c, c.at1(), c.t.client_id, c.t.client_secret);
                 },
                 introspected_active(true)});
  out.push_back(
      {"revoke/revoked-token-inactive", kRev,
       "A revoked token is reported inactive (RFC 7009 §2, RFC 7662 §2.2)", Role::kEntryAs,
       [](Context& c, const std::string& as) {
         // A token of its own, so the rest of the run keeps a valid AT1.
         Json claims = c.access_claims(
             as, c.t.client_audiences.empty() ? c.t.entry_audience : c.t.client_audiences.front());
         const std::string tok = c.sign(as, claims);
         c.post(as, "/revoke", {{"token", tok}}, c.t.client_id, c.t.client_secret);
         return introspect(c, tok, c.t.client_id, c.t.client_secret);
       },
       introspected_active(false)});
  out.push_back({"revoke/introspection-needs-client-auth", kRev,
                 "Introspection is a protected endpoint (RFC 7662 §2.1)", Role::kEntryAs,
                 [](Context& c, const std::string&) { return introspect(c, c.at1(), "", ""); },
                 refused(401, "invalid_client")});
}

// Not for a client that authenticates with its certificate (RFC 8705 §2: it has no secret to
// rotate).
void add_rotation_attacks(std::vector<Attack>& out) {
  const auto secret = Applies::kRotatableSecret;
  out.push_back(at_exchange_as("leak/rotation-old-secret-fails", kLeak,
                               "After rotation the old secret fails at once",
                               rotate_then_use_old_secret,
                               also(refused(401, "invalid_client"), "",
                                    [](const Observed&, Context& c) { return !c.rotated.empty(); }),
                               secret));
  out.push_back(at_exchange_as(
      "leak/rotation-new-secret-works", kLeak, "The new secret works right after rotation",
      [](Context& c, const std::string&) {
        return c.exchange({}, c.at1(), kTypeAccessToken, c.rotated.empty() ? "none" : c.rotated);
      },
      not_401("not invalid_client"), secret));
  out.push_back(at_exchange_as(
      "leak/usage-audited", kLeak, "Every exchange by the client is in the AS's audit log", audited,
      {"audit entries for {exchanger}",
       [](const Observed& o, Context&) { return o.error != "0 entries"; }}));
}

}  // namespace txlab::conformance::attacks
