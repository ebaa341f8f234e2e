// An env file (`--env-file FILE`): NAME=VALUE lines whose values stand for ${NAME} in a
// scenario, read without touching the process environment.
//
//   # a comment            blank lines are skipped
//   export NAME=value      an optional `export ` prefix
//   NAME = "a value"       blanks around '='; optional single or double quotes around the value
//   NAME=a # not a comment no shell expansion, no escapes: the text after '=' (trimmed) is the
//   value
//
// NAME is [A-Za-z_][A-Za-z0-9_]*. Any other line is an error at file:line:column.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "sim/scenario.h"

namespace txlab {

struct EnvFile {
  std::map<std::string, std::string> values;
  std::optional<Diagnostic> error;  // the first malformed line; values is then empty
};

// Parses TEXT (from FILE_LABEL, for the error's position). A name given twice: the last wins.
EnvFile parse_env_file(const std::string& text, const std::string& file_label);
// Reads and parses PATH; an unreadable file is an error too.
EnvFile read_env_file(const std::string& path);

// The lookup for ${NAME}: the process environment first (as Compose and most dotenv tools do, a
// variable set in the environment overrides the file), then the file's values.
EnvLookup env_with_file(std::map<std::string, std::string> file_values,
                        EnvLookup process = process_env);

}  // namespace txlab
