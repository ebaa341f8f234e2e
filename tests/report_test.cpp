// What the world reports and exports: the bounded trace, load SVG and JSON, the HTML page,
// Kubernetes/Compose/Keycloak export, and what a standalone role needs.
#include <gtest/gtest.h>

#include <fstream>

#include <yaml-cpp/yaml.h>

#include "test_support.h"
#include "world/export.h"
#include "world/html.h"
#include "world/load.h"
#include "world/report.h"
#include "world/runner.h"
#include "world/standalone.h"

using namespace txlab;
using namespace txlab::testing;
using Json = nlohmann::json;

// The trace keeps the most recent records and counts what it drops (serve under load stays flat).
TEST(TraceTest, BoundedKeepsTheNewestAndCountsDrops) {
  Trace t;
  t.set_limits(3, 2);
  for (int i = 0; i < 10; ++i) {
    t.add_hop(Hop{"c" + std::to_string(i), "a", "b", "GET /", 200, i, 1});
    t.add_token(PresentedToken{"c" + std::to_string(i), "a", "b", "tok" + std::to_string(i)});
  }
  EXPECT_EQ(t.hop_count(), 3u);
  EXPECT_EQ(t.dropped_hops(), 7u);
  EXPECT_EQ(t.dropped_tokens(), 8u);
  EXPECT_EQ(t.hops("c9").size(), 1u);
  EXPECT_TRUE(t.hops("c0").empty());
  EXPECT_EQ(t.tokens("c9").size(), 1u);
  EXPECT_TRUE(t.tokens("c7").empty());
}

// The latency chart reads on its own: an opaque background, the path names escaped, an x axis
// spanning the decades the latencies actually cover, a y axis in calls.
TEST(LoadSvgTest, AxesFollowTheDataAndNamesAreEscaped) {
  LoadReport r = LoadReport::for_paths({"reads <orders> & \"more\""}, 5, 10);
  for (int64_t us : {50, 900, 12000, 2000000}) r.record(0, us, 1.0, false);
  r.paths[0].errors = 1;
  const std::string svg = render_svg(r);
  EXPECT_NE(svg.find(R"(<rect width="100%" height="100%" fill="#ffffff"/>)"), std::string::npos);
  EXPECT_NE(svg.find("reads &lt;orders&gt; &amp; &quot;more&quot;"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("<orders>"), std::string::npos);
  EXPECT_NE(svg.find(">10 µs<"), std::string::npos) << svg;  // 50 µs: the decade below
  EXPECT_NE(svg.find(">10 s<"), std::string::npos) << svg;   // 2 s: the decade above
  EXPECT_EQ(svg.find(">100 s<"), std::string::npos);
  EXPECT_NE(svg.find(">calls</text>"), std::string::npos);
  EXPECT_NE(svg.find("latency (log scale)"), std::string::npos);
  EXPECT_NE(svg.find("4 calls · p50"), std::string::npos);
}

// --html pages: whatever a scenario names is text, never markup; the page fetches nothing.
TEST(HtmlTest, NamesAreTextAndThePageFetchesNothing) {
  const nlohmann::json roles = nlohmann::json::parse(
      R"([{"id":"a<b>","kind":"client","zone":"z\"1"},{"id":"c","kind":"gateway","zone":"z2"}])");
  const nlohmann::json call =
      nlohmann::json::parse(R"({"id":"c1","name":"<script>alert(1)</script>",
      "ok":false,"status":0,"failures":["want 200, got </pre><img src=x>"],
      "hops":[{"from":"a<b>","to":"c","status":0,"us":5,"what":"GET /x?'\"&"}],
      "tokens":[{"label":"AT1","claims":{"aud":"c","scope":"a"}},
                {"label":"AT2","claims":{"aud":"d","scope":"a","act":{"sub":"<i>"}}}]})");
  const std::string page = html::page(
      "run", "t<", "s", html::run_body({{"ok", false}, {"roles", roles}, {"calls", {call}}}));
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("<img src=x>"), std::string::npos);
  EXPECT_EQ(page.find("\"<i>\""), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href=\"http"), std::string::npos);
  // The hop without an answer is drawn as such; what changed between the tokens is listed.
  const std::string svg = html::sequence_svg(roles, call);
  EXPECT_NE(svg.find("no answer"), std::string::npos);
  EXPECT_NE(svg.find("zone z&quot;1"), std::string::npos);
  const std::string cards = html::token_cards(call);
  EXPECT_NE(cards.find("data-changed=\"aud\""), std::string::npos);
  EXPECT_NE(cards.find("data-changed=\"act\""), std::string::npos);
  EXPECT_EQ(cards.find("data-changed=\"scope\""), std::string::npos);
  EXPECT_NE(cards.find("<tr class=\"added\" data-claim=\"act\">"), std::string::npos);
  EXPECT_NE(cards.find("<tr class=\"changed\" data-claim=\"aud\">"), std::string::npos);
  EXPECT_EQ(html::escape("\x01'<"), " &#39;&lt;");
}

