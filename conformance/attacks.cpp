// The attack runner: walks the catalogue (attacks_*.cpp), builds and sends each attack that
// applies to the topology, judges the answer against its expectation; and the reports.
#include "conformance/attacks.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/authorization_server.h"
#include "actors/dpop.h"
#include "conformance/attacks_catalogue.h"
#include "conformance/holder.h"
#include "conformance/isolation.h"
#include "sim/http/oauth_error.h"
#include "sim/http/server.h"
#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "sim/junit.h"
#include "sim/tls.h"
#include "world/world.h"

namespace txlab::conformance {

namespace attacks {

std::string Observed::describe() const {
  std::string s = status ? std::to_string(status) : "no answer";
  if (!error.empty()) s += " " + error;
  if (!at.empty()) s += " at " + at;
  return s;
}

Observed observe(const http::InboundResponse& r) {
  Observed o;
  o.status = r.status;
  o.body = Json::parse(r.body, nullptr, false);
  o.error = http::parse_oauth_error(r.status, r.body, r.header("WWW-Authenticate")).error;
  return o;
}

Topology discover(World& w) {
  Topology t;
  const Scenario& s = w.scenario();
  for (const auto& r : s.roles) {
    if (r.kind == RoleKind::kGateway && r.gateway.exchange && t.entry_gw.empty()) {
      t.entry_gw = r.id;
      t.entry_as = r.gateway.trust.front();
      t.entry_audience = r.gateway.audiences.front();
      t.exchange_as = r.gateway.exchange->client.as_role;
      t.exchanger = r.gateway.exchange->client;
      t.exchanger_audiences = r.gateway.exchange->audiences;
    }
  }
  for (const auto& r : s.roles) {
    if (r.kind == RoleKind::kGateway && !r.gateway.exchange && t.edge_gw.empty()) {
      t.edge_gw = r.id;
      t.edge_as = r.gateway.trust.front();
      t.edge_audience = r.gateway.audiences.front();
    }
    if (r.kind == RoleKind::kResourceServer && t.backend.empty()) t.backend = r.id;
    if (r.kind == RoleKind::kClient && t.client_id.empty() &&
        r.client.credentials.as_role == t.entry_as) {
      t.client_id = r.client.credentials.client_id;
      t.client_secret = r.client.credentials.secret;
      t.client_audiences = r.client.audiences;
    }
  }
  if (const RoleSpec* g = s.find_role(t.entry_gw)) {
    for (const auto& r : s.roles)
      if (r.kind == RoleKind::kAuthorizationServer &&
          std::find(g->gateway.trust.begin(), g->gateway.trust.end(), r.id) ==
              g->gateway.trust.end() &&
          t.foreign_as.empty())
        t.foreign_as = r.id;
  }
  return t;
}

// ---- expectations ----

namespace {

template <typename T>
bool one_of(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Expectation refused_any(std::vector<int> statuses, std::vector<std::string> errors) {
  std::string text;
  for (size_t i = 0; i < statuses.size(); ++i) text += (i ? "/" : "") + std::to_string(statuses[i]);
  for (size_t i = 0; i < errors.size(); ++i) text += (i ? " or " : " ") + errors[i];
  return {text, [statuses, errors](const Observed& o, Context&) {
            return one_of(statuses, o.status) && one_of(errors, o.error);
          }};
}

Expectation refused(int status, const std::string& error) { return refused_any({status}, {error}); }

Expectation refused_4xx(const std::string& text) {
  return {text, [](const Observed& o, Context&) { return o.status >= 400 && o.status < 500; }};
}

Expectation not_401(const std::string& text) {
  return {text, [](const Observed& o, Context&) { return o.status != 401 && o.status != 0; }};
}

Expectation introspected_active(bool active) {
  if (active)
    return {"200 active true", [](const Observed& o, Context&) {
              return o.status == 200 && o.body.value("active", false);
            }};
  return {"200 active false", [](const Observed& o, Context&) {
            return o.status == 200 && o.body.is_object() && o.body.value("active", true) == false;
          }};
}

Expectation also(Expectation e, const std::string& more,
                 std::function<bool(const Observed&, Context&)> holds) {
  return {e.text + more, [first = std::move(e.holds), holds = std::move(holds)](
                             const Observed& o, Context& c) { return first(o, c) && holds(o, c); }};
}

Send present(std::function<std::string(Context&)> token, size_t pad) {
  return [token = std::move(token), pad](Context& c, const std::string& target) {
    return c.bearer(target, token(c), pad);
  };
}

// ---- the context ----

struct Context::MtlsThieves {
  std::string victim;
  std::unique_ptr<http::HttpClientPool> thief, self_signed, foreign;
};

struct Context::Attacker {
  explicit Attacker(const jose::Key& k) : key(k) {}
  const jose::Key& key;
  http::LoopbackServer server;
  int hits = 0;
};

Context::Context(World& world) : w(world), t(discover(world)) {}
Context::~Context() = default;

std::string Context::role(Role r) const {
  switch (r) {
    case Role::kEntryGateway:
      return t.entry_gw;
    case Role::kEntryAs:
      return t.entry_as;
    case Role::kExchangeAs:
      return t.exchange_as;
    case Role::kEdgeGateway:
      return t.edge_gw;
    case Role::kBackend:
      return t.backend;
  }
  return {};
}

bool Context::applies(Applies a) {
  switch (a) {
    case Applies::kEvery:
      return true;
    case Applies::kDpopBoundClient:
      return dpop_holder() != nullptr;
    case Applies::kCertificateBoundAt1:
      if (!certificate_bound_) {
        // Asked once, after the DPoP attacks: a fresh AT1 tells whether it is bound.
        const auto d = jose::decode_unverified(at1());
        const Json claims = d ? d->second : Json();
        certificate_bound_ = w.transport().mutual_tls() && json_path(claims, "cnf.x5t#S256");
      }
      return *certificate_bound_;
    case Applies::kTlsClientAuth: {
      if (!applies(Applies::kCertificateBoundAt1)) return false;
      const RoleSpec* as_spec = w.scenario().find_role(t.entry_as);
      const ClientRegistration* reg = nullptr;
      for (const auto& c : as_spec->as.clients)
        if (c.id == t.client_id) reg = &c;
      return reg && is_tls_auth(reg->auth);
    }
    case Applies::kForeignAs:
      return !t.foreign_as.empty();
    case Applies::kEdgeGateway:
      return !t.edge_gw.empty();
    case Applies::kBackend:
      return !t.backend.empty();
    case Applies::kRefreshTokens: {
      const RoleSpec* xs = w.scenario().find_role(t.exchange_as);
      return xs && xs->as.exchange && xs->as.exchange->refresh_tokens;
    }
    case Applies::kRotatableSecret:
      return !is_tls_auth(t.exchanger.auth);
  }
  return false;
}

bool Context::external(const std::string& role) const {
  const RoleSpec* spec = w.scenario().find_role(role);
  return spec && spec->external;
}

std::string Context::expand(const std::string& text) const {
  std::string out = text;
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"{entry_issuer}", w.directory().issuer_of(t.entry_as)},
           {"{exchanger}", t.exchanger.client_id}})
    for (size_t at = out.find(name); at != std::string::npos;
         at = out.find(name, at + value.size()))
      out.replace(at, name.size(), value);
  return out;
}

int64_t Context::now(const std::string& role) { return w.time().clock(role).now_s(); }

Json Context::access_claims(const std::string& as, const std::string& aud) {
  const int64_t n = now(as);
  return {{"iss", w.directory().issuer_of(as)},
          {"sub", t.client_id},
          {"aud", aud},
          {"client_id", t.client_id},
          {"iat", n},
          {"exp", n + 300},
          {"jti", "attack-" + std::to_string(++jti_)}};
}

std::string Context::sign(const std::string& as, const Json& claims, const std::string& typ) {
  return w.authorization_server(as).sign(claims, typ);
}

std::string Context::raw_token(const Json& header, const Json& claims, const std::string& sig) {
  return jose::base64url_encode(header.dump()) + "." + jose::base64url_encode(claims.dump()) + "." +
         jose::base64url_encode(sig);
}

std::string Context::at1() {
  // As the scenario's client asks for it: with its audiences (a vendor that puts the requested
  // audience into aud issues no token for the entry gateway without them).
  http::FormParams f = {{"grant_type", "client_credentials"}};
  for (const auto& a : t.client_audiences) f.emplace_back("audience", a);
  auto r = post(t.entry_as, token_path(t.entry_as), f, t.client_id, t.client_secret);
  return json_str(r.body, "access_token");
}

std::string Context::token_path(const std::string& role) const {
  return w.directory().token_path_of(role);
}

std::string Context::holder_role_of_client(const std::string& as_role,
                                           const std::string& client_id) const {
  for (const auto& r : w.scenario().roles)
    if (r.kind == RoleKind::kClient && r.client.credentials.as_role == as_role &&
        r.client.credentials.client_id == client_id)
      return r.id;
  return {};
}

Observed Context::bearer(const std::string& role, const std::string& token, size_t pad_header) {
  http::OutboundRequest req;
  req.path = "/attack/probe";
  const auto d = jose::decode_unverified(token);
  const Presenter holder = d ? holder_of(w, d->second) : Presenter{};
  req.headers.emplace_back("Authorization", (holder.dpop ? "DPoP " : "Bearer ") + token);
  if (pad_header) req.headers.emplace_back("X-Padding", std::string(pad_header, 'a'));
  return observe(send_proved(w, w.directory().url_of(role), req, holder, token));
}

Observed Context::post(const std::string& role, const std::string& path,
                       const http::FormParams& form, const std::string& id,
                       const std::string& secret) {
  return observe(send_proved(w, w.directory().url_of(role),
                             token_request(w, role, path, form, id, secret),
                             presenter_for_client(w, role, id)));
}

Observed Context::exchange(const http::FormParams& extra, const std::string& subject,
                           const std::string& type, const std::string& secret_override) {
  http::FormParams f = {{"grant_type", kGrantTokenExchange},
                        {"subject_token", subject},
                        {"subject_token_type", type}};
  for (const auto& kv : extra) f.push_back(kv);
  return post(t.exchange_as, token_path(t.exchange_as), f, t.exchanger.client_id,
              secret_override.empty() ? t.exchanger.secret : secret_override);
}

const DpopProver* Context::dpop_holder() {
  return presenter_for_client(w, t.entry_as, t.client_id).dpop;
}

const DpopProver& Context::dpop_thief() {
  if (!dpop_thief_) dpop_thief_ = std::make_unique<DpopProver>(w.time().clock(t.entry_gw));
  return *dpop_thief_;
}

Context::MtlsThieves& Context::mtls_thieves() {
  if (mtls_) return *mtls_;
  const MutualTls* mtls = w.transport().mutual_tls();
  auto pool_with = [&](const TlsIdentity& id) {
    auto p = std::make_unique<http::HttpClientPool>();
    p->set_tls({mtls->ca_pem, id.cert_pem, id.key_pem});
    return p;
  };
  mtls_ = std::make_unique<MtlsThieves>();
  mtls_->victim = holder_role_of_client(t.entry_as, t.client_id);
  TlsAuthority stranger_ca;
  mtls_->thief = pool_with(w.transport().issue_certificate("attacker"));
  mtls_->self_signed = pool_with(make_self_signed_identity(mtls_->victim));
  mtls_->foreign = pool_with(stranger_ca.issue(mtls_->victim));
  return *mtls_;
}

http::HttpClientPool& Context::mtls_thief() { return *mtls_thieves().thief; }
http::HttpClientPool& Context::mtls_self_signed() { return *mtls_thieves().self_signed; }
http::HttpClientPool& Context::mtls_foreign_ca() { return *mtls_thieves().foreign; }
std::string Context::mtls_victim() { return mtls_thieves().victim; }

Context::Attacker& Context::attacker() {
  if (attacker_) return *attacker_;
  // One key for every run of the process, as before.
  static const jose::Key key = jose::Key::generate(jose::Alg::kES256);
  attacker_ = std::make_unique<Attacker>(key);
  Attacker& a = *attacker_;
  a.server.routes().get("/*", [&a](const http::Request&, http::Response& res) {
    ++a.hits;
    res.set_content(Json{{"keys", {a.key.public_jwk()}}}.dump(), "application/json");
  });
  a.server.start();
  return a;
}

std::string Context::attacker_url() { return attacker().server.base_url(); }
Json Context::attacker_jwk() { return attacker().key.public_jwk(); }
int Context::attacker_hits() { return attacker().hits; }

std::string Context::sign_as_attacker(Json header, const Json& claims) {
  header["typ"] = "at+jwt";
  header["kid"] = attacker().key.kid();
  return jose::sign_compact(attacker().key, header, claims.dump());
}

// ---- the catalogue and the runner ----

const std::vector<Attack>& attack_catalogue() {
  static const std::vector<Attack> all = [] {
    std::vector<Attack> out;
    add_control_attacks(out);
    add_dpop_attacks(out);
    add_mtls_attacks(out);
    add_type_attacks(out);
    add_mixup_attacks(out);
    add_leak_attacks(out);
    add_jwt_attacks(out);
    add_replay_attacks(out);
    add_refresh_attacks(out);
    add_revocation_attacks(out);
    add_rotation_attacks(out);
    add_vendor_attacks(out);
    return out;
  }();
  return all;
}

namespace {

// Runs one attack and records it. Never throws: a broken attack is a failure.
AttackResult run_one(const Attack& a, Context& c) {
  const std::string target = c.role(a.target);
  AttackResult r{a.id, a.category, a.title, target, c.expand(a.expected.text), "", false, ""};
  try {
    const Observed o = a.send(c, target);
    r.observed = o.describe();
    r.passed = a.expected.holds(o, c);
  } catch (const std::exception& e) {
    r.observed = std::string("attack aborted: ") + e.what();
  }
  return r;
}

std::string pad(const std::string& s, size_t w) {
  return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' ');
}

}  // namespace

}  // namespace attacks

