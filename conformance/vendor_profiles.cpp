// The vendor profiles' known deviations: one table of tolerated answers, one of missing
// features. Adding a vendor is adding rows here, not branches in the cases.
#include "conformance/vendor_profiles.h"

namespace txlab::conformance {

namespace {

struct DeviationRow {
  VendorSituation situation;
  Deviation deviation;
};

const std::vector<DeviationRow>& deviation_table() {
  static const std::vector<DeviationRow> rows = {
      {VendorSituation::kFailedBasicAuthentication,
       {{Profile::kKeycloak},
        401,
        "unauthorized_client",
        Grade::kNonStrict,
        "Keycloak answers failed client authentication with unauthorized_client (the 401 and its "
        "WWW-Authenticate challenge are there)"}},
      {VendorSituation::kWrongSecretPost,
       {{Profile::kKeycloak}, 401, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {VendorSituation::kWrongSecretPost,
       {{Profile::kKeycloak}, 400, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {VendorSituation::kNoClientAuthentication,
       {{Profile::kKeycloak}, 401, "unauthorized_client", Grade::kNonStrict, "Keycloak's code"}},
      {VendorSituation::kForbiddenAudience,
       {{Profile::kKeycloak},
        400,
        "invalid_client",
        Grade::kNonStrict,
        "Keycloak: \"Audience not found\""}},
      {VendorSituation::kForbiddenResource,
       {{Profile::kKeycloak}, 200, "", Grade::kUnimplemented, "Keycloak V2 ignores resource"}},
  };
  return rows;
}

struct GapRow {
  Profile profile;
  VendorFeature feature;
  const char* note;
};

constexpr GapRow kGaps[] = {
    {Profile::kKeycloak, VendorFeature::kDelegation, "Keycloak V2 performs impersonation only"},
    {Profile::kKeycloak, VendorFeature::kActorToken, "Keycloak V2 ignores actor_token"},
    {Profile::kKeycloak, VendorFeature::kMayAct, "Keycloak V2 ignores may_act"},
};

}  // namespace

std::vector<Deviation> vendor_deviations(VendorSituation s) {
  std::vector<Deviation> out;
  for (const auto& row : deviation_table())
    if (row.situation == s) out.push_back(row.deviation);
  return out;
}

std::optional<Finding> vendor_lacks(const Probe& p, VendorFeature f) {
  for (const auto& gap : kGaps)
    if (gap.feature == f && is_profile(p, gap.profile)) return unimplemented(gap.note);
  return std::nullopt;
}

}  // namespace txlab::conformance
