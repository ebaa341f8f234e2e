// The txlab executable: run, serve and lint scenarios.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/attacks.h"
#include "conformance/isolation.h"
#include "conformance/issuer.h"
#include "conformance/requirements.h"
#include "conformance/suite.h"
#include "conformance/targets.h"
#include "sim/http/client_pool.h"
#include "sim/json_util.h"
#include "sim/netns.h"
#include "sim/scenario.h"
#include "sim/tls.h"
#include "world/export.h"
#include "world/html.h"
#include "world/load.h"
#include "world/report.h"
#include "world/runner.h"
#include "world/serve_admin.h"
#include "world/standalone.h"
#include "world/timeline.h"
#include "world/world.h"

namespace {

using namespace txlab;

constexpr const char* kUsage =
    R"(txlab — run and check cross-zone OAuth 2.0 Token Exchange (RFC 8693) topologies

usage:
  txlab run SCENARIO [--calls N] [--seed S] [--json FILE|-] [--mermaid FILE|-] [--junit FILE]
                    [--html FILE] [--netns] [--quiet]
        start every role on 127.0.0.1, run the workload, print hops, tokens and a verdict;
        exits 1 when any expectation fails. --html FILE: one self-contained page (sequence
        diagrams, tokens decoded with what changed at each hop, timeline windows). --netns
        (root): each zone a network namespace, each role on its own address, only declared
        links routed and admitted; after the run every pair of roles is tried for a TCP
        connection (the isolation matrix's network layer); a pair that is open but not declared,
        or declared but closed, fails the run
  txlab serve SCENARIO [--seed S] [--tls DIR] [--json FILE] [--log] [--events]
                      [--admin PORT [--admin-token FILE]]
                      [--listen HOST:PORT [--expose]]
                      [--role ID [--public-url URL] [--peer ROLE=URL ...]]
        start every role, print their URLs, run until interrupted (Ctrl-C); --tls DIR makes a
        per-run CA and certificate in DIR and serves every role over https too (a tls: mutual
        scenario serves https only: --tls DIR writes its CA and the roles' certificates and
        keys, DIR/ROLE.pem and DIR/ROLE.key); --json FILE
        writes the roles' URLs once they listen. --role ID runs that role alone: every role it
        calls or trusts is reached at --peer ROLE=URL (external authorization servers need
        none); --listen binds it to HOST:PORT (without --role: every role, on PORT, PORT+1, ...
        in scenario order; a non-loopback HOST needs --expose);
        --public-url is where others reach it (an AS with no issuer, or issuer: served,
        advertises it as its issuer, RFC 8414 §3.3).
        --log prints a line per answered request (time, role, method, path, status, bytes, ms).
        Events of the timeline catalogue apply while serving: --events reads one per stdin line
        ("rotate_key as-c", "down gw-c2pe", "{revoke_client: {as: as-c, client: svc-cfa}}");
        --admin PORT serves POST /events (the body is one event) and GET /events on 127.0.0.1
        only, for "Authorization: Bearer TOKEN": a random token written to --admin-token FILE
        (mode 0600) or printed on stderr
  txlab lint SCENARIO
        validate a scenario file only (errors and warnings with file:line:column)
  txlab export SCENARIO (--k8s DIR | --compose FILE) [--image IMAGE]
  txlab export SCENARIO --keycloak-realm FILE [--as ROLE] [--realm NAME] [--conformance-clients]
        a `txlab serve --role` per role: Kubernetes manifests (a namespace per zone, Deployment,
        Service, ConfigMap, Secret with that role's secrets only, NetworkPolicies admitting
        exactly the declared links) or a Compose file (a network per zone and per cross-zone
        link); --image defaults to txlab:VERSION. --keycloak-realm: the realm (kc.sh
        --import-realm) with the clients the scenario's roles need at its external AS --as ROLE:
        credentials, token-exchange switches, audience mappers; --conformance-clients adds the
        clients of txlab conform --profile keycloak; --realm defaults to the issuer's last segment
  txlab health [URL]
        GET URL (default http://127.0.0.1:8080/healthz); exit 0 on 200 within 3 s, else 1
        (the image's and Compose's health check)
  txlab load SCENARIO [--seed S] [--concurrency C] [--duration SECONDS] [--rate PER_SECOND] [--json FILE|-] [--svg FILE]
                     [--junit FILE] [--html FILE] [--progress | --quiet]
        drive the workload from C callers; throughput, p50/p90/p99/max, errors, exchanges, cache hits
  txlab attack SCENARIO [--seed S] [--json FILE|-] [--junit FILE] [--html FILE] [--netns]
                       [--progress | --quiet]
        run the attack catalogue against the live topology; exits 1 if any attack is not rejected
        (or, with --netns, a pair of roles is not connected as declared: the isolation matrix's
        network layer)
  txlab conform --scenario SCENARIO --target ROLE [--seed S] [options]
  txlab conform --target-url BASE --exchanger-client ID:SECRET [options]
        grade an authorization server's RFC 8693 token exchange, case by case
        --token-endpoint URL, --jwks-uri URL   instead of / besides discovery under BASE
        --subject-client ID:SECRET   whose client_credentials tokens serve as subject tokens
        --audience AUD               an audience the exchanger may request
        --forbidden-audience AUD     one it may not
        --issuer-key FILE --issuer NAME   a private key (JWK or PEM) of an issuer the target
                                     trusts, for the key-dependent cases (twice: a second issuer)
        --serve-issuer PORT          serve two issuers with fresh keys on 127.0.0.1:PORT (trust
                                     http://127.0.0.1:PORT and .../second in the target first)
        --subject-audience AUD       aud of minted subject tokens (default: exchanger and issuer)
        --subject-scope SCOPE        scope of minted subject tokens
        --unauthorized-client ID:SECRET   a client that may not exchange (unauthorized_client)
        --dpop-bound-client ID:SECRET     an exchanger registered to always use DPoP (RFC 9449
                                     §5.2 dpop_bound_access_tokens)
        --ca FILE                    the CA (PEM) the target's https certificate chains to
        --mtls-client ID:CERT:KEY    a client registered for tls_client_auth (or self-signed)
                                     and its certificate (RFC 8705 cases; ID = the exchanger's
                                     id makes it authenticate with the certificate throughout)
        --mtls-other-subject CERT:KEY   a certificate of a trusted CA with another subject
        --mtls-untrusted CERT:KEY    the client's subject from a CA the target does not trust
        --scope-beyond SCOPE         a scope the exchanger may hold but subject tokens lack
        --jwt-access-tokens          the target claims RFC 9068 JWT access tokens
        --honours-may-act            the target applies may_act (RFC 8693 §4.4 is a MAY)
        --semantics delegation|impersonation   what the target is configured for (act expected
                                     or not); unknown by default
        --profile rfc8693|common|keycloak (default common)   --strict (NON-STRICT fails too)
        --only PREFIX (e.g. rfc8693/2.2.2)   --timeout-ms N (default 5000)
        --budget SECONDS (default 600)   --progress / --quiet (default: progress on a terminal)
        --junit FILE   --json FILE|-   --html FILE (a filterable page with each failed case's
        requests and answers, client secrets redacted)   --list (print the cases and exit;
        with --json FILE, as JSON)   --requirements (every normative sentence binding the
        server, the cases that test it or why it cannot be tested, and the coverage; --json too)
        exit: 0 passed, 1 a case FAILED (or NON-STRICT with --strict), 2 usage or setup error,
              3 token exchange not supported, 4 target unreachable, timed out or budget spent
  txlab help | --version | COMMAND --help
)";

struct Args {
  std::string command, scenario, json_out, mermaid_out, html_out;
  int calls = 0;
  uint64_t seed = 1;
  bool quiet = false;
  // conform
  std::string target_role, target_url, token_endpoint, jwks_uri, exchanger, subject_client,
      audience, forbidden_audience, profile = "common", junit_out, only, subject_audience,
                                    subject_scope, unauthorized_client, dpop_bound_client, ca_file,
                                    mtls_client, mtls_other, mtls_untrusted, semantics;
  std::vector<std::string> issuer_keys, issuers, scopes_beyond;
  bool strict = false, list = false, requirements = false, jwt_access_tokens = false,
       progress = false, honours_may_act = false;
  int timeout_ms = 5000, serve_issuer_port = 0, budget_s = 600;
  // load
  int concurrency = 4;
  double duration_s = 5, rate = 0;
  std::string svg_out;
  // serve
  std::string tls_dir, role, listen, public_url;
  // export
  std::string k8s_dir, compose_file, image, keycloak_realm, as_role, realm;
  bool conformance_clients = false;
  std::vector<std::string> peers;
  bool expose = false, log = false, events = false, netns = false;
  int admin_port = -1;
  std::string admin_token_file;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "txlab: " << msg << "\n\n" << kUsage;
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) usage_error("missing command");
  a.command = argv[1];
  if (a.command == "help" || a.command == "--help" || a.command == "-h") {
    std::cout << kUsage;
    std::exit(0);
  }
  if (a.command == "--version" || a.command == "version") {
    std::cout << "txlab " << TXLAB_VERSION << "\n";
    std::exit(0);
  }
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--help" || s == "-h") {
      // The command's own part of the usage: its "  txlab CMD" lines and what follows them.
      std::istringstream in(kUsage);
      std::string out, line;
      bool mine = false;
      for (; std::getline(in, line);) {
        if (line.rfind("  txlab ", 0) == 0)
          mine = line.rfind("  txlab " + a.command + " ", 0) == 0 || line == "  txlab " + a.command;
        if (mine) out += line + "\n";
      }
      if (out.empty()) usage_error("unknown command '" + a.command + "'");
      std::cout << "usage:\n" << out;
      std::exit(0);
    }
    if (s == "--version") {
      std::cout << "txlab " << TXLAB_VERSION << "\n";
      std::exit(0);
    }
  }
  std::vector<std::string> positional;
  std::vector<std::string> given;  // every option on the command line, checked below
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (!s.empty() && s[0] == '-') given.push_back(s == "-q" ? "--quiet" : s);
    auto value = [&](const char* name) -> std::string {
      if (i + 1 >= argc) usage_error(std::string(name) + " needs a value");
      return argv[++i];
    };
    auto number = [&](const char* name) -> long long {
      const std::string v = value(name);
      try {
        size_t used = 0;
        long long n = std::stoll(v, &used);
        if (used != v.size() || n < 0) throw std::invalid_argument(v);
        return n;
      } catch (const std::exception&) {
        usage_error(std::string(name) + " needs a non-negative integer, got '" + v + "'");
      }
    };
    // Options that take a string value, by the member they set.
    static const std::pair<const char*, std::string Args::*> kStringOptions[] = {
        {"--json", &Args::json_out},
        {"--mermaid", &Args::mermaid_out},
        {"--html", &Args::html_out},
        {"--scenario", &Args::scenario},
        {"--target", &Args::target_role},
        {"--target-url", &Args::target_url},
        {"--token-endpoint", &Args::token_endpoint},
        {"--jwks-uri", &Args::jwks_uri},
        {"--exchanger-client", &Args::exchanger},
        {"--subject-client", &Args::subject_client},
        {"--audience", &Args::audience},
        {"--forbidden-audience", &Args::forbidden_audience},
        {"--profile", &Args::profile},
        {"--junit", &Args::junit_out},
        {"--only", &Args::only},
        {"--svg", &Args::svg_out},
        {"--tls", &Args::tls_dir},
        {"--subject-audience", &Args::subject_audience},
        {"--subject-scope", &Args::subject_scope},
        {"--unauthorized-client", &Args::unauthorized_client},
        {"--dpop-bound-client", &Args::dpop_bound_client},
        {"--ca", &Args::ca_file},
        {"--mtls-client", &Args::mtls_client},
        {"--mtls-other-subject", &Args::mtls_other},
        {"--mtls-untrusted", &Args::mtls_untrusted},
        {"--semantics", &Args::semantics},
        {"--role", &Args::role},
        {"--k8s", &Args::k8s_dir},
        {"--compose", &Args::compose_file},
        {"--image", &Args::image},
        {"--admin-token", &Args::admin_token_file},
        {"--keycloak-realm", &Args::keycloak_realm},
        {"--as", &Args::as_role},
        {"--realm", &Args::realm},
        {"--public-url", &Args::public_url},
        {"--listen", &Args::listen}};
    bool matched = false;
    for (const auto& [flag, member] : kStringOptions) {
      if (s == flag) {
        a.*member = value(flag);
        matched = true;
      }
    }
    if (matched) continue;
    if (s == "--calls")
      a.calls = static_cast<int>(number("--calls"));
    else if (s == "--seed")
      a.seed = static_cast<uint64_t>(number("--seed"));
    else if (s == "--quiet" || s == "-q")
      a.quiet = true;
    else if (s == "--timeout-ms")
      a.timeout_ms = static_cast<int>(number("--timeout-ms"));
    else if (s == "--strict")
      a.strict = true;
    else if (s == "--concurrency")
      a.concurrency = static_cast<int>(number("--concurrency"));
    else if (s == "--duration")
      a.duration_s = static_cast<double>(number("--duration"));
    else if (s == "--rate")
      a.rate = static_cast<double>(number("--rate"));
    else if (s == "--list")
      a.list = true;
    else if (s == "--requirements")
      a.requirements = true;
    else if (s == "--issuer-key")
      a.issuer_keys.push_back(value("--issuer-key"));
    else if (s == "--issuer")
      a.issuers.push_back(value("--issuer"));
    else if (s == "--scope-beyond")
      a.scopes_beyond.push_back(value("--scope-beyond"));
    else if (s == "--jwt-access-tokens")
      a.jwt_access_tokens = true;
    else if (s == "--honours-may-act")
      a.honours_may_act = true;
    else if (s == "--progress")
      a.progress = true;
    else if (s == "--peer")
      a.peers.push_back(value("--peer"));
    else if (s == "--expose")
      a.expose = true;
    else if (s == "--log")
      a.log = true;
    else if (s == "--netns")
      a.netns = true;
    else if (s == "--conformance-clients")
      a.conformance_clients = true;
    else if (s == "--events")
      a.events = true;
    else if (s == "--admin") {
      const long long port = number("--admin");
      if (port > 65535) usage_error("--admin needs a port from 0 to 65535");
      a.admin_port = static_cast<int>(port);
    } else if (s == "--serve-issuer") {
      const long long port = number("--serve-issuer");
      if (port < 1 || port > 65535) usage_error("--serve-issuer needs a port from 1 to 65535");
      a.serve_issuer_port = static_cast<int>(port);
    } else if (s == "--budget")
      a.budget_s = static_cast<int>(number("--budget"));
    else if (!s.empty() && s[0] == '-')
      usage_error("unknown option " + s);
    else
      positional.push_back(s);
  }
  if (a.command != "run" && a.command != "serve" && a.command != "lint" && a.command != "conform" &&
      a.command != "attack" && a.command != "load" && a.command != "export" &&
      a.command != "health")
    usage_error("unknown command '" + a.command + "'");
  // An option that does not apply to the command is an error, never silently ignored.
  static const std::map<std::string, std::set<std::string>> kApplies = {
      {"run",
       {"--calls", "--seed", "--json", "--mermaid", "--junit", "--html", "--netns", "--quiet"}},
      {"serve",
       {"--seed", "--tls", "--json", "--role", "--listen", "--peer", "--expose", "--log",
        "--events", "--admin", "--admin-token", "--public-url"}},
      {"lint", {}},
      {"export",
       {"--k8s", "--compose", "--image", "--keycloak-realm", "--as", "--realm",
        "--conformance-clients"}},
      {"health", {}},
      {"load",
       {"--seed", "--concurrency", "--duration", "--rate", "--json", "--svg", "--junit", "--html",
        "--progress", "--quiet"}},
      {"attack", {"--seed", "--json", "--junit", "--html", "--netns", "--progress", "--quiet"}},
      {"conform",
       {"--scenario",
        "--target",
        "--seed",
        "--target-url",
        "--token-endpoint",
        "--jwks-uri",
        "--exchanger-client",
        "--subject-client",
        "--audience",
        "--forbidden-audience",
        "--issuer-key",
        "--issuer",
        "--serve-issuer",
        "--subject-audience",
        "--subject-scope",
        "--unauthorized-client",
        "--dpop-bound-client",
        "--ca",
        "--mtls-client",
        "--mtls-other-subject",
        "--mtls-untrusted",
        "--scope-beyond",
        "--jwt-access-tokens",
        "--honours-may-act",
        "--semantics",
        "--profile",
        "--strict",
        "--only",
        "--timeout-ms",
        "--budget",
        "--progress",
        "--quiet",
        "--junit",
        "--json",
        "--html",
        "--list",
        "--requirements"}}};
  for (const auto& g : given)
    if (!kApplies.at(a.command).count(g)) usage_error(g + " does not apply to '" + a.command + "'");
  if (a.command == "conform") {
    if (!positional.empty()) usage_error("conform takes options only (see usage)");
    return a;
  }
  if (a.command == "health") {
    if (positional.size() > 1) usage_error("health takes at most one URL");
    a.scenario = positional.empty() ? "http://127.0.0.1:8080/healthz" : positional[0];
    return a;
  }
  if (positional.size() != 1) usage_error(a.command + " takes exactly one SCENARIO file");
  a.scenario = positional[0];
  return a;
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

