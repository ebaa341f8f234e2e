// Clock: real time plus a per-role offset; monotonic time for durations.
#include "sim/clock.h"

namespace txlab {

int64_t Clock::now_s() const {
  const auto real = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return real.count() + offset_s_.load();
}

int64_t monotonic_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace txlab
