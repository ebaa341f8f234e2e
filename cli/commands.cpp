// The table of txlab's commands: name, operands and what each does (see flags.h); usage and
// --help print it.
#include "cli/flags.h"

namespace txlab::cli {

const std::vector<CommandSpec>& commands() {
  static const std::vector<CommandSpec> kCommands = {
      {"run", kRun, "SCENARIO",
       "start every role on 127.0.0.1, run the workload, print hops, tokens and a verdict;\n"
       "exits 1 when any expectation fails"},
      {"serve", kServe, "SCENARIO",
       "start every role, print their URLs, run until interrupted (Ctrl-C).\n"
       "Events of the timeline catalogue apply while serving"},
      {"lint", kLint, "SCENARIO",
       "validate a scenario file only (errors and warnings with file:line:column)"},
      {"export", kExport, "SCENARIO",
       "a `txlab serve --role` per role: Kubernetes manifests or a Compose file; or the Keycloak\n"
       "realm of the scenario's external AS"},
      {"health", kHealth, "[URL]",
       "GET URL (default http://127.0.0.1:8080/healthz); exit 0 on 200 within 3 s, else 1\n"
       "(the image's and Compose's health check)"},
      {"load", kLoad, "SCENARIO",
       "drive the workload from C callers (open loop with --rate); throughput,\n"
       "p50/p90/p99/p99.9/max, errors, exchanges, cache hits; --baseline exits 1 on a\n"
       "significant regression, --history keeps a trend page"},
      {"attack", kAttack, "SCENARIO",
       "run the attack catalogue against the live topology; exits 1 if any attack is not "
       "rejected"},
      {"conform", kConform, "",
       "grade an authorization server's RFC 8693 token exchange, case by case\n"
       "exit: 0 passed, 1 a case FAILED (or NON-STRICT with --strict; with --baseline: a case got\n"
       "      worse than the baseline), 2 usage, setup, config or baseline file error,\n"
       "      3 token exchange not supported, 4 target unreachable, timed out or budget spent"},
      {"schema", kSchema, "NAME",
       "print a JSON Schema (draft 2020-12) on stdout: scenario (scenario files, for editors\n"
       "and CI) or conform-config (txlab conform --config files)"},
  };
  return kCommands;
}

const CommandSpec* find_command(std::string_view name) {
  for (const auto& c : commands())
    if (name == c.name) return &c;
  return nullptr;
}

}  // namespace txlab::cli
