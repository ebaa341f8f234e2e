// The commands and flags of txlab as data: each flag is declared once, with the commands it
// applies to, how its value is stored in Args, and its help line(s). The parser, the usage text,
// `txlab CMD --help` and the "does not apply" check are all generated from these tables; a
// config file can map a key to a flag with find_flag("--" + key) and set it with apply_flag.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli/args.h"

namespace txlab::cli {

// A set of commands, one bit each.
using CommandSet = unsigned;
inline constexpr CommandSet kRun = 1u << 0, kServe = 1u << 1, kLint = 1u << 2, kExport = 1u << 3,
                            kHealth = 1u << 4, kLoad = 1u << 5, kAttack = 1u << 6,
                            kConform = 1u << 7, kSchema = 1u << 8;

struct CommandSpec {
  const char* name;
  CommandSet bit;
  const char* operands;  // "SCENARIO", "[URL]", "NAME" or ""
  const char* about;     // lines ('\n'-separated) printed under the synopsis
};

// The commands in usage order.
const std::vector<CommandSpec>& commands();
const CommandSpec* find_command(std::string_view name);

// How a flag's value is stored. A Port is a number from min to 65535.
struct Port {
  int Args::*member;
  int min;
};
using Store = std::variant<bool Args::*, std::string Args::*, std::vector<std::string> Args::*,
                           int Args::*, uint64_t Args::*, double Args::*, Port>;

// A flag's meaning for some of its commands: the value's name in usage ("" for a switch), its
// help line, and optionally a group: flags of one group are shown as alternatives, "(a | b)"
// when one of them is required, "[a | b]" otherwise. A command with many flags shows
// "[options]", and a synopsis line per form: the flags of that form, then "[options]".
struct FlagUse {
  CommandSet commands;
  const char* metavar;
  const char* help;
  const char* group = nullptr;
  bool required = false;
  const char* form = nullptr;
};

struct Flag {
  const char* name;   // "--calls"
  const char* alias;  // "-q" or nullptr
  Store store;
  std::vector<FlagUse> uses;  // disjoint command sets

  bool takes_value() const { return !std::holds_alternative<bool Args::*>(store); }
  bool repeatable() const {
    return std::holds_alternative<std::vector<std::string> Args::*>(store);
  }
  const FlagUse* use_for(CommandSet command) const;
};

// Every flag, in the order usage lists them.
const std::vector<Flag>& flags();

// The flag named NAME ("--calls") or aliased so ("-q"); nullptr when none.
const Flag* find_flag(std::string_view name);

// Stores VALUE in ARGS as FLAG says (a switch takes "", "true" or "false"); the error message,
// naming the flag, when the value does not parse.
std::optional<std::string> apply_flag(const Flag& flag, const std::string& value, Args& args);

// The whole usage text, and one command's part of it ("  txlab CMD ..." and what follows).
std::string render_usage();
std::string render_command_usage(const CommandSpec& command);

}  // namespace txlab::cli
