// txlab attack: the attack catalogue and the trust-isolation matrix against a live topology;
// exit 1 when an attack is not rejected or a token is accepted where trust does not allow it.
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "conformance/attacks.h"
#include "conformance/isolation.h"
#include "sim/json_util.h"
#include "world/html.h"

namespace txlab::cli {

int cmd_attack(const Args& a, Scenario s) {
  std::unique_ptr<World> owned = make_world(a, std::move(s));
  if (!owned) return 2;
  World& world = *owned;
  world.start();
  const NetworkLayer net = network_layer(world);
  if (a.json_out != "-") std::cout << "txlab attack · seed " << a.seed << "\n";
  // Isolation first: the attack run ends by rotating a live client secret.
  const auto isolation = conformance::check_isolation(world);
  // A counter on stderr: on a terminal, or with --progress; never with --quiet.
  conformance::AttackProgress progress;
  const bool tty = isatty(STDERR_FILENO) != 0;
  if ((a.progress || tty) && !a.quiet)
    progress = [tty](size_t done, const conformance::AttackResult& r) {
      const std::string line = "[" + std::to_string(done) + "] " +
                               (r.passed ? "as expected " : "NOT AS EXPECTED ") + r.id;
      if (tty)
        std::cerr << "\r\033[K" << line << std::flush;
      else
        std::cerr << line << "\n";
    };
  const auto report = conformance::run_attacks(world, progress);
  if (progress && tty) std::cerr << "\r\033[K" << std::flush;
  if (a.json_out != "-") {
    std::cout << "trust isolation · every token at every verifier (accept / reject; ! = not what "
                 "the trust configuration allows)\n"
              << conformance::render_text(isolation) << net.text << "\n"
              << conformance::render_text(report, isatty(STDOUT_FILENO) != 0);
  }
  bool ok = true;
  {
    auto j = conformance::render_json(report);
    nlohmann::json cells = nlohmann::json::array();
    for (const auto& c : isolation.cells)
      cells.push_back({{"token", c.token},
                       {"verifier", c.verifier},
                       {"expected", c.expected ? "accept" : "reject"},
                       {"actual", c.actual ? "accept" : "reject"},
                       {"observed", c.observed},
                       {"reason", c.reason}});
    j["isolation"] = {{"mismatches", isolation.mismatches()}, {"cells", cells}};
    if (world.transport().namespaces()) j["network"] = net.json;
    j["seed"] = a.seed;
    if (!a.json_out.empty()) ok = write_output(a.json_out, safe_dump(j, 2) + "\n") && ok;
    if (!a.html_out.empty())
      ok = write_output(a.html_out,
                        html::page("attack", "txlab attack · " + world.scenario().name,
                                   world.scenario().file + " · seed " + std::to_string(a.seed),
                                   html::attack_body(j))) &&
           ok;
  }
  if (!a.junit_out.empty())
    ok = write_output(a.junit_out, conformance::render_junit(report, isolation)) && ok;
  return report.failed() == 0 && isolation.mismatches() == 0 && net.mismatches == 0 && ok ? 0 : 1;
}

}  // namespace txlab::cli
