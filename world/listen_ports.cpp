// Fixed ports for a whole served scenario (see listen_ports.h).
#include "world/listen_ports.h"

namespace txlab {

bool listen_in_scenario_order(World& world, const std::string& host, int first_port) {
  int next = first_port;
  for (const auto& r : world.scenario().roles) {
    if (!r.runs_here()) continue;
    if (next > 65535) return false;
    world.directory().listen_on(r.id, host, next++);
  }
  return true;
}

}  // namespace txlab
