// The parts of the scenario loader, one file each: the roles (sim/scenario_roles.cpp), the
// cross-reference checks (sim/scenario_validate.cpp) and the top-level sections and entry
// points (sim/scenario_loader.cpp). Internal to the loader; users include sim/scenario.h.
#pragma once

#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/scenario_reader.h"

namespace txlab::scenario_detail {

// Runs one independent part of the file (a role, a call, a link); its errors are collected so
// that one run reports every mistake, not only the first. At most kMaxErrors are kept.
constexpr size_t kMaxErrors = 50;
template <class F>
void collect(std::vector<Diagnostic>& errors, F&& part) {
  try {
    part();
  } catch (const ScenarioError& e) {
    for (const auto& d : e.diagnostics())
      if (errors.size() < kMaxErrors) errors.push_back(d);
  }
}

// One entry of `roles:` (`key` is its id, `n` its mapping): the common keys, then the kind's
// own. Throws ScenarioError; fills `role` as far as it read (sim/scenario_roles.cpp).
void read_role(const Reader& r, const YAML::Node& key, const YAML::Node& n, const Scenario& s,
               RoleSpec& role);

// Cross-references and conventions, after everything is read (sim/scenario_validate.cpp).
void validate(const Reader& r, Scenario& s, std::vector<Diagnostic>& errors);

}  // namespace txlab::scenario_detail
