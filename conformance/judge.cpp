// Grading helpers shared by every case.
#include "conformance/judge.h"

#include <atomic>

#include "conformance/forge.h"
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
Finding unimplemented(std::string note, std::string actual) {
  return {Grade::kUnimplemented, "", std::move(actual), std::move(note)};
}
Finding informational(std::string note) { return {Grade::kInformational, "", "", std::move(note)}; }

Finding bounded_by_sentence(const CaseInfo& info, Finding f) {
  if (f.grade != Grade::kFailed && f.grade != Grade::kNonStrict) return f;
  auto add = [&f](const std::string& why) { f.note += (f.note.empty() ? "" : "; ") + why; };
  if (info.level == Level::kNone) {
    f.grade = Grade::kInformational;
    add("no normative sentence (no BCP 14 keyword) stands behind this case: reported, not graded");
    return f;
  }
  if (info.level == Level::kMay) {
    f.grade = Grade::kUnimplemented;
    add("the RFC makes this optional (MAY): not doing it is never a failure");
    return f;
  }
  if (f.grade == Grade::kFailed && info.binds != Binds::kServer) {
    f.grade = Grade::kNonStrict;
    add("the sentence binds the " + std::string(to_string(info.binds)) +
        ", not the authorization server: tolerating it is NON-STRICT at most");
  }
  if (f.grade == Grade::kFailed && info.level == Level::kShould) {
    f.grade = Grade::kNonStrict;
    add("a SHOULD: NON-STRICT at most");
  }
  return f;
}

const Answer& exchange_once(Probe& p, const std::string& key,
                            const std::function<Answer(const http::FormParams&)>& send) {
  return p.once(key, [&p, &send]() {
    std::string error;
    auto form = p.valid_exchange(&error);
    if (!form) {
      Answer a;
      a.transport_error = "no subject token: " + error;
      return a;
    }
    return send(*form);
  });
}

bool is_profile(const Probe& p, Profile profile) { return p.target().profile == profile; }

Finding expect_error(const Probe& p, const Answer& a, int status, const std::string& code,
                     const std::vector<Deviation>& deviations) {
  const std::string expected = std::to_string(status) + " " + code;
  if (a.status == status && a.error() == code) return ok(a.describe());
  for (const auto& d : deviations) {
    const bool applies = d.profiles.empty() || std::find(d.profiles.begin(), d.profiles.end(),
                                                         p.target().profile) != d.profiles.end();
    if (applies && a.status == d.status && a.error() == d.code)
      return {d.grade, expected, a.describe(), d.note};
  }
  std::string note;
  if (a.status == 200)
    note = "the server accepted a request it must refuse";
  else if (a.status >= 500)
    note = "a server error is never the right answer to a client mistake";
  else if (a.status != 0 && !a.json())
    note = "error responses are JSON (RFC 6749 §5.2)";
  return failed(expected, a.describe(), note);
}

Finding expect_invalid_subject(const Probe& p, const Answer& a, std::vector<Deviation> extra) {
  // RFC 8693 §2.2.2 names invalid_request; RFC 6749 §5.2 practice (and most servers) use
  // invalid_grant for an unusable grant.
  extra.push_back({{Profile::kCommon}, 400, "invalid_grant", Grade::kOk, ""});
  extra.push_back({{Profile::kRfc8693, Profile::kKeycloak},
                   400,
                   "invalid_grant",
                   Grade::kNonStrict,
                   "invalid_grant is common practice; RFC 8693 §2.2.2 specifies invalid_request"});
  return expect_error(p, a, 400, "invalid_request", extra);
}

