// What a txlab command line sets: the command, its operand and every flag's stored value (the
// defaults are the flags' defaults). The flags that set each member are in flags.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace txlab::cli {

struct Args {
  std::string command;
  std::string scenario;  // the SCENARIO operand, conform's --scenario, or health's URL
  // output
  std::string json_out, mermaid_out, html_out, junit_out, svg_out;
  bool quiet = false, progress = false;
  // run, load, attack
  int calls = 0;
  uint64_t seed = 1;
  bool netns = false;
  int concurrency = 4;
  double duration_s = 5, rate = 0;
  // load: open or closed loop, the regression gate and the history
  bool closed_loop = false;
  std::string history_dir, label;  // load (--baseline: below)
  double max_regression = 10, max_tail_regression = 50;
  int runs = 1, baseline_last = 5;  // --runs, --baseline-last
  std::string versus;               // --versus SCENARIO
  // conform
  std::string target_role, target_url, token_endpoint, jwks_uri, exchanger, subject_client,
      audience, forbidden_audience, profile = "common", only, subject_audience, subject_scope,
                                    unauthorized_client, dpop_bound_client, ca_file, mtls_client,
                                    mtls_other, mtls_untrusted, semantics;
  std::string config_file;  // --config: a YAML file of these flags (cli/conform_config.h)
  // --baseline: conform's accepted grades (conformance/baseline.h) or load's earlier report
  std::string baseline, write_baseline;
  std::vector<std::string> issuer_keys, issuers, scopes_beyond;
  bool strict = false, list = false, requirements = false, jwt_access_tokens = false,
       honours_may_act = false;
  int timeout_ms = 5000, serve_issuer_port = 0, budget_s = 600;
  // serve
  std::string tls_dir, role, listen, public_url, admin_token_file;
  std::vector<std::string> peers;
  bool expose = false, log = false, events = false;
  int admin_port = -1;
  // export
  std::string k8s_dir, compose_file, image, keycloak_realm, as_role, realm;
  bool conformance_clients = false;
  // lint, run, serve, load, attack, export: NAME=VALUE lines for ${NAME} (--env-file)
  std::string env_file;
  // schema: the schema's name (scenario, conform-config)
  std::string schema_name;
};

}  // namespace txlab::cli
