// A fault-injecting TCP proxy between two roles (Boost.Asio), Toxiproxy-style: latency with
// jitter, connections refused (reset at once), responses cut mid-way (reset), stalls (accept,
// never answer), each with a probability and an optional time window. Every decision is drawn
// from a generator seeded per proxy, so one seed gives the same decisions connection by
// connection (latencies on loopback still vary: the schedule is not deterministic).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace txlab {

struct FaultSpec {
  int64_t latency_ms = 0;  // added to every chunk forwarded, in both directions
  int64_t jitter_ms = 0;   // uniform in [0, jitter_ms] on top
  double down = 0;         // probability a connection is reset as soon as it is accepted
  double reset = 0;        // probability the response is cut after its first bytes
  double stall = 0;        // probability the connection is accepted and never answered
  double at_s = 0;         // the faults apply from this many seconds after start ...
  double for_s = 0;        // ... for this long (0 = forever)
};

struct FaultDecision {
  uint64_t connection = 0;  // 1, 2, 3 ... in accept order
  std::string fault;        // "none", "down", "reset", "stall"
  int64_t latency_ms = 0;
};

class FaultProxy {
 public:
  FaultProxy(std::string name, int upstream_port, FaultSpec spec, uint64_t seed);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int start();  // listens on 127.0.0.1:0; returns the port
  void stop();  // closes everything and joins
  std::string base_url() const;
  const std::string& name() const;
  std::vector<FaultDecision> decisions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace txlab
