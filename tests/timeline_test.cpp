// Time and events as scenario data (issue: simulation): clocks with drift and steps, the
// timeline section's validation, the seeded plan, and timeline runs over real loopback
// sockets — each story judged by windows, and each guard shown failing when its defect is in.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "actors/authorization_server.h"
#include "sim/clock.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/scenario.h"
#include "world/timeline.h"
#include "world/world.h"

using namespace txlab;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

std::string scenario_text(const std::string& name) {
  return read_text(std::string(TXLAB_SOURCE_DIR) + "/scenarios/" + name + ".yaml");
}

// The shipped scenario with one piece of text replaced (the replacement must apply).
Scenario variant(const std::string& name, const std::string& from, const std::string& to) {
  std::string text = scenario_text(name);
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in " << name;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return load_scenario_text(text, name + " (variant)");
}

TimelineResult run(Scenario s, uint64_t seed = 1) {
  World w(std::move(s), seed);
  w.start();
  return run_timeline(w);
}

const WindowReport& window(const TimelineResult& r, const std::string& name) {
  for (const auto& w : r.windows)
    if (w.name == name && w.declared) return w;
  throw std::out_of_range("no window " + name);
}

// The direct topology with a timeline appended (its workload's first entry is the traffic).
Scenario direct_with(const std::string& timeline) {
  std::string text = scenario_text("direct");
  std::string t = timeline;
  t.replace(0, std::string("timeline:\n").size(),
            "timeline:\n  traffic: [CFA reads an order through one exchange]\n");
  return load_scenario_text(text + "\n" + t, "direct+timeline");
}

}  // namespace

// --- Clocks -------------------------------------------------------------------------------

TEST(ClockTest, DriftAccumulatesOverSimulatedTime) {
  Clock c;
  c.freeze();
  const int64_t t0 = c.now_ms();
  c.set_drift_ppm(1000);  // 1 ms per second
  c.advance(std::chrono::seconds(1000));
  EXPECT_EQ(c.now_ms() - t0, 1000 * 1000 + 1000);
  EXPECT_EQ(c.deviation().count(), 1000);
}

TEST(ClockTest, StepsMoveOneClockAndAdvanceMovesTime) {
  Clock c;
  c.freeze();
  const int64_t t0 = c.now_s();
  c.step(std::chrono::seconds(120));
  EXPECT_EQ(c.now_s(), t0 + 120);
  EXPECT_EQ(c.deviation().count(), 120000);
  c.step(std::chrono::seconds(-120));
  c.advance(std::chrono::seconds(5));
  EXPECT_EQ(c.now_s(), t0 + 5);
  EXPECT_EQ(c.deviation().count(), 0);  // time passed; the clock is not off
}

TEST(ClockTest, WorldClocksTakeZoneDriftAndRoleLeeway) {
  Scenario s =
      variant("broker", "leeway_s: 30\n", "leeway_s: 30\nzones:\n  on-prem: { drift_ppm: 500 }\n");
  s.roles[static_cast<size_t>(
              std::find_if(s.roles.begin(), s.roles.end(), [](auto& r) { return r.id == "pba"; }) -
              s.roles.begin())]
      .leeway_s = 5;
  World w(s);
  w.time().freeze_clocks();
  const int64_t edge = w.time().clock("pba").now_ms(), cloud = w.time().clock("as-c").now_ms();
  w.time().advance_time(1000);
  EXPECT_EQ(w.time().clock("pba").now_ms() - edge, 1000 * 1000 + 500);  // on-prem drifts
  EXPECT_EQ(w.time().clock("as-c").now_ms() - cloud, 1000 * 1000);      // cloud does not
  EXPECT_EQ(w.scenario().leeway_of(*w.scenario().find_role("pba")), 5);
  EXPECT_EQ(w.scenario().leeway_of(*w.scenario().find_role("gw-c2pe")), 30);
}

// --- The timeline section is validated with file:line -----------------------------------

struct BadTimeline {
  const char* yaml;
  const char* message;
};

