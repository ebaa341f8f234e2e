// Every way the token endpoint refuses — reading the form, authenticating the client, binding
// the token (DPoP, mutual TLS), each grant (client_credentials, RFC 8693 token exchange,
// refresh), revocation and introspection — as one enum, and the one table that maps each to the
// wire: the OAuth error code (via TokenError, actors/errors.h) and its description. Stages
// return a value or a Refusal; nothing else in the authorization server chooses an error code.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "actors/errors.h"

namespace txlab::oauth {

enum class Status {
  // read the form: RFC 6749 §3.2, RFC 8693 §2.1
  kWrongContentType,
  kMalformedBody,
  kUnknownParameter,  // only under a deliberate defect (RFC 6749 §3.2 says ignore them)
  kNotUtf8,
  kRepeatedParameter,
  // authenticate: RFC 6749 §2.3, RFC 7523 §2.2/§3, RFC 8705 §2
  kMultipleAuthMethods,
  kAuthRequired,
  kUnknownClient,     // no such (enabled) client: invalid_client like a wrong secret
  kClientAuthFailed,  // wrong secret, wrong method for the registration, unknown assertion iss
  kMalformedBasic,
  kWrongAuthMethod,
  kAssertionTypeUnsupported,
  kAssertionClientIdMismatch,
  kClientKeyUnusable,
  kAssertionInvalid,
  kAssertionSubMismatch,
  kAssertionWithoutJti,
  kAssertionReplayed,
  kTlsCertificateMissing,
  kTlsCertificateUntrusted,
  kTlsSubjectMismatch,
  kTlsCertificateNotRegistered,
  // choose the grant: RFC 6749 §5.2
  kMissingGrantType,
  kUnsupportedGrantType,
  kGrantNotAllowed,
  kNoTokenExchange,
  // bind: RFC 9449 §5, §8 (DPoP), RFC 8705 §3 (certificates), txlab's broker extensions
  kDpopProofRequired,
  kDpopNonceRequired,
  kDpopProofInvalid,
  kDpopJktNotAllowed,
  kDpopJktMalformed,
  kDpopJktWithoutProof,
  kCertificateRequired,
  kX5tNotAllowed,
  kX5tWithoutCertificate,
  kX5tMalformed,
  // client_credentials: RFC 6749 §4.4, §3.3
  kScopeNotAllowed,
  // refresh_token: RFC 6749 §6, rotation (OAuth 2.0 Security BCP §4.14)
  kMissingRefreshToken,
  kRefreshTokenUnknown,
  kRefreshTokenOfOtherClient,
  kRefreshFamilyRevoked,
  kRefreshTokenExpired,
  kRefreshTokenReused,
  kRefreshScopeExceeds,
  // token exchange, parse: RFC 8693 §2.1
  kMissingSubjectToken,
  kMissingSubjectTokenType,
  kUnsupportedSubjectTokenType,
  kActorTokenTypeRequired,      // actor_token without actor_token_type
  kActorTokenTypeWithoutToken,  // actor_token_type without actor_token
  kUnsupportedActorTokenType,
  kActorTokenNotAccepted,          // impersonation-only policy (RFC 8693 §1.1)
  kUnsupportedRequestedTokenType,  // RFC 8693 §2.1 requested_token_type, §3
  kResourceNotAbsolute,            // RFC 8707 §2
  kMalformedScope,                 // RFC 6749 §3.3 scope-token syntax
  // targets (every grant): RFC 8693 §2.2.2 invalid_target
  kTargetNotAllowed,
  kNoTarget,
  kMixedBrokeredTargets,
  // token exchange, decide
  kSubjectTokenInvalid,    // the verifier's status is in the detail (RFC 8693 §2.2.2)
  kSubjectTokenDpopBound,  // a DPoP-bound subject needs the exchanger's own proof
  kActorTokenInvalid,
  kMayActRefuses,          // RFC 8693 §4.4
  kScopeExceeds,           // RFC 6749 §3.3 / §5.2 invalid_scope
  kSubjectExpiresTooSoon,  // lifetime capped to the subject's exp leaves nothing
  kActChainTooDeep,        // RFC 8693 §4.1 nesting bounded by policy
  // token exchange, the brokered second exchange
  kBackChannelUnreachable,
  kBackChannelRefused,  // the next AS refused; its code is relayed
  kBackChannelFailed,   // the next AS answered in a way that cannot be relayed
  // revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1)
  kMissingToken,
  // txlab's administration API
  kAdminKeyRequired,
  kNoSuchClient,
};

std::string_view to_string(Status s);

struct Refusal {
  Status status;
  std::string detail;                             // specifics for error_description
  TokenError relayed = TokenError::kServerError;  // kBackChannelRefused: the next AS's code
};

template <typename T>
using Result = std::variant<T, Refusal>;

// The one table from refusal to wire: the OAuth error (bad subject and actor tokens use the
// policy's choice, invalid_grant or RFC 8693 §2.2.2's invalid_request) and its description.
struct WireRefusal {
  TokenError error;
  std::string description;
};
WireRefusal to_wire(const Refusal& r, TokenError bad_token_error = TokenError::kInvalidGrant);

}  // namespace txlab::oauth