size_t AttackReport::failed() const {
  size_t n = 0;
  for (const auto& r : results) n += r.passed ? 0 : 1;
  return n;
}

// Against an external authorization server (a vendor) txlab holds none of its keys: only the
// vendor's attacks run (attacks_vendor.cpp).
AttackReport run_attacks(World& world, const AttackProgress& progress) {
  using namespace attacks;
  AttackReport report;
  report.scenario = world.scenario().name;
  Context c(world);
  if (c.t.entry_gw.empty() || c.t.client_id.empty()) {
    report.results.push_back({"setup/topology", "setup",
                              "the scenario has an exchanging gateway and a client of its AS", "-",
                              "an entry gateway and a client", "none found", false, ""});
    return report;
  }
  const Issuer issuer =
      c.external(c.t.entry_as) || c.external(c.t.exchange_as) ? Issuer::kVendor : Issuer::kTxlab;
  for (const Attack& a : attack_catalogue()) {
    if (a.issuer != issuer || !c.applies(a.applies)) continue;
    report.results.push_back(run_one(a, c));
    if (progress) progress(report.results.size(), report.results.back());
  }
  return report;
}

std::vector<std::string> attacks_leaking_with(const std::string& defect) {
  std::vector<std::string> ids;
  for (const auto& a : attacks::attack_catalogue())
    if (attacks::one_of(a.leaks_with, defect)) ids.push_back(a.id);
  return ids;
}

