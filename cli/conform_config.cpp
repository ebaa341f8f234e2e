// The conform config file (see conform_config.h): YAML keys to flags by the flag table, values
// checked against each flag's kind, ${NAME} expanded, relative paths made relative to the file.
#include "cli/conform_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace txlab::cli {

std::string ConfigError::format() const {
  std::ostringstream o;
  o << file;
  if (line > 0) o << ":" << line << ":" << column;
  o << ": error: " << message;
  return o.str();
}

const std::vector<std::string>& config_path_keys() {
  static const std::vector<std::string> kKeys = {
      "scenario", "issuer-key", "ca",   "mtls-client", "mtls-other-subject", "mtls-untrusted",
      "json",     "junit",      "html", "baseline",    "write-baseline"};
  return kKeys;
}

namespace {

// A refusal at a node; thrown inside this file only, returned as a value.
struct Refusal {
  YAML::Mark mark;
  std::string message;
};

[[noreturn]] void refuse(const YAML::Node& at, std::string message) {
  throw Refusal{at.Mark(), std::move(message)};
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// Every key a conform config may hold, in the flag table's order.
std::vector<std::string> conform_keys() {
  std::vector<std::string> keys;
  for (const auto& f : flags())
    if (f.use_for(kConform) && std::string(f.name) != "--config") keys.push_back(f.name + 2);
  keys.push_back("description");
  return keys;
}

std::string unknown_key_message(const std::string& key) {
  std::string bare = key;
  while (!bare.empty() && bare[0] == '-') bare.erase(0, 1);
  const auto keys = conform_keys();
  if (bare != key && std::find(keys.begin(), keys.end(), bare) != keys.end())
    return "unknown key '" + key + "': write '" + bare + "', without the leading dashes";
  std::string best;
  // Suggest only a near miss: at most two edits, fewer for a short key.
  size_t best_d = std::min<size_t>(2, bare.size() / 3 + 1) + 1;
  for (const auto& k : keys) {
    const size_t d = edit_distance(bare, k);
    if (d < best_d) best_d = d, best = k;
  }
  return "unknown key '" + key + "'" +
         (best.empty() ? " (the keys are conform's flags without the leading --; see txlab "
                         "conform --help)"
                       : " (did you mean '" + best + "'?)");
}

// ${NAME} is ENV's NAME, $$ a literal $; any other $ stays.
std::string expand(const YAML::Node& at, const std::string& value, const EnvLookup& env) {
  std::string out;
  for (size_t i = 0; i < value.size();) {
    if (value.compare(i, 2, "$$") == 0) {
      out += '$';
      i += 2;
      continue;
    }
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    const size_t end = value.find('}', i);
    if (end == std::string::npos) refuse(at, "unterminated ${ in '" + value.substr(0, 80) + "'");
    const std::string name = value.substr(i + 2, end - i - 2);
    const bool valid =
        !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        });
    if (!valid) refuse(at, "'${" + name.substr(0, 64) + "}' is not an environment variable name");
    const auto v = env(name);
    if (!v) refuse(at, "environment variable '" + name + "' is not set");
    out += *v;
    i = end + 1;
  }
  return out;
}

// A path from the config: relative to DIR unless absolute, "-", or taken from a variable.
std::string resolve(const std::string& raw, const std::string& expanded, const std::string& dir) {
  if (expanded.empty() || expanded == "-" || raw.rfind("${", 0) == 0 || dir.empty())
    return expanded;
  const std::filesystem::path p(expanded);
  if (p.is_absolute()) return expanded;
  return (std::filesystem::path(dir) / p).lexically_normal().string();
}

// ID:CERT:KEY (skip = 1) or CERT:KEY (skip = 0): the path parts resolved, the rest kept.
std::string resolve_parts(const std::string& raw, const std::string& expanded, size_t skip,
                          const std::string& dir, const EnvLookup& env, const YAML::Node& at) {
  auto split = [](const std::string& s) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t c; (c = s.find(':', start)) != std::string::npos; start = c + 1)
      parts.push_back(s.substr(start, c - start));
    parts.push_back(s.substr(start));
    return parts;
  };
  const auto raw_parts = split(raw);
  if (raw_parts.size() != skip + 2) return expanded;  // conform says what it needs
  std::string out;
  for (size_t i = 0; i < raw_parts.size(); ++i) {
    const std::string part = expand(at, raw_parts[i], env);
    out += (i ? ":" : "") + (i < skip ? part : resolve(raw_parts[i], part, dir));
  }
  return out;
}

struct Reading {
  std::string dir;  // the config's directory ("" for the working directory)
  const EnvLookup& env;
};

