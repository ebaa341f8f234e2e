// Fuzz target: the scenario loader (YAML, validation, timelines). A bad file is a ScenarioError
// with file:line; anything else escaping (another exception type, a crash, a stack overflow) is
// a finding.
#include <cstdint>
#include <string>

#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  try {
    (void)txlab::load_scenario_text(in, "fuzz.yaml");
  } catch (const txlab::ScenarioError&) {
  }
  return 0;
}
