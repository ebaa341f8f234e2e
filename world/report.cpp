// Text, JSON and Mermaid renderings of a RunResult.
#include "world/report.h"

#include "sim/junit.h"
#include "world/timeline.h"

#include <algorithm>
#include <iomanip>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}
std::string lpad(const std::string& s, size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

int64_t percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[idx];
}

std::string audience_text(const std::vector<std::string>& aud) {
  std::string s;
  for (const auto& a : aud) s += (s.empty() ? "" : ",") + a;
  return s;
}

}  // namespace

std::string render_text(const World& world, const RunResult& run, const TextOptions& opt) {
  const auto& sc = world.scenario();
  auto c = [&](const char* code, const std::string& s) {
    return opt.color ? std::string(code) + s + "\033[0m" : s;
  };
  std::ostringstream o;
  o << "txlab run · scenario " << sc.name << " (" << sc.topology << ") · seed " << run.seed << "\n";
  if (!sc.description.empty()) o << "  " << sc.description << "\n";
  o << "\nroles\n";
  for (const auto& r : world.directory().roles()) {
    o << "  " << pad(r.id, 9) << pad(std::string(to_string(r.kind)), 22) << pad(r.zone, 9) << r.url;
    if (!r.issuer.empty()) o << "  iss " << r.issuer;
    if (const RoleSpec* spec = sc.find_role(r.id); spec && sc.clock_offset_of(*spec) != 0)
      o << "  clock " << (sc.clock_offset_of(*spec) > 0 ? "+" : "") << sc.clock_offset_of(*spec)
        << " s";
    o << "\n";
  }

  std::map<const WorkloadCall*, std::vector<const CallResult*>> by_entry;
  for (const auto& call : run.calls) by_entry[call.spec].push_back(&call);

  for (const auto& entry : sc.workload) {
    const auto& calls = by_entry[&entry];
    if (calls.empty()) continue;
    for (size_t i = 0; i < calls.size() && i < opt.detail_calls_per_entry; ++i) {
      const CallResult& r = *calls[i];
      o << "\ncall " << r.id << " · " << entry.name << " · " << entry.method << " " << entry.path
        << " → " << entry.to << " (from " << entry.from << ")\n";
      o << "  " << lpad("#", 2) << "  " << pad("from", 9) << "   " << pad("to", 9)
        << pad("what", 46) << lpad("status", 6) << lpad("µs", 9) << "\n";
      int n = 0;
      for (const auto& h : r.hops) {
        o << "  " << lpad(std::to_string(++n), 2) << "  " << pad(h.from, 9) << " → " << pad(h.to, 9)
          << pad(h.what, 46) << lpad(h.status ? std::to_string(h.status) : "-", 6)
          << lpad(std::to_string(h.us), 9) << "\n";
      }
      if (opt.tokens) {
        for (const auto& t : r.tokens) {
          o << "  " << c("\033[1m", t.label) << "  iss "
            << (t.issuer_role.empty() ? "?" : t.issuer_role) << " · presented by " << t.presenter
            << " → " << t.to << "\n";
          o << "       header " << safe_dump(t.header) << "\n";
          o << "       claims " << safe_dump(t.claims) << "\n";
        }
      }
      if (!r.backend_saw.is_null()) o << "  backend saw " << safe_dump(r.backend_saw) << "\n";
      o << "  result  HTTP " << r.status << (r.error.empty() ? "" : " " + r.error) << " in " << r.us
        << " µs  ";
      if (r.ok()) {
        o << c("\033[32m", "✔ expectations met") << "\n";
      } else {
        o << c("\033[31m", "✘ expectations failed") << "\n";
        for (const auto& f : r.failures)
          o << "    " << f.what << ": expected " << f.expected << ", got " << f.actual << "\n";
      }
    }
    if (calls.size() > opt.detail_calls_per_entry) {
      std::vector<int64_t> us;
      size_t ok = 0;
      for (const auto* r : calls) {
        us.push_back(r->us);
        ok += r->ok() ? 1 : 0;
      }
      o << "  " << calls.size() << " calls of '" << entry.name << "': " << ok
        << " met expectations · p50 " << percentile(us, 0.5) << " µs · p90 " << percentile(us, 0.9)
        << " µs · max " << percentile(us, 1.0) << " µs\n";
      for (const auto* r : calls)
        if (!r->ok() && r != calls.front())
          for (const auto& f : r->failures)
            o << "    " << r->id << " " << f.what << ": expected " << f.expected << ", got "
              << f.actual << "\n";
    }
  }

  if (!run.audit.empty()) {
    o << "\naudit (subject_jti → issued_jti)\n";
    for (const auto& a : run.audit) {
      o << "  " << pad(a.as, 9) << pad(a.call, 5) << pad(a.grant, 20) << pad(a.client_id, 26)
        << (a.subject_jti.empty() ? std::string("-") : a.subject_jti) << " → " << a.issued_jti
        << "  aud " << audience_text(a.audience) << "\n";
    }
  }
  if (const std::string faults = render_fault_decisions(world); !faults.empty())
    o << "\nfault decisions (seed " << run.seed << ", per connection)\n" << faults;
  size_t ok = 0;
  for (const auto& r : run.calls) ok += r.ok() ? 1 : 0;
  o << "\nverdict: " << (run.ok() ? c("\033[32m", "PASS") : c("\033[31m", "FAIL")) << " (" << ok
    << "/" << run.calls.size() << " calls met their expectations)";
  if (!run.ok()) o << " · reproduce: txlab run " << sc.file << " --seed " << run.seed;
  o << "\n";
  return o.str();
}

