// txlab lint: a scenario validated only (loading it reports errors and warnings with
// file:line:column); what it holds, on stdout.
#include <iostream>

#include "cli/command.h"

namespace txlab::cli {

int cmd_lint(const Scenario& s) {
  std::cout << s.file << ": ok (" << s.roles.size() << " roles, " << s.workload.size()
            << " workload calls, " << s.warnings.size() << " warnings)\n";
  return 0;
}

}  // namespace txlab::cli
