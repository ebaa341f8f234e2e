// Simulated time: each role's clock (offset, drift, steps) and the run's own time axis, which
// is either real time since start() or, once use_simulated_time() is called, only what
// advance_time() added. Part of the World (world.time()).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "sim/clock.h"

namespace txlab {

class SimTime {
 public:
  // A new clock for `role` (construction of the world only).
  Clock& add_clock(const std::string& role);
  Clock& clock(const std::string& role);  // throws std::out_of_range
  // Freezes every role's clock at the current second (offsets kept), for boundary tests.
  void freeze_clocks();
  // ... at one given instant (ms since the epoch), for every role.
  void freeze_clocks_at(int64_t system_ms);

  // Simulation time in seconds since start(): the real time elapsed, or, once
  // use_simulated_time() is called (it freezes every role clock at one instant), only what
  // advance_time() added. Fault windows follow it.
  double sim_time_s() const;
  void use_simulated_time();
  // Time passes: every role's clock moves by `seconds` (its drift included).
  void advance_time(double seconds);
  // The world started: real time counts from now.
  void start();

 private:
  std::map<std::string, std::unique_ptr<Clock>> clocks_;
  std::atomic<bool> simulated_{false};
  std::atomic<int64_t> sim_ms_{0};
  int64_t started_us_ = 0;
};

}  // namespace txlab
