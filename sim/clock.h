// The only place txlab reads wall-clock time. Every role gets its own Clock from the
// world, so a scenario (or a test) can skew one zone, let it drift, step it, or jump past
// `exp` without sleeping.
//
// A role's time = real time + simulated time advanced so far (advance())
//               + offset and steps (set_offset(), step())
//               + drift_ppm x (time elapsed since the clock was made, real + simulated).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace txlab {

class Clock {
 public:
  Clock();
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // Seconds since the Unix epoch as this clock sees it (JWT NumericDate, RFC 7519 §2).
  int64_t now_s() const;
  int64_t now_ms() const;
  // Fixed offset relative to true time (positive = ahead); replaces earlier offsets and steps.
  void set_offset(std::chrono::seconds offset) { offset_ms_.store(offset.count() * 1000); }
  // Time passes (simulated): this clock, like every clock, moves forward, drift included.
  void advance(std::chrono::seconds by) { advance_ms(by.count() * 1000); }
  void advance_ms(int64_t ms) { elapsed_ms_.fetch_add(ms); }
  // The clock is stepped (an NTP step, an operator's mistake): only this clock jumps.
  void step(std::chrono::seconds by) { offset_ms_.fetch_add(by.count() * 1000); }
  // Rate error in parts per million (positive = runs fast).
  void set_drift_ppm(double ppm) { drift_ppm_.store(ppm); }
  // How far this clock is from true time now (offset + steps + accumulated drift).
  std::chrono::milliseconds deviation() const;
  // Stops the real-time part at the current millisecond (offsets, steps and advance() still
  // apply): tests that probe a boundary to the second must not see the real second tick.
  void freeze();
  // Freezes the real-time part at `system_ms` (ms since the epoch): several clocks, or several
  // worlds, can stand at the very same instant.
  void freeze_at(int64_t system_ms) { frozen_at_ms_.store(system_ms); }

 private:
  int64_t real_ms() const;
  int64_t drift_ms(int64_t real) const;
  int64_t created_ms_;
  std::atomic<int64_t> offset_ms_{0};
  std::atomic<int64_t> elapsed_ms_{0};
  std::atomic<double> drift_ppm_{0};
  std::atomic<int64_t> frozen_at_ms_{0};  // 0 = running
};

// Monotonic microseconds, for measuring durations (hop latency) only.
int64_t monotonic_us();

}  // namespace txlab
