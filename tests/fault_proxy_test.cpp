// The fault proxy over real loopback sockets, one fault at a time, and the reproducibility of
// its decisions from a seed.
#include <gtest/gtest.h>

#include <httplib.h>
#include <filesystem>
#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>

#include "sim/clock.h"
#include "sim/fault_proxy.h"
#include "sim/http/client_pool.h"
#include "sim/http/server.h"
#include "sim/tls.h"

using namespace txlab;

namespace {

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    upstream_.routes().get("/ping", [](const http::Request&, http::Response& res) {
      res.set_content("pong", "text/plain");
    });
    upstream_.routes().get("/big", [](const http::Request&, http::Response& res) {
      res.set_content(std::string(512 * 1024, 'x'), "application/octet-stream");
    });
    upstream_.start();
  }

  // A fresh client per request: every request is a new connection, so a new decision.
  static http::InboundResponse get(const std::string& base, const std::string& path,
                                   int read_timeout_ms = 2000) {
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

TEST_F(FaultProxyTest, BandwidthCapSlowsALargeAnswerInProportionToItsSize) {
  FaultSpec spec;
  spec.bandwidth_kbps = 8192;  // 1 MB/s: 512 KiB need at least ~0.5 s
  FaultProxy proxy("thin", upstream_.port(), spec, 1);
  proxy.start();
  const int64_t t0 = monotonic_us();
  auto r = get(proxy.base_url(), "/big", 10000);
  const int64_t took_ms = (monotonic_us() - t0) / 1000;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), 512u * 1024);  // slowed, never truncated
  EXPECT_GE(took_ms, 500);                // a lower bound only: machines here are noisy
  EXPECT_EQ(proxy.decisions().at(0).bandwidth_kbps, 8192);
}

namespace {
// A raw request with Connection: close, read until the peer closes; returns (bytes, ms).
std::pair<size_t, int64_t> read_until_close(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {0, -1};
  }
  const std::string req = "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), 0);
  const int64_t t0 = monotonic_us();
  size_t total = 0;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) total += static_cast<size_t>(n);
  ::close(fd);
  return {total, (monotonic_us() - t0) / 1000};
}
}  // namespace

TEST_F(FaultProxyTest, SlowCloseHoldsTheFinAfterTheAnswer) {
  FaultSpec spec;
  spec.slow_close_ms = 300;
  FaultProxy proxy("lingering", upstream_.port(), spec, 1);
  proxy.start();
  const auto [bytes, ms] = read_until_close(proxy.port());
  EXPECT_GT(bytes, 0u);  // the whole answer arrives ...
  EXPECT_GE(ms, 300);    // ... and the close only after the configured delay
  FaultProxy direct("prompt", upstream_.port(), {}, 1);
  direct.start();
  EXPECT_GT(read_until_close(direct.port()).first, 0u);
}

TEST_F(FaultProxyTest, FaultWindowsFollowTheSuppliedSimulationTime) {
  FaultSpec spec;
  spec.down = 1.0;
  spec.at_s = 10;
  spec.for_s = 5;
  std::atomic<double> now{0};
  FaultProxy proxy("windowed", upstream_.port(), spec, 1, [&] { return now.load(); });
  proxy.start();
  EXPECT_EQ(get(proxy.base_url(), "/ping").status, 200);  // t = 0: before the window
  now = 10;
  EXPECT_EQ(get(proxy.base_url(), "/ping").status, 0);  // t = 10: inside [10, 15)
  now = 14.9;
  EXPECT_EQ(get(proxy.base_url(), "/ping").status, 0);
  now = 15;
  EXPECT_EQ(get(proxy.base_url(), "/ping").status, 200);  // t = 15: healed
  std::vector<std::string> faults;
  for (const auto& d : proxy.decisions()) faults.push_back(d.fault);
  EXPECT_EQ(faults, (std::vector<std::string>{"none", "down", "down", "none"}));
}

