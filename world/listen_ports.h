// Fixed ports for a whole served scenario: the roles run here, in scenario order, listen on
// HOST at FIRST_PORT, FIRST_PORT+1, ...
#pragma once

#include <string>

#include "world/world.h"

namespace txlab {

// False (some roles already assigned) when the ports above FIRST_PORT run out before the roles.
bool listen_in_scenario_order(World& world, const std::string& host, int first_port);

}  // namespace txlab