using attacks::Json;
using attacks::pad;

std::string render_text(const AttackReport& report, bool color) {
  std::ostringstream o;
  o << "txlab attack · scenario " << report.scenario << "\n";
  std::string category;
  size_t id_width = 42;  // the widest id and a space
  for (const auto& r : report.results) id_width = std::max(id_width, r.id.size() + 1);
  o << "\n  " << pad("attack", id_width) << pad("target", 9) << pad("expected", 48)
    << pad("observed", 24) << "verdict\n";
  for (const auto& r : report.results) {
    if (r.category != category) {
      category = r.category;
      o << "\n" << category << "\n";
    }
    const std::string verdict = r.passed ? "✔" : "✘ NOT AS EXPECTED";
    o << "  " << pad(r.id, id_width) << pad(r.target, 9) << pad(r.expected, 48)
      << pad(r.observed, 24)
      << (color ? (r.passed ? "\033[32m" : "\033[31m") + verdict + "\033[0m" : verdict) << "\n";
    if (!r.passed) o << "      " << r.title << "\n";
  }
  o << "\n"
    << report.results.size() << " attacks: " << report.results.size() - report.failed()
    << " behaved as expected, " << report.failed() << " did not\n";
  return o.str();
}

Json render_json(const AttackReport& report) {
  Json rows = Json::array();
  for (const auto& r : report.results)
    rows.push_back({{"id", r.id},
                    {"category", r.category},
                    {"title", r.title},
                    {"target", r.target},
                    {"expected", r.expected},
                    {"observed", r.observed},
                    {"passed", r.passed}});
  return {{"scenario", report.scenario}, {"failed", report.failed()}, {"attacks", rows}};
}

