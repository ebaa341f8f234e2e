// The isolation matrix: expected from trust configuration, actual over HTTP.
#include "conformance/isolation.h"

#include <sstream>

#include "actors/authorization_server.h"
#include "actors/token_client.h"
#include "conformance/holder.h"
#include "sim/http/form.h"
#include "sim/http/oauth_error.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "world/runner.h"
#include "world/world.h"

namespace txlab::conformance {

using Json = nlohmann::json;

size_t IsolationMatrix::mismatches() const {
  size_t n = 0;
  for (const auto& c : cells) n += c.expected != c.actual ? 1 : 0;
  return n;
}

namespace {

const ClientRegistration* exchanger_of(const RoleSpec& as) {
  for (const auto& c : as.as.clients)
    if (std::find(c.grants.begin(), c.grants.end(), "token-exchange") != c.grants.end() &&
        (c.auth == ClientAuthMethod::kClientSecretBasic || is_tls_auth(c.auth)))
      return &c;
  return nullptr;
}

bool typ_is_at_jwt(const Json& header) {
  std::string t = json_str(header, "typ");
  for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t == "at+jwt" || t == "application/at+jwt";
}

std::string observed_of(const http::InboundResponse& r) {
  std::string s = std::to_string(r.status);
  const std::string e =
      http::parse_oauth_error(r.status, r.body, r.header("WWW-Authenticate")).error;
  return e.empty() ? s : s + " " + e;
}

}  // namespace

bool isolation_expected(World& w, const std::string& verifier, const Json& header,
                        const Json& claims, std::string* reason) {
  const RoleSpec* v = w.scenario().find_role(verifier);
  std::vector<std::string> trust, audiences;
  if (v->kind == RoleKind::kGateway) {
    trust = v->gateway.trust;
    audiences = v->gateway.audiences;
  } else if (v->kind == RoleKind::kResourceServer) {
    trust = v->resource.trust;
    audiences = v->resource.audiences;
  } else {
    trust = v->as.exchange->trust;
    const ClientRegistration* ex = exchanger_of(*v);
    audiences = {ex->id, w.directory().issuer_of(verifier)};
    audiences.insert(audiences.end(), ex->subject_audiences.begin(), ex->subject_audiences.end());
  }
  const std::string iss = json_str(claims, "iss");
  // The typ the issuer's access tokens carry: at+jwt (RFC 9068), or what an external AS is
  // declared to use (Keycloak: JWT), as the verifiers hold it.
  std::string want_typ = "at+jwt";
  for (const auto& r : w.scenario().roles)
    if (r.external && w.directory().issuer_of(r.id) == iss) {
      want_typ = r.external->access_token_typ;
      for (const auto& [name, value] : r.external->access_token_claims)
        if (json_str(claims, name.c_str()) != value) {
          *reason = "not an access token of its issuer (claim " + name + ")";
          return false;
        }
    }
  std::string typ = json_str(header, "typ");
  for (auto& ch : typ) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string want = want_typ;
  for (auto& ch : want) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (want == "at+jwt" ? !typ_is_at_jwt(header) : (!want.empty() && typ != want)) {
    *reason = "not an access token (typ " + json_str(header, "typ") + ")";
    return false;
  }
  bool trusted = false;
  for (const auto& t : trust) trusted = trusted || w.directory().issuer_of(t) == iss;
  if (!trusted) {
    *reason = "issuer " + iss + " not trusted";
    return false;
  }
  bool aud = false;
  for (const auto& a : audiences)
    aud = aud || jose::audience_contains(claims.value("aud", Json()), a);
  if (!aud) {
    *reason = "aud " + claims.value("aud", Json()).dump() + " not for this verifier";
    return false;
  }
  return true;
}

std::vector<IsolationToken> collect_tokens(World& w) {
  std::vector<IsolationToken> out;
  auto add = [&](const std::string& label, const std::string& token) {
    if (token.empty()) return;
    for (const auto& t : out)
      if (t.token == token) return;
    auto d = jose::decode_unverified(token);
    if (!d) return;
    out.push_back({label, token, d->first, d->second});
  };
  // As the role that holds these credentials would (with its DPoP proof when it uses one), at the
  // AS's token endpoint (an external AS's own path).
  auto post = [&](const std::string& as, const http::FormParams& form, const std::string& id,
                  const std::string& secret) {
    const std::string path = w.directory().token_path_of(as);
    return json_str(Json::parse(send_proved(w, w.directory().url_of(as),
                                            token_request(w, as, path, form, id, secret),
                                            presenter_for_client(w, as, id))
                                    .body,
                                nullptr, false),
                    "access_token");
  };
  // Every client's own token.
  for (const auto& r : w.scenario().roles)
    if (r.kind == RoleKind::kClient) {
      http::FormParams f = {{"grant_type", "client_credentials"}};
      for (const auto& a : r.client.audiences) f.emplace_back("audience", a);
      add("AT(" + r.id + ")", post(r.client.credentials.as_role, f, r.client.credentials.client_id,
                                   r.client.credentials.secret));
    }
  // Every token of the first successful call of each workload entry (AT1, AT2, AT3 ...).
  int n = 0;
  for (const auto& call : w.scenario().workload) {
    auto r = run_call(w, call, "iso" + std::to_string(++n));
    if (r.status != 200) continue;
    for (const auto& t : r.tokens) add(call.from + "->" + call.to + " " + t.label, t.raw);
  }
  // An ID token from each exchanging AS (token-type confusion across the matrix).
  for (const auto& g : w.scenario().roles) {
    if (g.kind != RoleKind::kGateway || !g.gateway.exchange) continue;
    for (const auto& t : std::vector<IsolationToken>(out)) {
      if (t.label.rfind("AT(", 0) != 0) continue;
      http::FormParams f = {{"grant_type", kGrantTokenExchange},
                            {"subject_token", t.token},
                            {"subject_token_type", kTypeAccessToken},
                            {"requested_token_type", kTypeIdToken}};
      add("id_token(" + g.gateway.exchange->client.as_role + ")",
          post(g.gateway.exchange->client.as_role, f, g.gateway.exchange->client.client_id,
               g.gateway.exchange->client.secret));
      break;
    }
  }
  return out;
}

IsolationMatrix check_isolation(World& w) { return check_isolation(w, collect_tokens(w)); }

IsolationMatrix check_isolation(World& w, const std::vector<IsolationToken>& tokens) {
  IsolationMatrix m;
  for (const auto& t : tokens) m.tokens.push_back(t.label);
  for (const auto& r : w.scenario().roles) {
    const bool exchanging_as =
        r.kind == RoleKind::kAuthorizationServer && r.as.exchange && exchanger_of(r);
    if (r.kind == RoleKind::kGateway || r.kind == RoleKind::kResourceServer || exchanging_as)
      m.verifiers.push_back(r.id);
  }
  for (const auto& t : tokens) {
    for (const auto& v : m.verifiers) {
      IsolationCell c;
      c.token = t.label;
      c.verifier = v;
      c.expected = isolation_expected(w, v, t.header, t.claims, &c.reason);
      const RoleSpec* spec = w.scenario().find_role(v);
      http::OutboundRequest req;
      if (spec->kind == RoleKind::kAuthorizationServer) {
        const ClientRegistration* ex = exchanger_of(*spec);
        req = token_request(w, v, "/token",
                            {{"grant_type", kGrantTokenExchange},
                             {"subject_token", t.token},
                             {"subject_token_type", kTypeAccessToken}},
                            ex->id, ex->secret);
        // The exchanger proves its own key where it uses DPoP, and connects with its own
        // certificate under mutual TLS (a bound subject token needs either).
        auto res = send_proved(w, w.directory().url_of(v), req, presenter_for_client(w, v, ex->id));
        c.observed = observed_of(res);
        const std::string e = json_str(Json::parse(res.body, nullptr, false), "error");
        // Accepted as a subject token: issued, or refused for a reason other than the token.
        c.actual = res.status == 200 || (res.status >= 400 && e != "invalid_grant" &&
                                         e != "invalid_request" && e != "invalid_client");
      } else {
        req.path = "/isolation/probe";
        // Presented by its holder: a DPoP-bound token with the DPoP scheme and the holder's
        // proof, a certificate-bound one over the holder's connection (whether a verifier
        // accepts it is about trust, not about who copied it).
        const Presenter holder = holder_of(w, t.claims);
        req.headers.emplace_back("Authorization", (holder.dpop ? "DPoP " : "Bearer ") + t.token);
        auto res = send_proved(w, w.directory().url_of(v), req, holder, t.token);
        c.observed = observed_of(res);
        c.actual = res.status != 401 && res.status != 400 && res.status != 0;
      }
      m.cells.push_back(std::move(c));
    }
  }
  return m;
}

std::string render_text(const IsolationMatrix& m) {
  std::ostringstream o;
  size_t w = 6;
  for (const auto& t : m.tokens) w = std::max(w, t.size() + 2);
  auto col = [](const std::string& v) { return std::max<size_t>(v.size(), 7) + 2; };
  auto pad = [](const std::string& s, size_t n) {
    return s.size() >= n ? s + " " : s + std::string(n - s.size(), ' ');
  };
  o << std::string(w, ' ');
  for (const auto& v : m.verifiers) o << pad(v, col(v));
  o << "\n";
  for (const auto& t : m.tokens) {
    o << pad(t, w);
    for (const auto& v : m.verifiers)
      for (const auto& c : m.cells)
        if (c.token == t && c.verifier == v)
          o << pad(
              std::string(c.actual ? "accept" : "reject") + (c.actual != c.expected ? "!" : ""),
              col(v));
    o << "\n";
  }
  for (const auto& c : m.cells)
    if (c.actual != c.expected)
      o << "MISMATCH " << c.token << " at " << c.verifier << ": expected "
        << (c.expected ? "accept" : "reject (" + c.reason + ")") << ", observed " << c.observed
        << "\n";
  o << m.cells.size() << " cells, " << m.mismatches() << " mismatches\n";
  return o.str();
}

}  // namespace txlab::conformance
