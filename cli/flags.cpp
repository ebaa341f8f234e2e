// The tables of txlab's commands and flags, parsing a flag's value, and the usage text made
// from them (see flags.h).
#include "cli/flags.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace txlab::cli {

namespace {

const char* const kSeedHelp =
    "the seed (default 1): it fixes fault decisions, jittered event times and swarm picks";
const char* const kHtmlHelp =
    "one self-contained page (sequence diagrams, tokens decoded with what changed at each hop, "
    "timeline windows)";

}  // namespace

namespace {

// Every flag, once: its name, alias, where its value goes, and per command its value's name
// and help line.
const std::vector<Flag> kFlags = {
    {"--calls",
     nullptr,
     &Args::calls,
     {{kRun, "N", "run each workload entry N times (at most 100000) and summarise p50/p90/max"}}},
    {"--config",
     nullptr,
     &Args::config_file,
     {{kConform, "FILE",
       "read these flags from a YAML file: each key a flag's name without --, e.g. "
       "'target-url: ${AS_URL}' (${NAME}: an environment variable), a repeatable flag's value a "
       "list; relative paths are relative to FILE's directory; flags on the command line win "
       "(conformance/configs/ has examples)",
       nullptr, false, "config"}}},
    {"--scenario",
     nullptr,
     &Args::scenario,
     {{kConform, "SCENARIO", "grade a role of this scenario, run in this process (with --target)",
       nullptr, false, "scenario"}}},
    {"--target",
     nullptr,
     &Args::target_role,
     {{kConform, "ROLE", "the scenario's authorization server to grade", nullptr, false,
       "scenario"}}},
    {"--seed",
     nullptr,
     &Args::seed,
     {{kRun | kServe | kLoad | kAttack | kConform, "S", kSeedHelp}}},
    {"--target-url",
     nullptr,
     &Args::target_url,
     {{kConform, "BASE", "a remote authorization server, found by discovery under BASE", nullptr,
       false, "remote"}}},
    {"--exchanger-client",
     nullptr,
     &Args::exchanger,
     {{kConform, "ID:SECRET", "the client that exchanges at a remote target (needed there)",
       nullptr, false, "remote"}}},
    {"--token-endpoint",
     nullptr,
     &Args::token_endpoint,
     {{kConform, "URL", "instead of / besides discovery under BASE"}}},
    {"--jwks-uri",
     nullptr,
     &Args::jwks_uri,
     {{kConform, "URL", "instead of / besides discovery under BASE"}}},
    {"--subject-client",
     nullptr,
     &Args::subject_client,
     {{kConform, "ID:SECRET", "whose client_credentials tokens serve as subject tokens"}}},
    {"--audience",
     nullptr,
     &Args::audience,
     {{kConform, "AUD", "an audience the exchanger may request"}}},
    {"--forbidden-audience",
     nullptr,
     &Args::forbidden_audience,
     {{kConform, "AUD", "one it may not"}}},
    {"--issuer-key",
     nullptr,
     &Args::issuer_keys,
     {{kConform, "FILE",
       "a private key (JWK or PEM) of an issuer the target trusts, for the key-dependent cases "
       "(twice: a second issuer)"}}},
    {"--issuer",
     nullptr,
     &Args::issuers,
     {{kConform, "NAME", "the iss of an --issuer-key's tokens (in the same order)"}}},
    {"--serve-issuer",
     nullptr,
     Port{&Args::serve_issuer_port, 1},
     {{kConform, "PORT",
       "serve two issuers with fresh keys on 127.0.0.1:PORT (trust http://127.0.0.1:PORT and "
       ".../second in the target first)"}}},
    {"--subject-audience",
     nullptr,
     &Args::subject_audience,
     {{kConform, "AUD", "aud of minted subject tokens (default: exchanger and issuer)"}}},
    {"--subject-scope",
     nullptr,
     &Args::subject_scope,
     {{kConform, "SCOPE", "scope of minted subject tokens"}}},
    {"--unauthorized-client",
     nullptr,
     &Args::unauthorized_client,
     {{kConform, "ID:SECRET", "a client that may not exchange (unauthorized_client)"}}},
    {"--dpop-bound-client",
     nullptr,
     &Args::dpop_bound_client,
     {{kConform, "ID:SECRET",
       "an exchanger registered to always use DPoP (RFC 9449 §5.2 dpop_bound_access_tokens)"}}},
    {"--ca",
     nullptr,
     &Args::ca_file,
     {{kConform, "FILE", "the CA (PEM) the target's https certificate chains to"}}},
    {"--mtls-client",
     nullptr,
     &Args::mtls_client,
     {{kConform, "ID:CERT:KEY",
       "a client registered for tls_client_auth (or self-signed) and its certificate (RFC 8705 "
       "cases; ID = the exchanger's id makes it authenticate with the certificate throughout)"}}},
    {"--mtls-other-subject",
     nullptr,
     &Args::mtls_other,
     {{kConform, "CERT:KEY", "a certificate of a trusted CA with another subject"}}},
    {"--mtls-untrusted",
     nullptr,
     &Args::mtls_untrusted,
     {{kConform, "CERT:KEY", "the client's subject from a CA the target does not trust"}}},
    {"--scope-beyond",
     nullptr,
     &Args::scopes_beyond,
     {{kConform, "SCOPE", "a scope the exchanger may hold but subject tokens lack"}}},
    {"--jwt-access-tokens",
     nullptr,
     &Args::jwt_access_tokens,
     {{kConform, "", "the target claims RFC 9068 JWT access tokens"}}},
    {"--honours-may-act",
     nullptr,
     &Args::honours_may_act,
     {{kConform, "", "the target applies may_act (RFC 8693 §4.4 is a MAY)"}}},
    {"--semantics",
     nullptr,
     &Args::semantics,
     {{kConform, "delegation|impersonation",
       "what the target is configured for (act expected or not); unknown by default"}}},
    {"--profile",
     nullptr,
     &Args::profile,
     {{kConform, "rfc8693|common|keycloak", "the cases graded (default common)"}}},
    {"--strict", nullptr, &Args::strict, {{kConform, "", "NON-STRICT fails too"}}},
    {"--baseline",
     nullptr,
     &Args::baseline,
     {{kConform, "FILE",
       "the grades accepted (a --write-baseline file or an earlier --json): exit 1 only when a "
       "case got worse than there (a new FAILED, a FAILED another way, a grade lost); what got "
       "better, new or gone is reported"},
      {kLoad, "FILE|DIR",
       "compare with an earlier load --json of the same scenario, mode and rate, or with the "
       "newest runs of a --history DIR (see --baseline-last): per path a 95 % bootstrap CI of "
       "current/baseline for p50, p99 and throughput (medians of each run's 10 windows; with "
       "several runs on a side it carries the drift between runs); exit 1 when one is beyond "
       "--max-regression (p99: --max-tail-regression)"}}},
    {"--baseline-last",
     nullptr,
     &Args::baseline_last,
     {{kLoad, "K",
       "with a --history DIR as --baseline: its newest K runs of this scenario, mode and rate, "
       "1..100 (default 5)"}}},
    {"--versus",
     nullptr,
     &Args::versus,
     {{kLoad, "SCENARIO",
       "the baseline measured in the same job: --runs N runs of each scenario, alternated "
       "(ABBA), run i of each a pair, so drift over time hits both sides alike (e.g. a vendor's "
       "previous version); exit 1 on a significant regression as with --baseline"}}},
    {"--runs",
     nullptr,
     &Args::runs,
     {{kLoad, "N",
       "the load N times back to back, each on a fresh world, reported as one (windows tagged by "
       "run), 1..100 (default 1): the drift between runs becomes visible to --baseline"}}},
    {"--write-baseline",
     nullptr,
     &Args::write_baseline,
     {{kConform, "FILE",
       "write this run's grades as a baseline (an existing FILE keeps its cases' reasons)"}}},
    {"--only",
     nullptr,
     &Args::only,
     {{kConform, "PREFIX", "only the cases whose id starts so (e.g. rfc8693/2.2.2)"}}},
    {"--timeout-ms",
     nullptr,
     &Args::timeout_ms,
     {{kConform, "N", "the wait for each answer (default 5000)"}}},
    {"--budget",
     nullptr,
     &Args::budget_s,
     {{kConform, "SECONDS", "the whole run's limit (default 600)"}}},
    {"--tls",
     nullptr,
     &Args::tls_dir,
     {{kServe, "DIR",
       "makes a per-run CA and certificate in DIR and serves every role over https too (a tls: "
       "mutual scenario serves https only: --tls DIR writes its CA and the roles' certificates "
       "and keys, DIR/ROLE.pem and DIR/ROLE.key)"}}},
    {"--concurrency",
     nullptr,
     &Args::concurrency,
     {{kLoad, "C", "the number of callers, 1..512 (default 4)"}}},
    {"--duration",
     nullptr,
     &Args::duration_s,
     {{kLoad, "SECONDS", "how long to drive, 1..3600 (default 5)"}}},
    {"--rate",
     nullptr,
     &Args::rate,
     {{kLoad, "PER_SECOND",
       "calls a second across the callers, open loop: call n is due at n/PER_SECOND and its "
       "latency counts from then, so a stall shows in the tail; a call more than 2 s late is not "
       "sent and reported as unsent (default 0: closed loop, as fast as the callers go)"}}},
    {"--closed-loop",
     nullptr,
     &Args::closed_loop,
     {{kLoad, "",
       "with --rate: callers paced at the rate, latency from sending (the earlier behaviour; "
       "under-reports stalls)"}}},
    {"--max-regression",
     nullptr,
     &Args::max_regression,
     {{kLoad, "PERCENT",
       "the change worth failing for: p50 CI above 1+P/100, throughput CI below 1-P/100 "
       "(default 10, 0..99)"}}},
    {"--max-tail-regression",
     nullptr,
     &Args::max_tail_regression,
     {{kLoad, "PERCENT", "the same for p99: its CI above 1+Q/100 (default 50)"}}},
    {"--history",
     nullptr,
     &Args::history_dir,
     {{kLoad, "DIR",
       "append the run to DIR/history.jsonl (the newest 500 kept) and write DIR/index.html: p50, "
       "p99 and throughput over the runs, each run tested against the previous one"}}},
    {"--label",
     nullptr,
     &Args::label,
     {{kLoad, "TEXT", "the run's name in --history, e.g. a commit (default: the UTC time)"}}},
    {"--json",
     nullptr,
     &Args::json_out,
     {{kRun, "FILE|-", "the trace as JSON (- for stdout)"},
      {kServe, "FILE", "writes the roles' URLs once they listen"},
      {kLoad, "FILE|-", "the report as JSON (- for stdout)"},
      {kAttack, "FILE|-", "the attacks and the isolation matrix as JSON (- for stdout)"},
      {kConform, "FILE|-", "the graded cases as JSON (- for stdout)"}}},
    {"--mermaid",
     nullptr,
     &Args::mermaid_out,
     {{kRun, "FILE|-", "a Mermaid sequence diagram (with a timeline: of the run's first call)"}}},
    {"--svg", nullptr, &Args::svg_out, {{kLoad, "FILE", "the latency over time as SVG"}}},
    {"--junit",
     nullptr,
     &Args::junit_out,
     {{kRun, "FILE", "JUnit: a test case per call (with a timeline: per window and the run)"},
      {kLoad, "FILE", "JUnit: a test case per workload path"},
      {kAttack, "FILE", "JUnit: a test case per attack, and the isolation matrix"},
      {kConform, "FILE", "JUnit: a test case per case"}}},
    {"--html",
     nullptr,
     &Args::html_out,
     {{kRun, "FILE", kHtmlHelp},
      {kLoad | kAttack, "FILE", "one self-contained page of the report"},
      {kConform, "FILE",
       "a filterable page with each failed case's requests and answers, client secrets "
       "redacted"}}},
    {"--log",
     nullptr,
     &Args::log,
     {{kServe, "",
       "prints a line per answered request (time, role, method, path, status, bytes, ms)"}}},
    {"--events",
     nullptr,
     &Args::events,
     {{kServe, "",
       "reads one event per stdin line (\"rotate_key as-c\", \"down gw-c2pe\", "
       "\"{revoke_client: {as: as-c, client: svc-cfa}}\")"}}},
    {"--admin",
     nullptr,
     Port{&Args::admin_port, 0},
     {{kServe, "PORT",
       "serves POST /events (the body is one event) and GET /events on 127.0.0.1 only, for "
       "\"Authorization: Bearer TOKEN\": a random token written to --admin-token FILE (mode "
       "0600) or printed on stderr"}}},
    {"--admin-token",
     nullptr,
     &Args::admin_token_file,
     {{kServe, "FILE", "where --admin writes its token (mode 0600)"}}},
    {"--listen",
     nullptr,
     &Args::listen,
     {{kServe, "HOST:PORT",
       "binds the --role to HOST:PORT (without --role: every role, on PORT, PORT+1, ... in "
       "scenario order; a non-loopback HOST needs --expose)"}}},
    {"--expose",
     nullptr,
     &Args::expose,
     {{kServe, "", "allows --listen on a non-loopback address"}}},
    {"--role",
     nullptr,
     &Args::role,
     {{kServe, "ID",
       "runs that role alone: every role it calls or trusts is reached at --peer ROLE=URL "
       "(external authorization servers need none)"}}},
    {"--public-url",
     nullptr,
     &Args::public_url,
     {{kServe, "URL",
       "where others reach the --role (an AS with no issuer, or issuer: served, advertises it "
       "as its issuer, RFC 8414 §3.3)"}}},
    {"--peer", nullptr, &Args::peers, {{kServe, "ROLE=URL", "where the --role reaches ROLE"}}},
    {"--k8s",
     nullptr,
     &Args::k8s_dir,
     {{kExport, "DIR",
       "Kubernetes manifests (a namespace per zone, Deployment, Service, ConfigMap, Secret with "
       "that role's secrets only, NetworkPolicies admitting exactly the declared links)",
       "export", true}}},
    {"--compose",
     nullptr,
     &Args::compose_file,
     {{kExport, "FILE", "a Compose file (a network per zone and per cross-zone link)", "export",
       true}}},
    {"--keycloak-realm",
     nullptr,
     &Args::keycloak_realm,
     {{kExport, "FILE",
       "the realm (kc.sh --import-realm) with the clients the scenario's roles need at its "
       "external AS: credentials, token-exchange switches, audience mappers",
       "export", true}}},
    {"--image",
     nullptr,
     &Args::image,
     {{kExport, "IMAGE", "the roles' image (default txlab:VERSION)"}}},
    {"--as",
     nullptr,
     &Args::as_role,
     {{kExport, "ROLE", "the external AS of --keycloak-realm (default: the first one)"}}},
    {"--realm",
     nullptr,
     &Args::realm,
     {{kExport, "NAME", "the realm's name (default: the issuer's last segment)"}}},
    {"--conformance-clients",
     nullptr,
     &Args::conformance_clients,
     {{kExport, "", "adds the clients of txlab conform --profile keycloak"}}},
    {"--netns",
     nullptr,
     &Args::netns,
     {{kRun, "",
       "(root) each zone a network namespace, each role on its own address, only declared "
       "links routed and admitted; after the run every pair of roles is tried for a TCP "
       "connection (the isolation matrix's network layer); a pair that is open but not "
       "declared, or declared but closed, fails the run"},
      {kAttack, "",
       "(root) as for run: exits 1 too if a pair of roles is not connected as declared (the "
       "isolation matrix's network layer)"}}},
    {"--progress",
     nullptr,
     &Args::progress,
     {{kLoad, "", "a line a second on stderr (default: on a terminal)", "output"},
      {kAttack, "", "a counter on stderr (default: on a terminal)", "output"},
      {kConform, "", "a line per case on stderr (default: on a terminal)", "output"}}},
    {"--quiet",
     "-q",
     &Args::quiet,
     {{kRun, "", "no report on stdout (a failure still says how to reproduce it)"},
      {kLoad | kAttack | kConform, "", "no progress", "output"}}},
    {"--list",
     nullptr,
     &Args::list,
     {{kConform, "", "print the cases and exit (with --json FILE, as JSON)"}}},
    // --env-file (issue #25 part 4): ${NAME} values for the scenario loader.
    {"--env-file",
     nullptr,
     &Args::env_file,
     {{kLint | kRun | kServe | kLoad | kAttack | kExport, "FILE",
       "NAME=VALUE lines (# comments, optional export and quotes, no expansion) for ${NAME} in "
       "the scenario; a variable set in the environment wins over the file"}}},
    {"--requirements",
     nullptr,
     &Args::requirements,
     {{kConform, "",
       "every normative sentence binding the server, the cases that test it or why it cannot "
       "be tested, and the coverage (with --json FILE, as JSON)"}}},
};

}  // namespace

