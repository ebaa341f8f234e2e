// Grading helpers shared by every case.
#include "conformance/judge.h"

#include "sim/clock.h"

#include "sim/jose/base64url.h"
#include "sim/jose/jws.h"
#include "sim/jose/jwt_verifier.h"
#include "sim/json_util.h"

namespace txlab::conformance {

using Json = nlohmann::json;

Finding ok(std::string actual) { return {Grade::kOk, "", std::move(actual), ""}; }
Finding failed(std::string expected, std::string actual, std::string note) {
  return {Grade::kFailed, std::move(expected), std::move(actual), std::move(note)};
}
Finding non_strict(std::string expected, std::string actual, std::string note) {
  return {Grade::kNonStrict, std::move(expected), std::move(actual), std::move(note)};
}
Finding unimplemented(std::string note, std::string actual) { return {Grade::kUnimplemented, "", std::move(actual), std::move(note)}; }
Finding informational(std::string note) { return {Grade::kInformational, "", "", std::move(note)}; }

bool is_profile(const Probe& p, Profile profile) { return p.target().profile == profile; }

Finding expect_error(const Probe& p, const Answer& a, int status, const std::string& code, const std::vector<Deviation>& deviations) {
  const std::string expected = std::to_string(status) + " " + code;
  if (a.status == status && a.error() == code) return ok(a.describe());
  for (const auto& d : deviations) {
    const bool applies = d.profiles.empty() || std::find(d.profiles.begin(), d.profiles.end(), p.target().profile) != d.profiles.end();
    if (applies && a.status == d.status && a.error() == d.code) return {d.grade, expected, a.describe(), d.note};
  }
  std::string note;
  if (a.status == 200) note = "the server accepted a request it must refuse";
  else if (a.status >= 500) note = "a server error is never the right answer to a client mistake";
  else if (a.status != 0 && !a.json()) note = "error responses are JSON (RFC 6749 §5.2)";
  return failed(expected, a.describe(), note);
}

Finding expect_invalid_subject(const Probe& p, const Answer& a, std::vector<Deviation> extra) {
  // RFC 8693 §2.2.2 names invalid_request; RFC 6749 §5.2 practice (and most servers) use
  // invalid_grant for an unusable grant.
  extra.push_back({{Profile::kCommon}, 400, "invalid_grant", Grade::kOk, ""});
  extra.push_back({{Profile::kRfc8693, Profile::kKeycloak}, 400, "invalid_grant", Grade::kNonStrict,
                   "invalid_grant is common practice; RFC 8693 §2.2.2 specifies invalid_request"});
  return expect_error(p, a, 400, "invalid_request", extra);
}

std::string with_claims(const std::string& token, const Json& claims) {
  auto parts = jose::split_compact(token);
  if (!parts) return token + "x";
  return std::string(parts->header_b64) + "." + jose::base64url_encode(claims.dump()) + "." + std::string(parts->signature_b64);
}

std::string signed_by_stranger(const Json& header, const Json& claims) {
  static const jose::Key stranger = jose::Key::generate(jose::Alg::kES256);
  Json h = header;
  h["alg"] = "ES256";
  const std::string input = jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(claims.dump());
  return input + "." + jose::base64url_encode(*jose::sign_bytes(stranger, input));
}

std::string mint(const Probe& p, const Json& overrides) {
  if (!p.target().mint) return {};
  Json c = p.target().mint_template;
  const int64_t now = p.target().clock ? p.target().clock->now_s() : now_s();
  c["iat"] = now;
  c["exp"] = now + 300;
  c["jti"] = "txlab-conformance-" + std::to_string(now) + "-" + std::to_string(std::rand());
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    if (it.value().is_null()) c.erase(it.key());
    else c[it.key()] = it.value();
  }
  return p.target().mint(c);
}

int64_t now_s() {
  static const Clock clock;  // tokens the suite mints are judged by the server's own clock
  return clock.now_s();
}

}  // namespace txlab::conformance
