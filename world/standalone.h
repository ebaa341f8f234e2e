// One role of a scenario on its own (txlab serve --role): every other role runs elsewhere and
// is reached by URL. Pure: a scenario in, a scenario out.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "sim/scenario.h"

namespace txlab {

// The roles `role` calls or trusts (its AS, the ASes it trusts or exchanges at, its routes'
// targets, a client's workload targets).
std::set<std::string> peers_needed(const Scenario& s, const std::string& role);

// `s` with every role but `role` marked remote at its URL from `peers` (base URLs). nullopt and
// *error when `role` is unknown, a peer names an unknown role or `role` itself, or a role it
// needs has no URL (external authorization servers need none).
std::optional<Scenario> standalone(Scenario s, const std::string& role,
                                   const std::map<std::string, std::string>& peers,
                                   std::string* error);

}  // namespace txlab
