// Timeline runs (scenario `timeline:`): simulation time moves step by step (jumping, without
// sleeping, or on the wall clock); before each step the events due are applied (key
// rotation, revocation, roles down and up, clock steps, policy changes); then the step's
// calls run. The run is judged per window (success rate, call count, latency) and as a whole
// (audit complete, max latency, no 2xx without a verified token at the backend).
//
// The seed decides, before the world starts, every random part of the plan: jittered event
// times and the swarm's picks (resolve_plan). Fault decisions are seeded per link as before.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/scenario.h"
#include "world/plan.h"

namespace txlab {

class World;
struct RunResult;

struct TimelineCall {
  std::string id;    // call id in the trace
  std::string name;  // workload entry
  double t_s = 0;    // simulation time of its step
  int status = 0;
  std::string error;
  bool ok = false;  // 2xx
  int64_t us = 0;
};

struct AppliedEvent {
  double at_s = 0;  // when it was applied (simulation time)
  std::string what;
  std::string origin;
  std::string result;
  bool ok = true;
};

struct WindowReport {
  std::string name;
  double from_s = 0, to_s = 0;
  bool declared = false;  // from the scenario (judged) or derived from event times (report only)
  int calls = 0, ok = 0;
  double success_rate = 0;
  int64_t p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
  std::vector<std::string> failures;  // expectations that did not hold
};

struct TimelineResult {
  uint64_t seed = 1;
  bool simulated = true;
  std::vector<std::string> plan;
  std::vector<AppliedEvent> events;
  std::vector<TimelineCall> calls;
  std::vector<WindowReport> windows;
  std::vector<std::string> failures;  // whole-run expectations and invariants
  double real_s = 0;                  // wall time the run took
  // The first call and the first failed call in full (hops, tokens), for diagrams and reports.
  std::shared_ptr<RunResult> sample;
  bool ok() const;
};

TimelineResult run_timeline(World& world);

std::string render_text(const World& world, const TimelineResult& r);
nlohmann::json render_json(const World& world, const TimelineResult& r);

}  // namespace txlab
