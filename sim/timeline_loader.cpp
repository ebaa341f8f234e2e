// The `timeline:` section of a scenario: duration and step of simulation time, the traffic
// per step, events (key rotation, revocation, secret rotation, roles down and up, clock
// steps, policy changes), judged windows, whole-run expectations and the seeded swarm.
#include <cstdio>
#include <set>

#include "sim/enum_names.h"
#include "sim/scenario_reader.h"

namespace txlab {

constexpr EnumName<EventKind> kEventKindNames[] = {
    {EventKind::kRotateKey, "rotate_key"},
    {EventKind::kRetireKeys, "retire_keys"},
    {EventKind::kRevokeClient, "revoke_client"},
    {EventKind::kRestoreClient, "restore_client"},
    {EventKind::kRevokeTokens, "revoke_tokens"},
    {EventKind::kRotateSecret, "rotate_secret"},
    {EventKind::kDown, "down"},
    {EventKind::kUp, "up"},
    {EventKind::kClockStep, "clock_step"},
    {EventKind::kPolicy, "policy"},
};
static_assert(covers_in_order(kEventKindNames, EventKind::kPolicy));

std::string_view to_string(EventKind k) { return name_of(kEventKindNames, k, "?"); }

namespace {
std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}
std::string list_text(const std::vector<std::string>& v) {
  return "[" + scenario_detail::join(v) + "]";
}
}  // namespace

std::string TimelineEvent::describe() const {
  std::string out(to_string(kind));
  switch (kind) {
    case EventKind::kClockStep:
      out += " " + (zone.empty() ? role : "zone " + zone) + (by_s >= 0 ? " +" : " ") +
             std::to_string(by_s) + "s";
      break;
    case EventKind::kRevokeClient:
    case EventKind::kRestoreClient:
    case EventKind::kRotateSecret:
      out += " " + role + " client " + client;
      break;
    case EventKind::kRevokeTokens:
      out += " " + role + (client.empty() ? " (every token)" : " client " + client);
      break;
    case EventKind::kPolicy:
      out += " " + role;
      if (max_ttl_s) out += " max_ttl_s=" + std::to_string(*max_ttl_s);
      if (!client.empty()) out += " client " + client;
      if (audiences) out += " audiences=" + list_text(*audiences);
      if (scopes) out += " scope=" + list_text(*scopes);
      break;
    case EventKind::kRotateKey:
      out += " " + role +
             (overlap_s >= 0 ? " (old keys retired after " + seconds_text(overlap_s) + "s)" : "");
      break;
    default:
      out += " " + role;
  }
  return out;
}

std::string SwarmCandidate::describe() const {
  if (link) {
    std::string f;
    if (link->latency_ms) f += " latency " + std::to_string(link->latency_ms) + "ms";
    if (link->jitter_ms) f += " jitter " + std::to_string(link->jitter_ms) + "ms";
    if (link->bandwidth_kbps) f += " bandwidth " + std::to_string(link->bandwidth_kbps) + "kbps";
    if (link->down > 0) f += " down " + seconds_text(link->down);
    if (link->reset > 0) f += " reset " + seconds_text(link->reset);
    if (link->stall > 0) f += " stall " + seconds_text(link->stall);
    if (link->slow_close_ms) f += " slow_close " + std::to_string(link->slow_close_ms) + "ms";
    if (link->loss > 0) f += " loss " + seconds_text(link->loss);
    return "link " + link->from + "->" + link->to + ":" + f;
  }
  if (down_role) return "down " + *down_role;
  if (event) return event->describe();
  return "?";
}

bool Bound::holds(double x) const {
  constexpr double kEps = 1e-9;
  switch (op) {
    case Op::kGe:
      return x >= value - kEps;
    case Op::kLe:
      return x <= value + kEps;
    case Op::kGt:
      return x > value + kEps;
    case Op::kLt:
      return x < value - kEps;
    case Op::kEq:
      return x >= value - kEps && x <= value + kEps;
  }
  return false;
}

