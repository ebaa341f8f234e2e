// Scenario YAML -> validated model. Every error names file, line and column and says what
// was expected; unknown keys are errors, convention breaks are warnings.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/enum_names.h"
#include "sim/jose/key.h"
#include "sim/scenario.h"
#include "sim/scenario_reader.h"
#include "sim/scenario_sections.h"

namespace txlab {

constexpr EnumName<RoleKind> kRoleKindNames[] = {
    {RoleKind::kAuthorizationServer, "authorization_server"},
    {RoleKind::kGateway, "gateway"},
    {RoleKind::kResourceServer, "resource_server"},
    {RoleKind::kClient, "client"},
};
static_assert(covers_in_order(kRoleKindNames, RoleKind::kClient));

std::string_view to_string(RoleKind k) { return name_of(kRoleKindNames, k, "?"); }

std::string_view to_string(ClientAuthMethod m) {
  return name_of(scenario_detail::kClientAuthMethodNames, m, "client_secret_basic");
}

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629 §4: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
size_t utf8_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

}  // namespace

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_length(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || (n == 1 && (c < 0x20 || c == 0x7F) && c != '\n')) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string Diagnostic::format(std::string_view severity) const {
  std::ostringstream o;
  o << printable(file);
  if (pos.line > 0) o << ":" << pos.line << ":" << pos.column;
  o << ": " << severity << ": " << printable(message);
  return o.str();
}

namespace {
std::string format_all(const std::vector<Diagnostic>& all) {
  std::string out;
  for (const auto& d : all) out += (out.empty() ? "" : "\n") + d.format("error");
  return out;
}
}  // namespace

ScenarioError::ScenarioError(std::vector<Diagnostic> all)
    : std::runtime_error(format_all(all)), all_(std::move(all)) {}

double Scenario::drift_ppm_of(const RoleSpec& role) const {
  if (role.drift_ppm) return *role.drift_ppm;
  auto it = zone_drift_ppm.find(role.zone);
  return it == zone_drift_ppm.end() ? 0 : it->second;
}

int64_t Scenario::clock_offset_of(const RoleSpec& role) const {
  if (role.clock_offset_s) return *role.clock_offset_s;
  auto it = zone_clock_offsets_s.find(role.zone);
  return it == zone_clock_offsets_s.end() ? 0 : it->second;
}

const RoleSpec* Scenario::find_role(const std::string& id) const {
  for (const auto& r : roles)
    if (r.id == id) return &r;
  return nullptr;
}

namespace scenario_detail {

LinkFaults read_link(const Reader& r, const YAML::Node& l, const std::string& where,
                     bool needs_to) {
  r.expect_map(l, where);
  std::vector<std::string> keys = {"latency_ms",
                                   "jitter_ms",
                                   "down",
                                   "reset",
                                   "stall",
                                   "bandwidth_kbps",
                                   "slow_close_ms",
                                   "loss",
                                   "loss_delay_ms",
                                   "at_s",
                                   "for_s",
                                   "at",
                                   "for"};
  if (needs_to) keys.insert(keys.end(), {"from", "to", "from_zone", "to_zone"});
  r.check_keys(l, keys, where);
  LinkFaults f;
  f.pos = r.pos(l);
  if (needs_to) {
    f.from = r.str(l, "from", where, false, "*");
    f.to = r.str(l, "to", where, false);
  }
  f.latency_ms = r.integer(l, "latency_ms", where, 0, 0, 60000);
  f.jitter_ms = r.integer(l, "jitter_ms", where, 0, 0, 60000);
  f.bandwidth_kbps = r.integer(l, "bandwidth_kbps", where, 0, 0, 100000000);
  f.slow_close_ms = r.integer(l, "slow_close_ms", where, 0, 0, 60000);
  f.loss = r.probability(l, "loss", where);
  f.loss_delay_ms = r.integer(l, "loss_delay_ms", where, 200, 1, 60000);
  f.down = r.probability(l, "down", where);
  f.reset = r.probability(l, "reset", where);
  f.stall = r.probability(l, "stall", where);
  if (f.down + f.reset + f.stall > 1.0)
    r.fail(l, "down + reset + stall must not exceed 1 in " + where);
  // The window: at_s/for_s, or at/for as durations (at: 10s, for: 20s).
  if ((l["at"] && l["at_s"]) || (l["for"] && l["for_s"]))
    r.fail(l, where + ": give the window as at/for or at_s/for_s, not both");
  f.at_s = l["at"] ? r.seconds(l, "at", where, 0) : r.seconds(l, "at_s", where, 0);
  f.for_s = l["for"] ? r.seconds(l, "for", where, 0) : r.seconds(l, "for_s", where, 0);
  return f;
}

}  // namespace scenario_detail

