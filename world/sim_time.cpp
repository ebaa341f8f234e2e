// SimTime: the role clocks and the run's simulated time axis.
#include "world/sim_time.h"

#include <chrono>
#include <stdexcept>

namespace txlab {

Clock& SimTime::add_clock(const std::string& role) {
  auto& c = clocks_[role];
  c = std::make_unique<Clock>();
  return *c;
}

Clock& SimTime::clock(const std::string& role) {
  auto it = clocks_.find(role);
  if (it == clocks_.end()) throw std::out_of_range("unknown role '" + role + "'");
  return *it->second;
}

void SimTime::freeze_clocks() {
  freeze_clocks_at(std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count());
}

void SimTime::freeze_clocks_at(int64_t system_ms) {
  for (auto& [id, c] : clocks_) c->freeze_at(system_ms);
}

double SimTime::sim_time_s() const {
  if (simulated_.load()) return static_cast<double>(sim_ms_.load()) / 1000.0;
  return started_us_ ? static_cast<double>(monotonic_us() - started_us_) / 1e6 : 0.0;
}

void SimTime::use_simulated_time() {
  // Every clock stops at one instant: from here on time moves only by advance_time(), so role
  // clocks are exactly start + simulated time (+ offsets, steps, drift), however slow the
  // machine — a run's verdict cannot depend on how long its steps took in real time.
  freeze_clocks();
  sim_ms_.store(0);
  simulated_.store(true);
}

void SimTime::advance_time(double seconds) {
  const auto ms = static_cast<int64_t>(seconds * 1000.0 + 0.5);
  sim_ms_.fetch_add(ms);
  for (auto& [id, c] : clocks_) c->advance_ms(ms);
}

void SimTime::start() { started_us_ = monotonic_us(); }

}  // namespace txlab
