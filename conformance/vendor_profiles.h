// What vendor profiles (Profile::kKeycloak) are known to do differently from the RFC's literal
// text, as data in one table: the answers a case tolerates from them in a given situation, and
// the features they lack (a case that needs one is UNIMPLEMENTED there, naming the vendor).
#pragma once

#include <optional>
#include <vector>

#include "conformance/judge.h"

namespace txlab::conformance {

// A request situation in which a vendor answers with another error than the strict one.
enum class VendorSituation {
  kFailedBasicAuthentication,  // wrong or unknown client over Basic (RFC 6749 §5.2)
  kWrongSecretPost,            // a wrong client_secret in the body (RFC 6749 §5.2)
  kNoClientAuthentication,     // a confidential client that does not authenticate
  kForbiddenAudience,          // an audience the client may not obtain (RFC 8693 §2.2.2)
  kForbiddenResource,          // a resource the client may not obtain (RFC 8707)
};

// A feature a vendor is known not to implement.
enum class VendorFeature {
  kDelegation,  // issues no act: impersonation only (RFC 8693 §1.1)
  kActorToken,  // accepts actor_token and ignores it (RFC 8693 §2.1)
  kMayAct,      // ignores may_act (RFC 8693 §4.4)
};

// The vendor deviations tolerated in `s`, in table order (each names its profiles; a case
// appends them after its own).
std::vector<Deviation> vendor_deviations(VendorSituation s);

// UNIMPLEMENTED with the vendor's note when the target's profile is known to lack `f`; nullopt
// otherwise.
std::optional<Finding> vendor_lacks(const Probe& p, VendorFeature f);

}  // namespace txlab::conformance
