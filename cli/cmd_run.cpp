// txlab run: a scenario's workload (or timeline) once, reported as text, JSON, Mermaid, JUnit
// and HTML; exit 1 when an expectation fails.
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "sim/json_util.h"
#include "world/html.h"
#include "world/report.h"
#include "world/runner.h"
#include "world/timeline.h"

namespace txlab::cli {

int cmd_run(const Args& a, Scenario s) {
  if (a.calls > 100000) usage_error("--calls is limited to 100000");
  std::unique_ptr<World> owned = make_world(a, std::move(s));
  if (!owned) return 2;
  World& world = *owned;
  world.start();
  if (world.scenario().timeline) {
    // The workload is the traffic mix; windows and whole-run expectations judge the run.
    if (a.calls > 0)
      usage_error("--calls does not apply to a scenario with a timeline (set calls_per_step)");
    TimelineResult tl = run_timeline(world);
    const NetworkLayer net = network_layer(world);
    const bool to_stdout = a.json_out == "-" || a.mermaid_out == "-";
    if (!a.quiet && !to_stdout) std::cout << render_text(world, tl) << net.text;
    bool written = true;
    if (!a.json_out.empty()) {
      auto j = render_json(world, tl);
      if (world.transport().namespaces()) j["network"] = net.json;
      written = write_output(a.json_out, safe_dump(j, 2) + "\n");
    }
    // The diagram shows the run's first call (and its first failed one).
    if (!a.mermaid_out.empty())
      written = write_output(a.mermaid_out, render_mermaid(world, *tl.sample)) && written;
    if (!a.junit_out.empty())
      written = write_output(a.junit_out, render_junit(world, tl)) && written;
    if (!a.html_out.empty())
      written =
          write_output(a.html_out,
                       html::page("timeline", "txlab run · " + world.scenario().name,
                                  world.scenario().file + " · seed " + std::to_string(tl.seed),
                                  html::timeline_body(render_json(world, tl),
                                                      render_json(world, *tl.sample)))) &&
          written;
    if ((to_stdout || a.quiet || a.mermaid_out == "-") && !tl.ok())
      std::cerr << "txlab: expectations failed · reproduce: txlab run " << world.scenario().file
                << " --seed " << tl.seed << "\n";
    return tl.ok() && net.mismatches == 0 && written ? 0 : 1;
  }
  RunOptions opts;
  opts.calls = a.calls;
  opts.seed = a.seed;
  RunResult run = run_workload(world, opts);
  const NetworkLayer net = network_layer(world);
  TextOptions text;
  text.color = isatty(STDOUT_FILENO) != 0;
  const bool json_to_stdout = a.json_out == "-";
  const bool mermaid_to_stdout = a.mermaid_out == "-";
  if (!a.quiet && !json_to_stdout && !mermaid_to_stdout)
    std::cout << render_text(world, run, text) << net.text;
  bool ok = net.mismatches == 0;
  if (!a.json_out.empty()) {
    auto j = render_json(world, run);
    if (world.transport().namespaces()) j["network"] = net.json;
    ok = write_output(a.json_out, safe_dump(j, 2) + "\n") && ok;
  }
  if (!a.mermaid_out.empty()) ok = write_output(a.mermaid_out, render_mermaid(world, run)) && ok;
  if (!a.junit_out.empty()) ok = write_output(a.junit_out, render_junit(world, run)) && ok;
  if (!a.html_out.empty())
    ok = write_output(a.html_out,
                      html::page("run", "txlab run · " + world.scenario().name,
                                 world.scenario().file + " · seed " + std::to_string(run.seed),
                                 html::run_body(render_json(world, run)))) &&
         ok;
  if ((json_to_stdout || mermaid_to_stdout || a.quiet) && !run.ok())
    std::cerr << "txlab: expectations failed · reproduce: txlab run " << world.scenario().file
              << " --seed " << run.seed << "\n";
  if (net.mismatches > 0)
    std::cerr << "txlab: " << net.mismatches
              << " pairs of roles are not connected as the scenario declares (--netns)\n";
  return run.ok() && ok ? 0 : 1;
}

}  // namespace txlab::cli
