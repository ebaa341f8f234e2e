// The only place txlab reads wall-clock time. Every role gets its own Clock from the
// world, so a scenario (or a test) can skew one zone or jump past `exp` without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace txlab {

class Clock {
 public:
  Clock() = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;

  // Seconds since the Unix epoch as this clock sees it (JWT NumericDate, RFC 7519 §2).
  int64_t now_s() const;
  // Shift this clock relative to real time (positive = ahead).
  void set_offset(std::chrono::seconds offset) { offset_s_.store(offset.count()); }
  void advance(std::chrono::seconds by) { offset_s_.fetch_add(by.count()); }
  std::chrono::seconds offset() const { return std::chrono::seconds(offset_s_.load()); }
  // Stops the clock at the current second (offsets still apply): tests that probe a boundary
  // to the second must not see the real second tick between two steps.
  void freeze();

 private:
  std::atomic<int64_t> offset_s_{0};
  std::atomic<int64_t> frozen_at_s_{0};  // 0 = running
};

// Monotonic microseconds, for measuring durations (hop latency) only.
int64_t monotonic_us();

}  // namespace txlab
