// Internal to the scenario loader's translation units: a YAML reader that turns every
// mistake into a ScenarioError with file, line and column.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "sim/enum_names.h"
#include "sim/scenario.h"

namespace txlab::scenario_detail {

inline constexpr EnumName<ClientAuthMethod> kClientAuthMethodNames[] = {
    {ClientAuthMethod::kClientSecretBasic, "client_secret_basic"},
    {ClientAuthMethod::kClientSecretPost, "client_secret_post"},
    {ClientAuthMethod::kPrivateKeyJwt, "private_key_jwt"},
    {ClientAuthMethod::kTlsClientAuth, "tls_client_auth"},
    {ClientAuthMethod::kSelfSignedTlsClientAuth, "self_signed_tls_client_auth"},
};
static_assert(covers_in_order(kClientAuthMethodNames, ClientAuthMethod::kSelfSignedTlsClientAuth));

// In the order a comparison is matched: ">=" before ">".
inline constexpr EnumName<Bound::Op> kBoundOpNames[] = {
    {Bound::Op::kGe, ">="}, {Bound::Op::kLe, "<="}, {Bound::Op::kEq, "=="},
    {Bound::Op::kGt, ">"},  {Bound::Op::kLt, "<"},
};
static_assert(covers_in_order(kBoundOpNames, Bound::Op::kLt));

inline std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class Reader {
 public:
  explicit Reader(std::string file, ScenarioLoadOptions options = {})
      : file_(std::move(file)), options_(std::move(options)) {}

  const ScenarioLoadOptions& options() const { return options_; }
  // Warnings found while reading a part (an unset ${NAME} in lint mode), moved into the
  // scenario's warnings once it is read.
  std::vector<Diagnostic>& pending_warnings() const { return pending_; }

  SourcePos pos(const YAML::Node& n) const {
    const auto m = n.Mark();
    if (m.line < 0) return {};
    return {m.line + 1, m.column + 1};
  }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& msg) const {
    throw ScenarioError({file_, pos(n), msg});
  }
  [[noreturn]] void fail_at(SourcePos p, const std::string& msg) const {
    throw ScenarioError({file_, p, msg});
  }

  void warn(std::vector<Diagnostic>& out, SourcePos p, std::string msg) const {
    out.push_back({file_, p, std::move(msg)});
  }

  void expect_map(const YAML::Node& n, const std::string& what) const {
    if (!n.IsMap()) fail(n, what + " must be a mapping");
  }

  void check_keys(const YAML::Node& n, const std::vector<std::string>& allowed,
                  const std::string& where) const {
    for (auto it = n.begin(); it != n.end(); ++it) {
      const auto key = it->first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
        fail(it->first,
             "unknown key '" + key + "' in " + where + " (expected one of: " + join(allowed) + ")");
    }
  }

  std::string str(const YAML::Node& map, const std::string& key, const std::string& where,
                  bool required, const std::string& fallback = {}) const {
    const YAML::Node n = map[key];
    if (!n) {
      if (required) fail(map, where + " needs '" + key + "'");
      return fallback;
    }
    if (!n.IsScalar()) fail(n, "'" + key + "' in " + where + " must be a string");
    return n.as<std::string>();
  }

