// Timeline runs: the step loop, windows and whole-run verdicts, reports (the seeded plan is
// world/plan).
#include "world/timeline.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "sim/clock.h"
#include "sim/json_util.h"
#include "world/load.h"
#include "world/plan.h"
#include "world/report.h"
#include "world/runner.h"
#include "world/world.h"

namespace txlab {

using Json = nlohmann::json;

namespace {

std::string secs(double s) { return seconds_text(s); }

}  // namespace

bool TimelineResult::ok() const {
  if (!failures.empty()) return false;
  for (const auto& e : events)
    if (!e.ok) return false;
  for (const auto& w : windows)
    if (!w.failures.empty()) return false;
  return true;
}

namespace {

// Simulation times at which something changes (events, link fault windows), each with a
// short label of what changes there.
std::map<double, std::string> boundaries(const Scenario& s) {
  std::map<double, std::string> out;
  auto add = [&](double at, const std::string& what) {
    auto& label = out[at];
    label += (label.empty() ? "" : ", ") + what;
  };
  for (const auto& e : s.timeline->events)
    add(e.at_s, std::string(to_string(e.kind)) + " " + (e.zone.empty() ? e.role : e.zone));
  for (const auto& l : s.links) {
    if (l.at_s > 0) add(l.at_s, l.from + "->" + l.to + " faulty");
    if (l.for_s > 0) add(l.at_s + l.for_s, l.from + "->" + l.to + " healed");
  }
  return out;
}

void fill_window(WindowReport& w, const std::vector<TimelineCall>& calls) {
  std::vector<int64_t> lat;
  for (const auto& c : calls) {
    if (c.t_s < w.from_s || c.t_s >= w.to_s) continue;
    ++w.calls;
    if (c.ok) ++w.ok;
    lat.push_back(c.us);
  }
  w.success_rate = w.calls ? static_cast<double>(w.ok) / w.calls : 0;
  if (!lat.empty()) {
    w.p50_us = percentile_us(lat, 0.5);
    w.p90_us = percentile_us(lat, 0.9);
    w.p99_us = percentile_us(lat, 0.99);
    w.max_us = percentile_us(lat, 1.0);
  }
}

void judge_window(WindowReport& w, const WindowExpect& e) {
  char buf[160];
  if (e.calls && !e.calls->holds(w.calls))
    w.failures.push_back("calls " + std::to_string(w.calls) + ", expected " + e.calls->text());
  if (e.success_rate) {
    // A window without calls cannot pass a success-rate expectation by default.
    if (w.calls == 0) {
      w.failures.push_back("no calls fell in the window, so its success rate cannot be judged");
    } else if (!e.success_rate->holds(w.success_rate)) {
      std::snprintf(buf, sizeof buf, "success rate %.4f (%d/%d), expected %s", w.success_rate, w.ok,
                    w.calls, e.success_rate->text().c_str());
      w.failures.push_back(buf);
    }
  }
  if (e.max_latency_ms && w.max_us > *e.max_latency_ms * 1000) {
    std::snprintf(buf, sizeof buf, "max latency %.1f ms, expected <= %lld ms",
                  static_cast<double>(w.max_us) / 1000, static_cast<long long>(*e.max_latency_ms));
    w.failures.push_back(buf);
  }
  if (e.p99_ms && w.p99_us > *e.p99_ms * 1000) {
    std::snprintf(buf, sizeof buf, "p99 latency %.1f ms, expected <= %lld ms",
                  static_cast<double>(w.p99_us) / 1000, static_cast<long long>(*e.p99_ms));
    w.failures.push_back(buf);
  }
}

}  // namespace

namespace {

// The workload entries a timeline step cycles through (its `traffic`, or every entry).
std::vector<const WorkloadCall*> traffic_of(const Scenario& s) {
  const Timeline& t = *s.timeline;
  std::vector<const WorkloadCall*> traffic;
  for (const auto& w : s.workload)
    if (t.traffic.empty() ||
        std::find(t.traffic.begin(), t.traffic.end(), w.name) != t.traffic.end())
      traffic.push_back(&w);
  if (traffic.empty()) throw std::logic_error("timeline without traffic");
  return traffic;
}

// The state of a timeline run as its steps go by.
struct StepLoop {
  World& world;
  const Timeline& t;
  const std::map<double, std::string>& edges;
  std::vector<const WorkloadCall*> traffic;
  TimelineResult& out;
  std::vector<CallResult> results;  // kept for the whole-run checks
  std::mutex results_mu;
  size_t next_event = 0;
  size_t next_entry = 0;
  double prev_t = -1;

