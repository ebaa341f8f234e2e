// Stateful RapidCheck property over the whole broker chain (issue: caching): a random
// sequence of calls from two callers, clock advances, key rotations and withdrawals, and
// token revocations runs against two worlds at the same frozen instant — one with every cache
// on (the cloud gateway's exchanged-token cache, verified-token caches at both gateways and
// PBA), one with none. The observable results must be equal call by call, and the cached
// world must never present an expired token or one of another subject.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "actors/authorization_server.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "world/runner.h"
#include "world/world.h"

using namespace txlab;

namespace {

std::string broker_text(const std::string& name = "broker") {
  std::ifstream in(std::string(TXLAB_SOURCE_DIR) + "/scenarios/" + name + ".yaml");
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

void replace(std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos)
    throw std::runtime_error("broker.yaml changed: '" + from + "' not found");
  text.replace(at, from.size(), to);
}

// Every AS serves its JWKS with no-cache (jwks_max_age_s: 0): verifiers revalidate on each use,
// so both worlds see a withdrawn key at once. With a max-age, when a verifier next refetches
// depends on when it last needed keys, which the caches under test change by design (a world
// whose AS-C2P last fetched the JWKS before a rotation keeps verifying with the withdrawn key
// until max-age runs out; one that fetched after it does not) — a difference of JWKS timing,
// not of the caches compared here.
void keys_never_stale(std::string& t) {
  for (const char* iss :
       {"https://auth.c.cloud", "https://auth.c2p.cloud", "https://auth.c2pe.edge"})
    replace(t, std::string("    issuer: ") + iss + "\n",
            std::string("    issuer: ") + iss + "\n    jwks_max_age_s: 0\n");
}

// The broker with a second caller, revocation checked at the edge (RFC 7662), unthrottled
// JWKS refresh (the rate limit is time-dependent by design and tested on its own), and the
// caches on or off.
Scenario chain(bool caches) {
  std::string t = broker_text();
  const std::string jwks = "    jwks: { min_refresh_interval_s: 0 }\n";
  const std::string vcache = caches ? "    verified_token_cache: true\n" : "";
  replace(t, "  as-c:\n",
          "  cfa2:\n    kind: client\n    zone: cloud\n    as: as-c\n    client_id: svc-cfa2\n    "
          "secret: cfa2-secret\n"
          "    audience: gateway-c2p\n    scope: orders.read\n\n  as-c:\n");
  replace(t, "        scope: orders.read orders.write\n",
          "        scope: orders.read orders.write\n      svc-cfa2:\n        secret: cfa2-secret\n "
          "       grants: [client_credentials]\n"
          "        audiences: [gateway-c2p]\n        scope: orders.read\n");
  replace(t, "    audience: gateway-c2p\n    exchange:",
          "    audience: gateway-c2p\n" + jwks + vcache + "    exchange:");
  if (caches)
    replace(t, "      audiences: [gateway-c2pe, api://pba]\n    routes:",
            "      audiences: [gateway-c2pe, api://pba]\n      cache: true\n    routes:");
  replace(t, "    audience: gateway-c2pe\n    routes:\n      - { prefix: /, to: pba }",
          "    audience: gateway-c2pe\n" + jwks + vcache +
              "    introspection: { at: as-c2pe, client_id: c2p-svc-broker-to-c2pe, secret: "
              "broker-secret }\n"
              "    routes:\n      - { prefix: /, to: pba, introspect: true }");
  replace(t, "    audience: api://pba\n    scope: orders.read\n",
          "    audience: api://pba\n    scope: orders.read\n" + jwks + vcache);
  replace(t, "    issuer: https://auth.c2p.cloud\n", "    issuer: https://auth.c2p.cloud\n" + jwks);
  replace(t, "    issuer: https://auth.c2pe.edge\n", "    issuer: https://auth.c2pe.edge\n" + jwks);
  t += "\n  - name: CFA2 reads an order\n    from: cfa2\n    to: gw-c2p\n    path: /orders/7\n";
  keys_never_stale(t);
  return load_scenario_text(t, caches ? "broker (caches on)" : "broker (caches off)");
}

// The same with every token DPoP-bound (scenarios/broker-dpop.yaml): a second caller, unthrottled
// JWKS refresh, and the exchanged-token caches of both gateways and the verified-token caches on
// or off (no introspection here: revocation is not observed at the edge in this variant).
Scenario chain_dpop(bool caches) {
  std::string t = broker_text("broker-dpop");
  const std::string jwks = "    jwks: { min_refresh_interval_s: 0 }\n";
  const std::string vcache = caches ? "    verified_token_cache: true\n" : "";
  const std::string cache = caches ? "      cache: true\n" : "";
  replace(t, "  as-c:\n",
          "  cfa2:\n    kind: client\n    zone: cloud\n    as: as-c\n    client_id: svc-cfa2\n    "
          "secret: cfa2-secret\n    dpop: true\n"
          "    audience: gateway-c2p\n    scope: orders.read\n\n  as-c:\n");
  replace(t, "        scope: orders.read orders.write\n        dpop_bound_access_tokens: true\n",
          "        scope: orders.read orders.write\n        dpop_bound_access_tokens: true\n"
          "      svc-cfa2:\n        secret: cfa2-secret\n        grants: [client_credentials]\n"
          "        audiences: [gateway-c2p]\n        scope: orders.read\n"
          "        dpop_bound_access_tokens: true\n");
  replace(t, "    audience: gateway-c2p\n    dpop: required\n",
          "    audience: gateway-c2p\n    dpop: required\n" + jwks + vcache);
  replace(t, "      dpop: true\n      audiences: [gateway-c2pe]\n    routes:",
          "      dpop: true\n      audiences: [gateway-c2pe]\n" + cache + "    routes:");
  replace(t, "    audience: gateway-c2pe\n    dpop: required\n",
          "    audience: gateway-c2pe\n    dpop: required\n" + jwks + vcache);
  replace(t, "      dpop: true\n      audiences: [api://pba]\n    routes:",
          "      dpop: true\n      audiences: [api://pba]\n" + cache + "    routes:");
  replace(t, "    scope: orders.read\n    dpop: required\n",
          "    scope: orders.read\n    dpop: required\n" + jwks + vcache);
  replace(t, "    issuer: https://auth.c2p.cloud\n", "    issuer: https://auth.c2p.cloud\n" + jwks);
  replace(t, "    issuer: https://auth.c2pe.edge\n", "    issuer: https://auth.c2pe.edge\n" + jwks);
  t += "\n  - name: CFA2 reads an order\n    from: cfa2\n    to: gw-c2p\n    path: /orders/7\n";
  keys_never_stale(t);
  return load_scenario_text(t, caches ? "broker-dpop (caches on)" : "broker-dpop (caches off)");
}

// The same over mutual TLS with every token certificate-bound (scenarios/broker-mtls.yaml): a
// second caller authenticating with its own certificate, and the same caches on or off.
Scenario chain_mtls(bool caches) {
  std::string t = broker_text("broker-mtls");
  const std::string jwks = "    jwks: { min_refresh_interval_s: 0 }\n";
  const std::string vcache = caches ? "    verified_token_cache: true\n" : "";
  const std::string cache = caches ? "      cache: true\n" : "";
  replace(t, "  as-c:\n",
          "  cfa2:\n    kind: client\n    zone: cloud\n    as: as-c\n    client_id: svc-cfa2\n"
          "    auth: tls_client_auth\n    audience: gateway-c2p\n    scope: orders.read\n\n"
          "  as-c:\n");
  replace(t, "        certificate_bound_access_tokens: true\n\n  gw-c2p:",
          "        certificate_bound_access_tokens: true\n      svc-cfa2:\n"
          "        auth: tls_client_auth\n        grants: [client_credentials]\n"
          "        audiences: [gateway-c2p]\n        scope: orders.read\n"
          "        certificate_bound_access_tokens: true\n\n  gw-c2p:");
  replace(t, "    audience: gateway-c2p\n    mtls: required\n",
          "    audience: gateway-c2p\n    mtls: required\n" + jwks + vcache);
  replace(t, "      audiences: [gateway-c2pe]\n    routes:",
          "      audiences: [gateway-c2pe]\n" + cache + "    routes:");
  replace(t, "    audience: gateway-c2pe\n    mtls: required\n",
          "    audience: gateway-c2pe\n    mtls: required\n" + jwks + vcache);
  replace(t, "      audiences: [api://pba]\n    routes:",
          "      audiences: [api://pba]\n" + cache + "    routes:");
  replace(t, "    scope: orders.read\n    mtls: required\n",
          "    scope: orders.read\n    mtls: required\n" + jwks + vcache);
  replace(t, "    issuer: https://auth.c2p.cloud\n", "    issuer: https://auth.c2p.cloud\n" + jwks);
  replace(t, "    issuer: https://auth.c2pe.edge\n", "    issuer: https://auth.c2pe.edge\n" + jwks);
  t += "\n  - name: CFA2 reads an order\n    from: cfa2\n    to: gw-c2p\n    path: /orders/7\n";
  keys_never_stale(t);
  return load_scenario_text(t, caches ? "broker-mtls (caches on)" : "broker-mtls (caches off)");
}

enum class Op { kCall, kAdvance, kRotate, kRetire, kRevoke };

struct Command {
  Op op = Op::kCall;
  int caller = 0;       // kCall: 0 = cfa, 1 = cfa2
  int64_t seconds = 0;  // kAdvance
  int as = 0;           // kRotate / kRetire / kRevoke: index into kAses
};

const char* const kAses[] = {"as-c", "as-c2p", "as-c2pe"};

std::string show(const Command& c) {
  switch (c.op) {
    case Op::kCall:
      return c.caller ? "call(cfa2)" : "call(cfa)";
    case Op::kAdvance:
      return "advance(" + std::to_string(c.seconds) + "s)";
    case Op::kRotate:
      return std::string("rotate(") + kAses[c.as] + ")";
    case Op::kRetire:
      return std::string("retire(") + kAses[c.as] + ")";
    case Op::kRevoke:
      return std::string("revoke-all(") + kAses[c.as] + ")";
  }
  return "?";
}

struct Observed {
  int status = 0;
  std::string error, iss, sub, act, act_act, aud, scope;
  bool operator==(const Observed&) const = default;
};

std::ostream& operator<<(std::ostream& o, const Observed& v) {
  return o << v.status << " " << v.error << " iss=" << v.iss << " sub=" << v.sub << " act=" << v.act
           << "/" << v.act_act << " aud=" << v.aud << " scope=" << v.scope;
}

Observed observe(const CallResult& r) {
  Observed o{r.status, r.error, {}, {}, {}, {}, {}, {}};
  if (!r.backend_saw.is_null()) {
    o.iss = json_str(r.backend_saw, "iss");
    o.sub = json_str(r.backend_saw, "sub");
    if (const auto* a = json_path(r.backend_saw, "act.sub")) o.act = safe_dump(*a);
    if (const auto* a = json_path(r.backend_saw, "act.act.sub")) o.act_act = safe_dump(*a);
    if (const auto* a = json_path(r.backend_saw, "aud")) o.aud = safe_dump(*a);
    o.scope = json_str(r.backend_saw, "scope");
  }
  return o;
}

rc::Gen<Command> command() {
  return rc::gen::oneOf(rc::gen::map(rc::gen::inRange(0, 2),
                                     [](int c) {
                                       return Command{Op::kCall, c, 0, 0};
                                     }),
                        rc::gen::map(rc::gen::inRange(0, 2),
                                     [](int c) {
                                       return Command{Op::kCall, c, 0, 0};
                                     }),
                        rc::gen::map(rc::gen::element<int64_t>(1, 5, 14, 31, 61, 130, 225, 290),
                                     [](int64_t s) {
                                       return Command{Op::kAdvance, 0, s, 0};
                                     }),
                        rc::gen::map(rc::gen::inRange(0, 3),
                                     [](int a) {
                                       return Command{Op::kRotate, 0, 0, a};
                                     }),
                        rc::gen::map(rc::gen::inRange(0, 3),
                                     [](int a) {
                                       return Command{Op::kRetire, 0, 0, a};
                                     }),
                        rc::gen::map(rc::gen::inRange(0, 3), [](int a) {
                          return Command{Op::kRevoke, 0, 0, a};
                        }));
}

}  // namespace