Json render_json(const World& world, const RunResult& run) {
  const auto& sc = world.scenario();
  Json roles = Json::array();
  for (const auto& r : world.directory().roles()) {
    Json j = {
        {"id", r.id}, {"kind", std::string(to_string(r.kind))}, {"zone", r.zone}, {"url", r.url}};
    if (!r.issuer.empty()) j["issuer"] = r.issuer;
    roles.push_back(j);
  }
  Json calls = Json::array();
  for (const auto& r : run.calls) {
    Json hops = Json::array();
    for (const auto& h : r.hops)
      hops.push_back(
          {{"from", h.from}, {"to", h.to}, {"what", h.what}, {"status", h.status}, {"us", h.us}});
    Json tokens = Json::array();
    for (const auto& t : r.tokens)
      tokens.push_back({{"label", t.label},
                        {"issuer_role", t.issuer_role},
                        {"presenter", t.presenter},
                        {"to", t.to},
                        {"header", t.header},
                        {"claims", t.claims}});
    Json failures = Json::array();
    for (const auto& f : r.failures)
      failures.push_back({{"what", f.what}, {"expected", f.expected}, {"actual", f.actual}});
    Json call = {{"id", r.id},
                 {"name", r.spec ? r.spec->name : ""},
                 {"status", r.status},
                 {"ok", r.ok()},
                 {"us", r.us},
                 {"hops", hops},
                 {"tokens", tokens},
                 {"failures", failures},
                 {"backend_saw", r.backend_saw.is_null() ? Json::object() : r.backend_saw}};
    if (!r.error.empty()) call["error"] = r.error;
    calls.push_back(call);
  }
  Json audit = Json::array();
  for (const auto& a : run.audit)
    audit.push_back({{"as", a.as},
                     {"call", a.call},
                     {"grant", a.grant},
                     {"subject_jti", a.subject_jti},
                     {"issued_jti", a.issued_jti},
                     {"client_id", a.client_id},
                     {"audience", a.audience},
                     {"at", a.at_s}});
  return {{"scenario", sc.name}, {"topology", sc.topology},
          {"seed", run.seed},    {"ok", run.ok()},
          {"roles", roles},      {"calls", calls},
          {"audit", audit},      {"faults", fault_decisions_json(world)}};
}

std::string render_fault_decisions(const World& world) {
  std::map<std::string, std::pair<size_t, std::map<std::string, size_t>>>
      per_link;  // connections, fault -> n
  for (const auto& d : world.transport().fault_decisions()) {
    auto& p = per_link[d.link];
    ++p.first;
    if (d.fault != "none") ++p.second[d.fault];
  }
  std::ostringstream o;
  for (const auto& [link, p] : per_link) {
    o << "  " << link << ": " << p.first << " connection" << (p.first == 1 ? "" : "s");
    for (const auto& [fault, n] : p.second) o << ", " << n << " " << fault;
    o << "\n";
  }
  return o.str();
}