// A slow period slows the keep-alive connection that was open before it, and only while it
// lasts: the window is judged chunk by chunk, not once when the connection was accepted.
TEST_F(FaultProxyTest, LatencyWindowSlowsAnOpenConnectionWhileItLasts) {
  FaultSpec spec;
  spec.latency_ms = 600;
  spec.at_s = 10;
  spec.for_s = 5;
  std::atomic<double> now{0};
  FaultProxy proxy("slow-period", upstream_.port(), spec, 1, [&] { return now.load(); });
  proxy.start();
  http::ClientOptions options{1000, 5000, 4};
  options.max_idle_ms = 0;  // keep the one connection
  http::HttpClientPool pool(options);
  http::OutboundRequest req;
  req.path = "/ping";
  auto timed = [&] {
    const int64_t t0 = monotonic_us();
    EXPECT_EQ(pool.send(proxy.base_url(), req).status, 200);
    return (monotonic_us() - t0) / 1000;
  };
  EXPECT_LT(timed(), 600);  // before the window: no added latency (a bound, not a speed)
  now = 11;
  EXPECT_GE(timed(),
            2 * 600);  // inside: request and answer chunks wait: the open connection's chunks wait
  now = 16;
  EXPECT_LT(timed(), 600);                  // after: back to none
  EXPECT_EQ(proxy.decisions().size(), 1u);  // all three on the one connection
}

TEST_F(FaultProxyTest, LossCostsARetransmissionTimeoutPerLostChunk) {
  FaultSpec spec;
  spec.loss = 1.0;  // every chunk: the request's and the answer's
  spec.loss_delay_ms = 150;
  FaultProxy proxy("lossy", upstream_.port(), spec, 1);
  proxy.start();
  const int64_t t0 = monotonic_us();
  auto r = get(proxy.base_url(), "/ping");
  EXPECT_EQ(r.status, 200);  // delayed, never corrupted
  EXPECT_GE((monotonic_us() - t0) / 1000, 2 * 150);
  EXPECT_DOUBLE_EQ(proxy.decisions().at(0).loss, 1.0);
}

// TLS (issue: peers need https JWKS): a per-run CA, and a TLS front that only a client
// trusting that CA accepts.
TEST_F(FaultProxyTest, TlsFrontServesHttpsVerifiableWithThePerRunCa) {
  const std::string dir = ::testing::TempDir() + "txlab-tls-" + std::to_string(::getpid());
  const TlsMaterial tls = make_tls_material(dir);
  TlsFront front(upstream_.port(), tls);
  const int port = front.start();
  httplib::SSLClient trusted("127.0.0.1", port);
  trusted.set_ca_cert_path(tls.ca_cert_path.c_str());
  trusted.enable_server_certificate_verification(true);
  auto r = trusted.Get("/ping");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "pong");
  httplib::SSLClient untrusted("127.0.0.1", port);
  untrusted.enable_server_certificate_verification(true);  // system CAs only: our CA is not there
  auto u = untrusted.Get("/ping");
  EXPECT_FALSE(u) << "a certificate from the per-run CA must not verify without it";
  struct stat st {};
  ASSERT_EQ(::stat(tls.server_key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u) << "the private key is not readable by others";
}

// --tls DIR never follows a symbolic link: not for the directory, not for a file in it (a
// planted link to another file would otherwise receive the private key).
TEST(TlsMaterialTest, SymbolicLinksAreRefused) {
  const std::string base = ::testing::TempDir() + "txlab-tls-links-" + std::to_string(::getpid());
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base + "/real");
  std::filesystem::create_directory_symlink(base + "/real", base + "/link");
  EXPECT_THROW(make_tls_material(base + "/link"), std::runtime_error);
  const std::string victim = base + "/victim.txt";
  { std::ofstream(victim) << "keep me"; }
  std::filesystem::create_directories(base + "/dir");
  std::filesystem::create_symlink(victim, base + "/dir/server.key");
  EXPECT_THROW(make_tls_material(base + "/dir"), std::runtime_error);
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "keep me");
  const TlsMaterial ok = make_tls_material(base + "/fresh");
  struct stat st {};
  ASSERT_EQ(::stat(ok.server_key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::filesystem::remove_all(base);
}