// load --json: percentiles second by second, and histogram buckets that add up to the calls.
TEST(LoadJsonTest, PercentilesOverTimeAndHistogram) {
  LoadReport r = LoadReport::for_paths({"p"}, 3, 3);
  r.elapsed_s = 3.1;
  const std::pair<int64_t, double> calls[] = {
      {100, 0.1}, {200, 0.9}, {300, 1.5}, {5000, 2.5}, {7000, 3.09}};
  for (const auto& [us, end_s] : calls) r.record(0, us, end_s, false);
  const auto j = render_json(r);
  ASSERT_EQ(j["over_time"].size(), 3u) << j["over_time"];  // the last 0.1 s joins second 3
  EXPECT_EQ(j["over_time"][0]["calls"], 2);
  EXPECT_EQ(j["over_time"][2]["calls"], 2);
  EXPECT_EQ(j["over_time"][2]["p99_us"], 7000);
  size_t total = 0;
  for (const auto& b : j["histogram"][0]["buckets"]) total += b["calls"].get<size_t>();
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(j["histogram"][0]["buckets"][0]["le_us"], 100);
  // The windows --baseline compares: 3 over the 3 s asked, the late call in the last one.
  ASSERT_EQ(j["paths"][0]["windows"].size(), 3u);
  EXPECT_EQ(j["paths"][0]["windows"][0]["calls"], 2);
  EXPECT_EQ(j["paths"][0]["windows"][2]["calls"], 2);
  EXPECT_EQ(j["paths"][0]["p999_us"], 7000);
  EXPECT_EQ(j["mode"], "closed-loop");
}

// export: the YAML writer round-trips through a YAML parser (YAML 1.1 words, colons, block
// literals), and a role's scenario carries its own secrets as ${...} and nobody else's.
TEST(ExportTest, YamlRoundTripsAndSecretsStayWithTheirRole) {
  const Json v = {{"on", "off"},
                  {"url", "http://a:8080/x"},
                  {"n", 42},
                  {"empty", Json::array()},
                  {"text", "line one\n  indented: two\n"},
                  {"list", {{{"a", 1}, {"b", {"x", "yes"}}}, "- dash"}}};
  const YAML::Node back = YAML::Load(to_yaml(v));
  EXPECT_EQ(back["on"].as<std::string>(), "off");
  EXPECT_EQ(back["url"].as<std::string>(), "http://a:8080/x");
  EXPECT_EQ(back["n"].as<int>(), 42);
  EXPECT_EQ(back["empty"].size(), 0u);
  EXPECT_EQ(back["text"].as<std::string>(), "line one\n  indented: two\n");
  EXPECT_EQ(back["list"][0]["b"][1].as<std::string>(), "yes");
  EXPECT_EQ(back["list"][1].as<std::string>(), "- dash");

  std::ifstream in(scenario_path("broker"));
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, std::string> secrets;
  const std::string gw = role_scenario_yaml(source, "gw-c2p", &secrets);
  EXPECT_EQ(secrets,
            (std::map<std::string, std::string>{{"TXLAB_SECRET_GATEWAY_C2P", "gw-c2p-secret"}}));
  EXPECT_NE(gw.find("${TXLAB_SECRET_GATEWAY_C2P}"), std::string::npos);
  for (const char* other : {"cfa-secret", "broker-secret", "gw-c2p-secret"})
    EXPECT_EQ(gw.find(other), std::string::npos) << other;
  secrets.clear();
  role_scenario_yaml(source, "as-c2p", &secrets);  // its clients' and its broker credentials
  EXPECT_EQ(secrets.size(), 2u);
  const Scenario s = load_scenario(scenario_path("broker"));
  const auto links = declared_links(s);
  EXPECT_TRUE(links.count({"as-c2p", "as-c2pe"}));
  EXPECT_TRUE(links.count({"gw-c2p", "gw-c2pe"}));
  EXPECT_FALSE(links.count({"gw-c2p", "pba"}));
  EXPECT_FALSE(links.count({"cfa", "pba"}));
}

