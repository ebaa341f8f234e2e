// The fault proxy over real loopback sockets, one fault at a time, and the reproducibility of
// its decisions from a seed.
#include <gtest/gtest.h>
#include <httplib.h>

#include "sim/clock.h"
#include "sim/fault_proxy.h"
#include "sim/http/client_pool.h"
#include "sim/http/server.h"

using namespace txlab;

namespace {

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.routes().Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.set_content("pong", "text/plain"); });
    upstream_.routes().Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(512 * 1024, 'x'), "application/octet-stream");
    });
    upstream_.start();
  }

  // A fresh client per request: every request is a new connection, so a new decision.
  static http::InboundResponse get(const std::string& base, const std::string& path, int read_timeout_ms = 2000) {
    http::HttpClientPool pool(http::ClientOptions{1000, read_timeout_ms, 0});
    http::OutboundRequest req;
    req.path = path;
    return pool.send(base, req);
  }

  http::LoopbackServer upstream_;
};

}  // namespace

TEST_F(FaultProxyTest, WithoutFaultsItForwardsTransparently) {
  FaultProxy proxy("a->b", upstream_.port(), {}, 1);
  proxy.start();
  auto r = get(proxy.base_url(), "/ping");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "pong");
  EXPECT_EQ(get(proxy.base_url(), "/big").body.size(), 512u * 1024);
  for (const auto& d : proxy.decisions()) EXPECT_EQ(d.fault, "none");
}

TEST_F(FaultProxyTest, LatencyDelaysEveryAnswerByAtLeastTheConfiguredTime) {
  FaultSpec spec;
  spec.latency_ms = 120;
  FaultProxy proxy("slow", upstream_.port(), spec, 1);
  proxy.start();
  const int64_t t0 = monotonic_us();
  auto r = get(proxy.base_url(), "/ping");
  const int64_t took_ms = (monotonic_us() - t0) / 1000;
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(took_ms, 2 * 120);  // the request and the answer each wait (a lower bound only)
  EXPECT_EQ(proxy.decisions().at(0).latency_ms, 120);
}

TEST_F(FaultProxyTest, DownResetsConnectionsAtOnce) {
  FaultSpec spec;
  spec.down = 1.0;
  FaultProxy proxy("down", upstream_.port(), spec, 1);
  proxy.start();
  auto r = get(proxy.base_url(), "/ping");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error, http::TransportError::kNone);
  EXPECT_EQ(proxy.decisions().at(0).fault, "down");
}

TEST_F(FaultProxyTest, ResetCutsTheResponseMidway) {
  FaultSpec spec;
  spec.reset = 1.0;
  FaultProxy proxy("reset", upstream_.port(), spec, 1);
  proxy.start();
  auto r = get(proxy.base_url(), "/big");
  EXPECT_TRUE(r.status == 0 || r.body.size() < 512u * 1024) << r.status << " " << r.body.size();
  EXPECT_EQ(proxy.decisions().at(0).fault, "reset");
}

TEST_F(FaultProxyTest, StallNeverAnswersAndTheClientTimesOut) {
  FaultSpec spec;
  spec.stall = 1.0;
  FaultProxy proxy("stall", upstream_.port(), spec, 1);
  proxy.start();
  auto r = get(proxy.base_url(), "/ping", 300);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(proxy.decisions().at(0).fault, "stall");
}

TEST_F(FaultProxyTest, OneSeedGivesTheSameDecisionsConnectionByConnection) {
  FaultSpec spec;
  spec.down = 0.3;
  spec.reset = 0.2;
  spec.jitter_ms = 5;
  auto run = [&](uint64_t seed) {
    FaultProxy proxy("seeded", upstream_.port(), spec, seed);
    proxy.start();
    for (int i = 0; i < 30; ++i) get(proxy.base_url(), "/ping");
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& d : proxy.decisions()) out.emplace_back(d.fault, d.latency_ms);
    return out;
  };
  const auto a = run(42), b = run(42), c = run(43);
  ASSERT_EQ(a.size(), 30u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  bool some_down = false, some_ok = false;
  for (const auto& [f, l] : a) (f == "down" ? some_down : some_ok) = true;
  EXPECT_TRUE(some_down && some_ok);
}