const std::vector<Flag>& flags() { return kFlags; }

const FlagUse* Flag::use_for(CommandSet command) const {
  for (const auto& u : uses)
    if (u.commands & command) return &u;
  return nullptr;
}

const Flag* find_flag(std::string_view name) {
  for (const auto& f : flags())
    if (name == f.name || (f.alias && name == f.alias)) return &f;
  return nullptr;
}

namespace {

// A non-negative integer, as every numeric flag takes.
std::optional<long long> parse_count(const std::string& v) {
  try {
    size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used != v.size() || n < 0) return std::nullopt;
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> apply_flag(const Flag& flag, const std::string& value, Args& args) {
  const std::string name = flag.name;
  if (const auto* m = std::get_if<bool Args::*>(&flag.store)) {
    if (value.empty() || value == "true")
      args.*(*m) = true;
    else if (value == "false")
      args.*(*m) = false;
    else
      return name + " takes no value, got '" + value + "'";
    return std::nullopt;
  }
  if (const auto* m = std::get_if<std::string Args::*>(&flag.store)) {
    args.*(*m) = value;
    return std::nullopt;
  }
  if (const auto* m = std::get_if<std::vector<std::string> Args::*>(&flag.store)) {
    (args.*(*m)).push_back(value);
    return std::nullopt;
  }
  const auto n = parse_count(value);
  if (!n) return name + " needs a non-negative integer, got '" + value + "'";
  if (const auto* m = std::get_if<int Args::*>(&flag.store)) {
    args.*(*m) = static_cast<int>(*n);
  } else if (const auto* m = std::get_if<uint64_t Args::*>(&flag.store)) {
    args.*(*m) = static_cast<uint64_t>(*n);
  } else if (const auto* m = std::get_if<double Args::*>(&flag.store)) {
    args.*(*m) = static_cast<double>(*n);
  } else {
    const Port& p = std::get<Port>(flag.store);
    if (*n < p.min || *n > 65535)
      return name + " needs a port from " + std::to_string(p.min) + " to 65535";
    args.*(p.member) = static_cast<int>(*n);
  }
  return std::nullopt;
}

namespace {

constexpr size_t kWidth = 100;          // usage lines wrap here
constexpr size_t kHelpColumn = 37;      // where a flag's help starts
constexpr size_t kMaxInlineFlags = 12;  // more, and the synopsis says [options] (see synopses)

// TEXT's words after FIRST, wrapped at kWidth, continued after INDENT spaces.
std::string wrap(const std::string& text, std::string first, size_t indent) {
  std::string out, line = std::move(first);
  const size_t bare = line.size();
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    if (line.size() > bare && line.size() + 1 + w.size() > kWidth) {
      out += line + "\n";
      line = std::string(indent, ' ') + w;
    } else {
      line += (line.empty() || line.back() == ' ' ? "" : " ") + w;
    }
  }
  return out + line + "\n";
}

std::vector<const Flag*> flags_of(const CommandSpec& c) {
  std::vector<const Flag*> out;
  for (const auto& f : flags())
    if (f.use_for(c.bit)) out.push_back(&f);
  return out;
}

std::string flag_form(const Flag& f, const FlagUse& u) {
  return std::string(f.name) + (*u.metavar ? std::string(" ") + u.metavar : "") +
         (f.repeatable() ? " ..." : "");
}

// "[--a A]" per flag; a group's flags together, "[--a | --b]" or "(--a A | --b B)".
std::vector<std::string> inline_synopsis(const CommandSpec& c,
                                         const std::vector<const Flag*>& mine) {
  std::vector<std::string> out;
  std::vector<std::string> groups_done;
  for (const Flag* f : mine) {
    const FlagUse& u = *f->use_for(c.bit);
    if (!u.group) {
      out.push_back("[" + flag_form(*f, u) + "]");
      continue;
    }
    const std::string group = u.group;
    if (std::find(groups_done.begin(), groups_done.end(), group) != groups_done.end()) continue;
    groups_done.push_back(group);
    std::string alternatives;
    bool required = false;
    for (const Flag* g : mine) {
      const FlagUse& gu = *g->use_for(c.bit);
      if (!gu.group || group != gu.group) continue;
      alternatives += (alternatives.empty() ? "" : " | ") + flag_form(*g, gu);
      required = required || gu.required;
    }
    out.push_back(required ? "(" + alternatives + ")" : "[" + alternatives + "]");
  }
  return out;
}

// The synopsis lines' words after "txlab CMD OPERANDS": every flag inline, or (many flags) a
// line per form, its flags and "[options]".
std::vector<std::vector<std::string>> synopses(const CommandSpec& c) {
  const auto mine = flags_of(c);
  if (mine.size() <= kMaxInlineFlags) return {inline_synopsis(c, mine)};
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> forms;
  for (const Flag* f : mine) {
    const FlagUse& u = *f->use_for(c.bit);
    if (!u.form || std::find(forms.begin(), forms.end(), u.form) != forms.end()) continue;
    forms.push_back(u.form);
    std::vector<std::string> line;
    for (const Flag* g : mine) {
      const FlagUse& gu = *g->use_for(c.bit);
      if (gu.form && forms.back() == gu.form) line.push_back(flag_form(*g, gu));
    }
    line.push_back("[options]");
    out.push_back(std::move(line));
  }
  if (out.empty()) out.push_back({"[options]"});
  return out;
}

}  // namespace

std::string render_command_usage(const CommandSpec& c) {
  const std::string head = std::string("  txlab ") + c.name + (*c.operands ? " " : "") + c.operands;
  std::string out;
  for (const auto& tokens : synopses(c)) {
    std::string line = head;
    for (const auto& token : tokens) {
      if (line.size() > head.size() && line.size() + 1 + token.size() > kWidth) {
        out += line + "\n";
        line = std::string(head.size() + 1, ' ') + token;
      } else {
        line += " " + token;
      }
    }
    out += line + "\n";
  }
  std::istringstream about(c.about);
  for (std::string l; std::getline(about, l);) out += "        " + l + "\n";
  for (const Flag* f : flags_of(c)) {
    const FlagUse& u = *f->use_for(c.bit);
    std::string left = "        " + std::string(f->name) + (*u.metavar ? " " : "") + u.metavar;
    left += left.size() + 2 <= kHelpColumn ? std::string(kHelpColumn - left.size(), ' ') : "  ";
    out += wrap(u.help, left, kHelpColumn);
  }
  return out;
}

std::string render_usage() {
  std::string out =
      "txlab — run and check cross-zone OAuth 2.0 Token Exchange (RFC 8693) topologies\n\n"
      "usage:\n";
  for (const auto& c : commands()) out += render_command_usage(c);
  return out + "  txlab help | --version | COMMAND --help\n";
}

}  // namespace txlab::cli