Finding expect_refused(const Probe& p, const Answer& a, std::vector<Deviation> extra) {
  const std::string expected = is_profile(p, Profile::kRfc8693)
                                   ? "400 invalid_request"
                                   : "400 invalid_request or invalid_grant";
  if (a.status == 200)
    return failed(expected, a.describe(), "the server accepted a token it must refuse");
  if (a.status == 0) return failed(expected, a.describe());
  if (a.status >= 500)
    return failed(expected, a.describe(),
                  "a server error is never the right answer to a bad token");
  if (!a.json() || a.error().empty())
    return failed(expected, a.describe(),
                  "error responses are JSON with an error member (RFC 6749 §5.2)");
  Finding f = expect_invalid_subject(p, a, std::move(extra));
  if (f.grade != Grade::kFailed) return f;
  return non_strict(expected, a.describe(),
                    "refused, but RFC 8693 §2.2.2 names invalid_request for an invalid token");
}

Finding expect_target_refused(const Probe& p, const Answer& a,
                              const std::vector<Deviation>& deviations) {
  Finding f = expect_error(p, a, 400, "invalid_target", deviations);
  if (f.grade == Grade::kFailed && a.status == 200 && !p.target().forbidden_audience_known)
    return non_strict("400 invalid_target", a.describe(),
                      "a token was issued for a target txlab made up; whether the client may "
                      "obtain it is policy: name one it may "
                      "not with --forbidden-audience to make this a failure");
  if (f.grade != Grade::kFailed || a.status == 200 || a.status == 0 || a.status >= 500 ||
      !a.json() || a.error().empty()) {
    if (a.status == 200) f.note = "a token was issued for a target the client may not obtain";
    return f;
  }
  return non_strict("400 invalid_target", a.describe(),
                    "refused; invalid_target is the code the RFC says SHOULD be used");
}

std::string with_claims(const std::string& token, const Json& claims) {
  auto parts = jose::split_compact(token);
  if (!parts) return token + "x";
  return std::string(parts->header_b64) + "." + jose::base64url_encode(claims.dump()) + "." +
         std::string(parts->signature_b64);
}

std::string signed_by_stranger(const Json& header, const Json& claims) {
  static const jose::Key stranger = jose::Key::generate(jose::Alg::kES256);
  Json h = header;
  h["alg"] = "ES256";
  const std::string input =
      jose::base64url_encode(h.dump()) + "." + jose::base64url_encode(claims.dump());
  return input + "." + jose::base64url_encode(*jose::sign_bytes(stranger, input));
}

bool can_mint(const Probe& p, size_t key) {
  const auto& keys = p.target().issuer_keys;
  return key < keys.size() && keys[key].key && keys[key].key->has_private();
}

std::string needs_key_note(size_t key) {
  if (key == 0)
    return "needs a token signed by an issuer the target trusts: run with --issuer-key FILE "
           "--issuer NAME, or "
           "--serve-issuer PORT and configure the target to trust it";
  return "needs a second trusted issuer's key: give --issuer-key/--issuer twice, or --serve-issuer "
         "(it serves two issuers)";
}

int64_t target_now(const Probe& p) {
  return p.target().clock ? p.target().clock->now_s() : now_s();
}

std::string mint(const Probe& p, const Json& overrides, const Json& header, size_t key) {
  if (!can_mint(p, key)) return {};
  static std::atomic<uint64_t> serial{0};
  const IssuerKey& k = p.target().issuer_keys[key];
  Json c = p.target().mint_template;
  if (key > 0) c["iss"] = k.issuer;
  const int64_t now = target_now(p);
  c["iat"] = now;
  c["exp"] = now + 300;
  c["jti"] = "txlab-conformance-" + std::to_string(now) + "-" + std::to_string(++serial);
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    if (it.value().is_null())
      c.erase(it.key());
    else
      c[it.key()] = it.value();
  }
  Json h = Json::object();
  if (!p.target().minted_typ.empty()) h["typ"] = p.target().minted_typ;
  h["kid"] = k.key->kid();
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.value().is_null())
      h.erase(it.key());
    else
      h[it.key()] = it.value();
  }
  return forge::sign_with(*k.key, h, c);
}

int64_t now_s() {
  static const Clock clock;  // tokens the suite mints are judged by the server's own clock
  return clock.now_s();
}

}  // namespace txlab::conformance
