// Runs a scenario's workload against a started World: each call is triggered over HTTP at
// the calling client's /invoke, correlated by its call id, and judged against the scenario's
// expectations (status, error, the backend's view, and each token's claims by label).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "sim/scenario.h"
#include "sim/trace.h"
#include "world/world.h"

namespace txlab {

struct TokenView {
  std::string label;        // AT1, AT2, ... in order of presentation along the call
  std::string issuer_role;  // role whose iss the token carries ("" if none)
  std::string presenter, to;
  nlohmann::json header, claims;
  std::string raw;  // the compact token itself (not rendered in reports)
};

struct ExpectationFailure {
  std::string what;
  std::string expected;
  std::string actual;
};

struct CallResult {
  std::string id;  // call id (X-Txlab-Call)
  const WorkloadCall* spec = nullptr;
  int status = 0;
  std::string error;           // OAuth/RFC 6750 error code of the final answer, if any
  nlohmann::json response;     // the final answer's body
  nlohmann::json backend_saw;  // the resource server's report, when it answered
  std::vector<Hop> hops;
  std::vector<TokenView> tokens;
  std::vector<ExpectationFailure> failures;
  int64_t us = 0;
  bool ok() const { return failures.empty(); }
};

struct RunOptions {
  int calls = 0;  // > 0: run each workload entry this many times instead of its repeat
  uint64_t seed = 1;
};

struct RunResult {
  uint64_t seed = 1;
  std::vector<CallResult> calls;
  std::vector<AuditEntry> audit;
  bool ok() const;
};

// One call, judged. `call_id` must be unique within the world's trace.
CallResult run_call(World& world, const WorkloadCall& call, const std::string& call_id);
RunResult run_workload(World& world, const RunOptions& options);
// Every AS's audit log, in role order.
std::vector<AuditEntry> collect_audit(World& world);
// Checks one claim expectation; returns a failure text or "" when it holds.
std::string check_claim(const nlohmann::json& claims, const std::string& path,
                        const std::string& expected);

}  // namespace txlab
