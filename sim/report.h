// Renders a run: a human report (roles, hop table, decoded tokens, verdict), the trace JSON
// contract other tools read, and a Mermaid sequence diagram.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "sim/runner.h"
#include "sim/world.h"

namespace txlab {

struct TextOptions {
  bool tokens = true;   // print decoded tokens
  bool color = false;   // ANSI colors
  size_t detail_calls_per_entry = 1;  // calls shown in full per workload entry
};

std::string render_text(const World& world, const RunResult& run, const TextOptions& options = {});
nlohmann::json render_json(const World& world, const RunResult& run);
// Sequence diagram of the first call of each workload entry (or of `call_id` when given).
std::string render_mermaid(const World& world, const RunResult& run, const std::string& call_id = {});

}  // namespace txlab