namespace {

JunitReport attack_junit(const AttackReport& report) {
  JunitSuite suite{report.scenario};
  suite.layout = JunitLayout::kOneLine;
  for (const auto& r : report.results) {
    JunitCase c{r.category, r.id};
    if (!r.passed)
      c.failure = JunitFailure{r.title, "expected: " + r.expected + "\nobserved: " + r.observed};
    suite.cases.push_back(std::move(c));
  }
  return JunitReport("txlab attack", {std::move(suite)});
}

}  // namespace

std::string render_junit(const AttackReport& report, const IsolationMatrix& isolation) {
  JunitReport junit = attack_junit(report);
  JunitSuite suite{"trust isolation"};
  suite.layout = JunitLayout::kCompact;
  if (isolation.mismatches() == 0)
    suite.cases.push_back(
        {"txlab.isolation",
         "every token at every verifier (" + std::to_string(isolation.cells.size()) + " cells)"});
  for (const auto& cell : isolation.cells) {
    if (cell.expected == cell.actual) continue;
    JunitCase c{"txlab.isolation", cell.token + " at " + cell.verifier};
    c.failure = JunitFailure{
        std::string("expected ") + (cell.expected ? "accept" : "reject") + ", got " + cell.observed,
        cell.reason};
    suite.cases.push_back(std::move(c));
  }
  junit.suites.push_back(std::move(suite));
  return txlab::render_junit(junit);
}

std::string render_junit(const AttackReport& report) {
  return txlab::render_junit(attack_junit(report));
}

}  // namespace txlab::conformance
