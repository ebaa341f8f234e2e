// The seeded plan (see plan.h).
#include "world/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>

#include "sim/seed.h"

namespace txlab {

namespace {

std::string secs(double s) { return seconds_text(s); }

double tenths(double s) { return std::round(s * 10) / 10; }

}  // namespace

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", std::round(s * 1000) / 1000);
  return buf;
}

Scenario resolve_plan(Scenario s, uint64_t seed, std::vector<std::string>* plan) {
  if (!s.timeline) return s;
  Timeline& t = *s.timeline;
  // One generator for the plan, on its own named sub-seed (sim/seed.h).
  std::mt19937_64 rng(derive_seed(seed, "plan"));
  std::uniform_real_distribution<double> unit(0, 1);
  auto between = [&](double lo, double hi) { return tenths(lo + (hi - lo) * unit(rng)); };

  std::vector<TimelineEvent> events;
  for (auto e : t.events) {
    if (e.jitter_s > 0) {
      const double at = std::max(0.0, between(e.at_s - e.jitter_s, e.at_s + e.jitter_s));
      if (plan)
        plan->push_back(e.describe() + " at " + secs(at) + " (declared " + secs(e.at_s) + " ± " +
                        secs(e.jitter_s) + ")");
      e.at_s = at;
    }
    events.push_back(std::move(e));
  }
  if (t.swarm) {
    const Swarm& sw = *t.swarm;
    std::vector<size_t> order(sw.candidates.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Fisher-Yates with our own draws: std::shuffle's algorithm is implementation-defined,
    // and a seed must pick the same faults everywhere.
    for (size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[static_cast<size_t>(unit(rng) * static_cast<double>(i)) % i]);
    for (int k = 0; k < sw.pick; ++k) {
      const SwarmCandidate& c = sw.candidates[order[static_cast<size_t>(k)]];
      const double start = between(sw.start_min_s, sw.start_max_s);
      const double length = std::max(0.1, between(sw.length_min_s, sw.length_max_s));
      if (c.link) {
        LinkFaults l = *c.link;
        l.at_s = start;
        l.for_s = length;
        l.origin = "swarm";
        s.links.push_back(l);
        if (plan)
          plan->push_back("swarm: " + c.describe() + " from " + secs(start) + " for " +
                          secs(length));
      } else if (c.down_role) {
        TimelineEvent down;
        down.kind = EventKind::kDown;
        down.role = *c.down_role;
        down.at_s = start;
        down.origin = "swarm";
        down.pos = c.pos;
        TimelineEvent up = down;
        up.kind = EventKind::kUp;
        up.at_s = tenths(start + length);
        events.push_back(down);
        events.push_back(up);
        if (plan)
          plan->push_back("swarm: down " + *c.down_role + " from " + secs(start) + " for " +
                          secs(length));
      } else if (c.event) {
        TimelineEvent e = *c.event;
        e.at_s = start;
        e.origin = "swarm";
        if (plan) plan->push_back("swarm: " + e.describe() + " at " + secs(start));
        events.push_back(std::move(e));
      }
    }
  }
  // rotate_key with an overlap retires the old keys later.
  std::vector<TimelineEvent> retire;
  for (const auto& e : events) {
    if (e.kind != EventKind::kRotateKey || e.overlap_s < 0) continue;
    TimelineEvent r;
    r.kind = EventKind::kRetireKeys;
    r.role = e.role;
    r.at_s = e.at_s + e.overlap_s;
    r.origin = "rotate_key overlap";
    r.pos = e.pos;
    retire.push_back(r);
  }
  events.insert(events.end(), retire.begin(), retire.end());
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
  t.events = std::move(events);
  return s;
}

}  // namespace txlab