namespace {

using namespace scenario_detail;

void read_workload(const Reader& r, const YAML::Node& n, Scenario& s,
                   std::vector<Diagnostic>& errors) {
  if (!n.IsSequence()) r.fail(n, "'workload' must be a list of calls");
  for (const auto& c : n)
    collect(errors, [&] {
      r.expect_map(c, "a workload call");
      WorkloadCall call;
      call.pos = r.pos(c);
      call.name = r.str(c, "name", "a workload call", true);
      const std::string where = "workload call '" + call.name + "'";
      r.check_keys(c, {"name", "from", "to", "method", "path", "repeat", "expect"}, where);
      call.from = r.str(c, "from", where, true);
      call.to = r.str(c, "to", where, true);
      call.method = r.choice(c, "method", where, {"GET", "POST", "PUT", "DELETE"}, "GET");
      call.path = r.str(c, "path", where, false, "/");
      if (call.path.empty() || call.path[0] != '/')
        r.fail(c["path"], "path in " + where + " must start with '/'");
      call.repeat = static_cast<int>(r.integer(c, "repeat", where, 1, 1, 100000));
      if (const auto e = c["expect"]) {
        const std::string ew = "'expect' of " + where;
        r.expect_map(e, ew);
        r.check_keys(e, {"status", "error", "backend", "tokens"}, ew);
        if (e["status"])
          call.expect.status = static_cast<int>(r.integer(e, "status", ew, 0, 100, 599));
        call.expect.error = r.str(e, "error", ew, false);
        if (e["backend"]) call.expect.backend = r.claims(e["backend"], "'backend' of " + ew);
        if (const auto t = e["tokens"]) {
          r.expect_map(t, "'tokens' of " + ew);
          for (auto it = t.begin(); it != t.end(); ++it) {
            const auto label = it->first.as<std::string>();
            if (label.size() != 3 || label.compare(0, 2, "AT") != 0 || label[2] < '1' ||
                label[2] > '9')
              r.fail(it->first, "token label '" + label + "' in " + ew + " must be AT1, AT2, ...");
            call.expect.tokens[label] = r.claims(it->second, "token " + label + " of " + ew);
          }
        }
      }
      s.workload.push_back(std::move(call));
    });
}

// The scenario-wide settings: `tls`, `zones` (clock offsets and drift), name, topology,
// description, leeway and the client-id convention.
void read_settings(const Reader& r, const YAML::Node& root, Scenario& s) {
  r.check_keys(root,
               {"scenario", "topology", "description", "leeway_s", "roles", "workload", "links",
                "zones", "timeline", "client_id_convention", "tls"},
               "the scenario");
  s.mutual_tls = r.choice(root, "tls", "the scenario", {"off", "mutual"}, "off") == "mutual";
  if (const auto zones = root["zones"]) {
    r.expect_map(zones, "'zones'");
    for (auto it = zones.begin(); it != zones.end(); ++it) {
      const std::string zone = it->first.as<std::string>();
      const std::string where = "zone '" + zone + "'";
      r.expect_map(it->second, where);
      r.check_keys(it->second, {"clock_offset_s", "drift_ppm"}, where);
      s.zone_clock_offsets_s[zone] =
          r.integer(it->second, "clock_offset_s", where, 0, -86400, 86400);
      if (it->second["drift_ppm"])
        s.zone_drift_ppm[zone] = r.integer(it->second, "drift_ppm", where, 0, -1000000, 1000000);
    }
  }
  s.name = r.str(root, "scenario", "the scenario", true);
  s.topology = r.choice(root, "topology", "the scenario",
                        {"broker", "direct", "multi-caller", "custom"}, "custom");
  s.description = r.str(root, "description", "the scenario", false);
  s.leeway_s = r.integer(root, "leeway_s", "the scenario", 30, 0, 3600);
  s.client_id_convention =
      r.choice(root, "client_id_convention", "the scenario", {"warn", "off"}, "warn") == "warn";
}

void read_roles(const Reader& r, const YAML::Node& root, Scenario& s,
                std::vector<Diagnostic>& errors) {
  const auto roles = root["roles"];
  if (!roles || !roles.IsMap() || roles.size() == 0)
    r.fail(root, "the scenario needs 'roles': a mapping of role id to role");
  for (auto it = roles.begin(); it != roles.end(); ++it) {
    RoleSpec role;
    collect(errors, [&] { read_role(r, it->first, it->second, s, role); });
    // Kept even when part of it was wrong, so references to it do not add errors of their own.
    if (!role.id.empty() && !s.find_role(role.id)) s.roles.push_back(std::move(role));
  }
}

// A zone link (from_zone/to_zone): every role of to_zone, reached from every role of
// from_zone, one seeded proxy per pair.
void add_zone_link(const Reader& r, const YAML::Node& l, const LinkFaults& f, Scenario& s) {
  const std::string from_zone = r.str(l, "from_zone", "a link", false);
  const std::string to_zone = r.str(l, "to_zone", "a link", false);
  if (l["from"] || l["to"])
    r.fail(l, "a link names either roles (from/to) or zones (from_zone/to_zone), not both");
  bool any = false;
  for (const auto& to : s.roles) {
    if (to.zone != to_zone || to.kind == RoleKind::kClient) continue;
    for (const auto& from : s.roles) {
      if (from.zone != from_zone || from.id == to.id) continue;
      LinkFaults pair = f;
      pair.from = from.id;
      pair.to = to.id;
      pair.origin = "zone " + from_zone + "->" + to_zone;
      s.links.push_back(pair);
      any = true;
    }
  }
  if (!any)
    r.fail(l, "no role of zone '" + from_zone + "' can reach a role of zone '" + to_zone + "'");
}

void read_links(const Reader& r, const YAML::Node& links, Scenario& s,
                std::vector<Diagnostic>& errors) {
  if (!links.IsSequence()) r.fail(links, "'links' must be a list of {from, to, faults...}");
  for (const auto& l : links)
    collect(errors, [&] {
      LinkFaults f = read_link(r, l, "a link", true);
      const std::string from_zone = r.str(l, "from_zone", "a link", false);
      const std::string to_zone = r.str(l, "to_zone", "a link", false);
      if (from_zone.empty() != to_zone.empty())
        r.fail(l, "a zone link needs both 'from_zone' and 'to_zone'");
      if (!from_zone.empty()) return add_zone_link(r, l, f, s);
      if (f.to.empty()) r.fail(l, "a link needs 'to' (a role) or 'from_zone' and 'to_zone'");
      f.origin = "links";
      s.links.push_back(f);
    });
}

// A key given twice in one mapping is an error (YAML requires unique keys): the loader would
// read the first and editors, schemas and most YAML tools the last. Each collection is visited
// once (by its position in the text), so aliases cannot make the walk exponential.
void check_unique_keys(const Reader& r, const YAML::Node& n, std::vector<Diagnostic>& errors,
                       std::set<int>& visited) {
  if (!n.IsSequence() && !n.IsMap()) return;
  if (!visited.insert(n.Mark().pos).second) return;
  if (n.IsSequence())
    for (const auto& e : n) check_unique_keys(r, e, errors, visited);
  if (!n.IsMap()) return;
  std::map<std::string, SourcePos> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (it->first.IsScalar() || it->first.IsNull()) {
      const std::string key = it->first.as<std::string>();
      const auto [at, fresh] = seen.emplace(key, r.pos(it->first));
      if (!fresh && errors.size() < kMaxErrors)
        errors.push_back({r.file(), r.pos(it->first),
                          "key '" + key.substr(0, 64) +
                              "' is given twice in one mapping (first at line " +
                              std::to_string(at->second.line) + ")"});
    }
    check_unique_keys(r, it->second, errors, visited);
  }
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

Scenario load_scenario_text(const std::string& yaml, const std::string& file_label,
                            const ScenarioLoadOptions& options) {
  Reader r(file_label, options);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(
        {file_label, {e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg});
  }
  if (!root || !root.IsMap())
    throw ScenarioError({file_label, {1, 1}, "a scenario must be a YAML mapping"});
  Scenario s;
  s.file = file_label;
  try {
    std::vector<Diagnostic> duplicates;
    std::set<int> visited;
    check_unique_keys(r, root, duplicates, visited);
    if (!duplicates.empty()) throw ScenarioError(std::move(duplicates));
    read_settings(r, root, s);
    std::vector<Diagnostic> errors;
    read_roles(r, root, s, errors);
    if (const auto w = root["workload"]) collect(errors, [&] { read_workload(r, w, s, errors); });
    if (const auto links = root["links"]) read_links(r, links, s, errors);
    if (const auto t = root["timeline"])
      collect(errors, [&] { s.timeline = read_timeline(r, t, s); });
    // Unset ${NAME} (lint mode) first: they come before what the stand-ins may cause.
    s.warnings.insert(s.warnings.begin(), r.pending_warnings().begin(), r.pending_warnings().end());
    // Cross-references only once every part reads: a part that did not would add echoes.
    if (errors.empty()) validate(r, s, errors);
    if (!errors.empty()) throw ScenarioError(std::move(errors));
  } catch (const YAML::Exception& e) {
    throw ScenarioError({file_label, {e.mark.line + 1, e.mark.column + 1}, e.msg});
  }
  return s;
}

Scenario load_scenario(const std::string& path, const ScenarioLoadOptions& options) {
  std::ifstream in(path);
  if (!in) throw ScenarioError({path, {}, "cannot read file"});
  std::stringstream buf;
  buf << in.rdbuf();
  return load_scenario_text(buf.str(), path, options);
}

}  // namespace txlab
