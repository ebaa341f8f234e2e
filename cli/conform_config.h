// txlab conform --config FILE: a YAML mapping whose keys are conform's flags without the
// leading "--" (plus an optional `description`), read into Args by the flag table. Pure: the
// text, its file name and an environment lookup in, the Args changed or an error with
// file:line:column out; flags given on the command line win over the file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/flags.h"

namespace txlab::cli {

// The value of an environment variable; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Where and why a config was refused; format() is "FILE:LINE:COL: error: MESSAGE" (no line
// when the file could not be read), as scenario errors are.
struct ConfigError {
  std::string file;
  int line = 0, column = 0;
  std::string message;
  std::string format() const;
};

// The keys whose values are file paths (conform's file flags): a relative one is relative to
// the config's directory, unless it starts with ${NAME} (then it is as the variable gives it).
// mtls-client (ID:CERT:KEY), mtls-other-subject and mtls-untrusted (CERT:KEY): their CERT and
// KEY parts. "-" (stdout) stays "-".
const std::vector<std::string>& config_path_keys();

// Reads the config TEXT of FILE into ARGS: each key's flag applied as on the command line,
// except the flags in GIVEN (given on the command line: they win; a repeatable one given there
// replaces the file's list). ${NAME} in a string value is ENV's NAME ($$ is a literal $); an
// unset NAME is an error. ARGS is unchanged when an error is returned.
std::optional<ConfigError> apply_conform_config(const std::string& text, const std::string& file,
                                                const EnvLookup& env,
                                                const std::vector<const Flag*>& given, Args& args);

// The same for the file at PATH, with the process environment; an unreadable file is an error.
std::optional<ConfigError> load_conform_config(const std::string& path,
                                               const std::vector<const Flag*>& given, Args& args);

}  // namespace txlab::cli
