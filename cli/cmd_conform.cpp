// txlab conform: grade an authorization server's RFC 8693 token exchange, case by case — a role
// of a scenario run in this process, or a remote server — as text, JSON, JUnit and HTML;
// optionally compared with a baseline (--baseline) or written as one (--write-baseline).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <tuple>

#include "cli/command.h"
#include "conformance/baseline.h"
#include "conformance/issuer.h"
#include "conformance/requirements.h"
#include "conformance/suite.h"
#include "conformance/targets.h"
#include "sim/json_util.h"
#include "sim/pem.h"
#include "world/html.h"

namespace txlab::cli {

namespace {

std::optional<conformance::Credentials> credentials(const std::string& flag, const std::string& v) {
  if (v.empty()) return std::nullopt;
  const size_t colon = v.find(':');
  if (colon == std::string::npos || colon == 0) usage_error(flag + " takes ID:SECRET");
  return conformance::Credentials{v.substr(0, colon), v.substr(colon + 1)};
}

// --requirements or --list: the catalogue only, with no target; nullopt otherwise.
std::optional<int> print_catalogue(const Args& a) {
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
  return std::nullopt;
}

// The --issuer-key files with their --issuer names; nullopt after saying why a key is unusable.
std::optional<std::vector<conformance::IssuerKey>> issuer_keys(const Args& a) {
  std::vector<conformance::IssuerKey> keys;
  for (size_t i = 0; i < a.issuer_keys.size(); ++i) {
    std::string error;
    auto key = conformance::load_issuer_key(a.issuer_keys[i], &error);
    if (!key) {
      std::cerr << "txlab conform: --issuer-key " << error << "\n";
      return std::nullopt;
    }
    if (i >= a.issuers.size() && a.serve_issuer_port == 0)
      usage_error("--issuer-key " + a.issuer_keys[i] +
                  " needs --issuer NAME (the iss its tokens carry)");
    keys.push_back({i < a.issuers.size() ? a.issuers[i] : "", std::make_shared<jose::Key>(*key)});
  }
  return keys;
}

std::string read_pem(const std::string& flag, const std::string& path) {
  std::string error;
  auto text = read_pem_file(path, &error);
  if (!text) usage_error(flag + ": " + error);
  return std::move(*text);
}

// CERT:KEY (paths without ':').
std::pair<std::string, std::string> cert_and_key(const std::string& flag, const std::string& v) {
  const size_t c = v.find(':');
  if (c == std::string::npos || c == 0 || c + 1 == v.size())
    usage_error(flag + " needs CERT:KEY, got '" + v + "'");
  return {read_pem(flag, v.substr(0, c)), read_pem(flag, v.substr(c + 1))};
}

// The RFC 8705 options: the CA, and a client's certificates.
void add_tls(const Args& a, conformance::RemoteOptions& o) {
  if (!a.ca_file.empty()) o.tls_ca_pem = read_pem("--ca", a.ca_file);
  if (!a.mtls_client.empty()) {
    const size_t c = a.mtls_client.find(':');
    if (c == std::string::npos || c == 0)
      usage_error("--mtls-client needs ID:CERT:KEY, got '" + a.mtls_client + "'");
    conformance::MtlsClient m;
    m.client_id = a.mtls_client.substr(0, c);
    std::tie(m.cert_pem, m.key_pem) = cert_and_key("--mtls-client", a.mtls_client.substr(c + 1));
    if (!a.mtls_other.empty())
      std::tie(m.wrong_subject_cert_pem, m.wrong_subject_key_pem) =
          cert_and_key("--mtls-other-subject", a.mtls_other);
    if (!a.mtls_untrusted.empty())
      std::tie(m.untrusted_cert_pem, m.untrusted_key_pem) =
          cert_and_key("--mtls-untrusted", a.mtls_untrusted);
    if (o.tls_ca_pem.empty()) usage_error("--mtls-client needs --ca FILE (the server's CA)");
    o.mtls = std::move(m);
  } else if (!a.mtls_other.empty() || !a.mtls_untrusted.empty()) {
    usage_error("--mtls-other-subject and --mtls-untrusted go with --mtls-client");
  }
}

conformance::RemoteOptions remote_options(const Args& a, conformance::Profile profile,
                                          const std::vector<conformance::IssuerKey>& keys) {
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
  o.profile = profile;
  o.timeout_ms = a.timeout_ms;
  o.issuer_keys = keys;
  if (!a.subject_audience.empty()) o.subject_audience = a.subject_audience;
  o.subject_scope = a.subject_scope;
  o.unauthorized_client = credentials("--unauthorized-client", a.unauthorized_client);
  o.dpop_bound_client = credentials("--dpop-bound-client", a.dpop_bound_client);
  add_tls(a, o);
  o.scopes_beyond_subject = a.scopes_beyond;
  if (a.jwt_access_tokens) o.jwt_access_tokens = true;
  if (a.honours_may_act) o.honours_may_act = true;
  if (!a.semantics.empty()) {
    if (a.semantics != "delegation" && a.semantics != "impersonation")
      usage_error("--semantics must be delegation or impersonation");
    o.expects_delegation = a.semantics == "delegation";
  }
  return o;
}

// --scenario/--target: the world started and its role as the target; nullopt after saying why
// the scenario did not load.
std::optional<conformance::Target> scenario_target(const Args& a, conformance::Profile profile,
                                                   bool have_keys, std::unique_ptr<World>& world) {
  if (a.target_role.empty()) usage_error("--scenario needs --target ROLE");
  if (!a.target_url.empty() || have_keys)
    usage_error(
        "--scenario targets use the scenario's own issuers; --target-url/--issuer-key are for "
        "remote targets");
  Scenario s;
  try {
    s = load_scenario(a.scenario);
  } catch (const ScenarioError& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
  world = std::make_unique<World>(std::move(s), a.seed);
  if (a.json_out != "-")
    std::cout << "txlab conform · scenario " << world->scenario().name << " · seed " << a.seed
              << "\n";
  world->start();
  try {
    return conformance::target_from_world(*world, a.target_role, profile);
  } catch (const std::exception& e) {
    usage_error(std::string("--target: ") + e.what());
  }
}

conformance::RunOptions run_options(const Args& a) {
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
  return run;
}

// --baseline FILE and the file --write-baseline rewrites: read before the run, so that a bad
// file costs no run.
struct Baselines {
  std::optional<conformance::Baseline> compare_with, previous;
};

// FILE as a baseline; nullopt after saying why it is unusable. Exit 2 follows.
std::optional<conformance::Baseline> read_baseline(const std::string& flag,
                                                   const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || std::filesystem::is_directory(file)) {
    std::cerr << file << ": error: cannot read the " << flag << " file\n";
    return std::nullopt;
  }
  std::string error;
  auto b = conformance::parse_baseline(text.str(), file, &error);
  if (!b) std::cerr << error << "\n";
  return b;
}

std::optional<Baselines> read_baselines(const Args& a, conformance::Profile profile) {
  Baselines out;
  if (!a.baseline.empty()) {
    out.compare_with = read_baseline("--baseline", a.baseline);
    if (!out.compare_with) return std::nullopt;
    if (const auto refusal = conformance::baseline_refusal(*out.compare_with, profile)) {
      std::cerr << *refusal << "\n";
      return std::nullopt;
    }
  }
  if (!a.write_baseline.empty() && std::filesystem::exists(a.write_baseline)) {
    out.previous = read_baseline("--write-baseline", a.write_baseline);
    if (!out.previous) {
      std::cerr << "(--write-baseline keeps the reasons of the file it rewrites; move it away to "
                   "start afresh)\n";
      return std::nullopt;
    }
  }
  return out;
}

// --write-baseline: the graded run's grades, the previous file's reasons kept.
bool write_baseline(const Args& a, const conformance::Report& report, const Baselines& b) {
  if (report.verdict != conformance::Verdict::kGraded) {
    std::cerr << "txlab conform: --write-baseline " << a.write_baseline
              << " not written: the run was not graded\n";
    return true;
  }
  std::vector<std::string> dropped;
  const auto baseline = conformance::baseline_of(report, a.only, TXLAB_VERSION,
                                                 b.previous ? &*b.previous : nullptr, &dropped);
  if (!write_file(a.write_baseline, conformance::render_baseline(baseline))) return false;
  size_t failed = 0, unexplained = 0;
  for (const auto& [id, c] : baseline.cases)
    if (c.grade == conformance::Grade::kFailed) {
      ++failed;
      unexplained += c.reason.empty() ? 1 : 0;
    }
  std::cerr << "txlab conform: wrote " << a.write_baseline << " (" << baseline.cases.size()
            << " cases, " << failed << " FAILED, " << unexplained
            << " of them without a \"reason\")\n";
  for (const auto& id : dropped)
    std::cerr << "txlab conform: " << id << ": its grade changed; the reason for the old one was "
              << "dropped\n";
  return true;
}

// The report as text, JSON, JUnit and HTML; the exit code (with --baseline: 1 only when a case
// got worse than there).
int write_reports(const Args& a, const conformance::Report& report, const Baselines& b) {
  const bool graded = report.verdict == conformance::Verdict::kGraded;
  std::optional<conformance::BaselineComparison> cmp;
  if (b.compare_with && graded)
    cmp = conformance::compare_with_baseline(*b.compare_with, report, a.only);
  const int rc = !graded ? conformance::exit_code(report.verdict)
                 : cmp   ? (cmp->got_worse() ? 1 : 0)
                         : (report.passed() ? 0 : 1);
  const bool json_to_stdout = a.json_out == "-";
  if (!json_to_stdout) {
    std::cout << conformance::render_text(report, isatty(STDOUT_FILENO) != 0);
    if (cmp)
      std::cout << conformance::render_baseline_text(*cmp);
    else if (b.compare_with)
      std::cout << "\nbaseline " << a.baseline << ": not compared, the run was not graded\n";
  }
  bool ok = true;
  if (!a.json_out.empty()) {
    auto json = conformance::render_json(report);
    if (cmp) json["baseline"] = conformance::render_baseline_json(*cmp);
    json["exit_code"] = rc;
    ok = write_output(a.json_out, safe_dump(json, 2) + "\n") && ok;
  }
  if (!a.junit_out.empty())
    ok = write_output(a.junit_out, cmp ? conformance::render_junit(report, *cmp)
                                       : conformance::render_junit(report)) &&
         ok;
  if (!a.html_out.empty())
    ok = write_output(a.html_out,
                      html::page("conform", "txlab conform · " + report.target,
                                 "profile " + std::string(conformance::to_string(report.profile)) +
                                     (a.scenario.empty() ? "" : " · scenario " + a.scenario),
                                 html::conform_body(conformance::render_json(report)))) &&
         ok;
  if (!a.write_baseline.empty()) ok = write_baseline(a, report, b) && ok;
  return ok ? rc : 2;
}

}  // namespace

int cmd_conform(const Args& a) {
  if (!a.only.empty() && conformance::count_selected(a.only) == 0)
    usage_error("--only '" + a.only + "' matches no case (see txlab conform --list)");
  if (const auto rc = print_catalogue(a)) return *rc;
  const auto profile = conformance::profile_from_string(a.profile);
  if (!profile) usage_error("--profile must be rfc8693, common or keycloak");
  if (a.issuers.size() > a.issuer_keys.size())
    usage_error("--issuer names the issuer of an --issuer-key; give the key too");
  if (a.issuer_keys.size() > 2) usage_error("at most two --issuer-key");
  if (a.budget_s <= 0) usage_error("--budget needs a positive number of seconds");
  const auto baselines = read_baselines(a, *profile);
  if (!baselines) return 2;
  // Issuer keys: from files, and/or served on loopback.
  auto keys = issuer_keys(a);
  if (!keys) return 2;
  conformance::ServedIssuers served;
  if (a.serve_issuer_port > 0) {
    if (!a.scenario.empty()) usage_error("--serve-issuer is for remote targets (--target-url)");
    try {
      served.start(a.serve_issuer_port,
                   keys->empty() ? std::nullopt : std::optional<jose::Key>(*(*keys)[0].key),
                   keys->empty() ? "" : (*keys)[0].issuer);
    } catch (const std::exception& e) {
      std::cerr << "txlab conform: --serve-issuer: " << e.what() << "\n";
      return 2;
    }
    *keys = served.keys();
    std::cerr << "txlab conform: serving issuer " << served.issuer(0) << " (JWKS "
              << served.jwks_uri(0) << ") and " << served.issuer(1) << " (JWKS "
              << served.jwks_uri(1) << "); the target must trust them\n";
  }
  std::unique_ptr<World> world;
  conformance::Target target;
  if (!a.scenario.empty()) {
    auto t = scenario_target(a, *profile, !keys->empty(), world);
    if (!t) return 2;
    target = std::move(*t);
  } else {
    std::string error;
    auto t = conformance::target_from_url(remote_options(a, *profile, *keys), &error);
    if (!t) {
      std::cerr << "txlab conform: " << error << "\n";
      return 2;
    }
    target = std::move(*t);
    // txlab publishes the first issuer's keys: the key-rotation case can rotate them.
    if (a.serve_issuer_port > 0) target.rotate_issuer_key = [&served] { return served.rotate(0); };
  }
  target.timeout_ms = a.timeout_ms;
  return write_reports(a, conformance::run_suite(target, run_options(a)), *baselines);
}

}  // namespace txlab::cli
