// txlab serve: every role of a scenario (or one, with --role) served until interrupted, with
// their URLs printed and written, optional TLS, an access log and live events.
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli/command.h"
#include "sim/host_port.h"
#include "sim/json_util.h"
#include "sim/tls.h"
#include "world/access_log.h"
#include "world/admin_token.h"
#include "world/listen_ports.h"
#include "world/serve_admin.h"
#include "world/standalone.h"

namespace txlab::cli {

namespace {

std::atomic<bool> g_stop{false};
std::mutex g_out_mu;  // log lines and event results, whole lines from every thread

void check_flags(const Args& a) {
  if (a.role.empty() && (!a.peers.empty() || !a.public_url.empty()))
    usage_error("--peer and --public-url go with --role ID");
  if (a.expose && a.listen.empty()) usage_error("--expose goes with --listen HOST:PORT");
  if (!a.public_url.empty() && a.public_url.rfind("http://", 0) != 0 &&
      a.public_url.rfind("https://", 0) != 0)
    usage_error("--public-url needs an http(s) URL, got '" + a.public_url + "'");
}

// --role ID: the scenario cut down to that role, its peers reached at --peer ROLE=URL.
Scenario one_role(const Args& a, Scenario s) {
  std::map<std::string, std::string> peers;
  for (const auto& p : a.peers) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) usage_error("--peer needs ROLE=URL, got '" + p + "'");
    peers[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (s.mutual_tls)
    usage_error(
        "--role: a 'tls: mutual' scenario runs in one process (its CA is made per run "
        "and every role must hold a certificate of it); serve it whole");
  std::string error;
  auto one = standalone(std::move(s), a.role, peers, &error);
  if (!one) usage_error(error);
  return std::move(*one);
}

void listen_as_asked(const Args& a, World& world) {
  std::string host;
  int port = 0;
  if (!parse_host_port(a.listen, &host, &port))
    usage_error("--listen needs HOST:PORT, got '" + a.listen + "'");
  const bool loopback = is_loopback_host(host);
  if (host == "localhost") host = "127.0.0.1";
  if (!loopback && !a.expose)
    usage_error("--listen " + a.listen +
                " is not a loopback address: add --expose to serve beyond this machine");
  if (!a.role.empty()) {
    world.directory().listen_on(a.role, host, port);
    return;
  }
  if (port == 0) usage_error("--listen without --role needs a fixed first PORT");
  if (!listen_in_scenario_order(world, host, port))
    usage_error("--listen " + a.listen + ": not enough ports above it");
}

// --tls DIR: a per-run CA and certificate (or, for a tls: mutual scenario, the run's CA and the
// roles' certificates written for outside callers).
TlsMaterial set_up_tls(const Args& a, World& world) {
  TlsMaterial tls;
  if (const MutualTls* m = world.transport().mutual_tls()) {
    if (!a.tls_dir.empty()) {
      write_mutual_tls(a.tls_dir, *m);
      tls.ca_cert_path = a.tls_dir + "/ca.pem";
    }
  } else if (!a.tls_dir.empty()) {
    tls = make_tls_material(a.tls_dir);
    world.transport().enable_tls(
        tls, [&world](const std::string& role) { return world.role(role).server_port(); });
  }
  return tls;
}

// The roles' URLs on stdout; the same as JSON.
nlohmann::json print_roles(const Args& a, const World& world, const TlsMaterial& tls) {
  std::cout << "txlab serve · scenario " << world.scenario().name << "\n";
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& r : world.directory().roles()) {
    std::cout << "  " << r.id << "\t" << to_string(r.kind) << "\t" << r.url;
    const std::string tls_url = world.transport().tls_url_of(r.id);
    if (!tls_url.empty()) std::cout << "\t" << tls_url;
    if (!r.issuer.empty()) std::cout << "\tiss " << r.issuer;
    if (world.directory().is_external(r.id)) std::cout << "\t(not served here)";
    std::cout << "\n";
    roles.push_back({{"id", r.id},
                     {"kind", to_string(r.kind)},
                     {"zone", r.zone},
                     {"url", r.url},
                     {"tls_url", tls_url},
                     {"issuer", r.issuer}});
  }
  if (world.transport().mutual_tls())
    std::cout << "mutual TLS: every role serves https only with the run's CA"
              << (a.tls_dir.empty()
                      ? std::string(" (--tls DIR writes it and the roles' "
                                    "certificates)")
                      : " (" + tls.ca_cert_path + "; ROLE.pem and ROLE.key beside it)")
              << "\n";
  else if (!a.tls_dir.empty())
    std::cout << "TLS: every role also serves https (CA: " << tls.ca_cert_path << ")\n";
  return roles;
}

// A ready-to-paste curl line for the first workload call.
void print_try_line(const Args& a, const World& world) {
  for (const auto& r : world.directory().roles()) {
    if (r.kind == RoleKind::kClient && !world.directory().is_external(r.id) &&
        !world.scenario().workload.empty()) {
      const auto& w = world.scenario().workload.front();
      std::string tls_args;
      if (world.transport().mutual_tls() && !a.tls_dir.empty())
        tls_args = "--cacert " + a.tls_dir + "/ca.pem --cert " + a.tls_dir + "/" + w.from +
                   ".pem --key " + a.tls_dir + "/" + w.from + ".key ";
      std::cout << "\ntry: curl -s " << tls_args << "-X POST " << world.directory().url_of(w.from)
                << "/invoke -d '{\"to\":\"" << w.to << "\",\"path\":\"" << w.path << "\"}'\n";
      return;
    }
  }
}

// --events: one event per stdin line, applied by ADMIN, until stdin ends or Ctrl-C.
void read_events_from_stdin(std::shared_ptr<ServeAdmin> admin) {
  std::cout << "events: one per line on stdin (e.g. rotate_key as-c, down gw-c2pe)\n";
  std::thread([admin] {
    for (std::string line; !g_stop && std::getline(std::cin, line);) {
      if (line.empty() || line[0] == '#') continue;
      const auto o = admin->submit(line);
      std::lock_guard lock(g_out_mu);
      std::cout << (o.ok ? "event: " + o.event + " -> " + o.result : "event refused: " + o.result)
                << std::endl;
    }
  }).detach();  // a blocked read of stdin must not hold up Ctrl-C
}

}  // namespace