// export --keycloak-realm: the clients a scenario's roles need at an external Keycloak.
TEST(ExportTest, KeycloakRealmHasTheClientsTheChainNeeds) {
  ::setenv("TXLAB_KEYCLOAK_URL", "http://127.0.0.1/realms/txlab", 1);
  const Scenario s =
      load_scenario(std::string(TXLAB_SOURCE_DIR) + "/scenarios/vendors/keycloak-direct.yaml");
  std::string error;
  EXPECT_TRUE(export_keycloak_realm(s, "gw-c2p", "txlab", false, &error).empty());
  EXPECT_NE(error.find("not an external authorization server"), std::string::npos);
  const Json realm = Json::parse(export_keycloak_realm(s, "keycloak", "txlab", false, &error));
  std::map<std::string, Json> by_id;
  for (const auto& c : realm["clients"]) by_id[c["clientId"]] = c;
  EXPECT_EQ(by_id.count("requester-client"), 0u);  // only with --conformance-clients
  ASSERT_EQ(by_id.count("gateway-c2p"), 1u);
  EXPECT_EQ(by_id["gateway-c2p"]["attributes"]["standard.token.exchange.enabled"], "true");
  EXPECT_EQ(by_id["gateway-c2p"]["secret"], "gw-c2p-secret");
  std::set<std::string> mapped;
  for (const auto& m : by_id["gateway-c2p"]["protocolMappers"])
    mapped.insert(m["config"]["included.client.audience"].get<std::string>());
  EXPECT_EQ(mapped, (std::set<std::string>{"gateway-c2pe", "pba"}));
  // CFA's tokens must name the gateway its workload calls.
  EXPECT_EQ(by_id["svc-cfa"]["protocolMappers"][0]["config"]["included.client.audience"],
            "gateway-c2p");
  EXPECT_FALSE(by_id["svc-cfa"].contains("attributes"));  // it does not exchange
  for (const char* aud : {"gateway-c2pe", "pba"}) {
    ASSERT_EQ(by_id.count(aud), 1u) << aud;
    EXPECT_EQ(by_id[aud]["serviceAccountsEnabled"], false) << aud;  // an audience only
  }
  const Json full = Json::parse(export_keycloak_realm(s, "keycloak", "txlab", true, &error));
  std::set<std::string> ids;
  for (const auto& c : full["clients"]) ids.insert(c["clientId"].get<std::string>());
  for (const char* id : {"subject-client", "requester-client", "target-client",
                         "no-exchange-client", "outsider", "public-client", "svc-cfa"})
    EXPECT_TRUE(ids.count(id)) << id;
}

// serve --role: which peers a role needs, and the scenario it runs (pure).
TEST(StandaloneTest, ARoleNeedsExactlyWhatItCallsOrTrusts) {
  const Scenario s = load_scenario(scenario_path("direct"));
  EXPECT_EQ(peers_needed(s, "gw-c2p"), (std::set<std::string>{"as-c", "as-c2pe", "gw-c2pe"}));
  EXPECT_EQ(peers_needed(s, "as-c"), std::set<std::string>{});
  EXPECT_EQ(peers_needed(s, "pba"), std::set<std::string>{"as-c2pe"});
  std::string error;
  EXPECT_FALSE(standalone(s, "gw-c2p", {{"as-c", "http://a"}}, &error));
  EXPECT_NE(error.find("as-c2pe, gw-c2pe"), std::string::npos) << error;
  EXPECT_FALSE(standalone(s, "pba", {{"pba", "http://x"}}, &error));
  EXPECT_FALSE(standalone(s, "pba", {{"as-c2pe", "ftp://x"}}, &error));
  auto one = standalone(s, "pba", {{"as-c2pe", "http://127.0.0.1:9/"}}, &error);
  ASSERT_TRUE(one) << error;
  EXPECT_TRUE(one->find_role("pba")->runs_here());
  EXPECT_EQ(one->find_role("as-c2pe")->remote_url, "http://127.0.0.1:9");
  EXPECT_EQ(one->find_role("cfa")->remote_url, "");  // not needed: not reachable from here
  EXPECT_TRUE(one->links.empty());
}
