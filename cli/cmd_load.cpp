// txlab load: the workload driven from concurrent callers for a while; throughput, latency
// percentiles and errors.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "sim/json_util.h"
#include "world/html.h"
#include "world/load.h"

namespace txlab::cli {

int cmd_load(const Args& a, Scenario s) {
  if (a.concurrency < 1 || a.concurrency > 512) usage_error("--concurrency must be 1..512");
  if (a.duration_s < 1 || a.duration_s > 3600) usage_error("--duration must be 1..3600 seconds");
  World world(std::move(s), a.seed);
  world.start();
  if (a.json_out != "-") std::cout << "txlab load · seed " << a.seed << "\n";
  LoadOptions o;
  // A line a second on stderr: on a terminal, or with --progress; never with --quiet.
  const bool tty = isatty(STDERR_FILENO) != 0;
  if ((a.progress || tty) && !a.quiet)
    o.progress = [tty](double t_s, size_t calls, size_t errors) {
      char line[128];
      std::snprintf(line, sizeof line, "[%5.1fs] %zu calls, %zu errors, %.0f calls/s", t_s, calls,
                    errors, t_s > 0 ? calls / t_s : 0.0);
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else
        std::cerr << line << "\n";
    };
  o.concurrency = a.concurrency;
  o.duration_s = a.duration_s;
  o.rate_per_s = a.rate;
  const LoadReport r = run_load(world, o);
  if (o.progress && isatty(STDERR_FILENO)) std::cerr << "\n";
  if (a.json_out != "-") std::cout << render_text(r);
  bool ok = true;
  auto j = render_json(r);
  j["seed"] = a.seed;
  if (!a.json_out.empty()) ok = write_output(a.json_out, safe_dump(j, 2) + "\n") && ok;
  if (!a.html_out.empty())
    ok = write_output(a.html_out,
                      html::page("load", "txlab load · " + world.scenario().name,
                                 world.scenario().file + " · " + std::to_string(a.concurrency) +
                                     " callers · seed " + std::to_string(a.seed),
                                 html::load_body(j, render_svg(r)))) &&
         ok;
  if (!a.svg_out.empty()) ok = write_output(a.svg_out, render_svg(r)) && ok;
  if (!a.junit_out.empty())
    ok = write_output(a.junit_out, render_junit(r, world.scenario().name)) && ok;
  return r.errors() == 0 && ok ? 0 : 1;
}

}  // namespace txlab::cli