int cmd_serve(const Args& a, Scenario s) {
  check_flags(a);
  if (!a.role.empty()) s = one_role(a, std::move(s));
  World world(std::move(s), a.seed);
  if (!a.listen.empty()) listen_as_asked(a, world);
  if (!a.public_url.empty()) {
    std::string url = a.public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    world.directory().public_url(a.role, url);
  }
  if (!a.admin_token_file.empty() && a.admin_port < 0)
    usage_error("--admin-token goes with --admin PORT");
  if (a.log)
    world.set_access_log([](const std::string& role, const http::AccessRecord& r) {
      const std::string line = access_log_line(std::chrono::system_clock::now(), role, r);
      std::lock_guard lock(g_out_mu);
      std::cout << line << std::endl;
    });
  world.start();
  std::shared_ptr<ServeAdmin> admin;
  std::string token;
  if (a.events || a.admin_port >= 0) {
    if (a.admin_port >= 0) {
      token = random_admin_token();
      if (!a.admin_token_file.empty() && !write_admin_token_file(a.admin_token_file, token)) {
        std::cerr << "txlab serve: cannot write --admin-token " << a.admin_token_file << "\n";
        return 3;
      }
    }
    admin = std::make_shared<ServeAdmin>(world, token);
  }
  const TlsMaterial tls = set_up_tls(a, world);
  const nlohmann::json roles = print_roles(a, world, tls);
  // Written once every role listens: scripts wait for this file.
  if (!a.json_out.empty() &&
      !write_output(a.json_out, safe_dump(nlohmann::json{{"scenario", world.scenario().name},
                                                         {"roles", roles},
                                                         {"ca", tls.ca_cert_path}},
                                          2) +
                                    "\n"))
    return 3;
  print_try_line(a, world);
  if (admin && a.admin_port >= 0) {
    const int port = admin->start(a.admin_port);
    std::cout << "admin: POST/GET http://127.0.0.1:" << port << "/events (Bearer token "
              << (a.admin_token_file.empty() ? "on stderr" : "in " + a.admin_token_file) << ")\n";
    if (a.admin_token_file.empty()) std::cerr << "admin token: " << token << "\n";
  }
  if (admin && a.events) read_events_from_stdin(admin);
  std::cout << "Ctrl-C to stop" << std::endl;
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "stopping" << std::endl;
  return 0;
}

}  // namespace txlab::cli
