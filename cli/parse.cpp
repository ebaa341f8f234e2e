// The command line to Args, by the tables of flags.h: help and --version first, then each flag
// by name, then whether each given flag applies to the command, a conform --config file, then
// the operands.
#include <iostream>
#include <vector>

#include "cli/command.h"
#include "cli/conform_config.h"
#include "cli/flags.h"

namespace txlab::cli {

namespace {

void print_version_and_exit() {
  std::cout << "txlab " << TXLAB_VERSION << "\n";
  std::exit(0);
}

// Anywhere on the line, --help prints the command's own usage and --version the version.
void answer_help_or_version(const std::string& command, int argc, char** argv) {
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      const CommandSpec* c = find_command(command);
      if (!c) usage_error("unknown command '" + command + "'");
      std::cout << "usage:\n" << render_command_usage(*c);
      std::exit(0);
    }
    if (s == "--version") print_version_and_exit();
  }
}

// The operands: conform takes none, health an optional URL, schema a NAME, the others one
// SCENARIO file.
void take_operands(const std::vector<std::string>& positional, Args& a) {
  if (a.command == "conform") {
    if (!positional.empty()) usage_error("conform takes options only (see usage)");
    return;
  }
  if (a.command == "schema") {
    if (positional.size() != 1)
      usage_error("schema takes exactly one NAME: scenario or conform-config");
    a.schema_name = positional[0];
    return;
  }
  if (a.command == "health") {
    if (positional.size() > 1) usage_error("health takes at most one URL");
    a.scenario = positional.empty() ? "http://127.0.0.1:8080/healthz" : positional[0];
    return;
  }
  if (positional.size() != 1) usage_error(a.command + " takes exactly one SCENARIO file");
  a.scenario = positional[0];
}

}  // namespace

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc < 2) usage_error("missing command");
  a.command = argv[1];
  if (a.command == "help" || a.command == "--help" || a.command == "-h") {
    std::cout << render_usage();
    std::exit(0);
  }
  if (a.command == "--version" || a.command == "version") print_version_and_exit();
  answer_help_or_version(a.command, argc, argv);
  std::vector<std::string> positional;
  std::vector<const Flag*> given;  // every flag on the command line, checked below
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    if (s.empty() || s[0] != '-') {
      positional.push_back(s);
      continue;
    }
    const Flag* flag = find_flag(s);
    if (!flag) usage_error("unknown option " + s);
    given.push_back(flag);
    std::string value;
    if (flag->takes_value()) {
      if (i + 1 >= argc) usage_error(std::string(flag->name) + " needs a value");
      value = argv[++i];
    }
    if (const auto error = apply_flag(*flag, value, a)) usage_error(*error);
  }
  const CommandSpec* command = find_command(a.command);
  if (!command) usage_error("unknown command '" + a.command + "'");
  // A flag that does not apply to the command is an error, never silently ignored.
  for (const Flag* f : given)
    if (!f->use_for(command->bit))
      usage_error(std::string(f->name) + " does not apply to '" + a.command + "'");
  // conform --config FILE: the file's flags, except those given here (they win).
  if (!a.config_file.empty())
    if (const auto error = load_conform_config(a.config_file, given, a)) {
      std::cerr << error->format() << "\n";
      std::exit(2);
    }
  take_operands(positional, a);
  return a;
}

}  // namespace txlab::cli
