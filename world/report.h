// Renders a run: a human report (roles, hop table, decoded tokens, verdict), the trace JSON
// contract other tools read, and a Mermaid sequence diagram.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "world/runner.h"
#include "world/world.h"

namespace txlab {

struct TimelineResult;

struct TextOptions {
  bool tokens = true;                 // print decoded tokens
  bool color = false;                 // ANSI colors
  size_t detail_calls_per_entry = 1;  // calls shown in full per workload entry
};

std::string render_text(const World& world, const RunResult& run, const TextOptions& options = {});
nlohmann::json render_json(const World& world, const RunResult& run);
// Fault decisions taken so far, per link ("gw-c2p->as-c2pe: 12 connections, 3 down"), one line
// each; "" when no link has a proxy. Shared by the workload and timeline reports.
std::string render_fault_decisions(const World& world);
// Every decision, connection by connection (the `faults` member of both JSON reports).
nlohmann::json fault_decisions_json(const World& world);
// Sequence diagram of the first call of each workload entry (or of `call_id` when given).
// Text as Mermaid prints it literally: '#' and ';' (which end or encode statements) and quotes as
// entity codes, line breaks as spaces.
std::string mermaid_text(std::string_view text);
// JUnit XML: a test case per call (its expectation failures), or for a timeline per declared
// window plus the whole-run expectations; it fails exactly when the run exits 1.
std::string render_junit(const World& world, const RunResult& run);
std::string render_junit(const World& world, const TimelineResult& run);
std::string render_mermaid(const World& world, const RunResult& run,
                           const std::string& call_id = {});

}  // namespace txlab
