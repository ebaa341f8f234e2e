// The trace every role reports to: hops (one per role-to-role HTTP request, measured by the
// caller) and the tokens presented along each call. Calls are correlated by the
// X-Txlab-Call header, which every role copies from its inbound request to its outbound ones.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace txlab {

inline constexpr const char* kCallHeader = "X-Txlab-Call";

struct Hop {
  std::string call;
  std::string from, to;
  std::string what;  // e.g. "POST /token token-exchange"
  int status = 0;    // HTTP status, 0 when no response (connect error, timeout)
  int64_t start_us = 0;
  int64_t us = 0;  // duration measured by the caller
};

struct PresentedToken {
  std::string call;
  std::string presenter;  // role that sent the token
  std::string to;         // role it was sent to
  std::string token;
};

// Bounded: the most recent kMaxHops hops and kMaxTokens tokens are kept (a call's records are
// read right after it), older ones are dropped and counted — `serve` under load stays flat.
class Trace {
 public:
  static constexpr size_t kMaxHops = 50000;
  static constexpr size_t kMaxTokens = 10000;
  void add_hop(Hop hop);
  void add_token(PresentedToken token);
  std::vector<Hop> hops(const std::string& call) const;
  // Distinct tokens presented during a call, in order of first presentation.
  std::vector<PresentedToken> tokens(const std::string& call) const;
  void clear();
  // A disabled trace records nothing (benchmarks and load runs keep memory flat).
  void set_enabled(bool on) { enabled_.store(on); }
  // Lower bounds (tests); 0 keeps the default.
  void set_limits(size_t max_hops, size_t max_tokens);
  uint64_t dropped_hops() const { return dropped_hops_.load(); }
  uint64_t dropped_tokens() const { return dropped_tokens_.load(); }
  size_t hop_count() const;

 private:
  std::atomic<bool> enabled_{true};
  mutable std::mutex mu_;
  size_t max_hops_ = kMaxHops, max_tokens_ = kMaxTokens;
  std::atomic<uint64_t> dropped_hops_{0}, dropped_tokens_{0};
  std::deque<Hop> hops_;
  std::deque<PresentedToken> tokens_;
};

// The call the current thread is serving (set by the server for the span of a request, or
// by the workload runner). Outbound requests carry it on.
class CallScope {
 public:
  explicit CallScope(std::string call);
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;
  static const std::string& current();

 private:
  std::string previous_;
};

}  // namespace txlab
