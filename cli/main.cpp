// The txlab executable: parse the command line and hand it to its command (cmd_*.cpp).
#include <csignal>
#include <iostream>

#include "cli/command.h"
#include "sim/env_file.h"

using namespace txlab;
using namespace txlab::cli;

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write is an error value, not death
  const Args a = parse_args(argc, argv);
  if (a.command == "conform") {
    try {
      return cmd_conform(a);
    } catch (const std::exception& e) {
      std::cerr << "txlab: " << e.what() << "\n";
      return 2;
    }
  }
  if (a.command == "health") return cmd_health(a);
  if (a.command == "schema") return cmd_schema(a);
  // lint alone takes an unset ${NAME} as a warning; --env-file supplies values.
  ScenarioLoadOptions options;
  options.lint = a.command == "lint";
  if (!a.env_file.empty()) {
    EnvFile file = read_env_file(a.env_file);
    if (file.error) {
      std::cerr << file.error->format("error") << "\n";
      return 2;
    }
    options.env = env_with_file(std::move(file.values));
  }
  Scenario s;
  try {
    s = load_scenario(a.scenario, options);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  print_warnings(s);
  if (a.command == "export") return cmd_export(a, s);
  try {
    if (a.command == "lint") return cmd_lint(s);
    if (a.command == "serve") return cmd_serve(a, std::move(s));
    if (a.command == "attack") return cmd_attack(a, std::move(s));
    if (a.command == "load") {
      std::optional<Scenario> versus;
      if (!a.versus.empty()) try {
          versus = load_scenario(a.versus, options);
          print_warnings(*versus);
        } catch (const ScenarioError& e) {
          std::cerr << e.what() << "\n";
          return 2;
        }
      return cmd_load(a, std::move(s), std::move(versus));
    }
    return cmd_run(a, std::move(s));
  } catch (const std::exception& e) {
    std::cerr << "txlab: " << e.what() << "\n";
    return 3;
  }
}