RC_GTEST_PROP(CacheEquivalence, CachesOnObserveExactlyWhatCachesOffObserve, ()) {
  const auto commands = *rc::gen::container<std::vector<Command>>(rc::gen::resize(24, command()));
  // A third of the runs with every token DPoP-bound (RFC 9449), a third certificate-bound over
  // mutual TLS (RFC 8705): binding changes nothing caches see.
  const int binding = *rc::gen::elementOf(std::vector<int>{0, 1, 2});
  RC_TAG(binding == 1   ? "DPoP-bound chain"
         : binding == 2 ? "certificate-bound chain (mutual TLS)"
                        : "bearer chain");
  auto make = [binding](bool caches) {
    return binding == 1 ? chain_dpop(caches) : binding == 2 ? chain_mtls(caches) : chain(caches);
  };
  World on(make(true)), off(make(false));
  // One instant for both worlds, on a whole second.
  const int64_t t0 = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() *
                     1000;
  on.time().freeze_clocks_at(t0);
  off.time().freeze_clocks_at(t0);
  on.start();
  off.start();
  const auto& workload =
      on.scenario().workload;  // [0] cfa's chain call, [1] cfa->gw-c2pe (401), [2] cfa2
  std::string history;
  int n = 0;
  for (const auto& c : commands) {
    history += show(c) + " ";
    switch (c.op) {
      case Op::kCall: {
        const WorkloadCall& call = c.caller ? workload.at(2) : workload.at(0);
        const std::string id = "p" + std::to_string(++n);
        const CallResult a = run_call(on, call, id), b = run_call(off, call, id);
        const Observed oa = observe(a), ob = observe(b);
        if (!(oa == ob)) {
          std::ostringstream why;
          why << "after: " << history << "\n  caches on:  " << oa << " " << safe_dump(a.response)
              << "\n  caches off: " << ob << " " << safe_dump(b.response);
          RC_FAIL(why.str());
        }
        // The cached world never presents an expired token, nor one of another subject.
        for (const auto& t : on.trace().tokens(id)) {
          const auto d = jose::decode_unverified(t.token);
          RC_ASSERT(d.has_value());
          RC_ASSERT(json_int(d->second, "exp").value_or(0) > on.time().clock(t.presenter).now_s());
          RC_ASSERT(json_str(d->second, "sub") == (c.caller ? "svc-cfa2" : "svc-cfa"));
        }
        break;
      }
      case Op::kAdvance:
        on.time().advance_time(static_cast<double>(c.seconds));
        off.time().advance_time(static_cast<double>(c.seconds));
        break;
      case Op::kRotate:
        on.authorization_server(kAses[c.as]).key_store().rotate();
        off.authorization_server(kAses[c.as]).key_store().rotate();
        break;
      case Op::kRetire:
        on.authorization_server(kAses[c.as]).key_store().retire_old();
        off.authorization_server(kAses[c.as]).key_store().retire_old();
        break;
      case Op::kRevoke:
        on.authorization_server(kAses[c.as])
            .revocations()
            .revoke_all(on.authorization_server(kAses[c.as]).audit_log().issued_jtis(""));
        off.authorization_server(kAses[c.as])
            .revocations()
            .revoke_all(off.authorization_server(kAses[c.as]).audit_log().issued_jtis(""));
        break;
    }
  }
  RC_TAG(n > 0 ? "with calls" : "no calls");
}

// The sequence the property found when verified-token caches ignored key withdrawal: a token
// verified before its key was withdrawn kept passing from the cache, while a verifier without
// the cache refused it.
TEST(CacheEquivalence, VerifiedCacheDoesNotOutliveAWithdrawnKey) {
  World on(chain(true)), off(chain(false));
  on.time().freeze_clocks();
  off.time().freeze_clocks();
  on.start();
  off.start();
  const auto& w = on.scenario().workload;
  for (World* world : {&on, &off}) {
    EXPECT_EQ(run_call(*world, w.at(0), "e1").status, 200);  // cfa's AT1 (old key) verified, cached
    world->authorization_server("as-c").key_store().rotate();
    world->authorization_server("as-c").key_store().retire_old();
    EXPECT_EQ(run_call(*world, w.at(2), "e2").status,
              200);  // cfa2's AT1 has the new kid: JWKS refreshed
  }
  const CallResult a = run_call(on, w.at(0), "e3"), b = run_call(off, w.at(0), "e3");
  EXPECT_EQ(b.status, 401) << "without caches the withdrawn key's token is refused";
  EXPECT_EQ(a.status, b.status) << "the verified-token cache must refuse it too";
}
