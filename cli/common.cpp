// What the commands share: usage errors, writing outputs, the world of a run and its network
// layer (see command.h).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/flags.h"
#include "sim/netns.h"

namespace txlab::cli {

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "txlab: " << msg << "\n\n" << render_usage();
  std::exit(2);
}

bool write_output(const std::string& target, const std::string& text) {
  if (target == "-") {
    std::cout << text;
    return true;
  }
  std::ofstream out(target);
  out << text;
  if (!out) {
    std::cerr << "txlab: cannot write " << target << "\n";
    return false;
  }
  return true;
}

void print_warnings(const Scenario& s) {
  for (const auto& w : s.warnings) std::cerr << w.format("warning") << "\n";
}

NetworkLayer network_layer(const World& world) {
  NetworkLayer out;
  const auto* net = world.transport().namespaces();
  if (!net) return out;
  std::ostringstream o;
  nlohmann::json zones = nlohmann::json::object(), addresses = nlohmann::json::object(),
                 pairs = nlohmann::json::array();
  for (const auto& z : net->zones()) zones[z] = net->name_of_zone(z);
  for (const auto& r : world.scenario().roles) addresses[r.id] = net->ip_of(r.id);
  o << "\nnetwork (--netns) · a namespace per zone:";
  for (const auto& z : net->zones()) o << " " << z << " = " << net->name_of_zone(z);
  o << "\n  every role to every other role, a TCP connection where the caller reaches it:\n";
  size_t open = 0, closed = 0;
  for (const auto& r : world.transport().network_matrix(world.directory())) {
    const bool mismatch = r.expected != r.actual;
    out.mismatches += mismatch ? 1 : 0;
    (r.actual ? open : closed) += 1;
    pairs.push_back({{"from", r.from},
                     {"to", r.to},
                     {"expected", r.expected ? "open" : "closed"},
                     {"actual", r.actual ? "open" : "closed"},
                     {"how", r.how}});
    if (mismatch || (r.actual && world.scenario().find_role(r.from)->zone !=
                                     world.scenario().find_role(r.to)->zone))
      o << "  " << (mismatch ? "✘ " : "  ") << r.from << " -> " << r.to << ": "
        << (r.actual ? "open" : "closed (" + r.how + ")")
        << (mismatch ? std::string(" — expected ") + (r.expected ? "open" : "closed") : "")
        << (!mismatch ? " (declared cross-zone link)" : "") << "\n";
  }
  o << "  " << open << " pairs open, " << closed << " closed, " << out.mismatches
    << " not as the scenario declares\n";
  out.text = o.str();
  out.json = {
      {"zones", zones}, {"addresses", addresses}, {"pairs", pairs}, {"mismatches", out.mismatches}};
  return out;
}

std::unique_ptr<World> make_world(const Args& a, Scenario s) {
  WorldOptions wo;
  wo.netns = a.netns;
  try {
    return std::make_unique<World>(std::move(s), a.seed, World::RoleDefects{}, wo);
  } catch (const std::runtime_error& e) {
    if (!a.netns) throw;
    std::cerr << "txlab " << a.command << ": " << e.what() << "\n";
    return nullptr;
  }
}

bool write_file(const std::string& path, const std::string& text) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::error_code ec;
    std::filesystem::create_directories(path.substr(0, slash), ec);
  }
  return write_output(path, text);
}

}  // namespace txlab::cli
