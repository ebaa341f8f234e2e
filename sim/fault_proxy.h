// A fault-injecting TCP proxy between two roles (Boost.Asio), Toxiproxy-style: latency with
// jitter, a bandwidth cap, connections refused (reset at once), responses cut mid-way (reset),
// stalls (accept, never answer), slow close (the FIN held back), each with a probability and
// an optional time window on the simulation's time. Connection faults (down, stall, reset,
// slow close) are decided when a connection is accepted; with a window, the chunk faults
// (latency, bandwidth, loss) apply to the chunks forwarded while it is open, on every
// connection (a slow period slows pooled keep-alive connections too). Every decision is drawn
// from a generator seeded per proxy, so one seed gives the same decisions connection by
// connection (latencies on loopback still vary: the schedule is not deterministic).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace txlab {

struct FaultSpec {
  int64_t latency_ms = 0;      // added to every chunk forwarded, in both directions
  int64_t jitter_ms = 0;       // uniform in [0, jitter_ms] on top
  double down = 0;             // probability a connection is reset as soon as it is accepted
  double reset = 0;            // probability the response is cut after its first bytes
  double stall = 0;            // probability the connection is accepted and never answered
  int64_t bandwidth_kbps = 0;  // cap in kilobits per second per direction (0 = none)
  int64_t slow_close_ms = 0;   // when upstream closes, hold the client's close this long
  double loss = 0;  // probability per chunk of a lost segment: the chunk waits loss_delay_ms
  int64_t loss_delay_ms = 200;  // (Linux's minimum TCP retransmission timeout)
  double at_s = 0;              // the faults apply from this many seconds of simulation time ...
  double for_s = 0;             // ... for this long (0 = forever)
  bool active_at(double t) const { return t >= at_s && (for_s <= 0 || t < at_s + for_s); }
};

struct FaultDecision {
  uint64_t connection = 0;  // 1, 2, 3 ... in accept order
  std::string fault;        // "none", "down", "reset", "stall"
  int64_t latency_ms = 0;
  int64_t window_latency_ms = 0;  // latency + jitter drawn for the chunks sent in the window
  int64_t bandwidth_kbps = 0;
  int64_t slow_close_ms = 0;
  double loss = 0;
  int64_t loss_delay_ms = 0;
  uint64_t loss_seed = 0;  // per connection: the chunk-by-chunk loss draws
};

class FaultProxy {
 public:
  // `now_s` gives the simulation time in seconds that fault windows are judged on; by
  // default the real time since start().
  FaultProxy(std::string name, int upstream_port, FaultSpec spec, uint64_t seed,
             std::function<double()> now_s = {});
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Before start(): the address to listen on and the upstream's address (both 127.0.0.1 unless
  // set; zones in network namespaces put the proxy on the target zone's border address).
  void set_hosts(std::string listen_host, std::string upstream_host);
  int start();  // listens on the listen host, port 0; returns the port
  void stop();  // closes everything and joins
  std::string base_url() const;
  int port() const;
  const std::string& name() const;
  std::vector<FaultDecision> decisions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace txlab