TEST(TimelineLoaderTest, MistakesAreErrorsWithLineAndReason) {
  const BadTimeline cases[] = {
      {"timeline:\n  events:\n    - { at: 5s, explode: as-c }\n", "unknown key 'explode'"},
      {"timeline:\n  events:\n    - { at: 5s, down: as-c2pe, up: as-c2pe }\n", "names two events"},
      {"timeline:\n  events:\n    - { down: as-c2pe }\n", "needs 'at'"},
      {"timeline:\n  events:\n    - { at: soon, down: as-c2pe }\n", "must be a duration"},
      {"timeline:\n  events:\n    - { at: 5s, down: nobody }\n", "unknown role 'nobody'"},
      {"timeline:\n  events:\n    - { at: 5s, down: cfa }\n", "is a client"},
      {"timeline:\n  events:\n    - { at: 5s, rotate_key: gw-c2p }\n",
       "not an authorization server"},
      {"timeline:\n  events:\n    - { at: 5s, revoke_client: { as: as-c, client: nobody } }\n",
       "not registered at 'as-c'"},
      {"timeline:\n  events:\n    - { at: 5s, policy: { as: as-c, max_ttl_s: 60 } }\n",
       "does not perform token exchange"},
      {"timeline:\n  events:\n    - { at: 5s, down: as-c2pe, overlap: 5s }\n",
       "only applies to rotate_key"},
      {"timeline:\n  events:\n    - { at: 5s, clock_step: { zone: mars, by_s: 5 } }\n",
       "zone 'mars'"},
      {"timeline:\n  windows:\n    - { name: w, from: 10s, to: 5s }\n",
       "'to' must be after 'from'"},
      {"timeline:\n  windows:\n    - { name: w, expect: { success_rate: most } }\n",
       "must be a comparison"},
      {"timeline:\n  swarm: { pick: 3, start: [1s, 2s], length: [1s, 2s], candidates: [ { down: "
       "as-c2pe } ] }\n",
       "'pick'"},
      {"timeline:\n  swarm: { start: [5s, 2s], length: [1s, 2s], candidates: [ { down: as-c2pe } ] "
       "}\n",
       "max is below min"},
      {"timeline:\n  duration: 1h\n  step: 1ms\n", "more than 100000 steps"},
      {"timeline:\n  traffic: [nothing]\n", "workload entry 'nothing'"},
  };
  for (const auto& c : cases) {
    try {
      load_scenario_text(scenario_text("direct") + "\n" + c.yaml, "t.yaml");
      ADD_FAILURE() << "accepted: " << c.yaml;
    } catch (const ScenarioError& e) {
      EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos)
          << e.what() << "\nfor: " << c.yaml;
      EXPECT_GT(e.diagnostic().pos.line, 0) << e.what();
    }
  }
}

TEST(TimelineLoaderTest, DurationsAndBoundsParse) {
  Scenario s = direct_with(
      "timeline:\n  duration: 2m\n  step: 500ms\n  events:\n    - { at: 1.5s, rotate_key: as-c2pe, "
      "overlap: 1m }\n"
      "  windows:\n    - { name: w, from: 0s, to: 1m, expect: { success_rate: '>= 0.99', calls: '> "
      "3' } }\n");
  ASSERT_TRUE(s.timeline);
  EXPECT_DOUBLE_EQ(s.timeline->duration_s, 120);
  EXPECT_DOUBLE_EQ(s.timeline->step_s, 0.5);
  EXPECT_DOUBLE_EQ(s.timeline->events.at(0).at_s, 1.5);
  EXPECT_DOUBLE_EQ(s.timeline->events.at(0).overlap_s, 60);
  const auto& e = s.timeline->windows.at(0).expect;
  EXPECT_TRUE(e.success_rate->holds(0.99));
  EXPECT_FALSE(e.success_rate->holds(0.98));
  EXPECT_FALSE(e.calls->holds(3));
  EXPECT_TRUE(e.calls->holds(4));
}

TEST(TimelineLoaderTest, ZoneLinksExpandToEveryCrossingPair) {
  Scenario s = load_scenario_text(
      scenario_text("direct") +
          "\nlinks:\n  - { from_zone: cloud, to_zone: on-prem, latency_ms: 5 }\n",
      "z.yaml");
  std::set<std::string> pairs;
  for (const auto& l : s.links) pairs.insert(l.from + "->" + l.to);
  // cloud: cfa, as-c, gw-c2p; on-prem servers: as-c2pe, gw-c2pe, pba.
  EXPECT_EQ(pairs.size(), 9u);
  EXPECT_TRUE(pairs.count("gw-c2p->as-c2pe"));
  EXPECT_FALSE(pairs.count("gw-c2pe->as-c2pe"));  // inside on-prem: not crossing
}

