// The vendor profiles' known deviations: one table of tolerated answers, one of missing
// features. Adding a vendor is adding rows here, not branches in the cases.
#include "conformance/vendor_profiles.h"

namespace txlab::conformance {

namespace {

struct DeviationRow {
  Situation situation;
  Deviation deviation;
};

const std::vector<DeviationRow>& deviation_table() {
  static const std::vector<DeviationRow> rows = {
      {Situation::kFailedBasicAuthentication,
       {{Profile::kKeycloak},
        401,
        "unauthorized_client",
        Grade::kNonStrict,
        "Keycloak answers failed client authentication with unauthorized_client (the 401 and its "
        "WWW-Authenticate challenge are there)"}},
      {Situation::kWrongSecretPost,
       {{Profile::kKeycloak}, 401, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {Situation::kWrongSecretPost,
       {{Profile::kKeycloak}, 400, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {Situation::kNoClientAuthentication,
       {{Profile::kKeycloak}, 401, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {Situation::kForbiddenAudience,
       {{Profile::kKeycloak},
        400,
        "invalid_client",
        Grade::kNonStrict,
        "Keycloak: \"Audience not found\""}},
      {Situation::kForbiddenResource,
       {{Profile::kKeycloak}, 200, "", Grade::kUnimplemented, "Keycloak V2 ignores resource"}},
  };
  return rows;
}

struct GapRow {
  Profile profile;
  Feature feature;
  const char* note;
};

constexpr GapRow kGaps[] = {
    {Profile::kKeycloak, Feature::kDelegation, "Keycloak V2 performs impersonation only"},
    {Profile::kKeycloak, Feature::kActorToken, "Keycloak V2 ignores actor_token"},
    {Profile::kKeycloak, Feature::kMayAct, "Keycloak V2 ignores may_act"},
};

}  // namespace

std::vector<Deviation> vendor_deviations(Situation s) {
  std::vector<Deviation> out;
  for (const auto& row : deviation_table())
    if (row.situation == s) out.push_back(row.deviation);
  return out;
}

std::optional<Finding> vendor_lacks(const Probe& p, Feature f) {
  for (const auto& gap : kGaps)
    if (gap.feature == f && is_profile(p, gap.profile)) return unimplemented(gap.note);
  return std::nullopt;
}

}  // namespace txlab::conformance