Json fault_decisions_json(const World& world) {
  Json faults = Json::array();
  for (const auto& d : world.transport().fault_decisions())
    faults.push_back({{"link", d.link},
                      {"connection", d.connection},
                      {"fault", d.fault},
                      {"latency_ms", d.latency_ms}});
  return faults;
}

std::string render_junit(const World& world, const RunResult& run) {
  JunitSuite suite{"txlab.run." + world.scenario().name};
  for (const auto& call : run.calls) {
    JunitCase c{suite.name, call.id + " " + (call.spec ? call.spec->name : ""), call.us / 1e6};
    if (!call.ok()) {
      std::string text;
      for (const auto& f : call.failures)
        text += f.what + ": expected " + f.expected + ", got " + f.actual + "\n";
      c.failure = JunitFailure{std::to_string(call.failures.size()) + " expectation(s) failed",
                               std::move(text)};
    }
    suite.cases.push_back(std::move(c));
  }
  return render_junit(JunitReport{"txlab run", {std::move(suite)}});
}

std::string render_junit(const World& world, const TimelineResult& run) {
  JunitSuite suite{"txlab.timeline." + world.scenario().name};
  auto add = [&](std::string name, const std::vector<std::string>& fails) {
    JunitCase c{suite.name, std::move(name)};
    if (!fails.empty()) {
      std::string text;
      for (const auto& f : fails) text += f + "\n";
      c.failure =
          JunitFailure{std::to_string(fails.size()) + " expectation(s) failed", std::move(text)};
    }
    suite.cases.push_back(std::move(c));
  };
  for (const auto& w : run.windows)
    if (w.declared) add("window " + w.name, w.failures);
  add("whole run", run.failures);
  return render_junit(JunitReport{"txlab run", {std::move(suite)}});
}

std::string mermaid_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '#':
        out += "#35;";
        break;
      case ';':
        out += "#59;";
        break;
      case '"':
        out += "#quot;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_mermaid(const World& world, const RunResult& run, const std::string& call_id) {
  auto alias = [](std::string id) {
    std::replace(id.begin(), id.end(), '-', '_');
    return id;
  };
  std::ostringstream o;
  o << "sequenceDiagram\n";
  for (const auto& r : world.directory().roles())
    o << "  participant " << alias(r.id) << " as " << mermaid_text(r.id) << "\n";
  std::vector<const CallResult*> shown;
  std::map<const WorkloadCall*, bool> seen;
  for (const auto& r : run.calls) {
    if (!call_id.empty() ? r.id == call_id : !seen[r.spec]) shown.push_back(&r);
    seen[r.spec] = true;
  }
  for (const auto* r : shown) {
    o << "  Note over " << alias(world.directory().roles().front().id) << ": "
      << mermaid_text(r->id + " " + (r->spec ? r->spec->name : "")) << "\n";
    // Requests at their start, responses at their end, in time order.
    struct Event {
      int64_t t;
      bool response;
      const Hop* hop;
    };
    std::vector<Event> events;
    for (const auto& h : r->hops) {
      events.push_back({h.start_us, false, &h});
      events.push_back({h.start_us + h.us, true, &h});
    }
    std::stable_sort(events.begin(), events.end(),
                     [](const Event& a, const Event& b) { return a.t < b.t; });
    for (const auto& e : events) {
      if (!e.response) {
        o << "  " << alias(e.hop->from) << "->>" << alias(e.hop->to) << ": "
          << mermaid_text(e.hop->what) << "\n";
      } else {
        o << "  " << alias(e.hop->to) << "-->>" << alias(e.hop->from) << ": "
          << (e.hop->status ? std::to_string(e.hop->status) : "no response") << " (" << e.hop->us
          << " µs)\n";
      }
    }
  }
  return o.str();
}

}  // namespace txlab