// --- The seed decides the plan ------------------------------------------------------------

TEST(TimelinePlanTest, OneSeedOnePlanAndSeedsDiffer) {
  const Scenario s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/faults/swarm.yaml");
  std::vector<std::string> a, b;
  resolve_plan(s, 7, &a);
  resolve_plan(s, 7, &b);
  EXPECT_EQ(a, b);
  ASSERT_EQ(a.size(), 3u);  // pick: 3
  std::set<std::vector<std::string>> distinct;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    std::vector<std::string> p;
    resolve_plan(s, seed, &p);
    distinct.insert(p);
  }
  EXPECT_GE(distinct.size(), 4u);
}

TEST(TimelinePlanTest, SwarmPicksStayInTheirRangesAndOverlapsScheduleRetirement) {
  const Scenario s = load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/faults/swarm.yaml");
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Scenario r = resolve_plan(s, seed, nullptr);
    for (const auto& l : r.links) {
      EXPECT_GE(l.at_s, 5.0);
      EXPECT_LE(l.at_s, 25.0);
      EXPECT_GE(l.for_s, 3.0);
      EXPECT_LE(l.for_s, 10.0);
    }
    double last = 0;
    bool rotated = false, retired = false;
    for (const auto& e : r.timeline->events) {
      EXPECT_GE(e.at_s, last) << "events are sorted";
      last = e.at_s;
      rotated = rotated || e.kind == EventKind::kRotateKey;
      retired = retired || e.kind == EventKind::kRetireKeys;
    }
    EXPECT_EQ(rotated, retired) << "seed " << seed;
  }
}

TEST(TimelinePlanTest, JitterMovesEventsWithinTheirBoundBySeed) {
  Scenario s = direct_with(
      "timeline:\n  duration: 30s\n  events:\n    - { at: 10s, jitter: 3s, down: as-c2pe }\n");
  std::set<double> times;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const double at = resolve_plan(s, seed, nullptr).timeline->events.at(0).at_s;
    EXPECT_GE(at, 7.0);
    EXPECT_LE(at, 13.0);
    times.insert(at);
    EXPECT_EQ(at, resolve_plan(s, seed, nullptr).timeline->events.at(0).at_s);
  }
  EXPECT_GE(times.size(), 5u);
}

// --- Timeline runs ------------------------------------------------------------------------

TEST(TimelineRunTest, KeyRotationWithOverlapHasZeroFailures) {
  const auto r = run(load_scenario(std::string(TXLAB_SOURCE_DIR) +
                                   "/scenarios/faults/key-rotation-under-load.yaml"));
  EXPECT_TRUE(r.ok()) << render_text(
      World(load_scenario(std::string(TXLAB_SOURCE_DIR) +
                          "/scenarios/faults/key-rotation-under-load.yaml")),
      r);
  for (const auto& c : r.calls) EXPECT_TRUE(c.ok) << c.id << " " << c.status << " " << c.error;
}

TEST(TimelineRunTest, RetiringKeysBeforeTheirTokensExpireIsCaught) {
  // The defect: AS-C withdraws its old key 1 s after rotating, while the client still holds an
  // AT1 signed with it (60 s lifetime, renewed every 30 s). The run's zero-failure expectation must
  // catch it.
  Scenario s =
      variant("faults/key-rotation-under-load", "{ at: 40s, rotate_key: as-c, overlap: 75s }",
              "{ at: 35s, rotate_key: as-c, overlap: 1s }");
  const auto r = run(std::move(s));
  EXPECT_FALSE(r.ok());
  int refused = 0;
  for (const auto& c : r.calls) refused += c.status == 401 ? 1 : 0;
  EXPECT_GT(refused, 0);
}

