// The control (a legitimate token passes, so the refusals mean something), issuer mix-up
// (seed 004 #2) and cross-zone replay: genuine tokens presented where trust does not reach.
#include "actors/as_defects.h"
#include "actors/authorization_server.h"
#include "conformance/attacks_catalogue.h"
#include "conformance/judge.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"
#include "world/world.h"

namespace txlab::conformance::attacks {

namespace {

const char* kMix = "Issuer mix-up (seed 004 #2)";
const char* kReplay = "Cross-zone replay";

// A token at `target`, refused with 401 invalid_token (RFC 6750 §3.1).
Attack refused_at(std::string id, const char* category, std::string title, Role target,
                  std::function<std::string(Context&)> token, Applies applies = Applies::kEvery,
                  std::vector<std::string> leaks_with = {}) {
  return {std::move(id),
          category,
          std::move(title),
          target,
          present(std::move(token)),
          refused(401, "invalid_token"),
          applies,
          Issuer::kTxlab,
          std::move(leaks_with)};
}

// RFC 9493 sub_id: the exchanged token keeps the original issuer with the subject (or names the
// caller in act, the caller-in-act convention).
bool keyed_by_iss_sub(const Observed& o, Context& c) {
  const Json claims = o.status == 200 ? jose::decode_unverified(json_str(o.body, "access_token"))
                                            .value_or(std::make_pair(Json(), Json()))
                                            .second
                                      : Json();
  const Json* iss = json_path(claims, "sub_id.iss");
  const Json* act_iss = json_path(claims, "act.iss");
  return o.status == 200 && ((iss && *iss == c.w.directory().issuer_of(c.t.entry_as)) ||
                             (act_iss && claims.contains("act")));
}

}  // namespace

void add_control_attacks(std::vector<Attack>& out) {
  out.push_back({"control/legitimate-token-accepted", "Control",
                 "A legitimate AT1 passes the entry gateway's verification", Role::kEntryGateway,
                 present([](Context& c) { return c.at1(); }), not_401("not 401")});
}

void add_mixup_attacks(std::vector<Attack>& out) {
  out.push_back(refused_at(
      "mixup/same-sub-other-issuer", kMix, "Another issuer's genuine token claiming the same sub",
      Role::kEntryGateway,
      [](Context& c) {
        return c.sign(c.t.foreign_as, c.access_claims(c.t.foreign_as, c.t.entry_audience));
      },
      Applies::kForeignAs, {defect_name::kJwksUnion}));
  out.push_back(refused_at("mixup/trusted-key-other-iss", kMix,
                           "Signed with the trusted key but carrying another iss",
                           Role::kEntryGateway, [](Context& c) {
                             Json claims = c.access_claims(c.t.entry_as, c.t.entry_audience);
                             claims["iss"] = "https://evil.example";
                             return c.sign(c.t.entry_as, claims);
                           }));
  out.push_back(refused_at(
      "mixup/spoofed-iss-untrusted-key", kMix,
      "iss spoofed to the trusted value, signed by an untrusted key", Role::kEntryGateway,
      [](Context& c) {
        return signed_by_stranger(
            {{"typ", "at+jwt"},
             {"kid", c.w.authorization_server(c.t.entry_as).key_store().signing_key().kid()}},
            c.access_claims(c.t.entry_as, c.t.entry_audience));
      }));
  out.push_back({"mixup/identity-keyed-by-iss-sub",
                 kMix,
                 "Exchanged tokens keep the original issuer with the subject (RFC 9493 sub_id)",
                 Role::kExchangeAs,
                 [](Context& c, const std::string&) {
                   http::FormParams extra;
                   if (!c.t.exchanger_audiences.empty())
                     extra.emplace_back("audience", c.t.exchanger_audiences.front());
                   return c.exchange(extra, c.at1());
                 },
                 {"200 with sub_id.iss = {entry_issuer}", keyed_by_iss_sub}});
}

void add_replay_attacks(std::vector<Attack>& out) {
  out.push_back(refused_at(
      "replay/at1-at-edge-gateway", kReplay, "AT1 replayed at the on-prem gateway",
      Role::kEdgeGateway, [](Context& c) { return c.at1(); }, Applies::kEdgeGateway));
  out.push_back(refused_at(
      "replay/token-for-another-gateway", kReplay,
      "A genuine edge-zone token whose aud names another gateway", Role::kEdgeGateway,
      [](Context& c) {
        return c.sign(c.t.edge_as, c.access_claims(c.t.edge_as, c.t.entry_audience));
      },
      Applies::kEdgeGateway));
  out.push_back(refused_at(
      "replay/at1-at-backend", kReplay, "AT1 replayed straight at the backend", Role::kBackend,
      [](Context& c) { return c.at1(); }, Applies::kBackend));
  out.push_back(refused_at(
      "replay/wrong-audience-at-entry", kReplay,
      "A genuine cloud token for another audience at the entry gateway", Role::kEntryGateway,
      [](Context& c) {
        return c.sign(c.t.entry_as, c.access_claims(c.t.entry_as, "urn:txlab:someone-else"));
      },
      Applies::kEvery, {defect_name::kSkipAud}));
}

}  // namespace txlab::conformance::attacks