std::atomic<bool> g_stop{false};

// --netns: every pair of roles tried for a connection; the text, the JSON and how many pairs
// disagree with the declared links.
struct NetworkLayer {
  std::string text;
  nlohmann::json json;
  size_t mismatches = 0;
};

NetworkLayer network_layer(const World& world) {
  NetworkLayer out;
  const auto* net = world.network();
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
  for (const auto& r : world.network_matrix()) {
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

// The world of a run or attack; with --netns, nullptr after saying why the namespaces could not
// be made (no root, tools missing).
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
      if (world.network()) j["network"] = net.json;
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
    if (world.network()) j["network"] = net.json;
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

// "HOST:PORT" (IPv6 as [::1]:PORT); false when malformed.
bool parse_listen(const std::string& v, std::string* host, int* port) {
  const size_t colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) return false;
  *host = v.substr(0, colon);
  if (host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  long long p = 0;
  for (size_t i = colon + 1; i < v.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(v[i])) || i - colon > 5) return false;
    p = p * 10 + (v[i] - '0');
  }
  if (p < 0 || p > 65535) return false;
  *port = static_cast<int>(p);
  return true;
}

int cmd_serve(const Args& a, Scenario s) {
  if (a.role.empty() && (!a.peers.empty() || !a.public_url.empty()))
    usage_error("--peer and --public-url go with --role ID");
  if (a.expose && a.listen.empty()) usage_error("--expose goes with --listen HOST:PORT");
  if (!a.public_url.empty() && a.public_url.rfind("http://", 0) != 0 &&
      a.public_url.rfind("https://", 0) != 0)
    usage_error("--public-url needs an http(s) URL, got '" + a.public_url + "'");
  if (!a.role.empty()) {
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
    s = std::move(*one);
  }
  World world(std::move(s), a.seed);
  if (!a.listen.empty()) {
    std::string host;
    int port = 0;
    if (!parse_listen(a.listen, &host, &port))
      usage_error("--listen needs HOST:PORT, got '" + a.listen + "'");
    const bool loopback = host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
    if (host == "localhost") host = "127.0.0.1";
    if (!loopback && !a.expose)
      usage_error("--listen " + a.listen +
                  " is not a loopback address: add --expose to serve beyond this machine");
    if (!a.role.empty()) {
      world.listen_on(a.role, host, port);
    } else {
      // The whole scenario on fixed ports: the roles txlab runs here, in scenario order, on
      // PORT, PORT+1, ...
      if (port == 0) usage_error("--listen without --role needs a fixed first PORT");
      int next = port;
      for (const auto& r : world.scenario().roles) {
        if (!r.runs_here()) continue;
        if (next > 65535) usage_error("--listen " + a.listen + ": not enough ports above it");
        world.listen_on(r.id, host, next++);
      }
    }
  }
  if (!a.public_url.empty()) {
    std::string url = a.public_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    world.public_url(a.role, url);
  }
  if (!a.admin_token_file.empty() && a.admin_port < 0)
    usage_error("--admin-token goes with --admin PORT");
  static std::mutex out_mu;  // log lines and event results, whole lines from every thread
  if (a.log)
    world.set_access_log([](const std::string& role, const http::AccessRecord& r) {
      const auto now = std::chrono::system_clock::now();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
      const std::time_t t = std::chrono::system_clock::to_time_t(now);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char when[96];
      std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                    static_cast<int>(ms.count() % 1000));
      std::string target(r.target);
      for (char& c : target)  // a log line is one line of text, whatever the path held
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      char tail[64];
      std::snprintf(tail, sizeof tail, " %d %zuB %.1fms", r.status, r.bytes,
                    static_cast<double>(r.us) / 1000.0);
      std::lock_guard lock(out_mu);
      std::cout << when << " " << role << " " << r.method << " " << target << tail << std::endl;
    });
  world.start();
  std::shared_ptr<ServeAdmin> admin;
  std::string token;
  if (a.events || a.admin_port >= 0) {
    if (a.admin_port >= 0) {
      token = random_admin_token();
      if (!a.admin_token_file.empty()) {
        const int fd = ::open(a.admin_token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || ::fchmod(fd, 0600) != 0 ||
            ::write(fd, token.data(), token.size()) != static_cast<ssize_t>(token.size())) {
          std::cerr << "txlab serve: cannot write --admin-token " << a.admin_token_file << "\n";
          return 3;
        }
        ::close(fd);
      }
    }
    admin = std::make_shared<ServeAdmin>(world, token);
  }
  TlsMaterial tls;
  if (const MutualTls* m = world.mutual_tls()) {
    // Every role already serves https with the run's CA: --tls DIR writes that CA and the
    // roles' certificates for outside callers.
    if (!a.tls_dir.empty()) {
      write_mutual_tls(a.tls_dir, *m);
      tls.ca_cert_path = a.tls_dir + "/ca.pem";
    }
  } else if (!a.tls_dir.empty()) {
    tls = make_tls_material(a.tls_dir);
    world.enable_tls(tls);
  }
  std::cout << "txlab serve · scenario " << world.scenario().name << "\n";
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& r : world.roles()) {
    std::cout << "  " << r.id << "\t" << to_string(r.kind) << "\t" << r.url;
    const std::string tls_url = world.tls_url_of(r.id);
    if (!tls_url.empty()) std::cout << "\t" << tls_url;
    if (!r.issuer.empty()) std::cout << "\tiss " << r.issuer;
    if (world.is_external(r.id)) std::cout << "\t(not served here)";
    std::cout << "\n";
    roles.push_back({{"id", r.id},
                     {"kind", to_string(r.kind)},
                     {"zone", r.zone},
                     {"url", r.url},
                     {"tls_url", tls_url},
                     {"issuer", r.issuer}});
  }
  if (world.mutual_tls())
    std::cout << "mutual TLS: every role serves https only with the run's CA"
              << (a.tls_dir.empty()
                      ? std::string(" (--tls DIR writes it and the roles' "
                                    "certificates)")
                      : " (" + tls.ca_cert_path + "; ROLE.pem and ROLE.key beside it)")
              << "\n";
  else if (!a.tls_dir.empty())
    std::cout << "TLS: every role also serves https (CA: " << tls.ca_cert_path << ")\n";
  // Written once every role listens: scripts wait for this file.
  if (!a.json_out.empty() &&
      !write_output(a.json_out, safe_dump(nlohmann::json{{"scenario", world.scenario().name},
                                                         {"roles", roles},
                                                         {"ca", tls.ca_cert_path}},
                                          2) +
                                    "\n"))
    return 3;
  for (const auto& r : world.roles()) {
    if (r.kind == RoleKind::kClient && !world.is_external(r.id) &&
        !world.scenario().workload.empty()) {
      const auto& w = world.scenario().workload.front();
      std::string tls_args;
      if (world.mutual_tls() && !a.tls_dir.empty())
        tls_args = "--cacert " + a.tls_dir + "/ca.pem --cert " + a.tls_dir + "/" + w.from +
                   ".pem --key " + a.tls_dir + "/" + w.from + ".key ";
      std::cout << "\ntry: curl -s " << tls_args << "-X POST " << world.url_of(w.from)
                << "/invoke -d '{\"to\":\"" << w.to << "\",\"path\":\"" << w.path << "\"}'\n";
      break;
    }
  }
  if (admin && a.admin_port >= 0) {
    const int port = admin->start(a.admin_port);
    std::cout << "admin: POST/GET http://127.0.0.1:" << port << "/events (Bearer token "
              << (a.admin_token_file.empty() ? "on stderr" : "in " + a.admin_token_file) << ")\n";
    if (a.admin_token_file.empty()) std::cerr << "admin token: " << token << "\n";
  }
  std::thread stdin_events;
  if (admin && a.events) {
    std::cout << "events: one per line on stdin (e.g. rotate_key as-c, down gw-c2pe)\n";
    stdin_events = std::thread([admin] {
      for (std::string line; !g_stop && std::getline(std::cin, line);) {
        if (line.empty() || line[0] == '#') continue;
        const auto o = admin->submit(line);
        std::lock_guard lock(out_mu);
        std::cout << (o.ok ? "event: " + o.event + " -> " + o.result : "event refused: " + o.result)
                  << std::endl;
      }
    });
    stdin_events.detach();  // a blocked read of stdin must not hold up Ctrl-C
  }
  std::cout << "Ctrl-C to stop" << std::endl;
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "stopping" << std::endl;
  return 0;
}

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
    if (world.network()) j["network"] = net.json;
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