  // Applies the events due by `sim_now`, in order; true when something changed (an event, or
  // a fault window opened or closed since the previous step).
  bool apply_due_events(double sim_now) {
    bool changed = false;
    while (next_event < t.events.size() && t.events[next_event].at_s <= sim_now + 1e-9) {
      const TimelineEvent& e = t.events[next_event++];
      AppliedEvent a{sim_now, e.describe(), e.origin, {}, true};
      try {
        a.result = world.apply(e);
      } catch (const std::exception& ex) {
        a.ok = false;
        a.result = ex.what();
      }
      out.events.push_back(std::move(a));
      changed = true;
    }
    for (const auto& [edge, label] : edges)
      changed = changed || (edge > prev_t + 1e-9 && edge <= sim_now + 1e-9);
    prev_t = sim_now;
    return changed;
  }

  // The step's calls, `concurrency` at a time, cycling through the workload entries.
  void run_calls(int64_t k, double sim_now) {
    std::vector<const WorkloadCall*> batch;
    for (int i = 0; i < t.calls_per_step; ++i)
      batch.push_back(traffic[next_entry++ % traffic.size()]);
    std::atomic<size_t> cursor{0};
    auto worker = [&] {
      for (size_t i; (i = cursor.fetch_add(1)) < batch.size();) {
        CallResult r =
            run_call(world, *batch[i], "t" + std::to_string(k) + "." + std::to_string(i + 1));
        TimelineCall c{r.id,     batch[i]->name, sim_now,
                       r.status, r.error,        r.status >= 200 && r.status < 300,
                       r.us};
        std::lock_guard lock(results_mu);
        out.calls.push_back(std::move(c));
        results.push_back(std::move(r));
      }
    };
    const int threads = std::min<int>(t.concurrency, static_cast<int>(batch.size()));
    if (threads <= 1) {
      worker();
    } else {
      std::vector<std::thread> pool;
      for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
      for (auto& th : pool) th.join();
    }
  }

