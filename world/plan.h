// The seeded plan: what the seed decides before a world starts, as a pure function of the
// scenario and the seed (no sockets, no clocks): jittered event times, the swarm's picks,
// retirements after key rotation overlaps. One seed gives the same plan on any libstdc++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario.h"

namespace txlab {

// Applies the seed to the scenario's timeline: jittered event times, the swarm's picks
// (extra links with windows, down/up pairs, instant events), retire_keys after each
// rotate_key's overlap; events sorted by time. `plan` receives one line per decision.
Scenario resolve_plan(Scenario scenario, uint64_t seed, std::vector<std::string>* plan);

// "12.5s": seconds as the plan and the timeline reports print them (millisecond precision).
std::string seconds_text(double s);

}  // namespace txlab
