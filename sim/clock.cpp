// Clock: real time plus simulated time, a per-role offset, steps and drift; monotonic time
// for durations.
#include "sim/clock.h"

#include <cmath>

namespace txlab {

namespace {
int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

Clock::Clock() : created_ms_(system_ms()) {}

int64_t Clock::real_ms() const {
  const int64_t frozen = frozen_at_ms_.load();
  return frozen ? frozen : system_ms();
}

int64_t Clock::drift_ms(int64_t real) const {
  const double ppm = drift_ppm_.load();
  if (ppm == 0) return 0;
  const double elapsed = static_cast<double>(real - created_ms_ + elapsed_ms_.load());
  return static_cast<int64_t>(std::llround(elapsed * ppm / 1e6));
}

int64_t Clock::now_ms() const {
  const int64_t real = real_ms();
  return real + elapsed_ms_.load() + offset_ms_.load() + drift_ms(real);
}

int64_t Clock::now_s() const { return floor_div(now_ms(), 1000); }

std::chrono::milliseconds Clock::deviation() const {
  return std::chrono::milliseconds(offset_ms_.load() + drift_ms(real_ms()));
}

void Clock::freeze() { frozen_at_ms_.store(system_ms()); }

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace txlab