  void run(int64_t real_start) {
    const auto steps = static_cast<int64_t>(std::ceil(t.duration_s / t.step_s - 1e-9));
    for (int64_t k = 0; k < steps; ++k) {
      const double now = static_cast<double>(k) * t.step_s;
      if (t.simulated) {
        if (k > 0) world.time().advance_time(t.step_s);
      } else {
        const int64_t due_us = real_start + static_cast<int64_t>(now * 1e6);
        while (monotonic_us() < due_us)
          std::this_thread::sleep_for(
              std::chrono::microseconds(std::min<int64_t>(due_us - monotonic_us(), 50000)));
      }
      const double sim_now = t.simulated ? now : world.time().sim_time_s();
      // Pooled connections were decided under the old conditions: reconnect through the proxies.
      if (apply_due_events(sim_now) && k > 0) world.transport().release_connections();
      run_calls(k, sim_now);
    }
    // Events scheduled at or after the end are reported as not reached.
    for (; next_event < t.events.size(); ++next_event)
      out.events.push_back({t.events[next_event].at_s, t.events[next_event].describe(),
                            t.events[next_event].origin, "not reached: after the end of the run",
                            true});
    std::stable_sort(out.calls.begin(), out.calls.end(),
                     [](const auto& a, const auto& b) { return a.t_s < b.t_s; });
  }
};

// Windows: the declared ones (judged), then the spans between events and fault-window edges
// (reported, not judged).
void report_windows(const Timeline& t, const std::map<double, std::string>& edges,
                    TimelineResult& out) {
  for (const auto& d : t.windows) {
    WindowReport w;
    w.name = d.name;
    w.from_s = d.from_s;
    w.to_s = d.to_s;
    w.declared = true;
    fill_window(w, out.calls);
    judge_window(w, d.expect);
    out.windows.push_back(std::move(w));
  }
  std::vector<double> cuts = {0};
  for (const auto& [e, label] : edges)
    if (e > 0 && e < t.duration_s) cuts.push_back(e);
  cuts.push_back(t.duration_s);
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    WindowReport w;
    auto label = edges.find(cuts[i]);
    w.name = label != edges.end() ? label->second : "start";
    w.from_s = cuts[i];
    w.to_s = cuts[i + 1];
    fill_window(w, out.calls);
    if (w.calls > 0 || cuts.size() == 2) out.windows.push_back(std::move(w));
  }
}

// The whole run's expectations (success rate, slowest call).
void judge_run(const Timeline& t, TimelineResult& out) {
  WindowReport all;
  all.from_s = 0;
  all.to_s = t.duration_s + 1;
  fill_window(all, out.calls);
  char buf[200];
  if (t.success_rate && !t.success_rate->holds(all.success_rate)) {
    std::snprintf(buf, sizeof buf, "run success rate %.4f (%d/%d), expected %s", all.success_rate,
                  all.ok, all.calls, t.success_rate->text().c_str());
    out.failures.push_back(buf);
  }
  if (t.max_latency_ms && all.max_us > *t.max_latency_ms * 1000) {
    std::snprintf(buf, sizeof buf, "slowest call took %.1f ms, expected <= %lld ms",
                  static_cast<double>(all.max_us) / 1000,
                  static_cast<long long>(*t.max_latency_ms));
    out.failures.push_back(buf);
  }
}

// Invariants, always on: a 2xx carries what the backend verified; a 5xx says why in JSON; with
// `audit_complete`, every token a successful call carried is in its issuer's audit log.
void check_invariants(World& world, const std::vector<CallResult>& results, TimelineResult& out) {
  const Scenario& s = world.scenario();
  const Timeline& t = *s.timeline;
  std::set<std::pair<std::string, std::string>> audited;  // (AS role, issued jti)
  if (t.audit_complete) {
    for (const auto& a : collect_audit(world)) audited.insert({a.as, a.issued_jti});
    for (const auto& role : s.roles)
      if (role.kind == RoleKind::kAuthorizationServer && role.runs_here())
        if (const size_t dropped = world.authorization_server(role.id).audit_log().dropped())
          out.failures.push_back(role.id + "'s audit log dropped " + std::to_string(dropped) +
                                 " entries (audit_max_entries): completeness cannot be judged");
  }
  for (const auto& r : results) {
    const bool success = r.status >= 200 && r.status < 300;
    if (success && r.backend_saw.is_null())
      out.failures.push_back("call " + r.id + " answered " + std::to_string(r.status) +
                             " without the backend's verified view");
    if (r.status >= 500) {
      const Json& body = r.response.contains("body") ? r.response["body"] : Json();
      if (!body.is_object() || json_str(body, "error").empty())
        out.failures.push_back("call " + r.id + " answered " + std::to_string(r.status) +
                               " without a JSON error body");
    }
    if (!t.audit_complete || !success) continue;
    for (const auto& tok : r.tokens) {
      const std::string jti = json_str(tok.claims, "jti");
      if (tok.issuer_role.empty()) continue;
      if (jti.empty() || !audited.count({tok.issuer_role, jti}))
        out.failures.push_back("call " + r.id + ": " + tok.label + " (jti " +
                               (jti.empty() ? "none" : jti) + ") is missing from " +
                               tok.issuer_role + "'s audit log");
    }
  }
}

// The sample run the report draws: the first call, and the first failed one.
std::shared_ptr<RunResult> sample_of(std::vector<CallResult>& results, uint64_t seed) {
  auto sample = std::make_shared<RunResult>();
  sample->seed = seed;
  auto order = [](const std::string& id) {  // "t<step>.<n>"
    const auto dot = id.find('.');
    return std::make_pair(std::stoll(id.substr(1, dot - 1)), std::stoll(id.substr(dot + 1)));
  };
  std::stable_sort(results.begin(), results.end(), [&](const CallResult& a, const CallResult& b) {
    return order(a.id) < order(b.id);
  });
  if (!results.empty()) sample->calls.push_back(results.front());
  for (const auto& r : results)
    if (r.status < 200 || r.status >= 300) {
      if (&r != &results.front()) sample->calls.push_back(r);
      break;
    }
  return sample;
}

}  // namespace

TimelineResult run_timeline(World& world) {
  const Scenario& s = world.scenario();
  if (!s.timeline) throw std::logic_error("scenario has no timeline");
  const Timeline& t = *s.timeline;
  TimelineResult out;
  out.simulated = t.simulated;
  out.seed = world.seed();
  out.plan = world.plan();
  const int64_t real_start = monotonic_us();
  if (t.simulated) world.time().use_simulated_time();
  const auto edges = boundaries(s);
  StepLoop loop{world, t, edges, traffic_of(s), out, {}, {}};
  loop.run(real_start);
  report_windows(t, edges, out);
  judge_run(t, out);
  check_invariants(world, loop.results, out);
  out.sample = sample_of(loop.results, out.seed);
  out.real_s = static_cast<double>(monotonic_us() - real_start) / 1e6;
  return out;
}

namespace {

std::string ms(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(us) / 1000);
  return buf;
}

}  // namespace