std::string Bound::text() const {
  return std::string(name_of(scenario_detail::kBoundOpNames, op)) + " " + seconds_text(value);
}

namespace scenario_detail {

namespace {

// The event keys, in the enum's order.
const std::vector<std::string> kEventKinds = [] {
  std::vector<std::string> out;
  for (const auto& row : kEventKindNames) out.emplace_back(row.name);
  return out;
}();

// One event body: exactly one kind key (plus at/jitter/overlap, read by the caller).
TimelineEvent read_event(const Reader& r, const YAML::Node& n, const std::string& where,
                         std::vector<std::string> extra_keys) {
  r.expect_map(n, where);
  std::vector<std::string> keys = kEventKinds;
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  keys.push_back("overlap");
  r.check_keys(n, keys, where);
  std::string kind;
  for (const auto& k : kEventKinds) {
    if (!n[k]) continue;
    if (!kind.empty())
      r.fail(n, where + " names two events ('" + kind + "' and '" + k + "'): one per entry");
    kind = k;
  }
  if (kind.empty()) r.fail(n, where + " needs one of: " + join(kEventKinds));
  TimelineEvent e;
  e.pos = r.pos(n);
  e.kind = *value_of(kEventKindNames, kind);
  const YAML::Node body = n[kind];
  const std::string bw = "'" + kind + "' of " + where;
  auto role_only = [&] {
    if (!body.IsScalar()) r.fail(body, bw + " must name a role");
    e.role = body.as<std::string>();
  };
  auto as_client = [&](bool client_required) {
    r.expect_map(body, bw);
    r.check_keys(body, {"as", "client"}, bw);
    e.role = r.str(body, "as", bw, true);
    e.client = r.str(body, "client", bw, client_required);
  };
  if (e.kind == EventKind::kRotateKey) {
    role_only();
    e.overlap_s = r.seconds(n, "overlap", where, -1, 0);
  } else if (e.kind == EventKind::kRetireKeys || e.kind == EventKind::kDown ||
             e.kind == EventKind::kUp) {
    role_only();
  } else if (e.kind == EventKind::kRevokeClient || e.kind == EventKind::kRestoreClient ||
             e.kind == EventKind::kRotateSecret) {
    as_client(true);
  } else if (e.kind == EventKind::kRevokeTokens) {
    as_client(false);
  } else if (e.kind == EventKind::kClockStep) {
    r.expect_map(body, bw);
    r.check_keys(body, {"zone", "role", "by_s"}, bw);
    e.zone = r.str(body, "zone", bw, false);
    e.role = r.str(body, "role", bw, false);
    if (e.zone.empty() == e.role.empty()) r.fail(body, bw + " needs either 'zone' or 'role'");
    if (!body["by_s"]) r.fail(body, bw + " needs 'by_s' (seconds, negative steps back)");
    e.by_s = r.integer(body, "by_s", bw, 0, -86400, 86400);
  } else {  // kPolicy
    r.expect_map(body, bw);
    r.check_keys(body, {"as", "max_ttl_s", "client", "audiences", "scope"}, bw);
    e.role = r.str(body, "as", bw, true);
    if (body["max_ttl_s"]) e.max_ttl_s = r.integer(body, "max_ttl_s", bw, 300, 1, 86400);
    e.client = r.str(body, "client", bw, false);
    if (body["audiences"]) e.audiences = r.strings(body, "audiences", bw);
    if (body["scope"]) e.scopes = r.scope_list(body, "scope", bw);
    if ((e.audiences || e.scopes) && e.client.empty())
      r.fail(body, bw + ": 'audiences' and 'scope' change a client registration, so name 'client'");
    if (!e.max_ttl_s && !e.audiences && !e.scopes)
      r.fail(body, bw + " changes nothing (max_ttl_s, or client with audiences/scope)");
  }
  if (n["overlap"] && e.kind != EventKind::kRotateKey)
    r.fail(n["overlap"], "'overlap' only applies to rotate_key");
  return e;
}

std::pair<double, double> range(const Reader& r, const YAML::Node& map, const std::string& key,
                                const std::string& where) {
  const YAML::Node n = map[key];
  if (!n || !n.IsSequence() || n.size() != 2)
    r.fail(n ? n : map, where + " needs '" + key + "': [min, max] durations");
  YAML::Node holder;
  holder["lo"] = n[0];
  holder["hi"] = n[1];
  const double lo = r.seconds(holder, "lo", "'" + key + "' of " + where, 0);
  const double hi = r.seconds(holder, "hi", "'" + key + "' of " + where, 0);
  if (hi < lo) r.fail(n, "'" + key + "' of " + where + ": max is below min");
  return {lo, hi};
}

}  // namespace

Timeline read_timeline(const Reader& r, const YAML::Node& n, Scenario& s) {
  const std::string where = "'timeline'";
  r.expect_map(n, where);
  r.check_keys(n,
               {"duration", "step", "clock", "traffic", "calls_per_step", "concurrency", "events",
                "windows", "expect", "swarm"},
               where);
  Timeline t;
  t.pos = r.pos(n);
  t.duration_s = r.seconds(n, "duration", where, 10, 0.001);
  t.step_s = r.seconds(n, "step", where, 1, 0.001);
  if (t.duration_s / t.step_s > 100000)
    r.fail(n, where + " has more than 100000 steps: raise 'step'");
  t.simulated = r.choice(n, "clock", where, {"simulated", "real"}, "simulated") == "simulated";
  t.traffic = r.strings(n, "traffic", where);
  t.calls_per_step = static_cast<int>(r.integer(n, "calls_per_step", where, 1, 1, 10000));
  t.concurrency = static_cast<int>(r.integer(n, "concurrency", where, 1, 1, 256));
  if (const auto ev = n["events"]) {
    if (!ev.IsSequence()) r.fail(ev, "'events' of " + where + " must be a list of {at, <event>}");
    for (const auto& e : ev) {
      TimelineEvent event = read_event(r, e, "an event of " + where, {"at", "jitter"});
      if (!e["at"]) r.fail(e, "an event of " + where + " needs 'at' (simulation time, e.g. 10s)");
      event.at_s = r.seconds(e, "at", "an event", 0);
      event.jitter_s = r.seconds(e, "jitter", "an event", 0);
      event.origin = "timeline";
      if (event.at_s > t.duration_s)
        r.warn(s.warnings, event.pos,
               "event " + event.describe() + " is after the end of the timeline");
      t.events.push_back(std::move(event));
    }
  }
  if (const auto ws = n["windows"]) {
    if (!ws.IsSequence())
      r.fail(ws, "'windows' of " + where + " must be a list of {name, from, to, expect}");
    std::set<std::string> names;
    for (const auto& w : ws) {
      r.expect_map(w, "a window");
      TimeWindow win;
      win.pos = r.pos(w);
      win.name = r.str(w, "name", "a window", true);
      const std::string ww = "window '" + win.name + "'";
      if (!names.insert(win.name).second) r.fail(w, ww + " is defined twice");
      r.check_keys(w, {"name", "from", "to", "expect"}, ww);
      win.from_s = r.seconds(w, "from", ww, 0);
      win.to_s = r.seconds(w, "to", ww, t.duration_s);
      if (win.to_s <= win.from_s) r.fail(w, ww + ": 'to' must be after 'from'");
      if (const auto ex = w["expect"]) {
        const std::string ew = "'expect' of " + ww;
        r.expect_map(ex, ew);
        r.check_keys(ex, {"success_rate", "calls", "max_latency_ms", "p99_ms"}, ew);
        if (ex["success_rate"]) win.expect.success_rate = r.bound(ex, "success_rate", ew);
        if (ex["calls"]) win.expect.calls = r.bound(ex, "calls", ew);
        if (ex["max_latency_ms"])
          win.expect.max_latency_ms = r.integer(ex, "max_latency_ms", ew, 0, 1, 3600000);
        if (ex["p99_ms"]) win.expect.p99_ms = r.integer(ex, "p99_ms", ew, 0, 1, 3600000);
      }
      t.windows.push_back(std::move(win));
    }
  }
  if (const auto ex = n["expect"]) {
    const std::string ew = "'expect' of " + where;
    r.expect_map(ex, ew);
    r.check_keys(ex, {"audit_complete", "max_latency_ms", "success_rate"}, ew);
    t.audit_complete = r.boolean(ex, "audit_complete", ew, false);
    if (ex["max_latency_ms"]) t.max_latency_ms = r.integer(ex, "max_latency_ms", ew, 0, 1, 3600000);
    if (ex["success_rate"]) t.success_rate = r.bound(ex, "success_rate", ew);
  }
  if (const auto sw = n["swarm"]) {
    const std::string sww = "'swarm' of " + where;
    r.expect_map(sw, sww);
    r.check_keys(sw, {"pick", "start", "length", "candidates"}, sww);
    Swarm swarm;
    swarm.pos = r.pos(sw);
    std::tie(swarm.start_min_s, swarm.start_max_s) = range(r, sw, "start", sww);
    std::tie(swarm.length_min_s, swarm.length_max_s) = range(r, sw, "length", sww);
    const auto cs = sw["candidates"];
    if (!cs || !cs.IsSequence() || cs.size() == 0)
      r.fail(sw, sww + " needs 'candidates': a list of faults the seed picks from");
    for (const auto& c : cs) {
      SwarmCandidate cand;
      cand.pos = r.pos(c);
      const std::string cw = "a swarm candidate";
      r.expect_map(c, cw);
      if (c["link"]) {
        r.check_keys(c, {"link"}, cw);
        cand.link = read_link(r, c["link"], "'link' of " + cw, true);
        if (cand.link->to.empty()) r.fail(c["link"], "'link' of " + cw + " needs 'to'");
        if (c["link"]["at_s"] || c["link"]["for_s"] || c["link"]["at"] || c["link"]["for"])
          r.fail(c["link"], "a swarm link's window is picked by the seed: no at/for");
        if (c["link"]["from_zone"] || c["link"]["to_zone"])
          r.fail(c["link"], "a swarm link names roles (from/to), not zones");
        cand.link->origin = "swarm";
      } else if (c["down"]) {
        r.check_keys(c, {"down"}, cw);
        if (!c["down"].IsScalar()) r.fail(c["down"], "'down' of " + cw + " must name a role");
        cand.down_role = c["down"].as<std::string>();
      } else {
        cand.event = read_event(r, c, cw, {});
        cand.event->origin = "swarm";
      }
      swarm.candidates.push_back(std::move(cand));
    }
    swarm.pick = static_cast<int>(
        r.integer(sw, "pick", sww, 1, 1, static_cast<int64_t>(swarm.candidates.size())));
    t.swarm = std::move(swarm);
  }
  return t;
}

// An event must name what exists and can act: a role txlab runs, an AS for AS events, a client
// registered there.
void check_event(const Reader& r, const Scenario& s, const TimelineEvent& e) {
  auto role_check = [&](const std::string& id, SourcePos at, const std::string& what,
                        bool must_be_as) {
    const RoleSpec* role = s.find_role(id);
    if (!role) r.fail_at(at, what + " names unknown role '" + id + "'");
    if (role->external)
      r.fail_at(at, what + " names '" + id +
                        "', an external authorization server: txlab does not run it, so it "
                        "cannot act on it");
    if (must_be_as && role->kind != RoleKind::kAuthorizationServer)
      r.fail_at(at, what + " names '" + id + "', which is a " + std::string(to_string(role->kind)) +
                        ", not an authorization server");
    return role;
  };
  const std::string what = std::string(to_string(e.kind));
  switch (e.kind) {
    case EventKind::kDown:
    case EventKind::kUp:
      if (role_check(e.role, e.pos, what, false)->kind == RoleKind::kClient)
        r.fail_at(e.pos, what + ": '" + e.role +
                             "' is a client (it starts the calls); take down a server role");
      break;
    case EventKind::kClockStep: {
      if (!e.role.empty()) role_check(e.role, e.pos, what, false);
      bool any = e.zone.empty();
      for (const auto& role : s.roles) any = any || role.zone == e.zone;
      if (!any) r.fail_at(e.pos, what + " names zone '" + e.zone + "', which no role is in");
      break;
    }
    default: {
      const RoleSpec* as = role_check(e.role, e.pos, what, true);
      if (!e.client.empty()) {
        bool found = false;
        for (const auto& c : as->as.clients) found = found || c.id == e.client;
        if (!found)
          r.fail_at(e.pos, what + " names client '" + e.client + "', which is not registered at '" +
                               e.role + "'");
      }
      if (e.kind == EventKind::kPolicy && e.max_ttl_s && !as->as.exchange)
        r.fail_at(e.pos, what + ": '" + e.role +
                             "' does not perform token exchange, so it has no max_ttl_s");
    }
  }
}

void validate_timeline(const Reader& r, const Scenario& s) {
  const Timeline& t = *s.timeline;
  for (const auto& name : t.traffic) {
    bool found = false;
    for (const auto& w : s.workload) found = found || w.name == name;
    if (!found)
      r.fail_at(t.pos, "'traffic' of the timeline names workload entry '" + name +
                           "', which does not exist");
  }
  for (const auto& e : t.events) check_event(r, s, e);
  if (t.swarm) {
    for (const auto& c : t.swarm->candidates) {
      if (c.event) check_event(r, s, *c.event);
      if (c.down_role) {
        TimelineEvent e;
        e.kind = EventKind::kDown;
        e.role = *c.down_role;
        e.pos = c.pos;
        check_event(r, s, e);
      }
      if (c.link) {
        if (c.link->from != "*" && !s.find_role(c.link->from))
          r.fail_at(c.pos, "swarm link 'from' names unknown role '" + c.link->from + "'");
        if (!s.find_role(c.link->to))
          r.fail_at(c.pos, "swarm link 'to' names unknown role '" + c.link->to + "'");
      }
    }
  }
}

TimelineEvent read_event_entry(const Reader& r, const YAML::Node& n) {
  return read_event(r, n, "the event", {});
}

}  // namespace scenario_detail
TimelineEvent parse_event(const std::string& text, const Scenario& s, const std::string& label) {
  using scenario_detail::check_event;
  using scenario_detail::read_event_entry;
  scenario_detail::Reader r(label);
  std::string yaml = text;
  while (!yaml.empty() && (yaml.back() == '\n' || yaml.back() == '\r' || yaml.back() == ' '))
    yaml.pop_back();
  // The short form "KIND ROLE": a role-only event without YAML punctuation.
  if (const size_t sp = yaml.find(' ');
      sp != std::string::npos && yaml.find_first_of(":{[") == std::string::npos)
    yaml = "{" + yaml.substr(0, sp) + ": " + yaml.substr(sp + 1) + "}";
  YAML::Node n;
  try {
    n = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ScenarioError({label, {e.mark.line + 1, e.mark.column + 1}, "not YAML: " + e.msg});
  }
  if (!n.IsMap()) r.fail(n, "an event is a mapping such as {rotate_key: as-c}");
  if (n["overlap"])
    r.fail(n["overlap"], "'overlap' schedules a later retire_keys; send retire_keys when ready");
  TimelineEvent e = read_event_entry(r, n);
  e.origin = "serve";
  check_event(r, s, e);
  return e;
}

}  // namespace txlab
