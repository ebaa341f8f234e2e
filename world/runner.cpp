// Workload runner and expectation checks.
#include "world/runner.h"

#include "sim/tls.h"

#include "sim/http/oauth_error.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab {

using Json = nlohmann::json;

bool RunResult::ok() const {
  for (const auto& c : calls)
    if (!c.ok()) return false;
  return true;
}

std::string check_claim(const Json& claims, const std::string& path, const std::string& expected) {
  const Json* v = json_path(claims, path);
  // "(absent)": the claim must not be there (e.g. no act from a server that only impersonates).
  if (expected == "(absent)") return v ? safe_dump(*v) : "";
  if (!v) return "(absent)";
  if (expected == "(present)") return "";
  if (v->is_string()) return v->get<std::string>() == expected ? "" : v->get<std::string>();
  if (v->is_array()) {
    // A scalar expectation against an array (e.g. aud) holds when the array contains it.
    for (const auto& e : *v)
      if ((e.is_string() && e.get<std::string>() == expected) ||
          (!e.is_string() && safe_dump(e) == expected))
        return "";
    return v->dump();
  }
  return v->dump() == expected ? "" : v->dump();
}

std::vector<AuditEntry> collect_audit(World& world) {
  std::vector<AuditEntry> out;
  for (const auto& r : world.scenario().roles) {
    if (r.kind != RoleKind::kAuthorizationServer || !r.runs_here()) continue;
    for (auto& e : world.authorization_server(r.id).audit_log().entries())
      out.push_back(std::move(e));
  }
  return out;
}

namespace {

std::string error_of(const Json& response) {
  const Json& body = response.contains("body") ? response["body"] : Json();
  const auto e = http::parse_oauth_error(json_int(response, "status").value_or(0),
                                         body.is_null() ? "" : body.dump(),
                                         json_str(response, "www_authenticate"));
  if (e.present()) return e.error;
  if (response.contains("token_error")) return json_str(response["token_error"], "error");
  return {};
}

}  // namespace

CallResult run_call(World& world, const WorkloadCall& call, const std::string& call_id) {
  CallResult r;
  r.id = call_id;
  r.spec = &call;
  http::OutboundRequest req;
  req.method = "POST";
  req.path = "/invoke";
  req.content_type = "application/json";
  req.headers.emplace_back(kCallHeader, call_id);
  req.body = safe_dump(Json{{"to", call.to}, {"path", call.path}, {"method", call.method}});
  const int64_t start = monotonic_us();
  auto res = world.transport().http().send(world.directory().url_of(call.from), req);
  r.us = monotonic_us() - start;
  r.response = Json::parse(res.body, nullptr, false);
  if (res.status != 200 || !r.response.is_object()) {
    r.failures.push_back(
        {"invoke " + call.from, "200 with a JSON envelope",
         "HTTP " + std::to_string(res.status) + " " + std::string(http::to_string(res.error))});
    r.response = Json::object();
  }
  r.status = static_cast<int>(json_int(r.response, "status").value_or(0));
  r.error = error_of(r.response);
  if (r.status == 200 && r.response.contains("body") && json_str(r.response["body"], "role") != "")
    r.backend_saw = r.response["body"];
  r.hops = world.trace().hops(call_id);

  int n = 0;
  for (const auto& t : world.trace().tokens(call_id)) {
    TokenView v;
    v.label = "AT" + std::to_string(++n);
    v.presenter = t.presenter;
    v.to = t.to;
    v.raw = t.token;
    if (auto d = jose::decode_unverified(t.token)) {
      v.header = std::move(d->first);
      v.claims = std::move(d->second);
      v.issuer_role = world.directory().role_of_issuer(json_str(v.claims, "iss"));
    }
    r.tokens.push_back(std::move(v));
  }

  // "(dpop key of ROLE)": the RFC 7638 thumbprint of that role's DPoP key in this run, so a
  // scenario can say which key each token is bound to (cnf.jkt).
  // "(certificate of ROLE)": the RFC 8705 §3.1 thumbprint of the client certificate that role
  // presents in this run (cnf.x5t#S256).
  auto resolve = [&world](const std::string& want) {
    const std::string cert = "(certificate of ";
    if (want.rfind(cert, 0) == 0 && want.back() == ')') {
      const std::string role = want.substr(cert.size(), want.size() - cert.size() - 1);
      const MutualTls* m = world.transport().mutual_tls();
      const TlsIdentity* id = m ? m->client_identity(role) : nullptr;
      return id ? id->x5t_s256
                : "(no certificate for '" + role + "': is the scenario tls: mutual?)";
    }
    const std::string prefix = "(dpop key of ";
    if (want.rfind(prefix, 0) != 0 || want.back() != ')') return want;
    const std::string role = want.substr(prefix.size(), want.size() - prefix.size() - 1);
    try {
      return world.role(role).dpop_prover().jkt();
    } catch (const std::exception&) {
      return "(no role '" + role + "' runs here)";
    }
  };
  const Expectation& e = call.expect;
  if (e.status && *e.status != r.status)
    r.failures.push_back({"status", std::to_string(*e.status), std::to_string(r.status)});
  if (!e.error.empty() && e.error != r.error)
    r.failures.push_back({"error", e.error, r.error.empty() ? "(none)" : r.error});
  for (const auto& [path, want] : e.backend) {
    if (r.backend_saw.is_null()) {
      r.failures.push_back({"backend " + path, want, "(backend did not answer)"});
      continue;
    }
    if (auto got = check_claim(r.backend_saw, path, resolve(want)); !got.empty())
      r.failures.push_back({"backend " + path, want, got});
  }
  for (const auto& [label, claims] : e.tokens) {
    const TokenView* tv = nullptr;
    for (const auto& t : r.tokens)
      if (t.label == label) tv = &t;
    for (const auto& [path, want] : claims) {
      if (!tv) {
        r.failures.push_back({label + " " + path, want, "(no " + label + " in this call)"});
        continue;
      }
      if (auto got = check_claim(tv->claims, path, resolve(want)); !got.empty())
        r.failures.push_back({label + " " + path, want, got});
    }
  }
  return r;
}

RunResult run_workload(World& world, const RunOptions& options) {
  RunResult out;
  out.seed = options.seed;
  int n = 0;
  for (const auto& call : world.scenario().workload) {
    const int times = options.calls > 0 ? options.calls : call.repeat;
    for (int i = 0; i < times; ++i)
      out.calls.push_back(run_call(world, call, "c" + std::to_string(++n)));
  }
  out.audit = collect_audit(world);
  return out;
}

}  // namespace txlab