std::string render_text(const World& world, const TimelineResult& r) {
  const Scenario& s = world.scenario();
  std::ostringstream o;
  o << "txlab run · " << s.name << " · timeline " << secs(s.timeline->duration_s) << " in steps of "
    << secs(s.timeline->step_s) << " ("
    << (r.simulated ? "simulated time: no sleeping" : "real time") << ") · seed " << r.seed << "\n";
  if (!r.plan.empty()) {
    o << "\nPlan (decided by the seed)\n";
    for (const auto& p : r.plan) o << "  " << p << "\n";
  }
  o << "\nEvents\n";
  if (r.events.empty()) o << "  (none)\n";
  for (const auto& e : r.events) {
    char at[32];
    std::snprintf(at, sizeof at, "%8s", secs(e.at_s).c_str());
    o << "  " << at << "  " << (e.ok ? "" : "FAILED ") << e.what
      << (e.origin == "timeline" ? "" : " [" + e.origin + "]") << " — " << e.result << "\n";
  }
  if (const std::string faults = render_fault_decisions(world); !faults.empty())
    o << "\nFault decisions (per connection)\n" << faults;
  char line[256];
  auto table = [&](bool declared) {
    std::snprintf(line, sizeof line, "  %-32s %-13s %6s %6s %8s %9s %9s %9s %9s\n", "window",
                  "time", "calls", "ok", "success", "p50 ms", "p90 ms", "p99 ms", "max ms");
    o << line;
    for (const auto& w : r.windows) {
      if (w.declared != declared) continue;
      char rate[16];
      std::snprintf(rate, sizeof rate, "%.1f%%", w.success_rate * 100);
      std::snprintf(line, sizeof line, "  %-32s %-13s %6d %6d %8s %9s %9s %9s %9s\n",
                    w.name.substr(0, 32).c_str(), (secs(w.from_s) + "-" + secs(w.to_s)).c_str(),
                    w.calls, w.ok, w.calls ? rate : "-", ms(w.p50_us).c_str(), ms(w.p90_us).c_str(),
                    ms(w.p99_us).c_str(), ms(w.max_us).c_str());
      o << line;
      for (const auto& f : w.failures) o << "      ✗ " << f << "\n";
    }
  };
  if (!s.timeline->windows.empty()) {
    o << "\nWindows (judged)\n";
    table(true);
  }
  o << "\nTime line (from each change to the next)\n";
  table(false);
  std::map<std::string, int> outcomes;
  for (const auto& c : r.calls)
    ++outcomes[std::to_string(c.status) + (c.error.empty() ? "" : " " + c.error)];
  o << "\nOutcomes: ";
  bool first = true;
  for (const auto& [k, n] : outcomes) {
    o << (first ? "" : ", ") << n << "× " << k;
    first = false;
  }
  char took[64];
  std::snprintf(took, sizeof took, "%.2f s", r.real_s);
  o << "\n" << r.calls.size() << " calls in " << took << " of real time\n";
  for (const auto& f : r.failures) o << "  ✗ " << f << "\n";
  o << "\n" << (r.ok() ? "PASS" : "FAIL") << " — " << s.name;
  if (!r.ok()) o << " · reproduce: txlab run " << s.file << " --seed " << r.seed;
  o << "\n";
  return o.str();
}

Json render_json(const World& world, const TimelineResult& r) {
  const Scenario& s = world.scenario();
  Json j = {{"scenario", s.name},
            {"file", s.file},
            {"seed", r.seed},
            {"ok", r.ok()},
            {"simulated_time", r.simulated},
            {"duration_s", s.timeline->duration_s},
            {"step_s", s.timeline->step_s},
            {"real_s", r.real_s},
            {"plan", r.plan},
            {"failures", r.failures}};
  Json events = Json::array();
  for (const auto& e : r.events)
    events.push_back({{"at_s", e.at_s},
                      {"event", e.what},
                      {"origin", e.origin},
                      {"result", e.result},
                      {"ok", e.ok}});
  j["events"] = events;
  Json windows = Json::array();
  for (const auto& w : r.windows)
    windows.push_back({{"name", w.name},
                       {"from_s", w.from_s},
                       {"to_s", w.to_s},
                       {"declared", w.declared},
                       {"calls", w.calls},
                       {"ok", w.ok},
                       {"success_rate", w.success_rate},
                       {"p50_us", w.p50_us},
                       {"p90_us", w.p90_us},
                       {"p99_us", w.p99_us},
                       {"max_us", w.max_us},
                       {"failures", w.failures}});
  j["windows"] = windows;
  Json calls = Json::array();
  for (const auto& c : r.calls)
    calls.push_back({{"id", c.id},
                     {"entry", c.name},
                     {"t_s", c.t_s},
                     {"status", c.status},
                     {"error", c.error},
                     {"ok", c.ok},
                     {"us", c.us}});
  j["calls"] = calls;
  j["faults"] = fault_decisions_json(world);
  return j;
}

}  // namespace txlab