std::optional<conformance::Credentials> credentials(const std::string& flag, const std::string& v) {
  if (v.empty()) return std::nullopt;
  const size_t colon = v.find(':');
  if (colon == std::string::npos || colon == 0) usage_error(flag + " takes ID:SECRET");
  return conformance::Credentials{v.substr(0, colon), v.substr(colon + 1)};
}

int cmd_conform(const Args& a) {
  if (!a.only.empty() && conformance::count_selected(a.only) == 0)
    usage_error("--only '" + a.only + "' matches no case (see txlab conform --list)");
  if (a.requirements) {
    if (!a.json_out.empty())
      return write_output(a.json_out, safe_dump(conformance::render_requirements_json(), 2) + "\n")
                 ? 0
                 : 2;
    std::cout << conformance::render_requirements();
    return 0;
  }
  if (a.list) {
    if (!a.json_out.empty())
      return write_output(a.json_out, safe_dump(conformance::render_list_json(a.only), 2) + "\n")
                 ? 0
                 : 2;
    std::cout << conformance::render_list(a.only);
    return 0;
  }
  const auto profile = conformance::profile_from_string(a.profile);
  if (!profile) usage_error("--profile must be rfc8693, common or keycloak");
  if (a.issuers.size() > a.issuer_keys.size())
    usage_error("--issuer names the issuer of an --issuer-key; give the key too");
  if (a.issuer_keys.size() > 2) usage_error("at most two --issuer-key");
  if (a.budget_s <= 0) usage_error("--budget needs a positive number of seconds");
  // Issuer keys: from files, and/or served on loopback.
  std::vector<conformance::IssuerKey> keys;
  for (size_t i = 0; i < a.issuer_keys.size(); ++i) {
    std::string error;
    auto key = conformance::load_issuer_key(a.issuer_keys[i], &error);
    if (!key) {
      std::cerr << "txlab conform: --issuer-key " << error << "\n";
      return 2;
    }
    if (i >= a.issuers.size() && a.serve_issuer_port == 0)
      usage_error("--issuer-key " + a.issuer_keys[i] +
                  " needs --issuer NAME (the iss its tokens carry)");
    keys.push_back({i < a.issuers.size() ? a.issuers[i] : "", std::make_shared<jose::Key>(*key)});
  }
  conformance::ServedIssuers served;
  if (a.serve_issuer_port > 0) {
    if (!a.scenario.empty()) usage_error("--serve-issuer is for remote targets (--target-url)");
    try {
      served.start(a.serve_issuer_port,
                   keys.empty() ? std::nullopt : std::optional<jose::Key>(*keys[0].key),
                   keys.empty() ? "" : keys[0].issuer);
    } catch (const std::exception& e) {
      std::cerr << "txlab conform: --serve-issuer: " << e.what() << "\n";
      return 2;
    }
    keys = served.keys();
    std::cerr << "txlab conform: serving issuer " << served.issuer(0) << " (JWKS "
              << served.jwks_uri(0) << ") and " << served.issuer(1) << " (JWKS "
              << served.jwks_uri(1) << "); the target must trust them\n";
  }
  std::unique_ptr<World> world;
  conformance::Target target;
  if (!a.scenario.empty()) {
    if (a.target_role.empty()) usage_error("--scenario needs --target ROLE");
    if (!a.target_url.empty() || !keys.empty())
      usage_error(
          "--scenario targets use the scenario's own issuers; --target-url/--issuer-key are for "
          "remote targets");
    Scenario s;
    try {
      s = load_scenario(a.scenario);
    } catch (const ScenarioError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    world = std::make_unique<World>(std::move(s), a.seed);
    if (a.json_out != "-")
      std::cout << "txlab conform · scenario " << world->scenario().name << " · seed " << a.seed
                << "\n";
    world->start();
    try {
      target = conformance::target_from_world(*world, a.target_role, *profile);
    } catch (const std::exception& e) {
      usage_error(std::string("--target: ") + e.what());
    }
  } else {
    if (a.target_url.empty() && a.token_endpoint.empty())
      usage_error("conform needs --scenario/--target or --target-url");
    conformance::RemoteOptions o;
    o.base_url = a.target_url;
    o.token_endpoint = a.token_endpoint;
    o.jwks_uri = a.jwks_uri;
    auto ex = credentials("--exchanger-client", a.exchanger);
    if (!ex) usage_error("--target-url needs --exchanger-client ID:SECRET");
    o.exchanger = *ex;
    o.subject_client = credentials("--subject-client", a.subject_client);
    o.audience = a.audience;
    o.forbidden_audience = a.forbidden_audience;
    o.profile = *profile;
    o.timeout_ms = a.timeout_ms;
    o.issuer_keys = keys;
    if (!a.subject_audience.empty()) o.subject_audience = a.subject_audience;
    o.subject_scope = a.subject_scope;
    o.unauthorized_client = credentials("--unauthorized-client", a.unauthorized_client);
    o.dpop_bound_client = credentials("--dpop-bound-client", a.dpop_bound_client);
    auto read_pem = [](const std::string& flag, const std::string& path) {
      std::ifstream in(path);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && text.empty()) usage_error(flag + ": cannot read " + path);
      if (text.find("-----BEGIN ") == std::string::npos)
        usage_error(flag + ": " + path + " is not PEM");
      return text;
    };
    // CERT:KEY (paths without ':').
    auto pair_of = [&](const std::string& flag, const std::string& v) {
      const size_t c = v.find(':');
      if (c == std::string::npos || c == 0 || c + 1 == v.size())
        usage_error(flag + " needs CERT:KEY, got '" + v + "'");
      return std::make_pair(read_pem(flag, v.substr(0, c)), read_pem(flag, v.substr(c + 1)));
    };
    if (!a.ca_file.empty()) o.tls_ca_pem = read_pem("--ca", a.ca_file);
    if (!a.mtls_client.empty()) {
      const size_t c = a.mtls_client.find(':');
      if (c == std::string::npos || c == 0)
        usage_error("--mtls-client needs ID:CERT:KEY, got '" + a.mtls_client + "'");
      conformance::MtlsClient m;
      m.client_id = a.mtls_client.substr(0, c);
      std::tie(m.cert_pem, m.key_pem) = pair_of("--mtls-client", a.mtls_client.substr(c + 1));
      if (!a.mtls_other.empty())
        std::tie(m.wrong_subject_cert_pem, m.wrong_subject_key_pem) =
            pair_of("--mtls-other-subject", a.mtls_other);
      if (!a.mtls_untrusted.empty())
        std::tie(m.untrusted_cert_pem, m.untrusted_key_pem) =
            pair_of("--mtls-untrusted", a.mtls_untrusted);
      if (o.tls_ca_pem.empty()) usage_error("--mtls-client needs --ca FILE (the server's CA)");
      o.mtls = std::move(m);
    } else if (!a.mtls_other.empty() || !a.mtls_untrusted.empty()) {
      usage_error("--mtls-other-subject and --mtls-untrusted go with --mtls-client");
    }
    o.scopes_beyond_subject = a.scopes_beyond;
    if (a.jwt_access_tokens) o.jwt_access_tokens = true;
    if (a.honours_may_act) o.honours_may_act = true;
    if (!a.semantics.empty()) {
      if (a.semantics != "delegation" && a.semantics != "impersonation")
        usage_error("--semantics must be delegation or impersonation");
      o.expects_delegation = a.semantics == "delegation";
    }
    std::string error;
    auto t = conformance::target_from_url(o, &error);
    if (!t) {
      std::cerr << "txlab conform: " << error << "\n";
      return 2;
    }
    target = std::move(*t);
    // txlab publishes the first issuer's keys: the key-rotation case can rotate them.
    if (a.serve_issuer_port > 0) target.rotate_issuer_key = [&served] { return served.rotate(0); };
  }
  target.timeout_ms = a.timeout_ms;
  conformance::RunOptions run;
  run.only = a.only;
  run.strict = a.strict;
  run.budget_s = a.budget_s;
  const bool tty = isatty(STDERR_FILENO) != 0;
  if ((a.progress || tty) && !a.quiet) {
    run.progress = [tty](size_t done, size_t total, const conformance::CaseResult& r) {
      const std::string line = "[" + std::to_string(done) + "/" + std::to_string(total) + "] " +
                               std::string(conformance::to_string(r.finding.grade)) + " " +
                               r.c->info.id;
      if (tty)
        std::cerr << "\r\033[K" << line << (done == total ? "\n" : "") << std::flush;
      else
        std::cerr << line << "\n";
    };
  }
  const auto report = conformance::run_suite(target, run);
  const bool json_to_stdout = a.json_out == "-";
  if (!json_to_stdout) std::cout << conformance::render_text(report, isatty(STDOUT_FILENO) != 0);
  bool ok = true;
  if (!a.json_out.empty())
    ok = write_output(a.json_out, safe_dump(conformance::render_json(report), 2) + "\n") && ok;
  if (!a.junit_out.empty()) ok = write_output(a.junit_out, conformance::render_junit(report)) && ok;
  if (!a.html_out.empty())
    ok = write_output(a.html_out,
                      html::page("conform", "txlab conform · " + report.target,
                                 "profile " + std::string(conformance::to_string(report.profile)) +
                                     (a.scenario.empty() ? "" : " · scenario " + a.scenario),
                                 html::conform_body(conformance::render_json(report)))) &&
         ok;
  if (!ok) return 2;
  if (report.verdict != conformance::Verdict::kGraded)
    return conformance::exit_code(report.verdict);
  return report.passed() ? 0 : 1;
}