  int64_t integer(const YAML::Node& map, const std::string& key, const std::string& where,
                  int64_t fallback, int64_t min = 0, int64_t max = 1000000000) const {
    const YAML::Node n = map[key];
    if (!n) return fallback;
    int64_t v = 0;
    if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v))
      fail(n, "'" + key + "' in " + where + " must be an integer");
    if (v < min || v > max)
      fail(n, "'" + key + "' in " + where + " must be between " + std::to_string(min) + " and " +
                  std::to_string(max));
    return v;
  }

  bool boolean(const YAML::Node& map, const std::string& key, const std::string& where,
               bool fallback) const {
    const YAML::Node n = map[key];
    if (!n) return fallback;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      fail(n, "'" + key + "' in " + where + " must be true or false");
    return v;
  }

  // A string or a list of strings.
  std::vector<std::string> strings(const YAML::Node& map, const std::string& key,
                                   const std::string& where) const {
    const YAML::Node n = map[key];
    std::vector<std::string> out;
    if (!n) return out;
    if (n.IsScalar()) {
      out.push_back(n.as<std::string>());
    } else if (n.IsSequence()) {
      for (const auto& e : n) {
        if (!e.IsScalar()) fail(e, "'" + key + "' in " + where + " must list strings");
        out.push_back(e.as<std::string>());
      }
    } else {
      fail(n, "'" + key + "' in " + where + " must be a string or a list of strings");
    }
    return out;
  }

  std::string choice(const YAML::Node& map, const std::string& key, const std::string& where,
                     const std::vector<std::string>& options, const std::string& fallback) const {
    const std::string v = str(map, key, where, false, fallback);
    if (std::find(options.begin(), options.end(), v) == options.end())
      fail(map[key], "'" + key + "' in " + where + " must be one of: " + join(options) + " (got '" +
                         v + "')");
    return v;
  }

  ClientAuthMethod auth(const YAML::Node& map, const std::string& where,
                        bool allow_jwt = false) const {
    std::vector<std::string> options = {"client_secret_basic", "client_secret_post",
                                        "tls_client_auth", "self_signed_tls_client_auth"};
    if (allow_jwt) options.push_back("private_key_jwt");
    const std::string v = choice(map, "auth", where, options, "client_secret_basic");
    return value_of(kClientAuthMethodNames, v).value_or(ClientAuthMethod::kClientSecretBasic);
  }

  std::vector<std::string> scope_list(const YAML::Node& map, const std::string& key,
                                      const std::string& where) const {
    std::vector<std::string> out;
    for (const auto& s : strings(map, key, where)) {
      std::istringstream in(s);
      for (std::string tok; in >> tok;) out.push_back(tok);
    }
    return out;
  }

  ClaimExpectations claims(const YAML::Node& n, const std::string& where) const {
    expect_map(n, where);
    ClaimExpectations out;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->second.IsScalar())
        fail(it->second, "expected value of '" + it->first.as<std::string>() + "' in " + where +
                             " must be a scalar");
      out[it->first.as<std::string>()] = it->second.as<std::string>();
    }
    return out;
  }

  double probability(const YAML::Node& map, const std::string& key,
                     const std::string& where) const {
    const YAML::Node n = map[key];
    if (!n) return 0.0;
    double v = 0;
    // Written so that .nan (which YAML decodes) fails too.
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !(v >= 0 && v <= 1))
      fail(n, "'" + key + "' in " + where + " must be a probability in [0, 1]");
    return v;
  }

  // A duration: 10, 10s, 1.5s, 500ms, 2m, 1h (bare numbers are seconds).
  double seconds(const YAML::Node& map, const std::string& key, const std::string& where,
                 double fallback, double min = 0) const {
    const YAML::Node n = map[key];
    if (!n) return fallback;
    const std::string text = n.IsScalar() ? n.as<std::string>() : "";
    std::string number, unit;
    if (!split_number(text, false, &number, &unit) ||
        (unit != "" && unit != "ms" && unit != "s" && unit != "m" && unit != "h"))
      fail(n, "'" + key + "' in " + where + " must be a duration such as 10s, 500ms, 2m (got '" +
                  text.substr(0, 40) + (text.size() > 40 ? "..." : "") + "')");
    double v = std::strtod(number.c_str(), nullptr);
    if (unit == "ms") v /= 1000;
    if (unit == "m") v *= 60;
    if (unit == "h") v *= 3600;
    if (v < min)
      fail(n, "'" + key + "' in " + where + " must be at least " + std::to_string(min) + " s");
    return v;
  }

  // ">= 0.99", "<= 5", "== 0", "> 0", "< 1" or a bare number (equality).
  Bound bound(const YAML::Node& map, const std::string& key, const std::string& where) const {
    const YAML::Node n = map[key];
    const std::string text = n.IsScalar() ? n.as<std::string>() : "";
    std::string rest = text.substr(0, std::min<size_t>(text.size(), 64));
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
    Bound b;  // a bare number means equality
    b.op = Bound::Op::kEq;
    for (const auto& row : kBoundOpNames)
      if (rest.rfind(row.name, 0) == 0) {
        b.op = row.value;
        rest.erase(0, row.name.size());
        break;
      }
    std::string number, unit;
    if (text.size() > 64 || !split_number(rest, true, &number, &unit) || !unit.empty())
      fail(n, "'" + key + "' in " + where +
                  " must be a comparison such as '>= 0.99', '== 0' or a number (got '" +
                  text.substr(0, 40) + (text.size() > 40 ? "..." : "") + "')");
    b.value = std::strtod(number.c_str(), nullptr);
    return b;
  }

  // "  12.5ms " -> "12.5" and "ms": at most 12 integer and 9 fraction digits (so strtod cannot
  // overflow and no input length can exhaust anything), optional sign when `signed_ok`.
  static bool split_number(const std::string& text, bool signed_ok, std::string* number,
                           std::string* unit) {
    size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t start = i;
    if (signed_ok && i < text.size() && text[i] == '-') ++i;
    size_t int_digits = 0, frac_digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i, ++int_digits;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
        ++i, ++frac_digits;
      if (frac_digits == 0) return false;
    }
    if (int_digits == 0 || int_digits > 12 || frac_digits > 9) return false;
    *number = text.substr(start, i - start);
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    *unit = text.substr(ustart, i - ustart);
    while (i < text.size() && text[i] == ' ') ++i;
    return i == text.size();
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  ScenarioLoadOptions options_;
  mutable std::vector<Diagnostic> pending_;
};

// Reads the `timeline:` section (sim/timeline_loader.cpp).
Timeline read_timeline(const Reader& r, const YAML::Node& n, Scenario& s);
// Reads one link's faults (shared by `links:`, zone links and swarm candidates).
LinkFaults read_link(const Reader& r, const YAML::Node& l, const std::string& where, bool needs_to);
// Checks the timeline's role, zone and client references once the roles are known.
void validate_timeline(const Reader& r, const Scenario& s);

}  // namespace txlab::scenario_detail
