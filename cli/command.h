// What txlab's commands share: parsing the command line, usage errors, writing outputs, the
// world of a run, and the commands themselves (one file each, cmd_*.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "sim/scenario.h"
#include "world/world.h"

namespace txlab::cli {

// The command line, checked: an unknown or misplaced flag or a missing operand is a usage error;
// help and --version print and exit 0.
Args parse_args(int argc, char** argv);

// "txlab: MSG", the usage, exit 2.
[[noreturn]] void usage_error(const std::string& msg);

// TEXT to TARGET ("-" is stdout); false after saying why it could not be written.
bool write_output(const std::string& target, const std::string& text);
// The same, making PATH's directories first.
bool write_file(const std::string& path, const std::string& text);

void print_warnings(const Scenario& s);

// --netns: every pair of roles tried for a connection; the text, the JSON and how many pairs
// disagree with the declared links.
struct NetworkLayer {
  std::string text;
  nlohmann::json json;
  size_t mismatches = 0;
};
NetworkLayer network_layer(const World& world);

// The world of a run or attack; with --netns, nullptr after saying why the namespaces could not
// be made (no root, tools missing).
std::unique_ptr<World> make_world(const Args& a, Scenario s);

int cmd_run(const Args& a, Scenario s);
int cmd_serve(const Args& a, Scenario s);
int cmd_lint(const Scenario& s);
int cmd_export(const Args& a, const Scenario& s);
int cmd_health(const Args& a);
// `versus`: --versus SCENARIO, loaded like the operand.
int cmd_load(const Args& a, Scenario s, std::optional<Scenario> versus = {});
int cmd_attack(const Args& a, Scenario s);
int cmd_conform(const Args& a);
int cmd_schema(const Args& a);

}  // namespace txlab::cli