TEST(TimelineRunTest, StaleKeysAreServedOnlyWithinTheirBound) {
  const auto ok =
      run(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/faults/jwks-outage.yaml"));
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(window(ok, "stale within bound").success_rate, 1.0);
  EXPECT_EQ(window(ok, "beyond bound").success_rate, 0.0);
  // Fail closed, and say why: the keys are unavailable (503, retry later), not the token bad.
  for (const auto& c : ok.calls)
    if (!c.ok) {
      EXPECT_EQ(c.status, 503) << c.id;
      EXPECT_EQ(c.error, "temporarily_unavailable") << c.id;
    }
  // The defect: verifiers that keep stale keys forever. The beyond-bound window catches it.
  Scenario forever = load_scenario_text(
      [&] {
        std::string t = scenario_text("faults/jwks-outage");
        for (size_t at; (at = t.find("max_stale_s: 60")) != std::string::npos;)
          t.replace(at, 15, "max_stale_s: 99999");
        return t;
      }(),
      "jwks-outage (stale forever)");
  const auto bad = run(std::move(forever));
  EXPECT_FALSE(bad.ok());
  EXPECT_GT(window(bad, "beyond bound").success_rate, 0.0);
}

TEST(TimelineRunTest, RoleDownAndUpRecoversWithoutRestartingAnything) {
  const auto r =
      run(load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/faults/edge-as-outage.yaml"));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(window(r, "outage").success_rate, 0.0);
  EXPECT_EQ(window(r, "after").success_rate, 1.0);
  for (const auto& c : r.calls)
    if (!c.ok) {
      EXPECT_EQ(c.error, "exchange_unavailable") << c.id;
    }
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_TRUE(r.events[0].ok && r.events[1].ok);
}

TEST(TimelineRunTest, ABrokenWindowExpectationFailsTheRun) {
  Scenario s = variant("faults/edge-as-outage",
                       "expect: { success_rate: \"== 0\", calls: \">= 40\", max_latency_ms: 5500 }",
                       "expect: { success_rate: \">= 0.99\" }");
  const auto r = run(std::move(s));
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(window(r, "outage").failures.empty());
  EXPECT_NE(window(r, "outage").failures[0].find("success rate 0.0000"), std::string::npos)
      << window(r, "outage").failures[0];
}

TEST(TimelineRunTest, AnEmptyWindowCannotPassASuccessRate) {
  Scenario s = direct_with(
      "timeline:\n  duration: 5s\n  windows:\n    - { name: later, from: 10s, to: 20s, expect: { "
      "success_rate: '>= 0.5' } }\n");
  const auto r = run(std::move(s));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(window(r, "later").failures.at(0).find("no calls"), std::string::npos);
}

TEST(TimelineRunTest, RevokedClientFailsUntilRestored) {
  Scenario s = direct_with(
      "timeline:\n  duration: 15s\n  events:\n"
      "    - { at: 5s, revoke_client: { as: as-c2pe, client: gateway-c2p } }\n"
      "    - { at: 10s, restore_client: { as: as-c2pe, client: gateway-c2p } }\n"
      "  windows:\n"
      "    - { name: before, from: 0s, to: 5s, expect: { success_rate: '== 1' } }\n"
      "    - { name: revoked, from: 5s, to: 10s, expect: { success_rate: '== 0' } }\n"
      "    - { name: restored, from: 10s, to: 15s, expect: { success_rate: '== 1' } }\n");
  const auto r = run(std::move(s));
  EXPECT_TRUE(r.ok()) << (r.windows.empty()               ? ""
                          : r.windows[1].failures.empty() ? ""
                                                          : r.windows[1].failures[0]);
  for (const auto& c : r.calls)
    if (c.t_s >= 5 && c.t_s < 10) {
      EXPECT_EQ(c.status, 502) << "the gateway's registration is refused: exchange_failed";
    }
}

TEST(TimelineRunTest, SecretRotationDoesNotRevokeTokensAlreadyIssued) {
  // The client's AT1 (300 s) outlives the rotation of its secret: calls go on until the client
  // must authenticate again (30 s before exp), then fail with invalid_client.
  Scenario s = direct_with(
      "timeline:\n  duration: 320s\n  step: 10s\n  events:\n    - { at: 5s, rotate_secret: { as: "
      "as-c, client: svc-cfa } }\n"
      "  windows:\n    - { name: token still valid, from: 10s, to: 260s, expect: { success_rate: "
      "'== 1' } }\n"
      "    - { name: must authenticate again, from: 280s, to: 320s, expect: { success_rate: '== 0' "
      "} }\n");
  const auto r = run(std::move(s));
  EXPECT_TRUE(r.ok()) << r.windows.size();
  for (const auto& c : r.calls)
    if (c.t_s >= 280) {
      EXPECT_EQ(c.error, "invalid_client") << c.id;
    }
}

TEST(TimelineRunTest, PolicyChangeShortensTokensIssuedAfterIt) {
  Scenario s = direct_with(
      "timeline:\n  duration: 10s\n  events:\n    - { at: 5s, policy: { as: as-c2pe, max_ttl_s: 45 "
      "} }\n");
  World w(std::move(s));
  w.start();
  const auto r = run_timeline(w);
  ASSERT_TRUE(r.ok());
  for (const auto& c : r.calls) {
    const auto tokens = w.trace().tokens(c.id);
    ASSERT_GE(tokens.size(), 2u);
    const auto at2 = jose::decode_unverified(tokens[1].token);
    ASSERT_TRUE(at2);
    const int64_t ttl =
        json_int(at2->second, "exp").value_or(0) - json_int(at2->second, "iat").value_or(0);
    EXPECT_EQ(ttl, c.t_s >= 5 ? 45 : 240) << c.id;
  }
}

TEST(TimelineRunTest, RevokedTokensAreRefusedWhereTheGatewayIntrospects) {
  std::string text = scenario_text("direct");
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  // The edge gateway asks AS-C2PE (RFC 7662) before forwarding; the cloud gateway caches AT2.
  replace("      - { prefix: /, to: pba }", "      - { prefix: /, to: pba, introspect: true }");
  replace("    audience: gateway-c2pe\n",
          "    audience: gateway-c2pe\n    introspection: { at: as-c2pe, client_id: gateway-c2p, "
          "secret: gw-c2p-secret }\n");
  replace("      audiences: [gateway-c2pe, api://pba]\n    routes:",
          "      audiences: [gateway-c2pe, api://pba]\n      cache: true\n    routes:");
  Scenario s = load_scenario_text(
      text +
          "\ntimeline:\n  traffic: [CFA reads an order through one exchange]\n  duration: 10s\n"
          "  events:\n    - { at: 5s, revoke_tokens: { as: as-c2pe, client: gateway-c2p } }\n",
      "introspect");
  World w(std::move(s));
  w.start();
  const auto r = run_timeline(w);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_NE(r.events[0].result.find("1 tokens revoked"), std::string::npos)
      << "one cached AT2: " << r.events[0].result;
  // After the revocation the cached AT2 is refused at the edge (401 after introspection); the
  // cloud gateway drops it and exchanges once more, so callers never see the failure.
  for (const auto& c : r.calls) EXPECT_TRUE(c.ok) << c.id;
  const auto before = w.trace().tokens(r.calls.front().id);
  const auto after = w.trace().tokens(r.calls.back().id);
  ASSERT_GE(before.size(), 2u);
  ASSERT_GE(after.size(), 2u);
  EXPECT_NE(before[1].token, after[1].token) << "a fresh AT2 after the revocation";
  http::OutboundRequest replay;
  replay.path = "/orders/42";
  replay.headers.emplace_back("Authorization", "Bearer " + before[1].token);
  const auto res = w.transport().http().send(w.directory().url_of("gw-c2pe"), replay);
  EXPECT_EQ(res.status, 401) << res.body;
}

TEST(TimelineRunTest, RealClockModePacesStepsOnTheWallClock) {
  Scenario s =
      direct_with("timeline:\n  duration: 1s\n  step: 250ms\n  clock: real\n  calls_per_step: 2\n");
  const auto r = run(std::move(s));
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.simulated);
  EXPECT_EQ(r.calls.size(), 8u);  // 4 steps x 2 calls
  EXPECT_GE(r.real_s, 0.75);      // the last step starts 750 ms in (a lower bound only)
}

TEST(TimelineLoaderTest, LinkWindowsTakeDurations) {
  Scenario s = load_scenario_text(
      scenario_text("direct") +
          "\nlinks:\n  - { from: gw-c2p, to: as-c2pe, down: 1.0, at: 1m, for: 500ms }\n",
      "w.yaml");
  EXPECT_DOUBLE_EQ(s.links.at(0).at_s, 60);
  EXPECT_DOUBLE_EQ(s.links.at(0).for_s, 0.5);
  EXPECT_THROW(load_scenario_text(scenario_text("direct") +
                                      "\nlinks:\n  - { to: as-c2pe, down: 1.0, at: 1s, at_s: 2 }\n",
                                  "w.yaml"),
               ScenarioError);
}