int cmd_health(const Args& a) {
  const std::string& url = a.scenario;
  if (url.rfind("http://", 0) != 0) usage_error("health needs an http:// URL, got '" + url + "'");
  const size_t slash = url.find('/', 7);
  http::OutboundRequest req;
  req.path = slash == std::string::npos ? "/" : url.substr(slash);
  req.timeout_ms = 3000;
  http::HttpClientPool pool;
  const auto res = pool.send(url.substr(0, slash), req);
  if (res.status == 200) return 0;
  std::cerr << "txlab health: " << url << ": "
            << (res.status ? std::to_string(res.status) : std::string(http::to_string(res.error)))
            << "\n";
  return 1;
}

bool write_file(const std::string& path, const std::string& text) {
  const size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::error_code ec;
    std::filesystem::create_directories(path.substr(0, slash), ec);
  }
  return write_output(path, text);
}

int cmd_export(const Args& a, const Scenario& s) {
  const int targets = !a.k8s_dir.empty() + !a.compose_file.empty() + !a.keycloak_realm.empty();
  if (targets != 1)
    usage_error("export needs exactly one of --k8s DIR, --compose FILE and --keycloak-realm FILE");
  if (a.keycloak_realm.empty() && (!a.as_role.empty() || !a.realm.empty() || a.conformance_clients))
    usage_error("--as, --realm and --conformance-clients go with --keycloak-realm");
  if (!a.keycloak_realm.empty()) {
    std::string as = a.as_role;
    for (const auto& r : s.roles)
      if (as.empty() && r.external) as = r.id;
    const RoleSpec* spec = s.find_role(as);
    std::string realm = a.realm;
    if (realm.empty() && spec && spec->external) {
      std::string iss = spec->as.issuer;
      while (!iss.empty() && iss.back() == '/') iss.pop_back();
      const size_t at = iss.rfind("/realms/");
      realm = at == std::string::npos ? "txlab" : iss.substr(at + 8);
    }
    std::string error;
    const std::string json = export_keycloak_realm(s, as, realm, a.conformance_clients, &error);
    if (json.empty()) usage_error("--keycloak-realm: " + error);
    if (!write_file(a.keycloak_realm, json)) return 3;
    std::cout << a.keycloak_realm << "\n";
    return 0;
  }
  if (s.mutual_tls) {
    std::cerr << "txlab export: " << s.file
              << " uses 'tls: mutual', whose CA and certificates txlab makes per run in one "
                 "process; deployed roles need certificates of your own PKI (not exported yet)\n";
    return 2;
  }
  std::ifstream in(s.file);
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ExportOptions o;
  o.image = a.image.empty() ? std::string("txlab:") + TXLAB_VERSION : a.image;
  std::map<std::string, std::string> files;
  std::string base;
  if (!a.k8s_dir.empty()) {
    files = export_k8s(s, source, o);
    base = a.k8s_dir + "/";
  } else {
    const size_t slash = a.compose_file.rfind('/');
    base = slash == std::string::npos ? "" : a.compose_file.substr(0, slash + 1);
    files = export_compose(
        s, source, o,
        slash == std::string::npos ? a.compose_file : a.compose_file.substr(slash + 1));
  }
  for (const auto& r : s.roles)
    if (r.kind == RoleKind::kAuthorizationServer && !r.external && r.as.issuer.empty())
      std::cerr << "txlab export: warning: authorization server '" << r.id
                << "' has no issuer: it would advertise its listen address; set issuer:\n";
  for (const auto& [name, text] : files) {
    if (!write_file(base + name, text)) return 3;
    std::cout << base << name << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a peer closing mid-write is an error value, not death
  const Args a = parse(argc, argv);
  if (a.command == "conform") {
    try {
      return cmd_conform(a);
    } catch (const std::exception& e) {
      std::cerr << "txlab: " << e.what() << "\n";
      return 2;
    }
  }
  if (a.command == "health") return cmd_health(a);
  Scenario s;
  try {
    s = load_scenario(a.scenario);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  print_warnings(s);
  if (a.command == "export") return cmd_export(a, s);
  try {
    if (a.command == "lint") {
      std::cout << s.file << ": ok (" << s.roles.size() << " roles, " << s.workload.size()
                << " workload calls, " << s.warnings.size() << " warnings)\n";
      return 0;
    }
    if (a.command == "serve") return cmd_serve(a, std::move(s));
    if (a.command == "attack") {
      return cmd_attack(a, std::move(s));
    }
    if (a.command == "load") return cmd_load(a, std::move(s));
    return cmd_run(a, std::move(s));
  } catch (const std::exception& e) {
    std::cerr << "txlab: " << e.what() << "\n";
    return 3;
  }
}