// A string value of KEY: a scalar, ${NAME} expanded, a path resolved.
std::string string_value(const std::string& key, const YAML::Node& v, const Reading& r) {
  if (!v.IsScalar())
    refuse(v, "'" + key + "' takes a string, not a " +
                  (v.IsSequence() ? "list"
                   : v.IsMap()    ? "mapping"
                                  : "null"));
  const std::string raw = v.Scalar();
  const auto& paths = config_path_keys();
  if (std::find(paths.begin(), paths.end(), key) == paths.end()) return expand(v, raw, r.env);
  if (key == "mtls-client") return resolve_parts(raw, expand(v, raw, r.env), 1, r.dir, r.env, v);
  if (key == "mtls-other-subject" || key == "mtls-untrusted")
    return resolve_parts(raw, expand(v, raw, r.env), 0, r.dir, r.env, v);
  return resolve(raw, expand(v, raw, r.env), r.dir);
}

// KEY's value stored as its flag says.
void apply_value(const Flag& flag, const std::string& key, const YAML::Node& v, const Reading& r,
                 Args& args) {
  auto apply = [&](const std::string& text) {
    if (const auto error = apply_flag(flag, text, args)) refuse(v, "'" + key + "': " + *error);
  };
  const bool plain = v.IsScalar() && v.Tag() == "?";
  if (std::holds_alternative<bool Args::*>(flag.store)) {
    if (!plain || (v.Scalar() != "true" && v.Scalar() != "false"))
      refuse(v, "'" + key + "' is a switch: true or false");
    return apply(v.Scalar());
  }
  if (std::holds_alternative<std::string Args::*>(flag.store))
    return apply(string_value(key, v, r));
  if (const auto* m = std::get_if<std::vector<std::string> Args::*>(&flag.store)) {
    (args.*(*m)).clear();
    if (!v.IsSequence()) return apply(string_value(key, v, r));
    for (const auto& item : v) apply(string_value(key, item, r));
    return;
  }
  if (const auto* m = std::get_if<double Args::*>(&flag.store)) {
    double d = 0;
    std::istringstream in(plain ? v.Scalar() : std::string());
    if (!(in >> d) || !in.eof() || d < 0) refuse(v, "'" + key + "' takes a non-negative number");
    args.*(*m) = d;
    return;
  }
  const std::string s = plain ? v.Scalar() : std::string();
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    refuse(v, "'" + key + "' takes a non-negative integer");
  apply(s);
}

void apply_document(const YAML::Node& root, const std::vector<const Flag*>& given, const Reading& r,
                    Args& args) {
  if (!root.IsMap())
    refuse(root,
           "a conform config is a mapping of conform's flags without the leading -- to values "
           "(e.g. 'target-url: https://as.example')");
  std::map<std::string, int> seen;  // key -> its line
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node k = it->first;  // a copy: the iterator yields a temporary pair
    if (!k.IsScalar()) refuse(k, "a key must be a flag's name");
    const std::string key = k.Scalar();
    if (const auto [at, fresh] = seen.emplace(key, k.Mark().line + 1); !fresh)
      refuse(k, "duplicate key '" + key + "' (first at line " + std::to_string(at->second) + ")");
    if (key == "description") {
      if (!it->second.IsScalar()) refuse(it->second, "'description' takes a string");
      continue;
    }
    if (key == "config") refuse(k, "'config' names the config file itself; it cannot be a key");
    const Flag* flag = find_flag("--" + key);
    if (!flag || key.rfind('-', 0) == 0) refuse(k, unknown_key_message(key));
    if (!flag->use_for(kConform))
      refuse(k, "'" + key + "' (" + flag->name + ") does not apply to 'conform'");
    if (it->second.IsNull()) refuse(k, "'" + key + "' has no value");
    if (std::find(given.begin(), given.end(), flag) != given.end()) continue;  // the line wins
    apply_value(*flag, key, it->second, r, args);
  }
}

}  // namespace

std::optional<ConfigError> apply_conform_config(const std::string& text, const std::string& file,
                                                const EnvLookup& env,
                                                const std::vector<const Flag*>& given, Args& args) {
  const auto parent = std::filesystem::path(file).parent_path().string();
  const Reading r{parent, env};
  Args changed = args;
  try {
    const YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull())
      return ConfigError{file, 0, 0, "the config is empty (expected conform's flags as keys)"};
    apply_document(root, given, r, changed);
  } catch (const YAML::ParserException& e) {
    return ConfigError{file, e.mark.line + 1, e.mark.column + 1, e.msg};
  } catch (const Refusal& e) {
    return e.mark.line < 0 ? ConfigError{file, 0, 0, e.message}
                           : ConfigError{file, e.mark.line + 1, e.mark.column + 1, e.message};
  } catch (const YAML::Exception& e) {
    return ConfigError{file, e.mark.line + 1, e.mark.column + 1, e.msg};
  }
  args = std::move(changed);
  return std::nullopt;
}

std::optional<ConfigError> load_conform_config(const std::string& path,
                                               const std::vector<const Flag*>& given, Args& args) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || std::filesystem::is_directory(path))
    return ConfigError{path, 0, 0, "cannot read the config file"};
  constexpr size_t kMaxBytes = 1 << 20;  // a config is a page of flags, never megabytes
  if (text.str().size() > kMaxBytes) return ConfigError{path, 0, 0, "larger than 1 MiB"};
  const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  return apply_conform_config(text.str(), path, env, given, args);
}

}  // namespace txlab::cli
