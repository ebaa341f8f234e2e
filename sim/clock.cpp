// Clock: real time plus a per-role offset; monotonic time for durations.
#include "sim/clock.h"

namespace txlab {

namespace {
int64_t real_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

int64_t Clock::now_s() const {
  const int64_t frozen = frozen_at_s_.load();
  return (frozen ? frozen : real_now_s()) + offset_s_.load();
}

void Clock::freeze() { frozen_at_s_.store(real_now_s()); }

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace txlab
