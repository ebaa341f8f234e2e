// The token endpoint's one refusal table: status -> name, OAuth error, description.
#include "actors/token_status.h"

#include <array>

namespace txlab::oauth {

namespace {

// Where the OAuth error comes from: the row, the policy (bad subject or actor tokens), or the
// back-channel AS (relayed).
enum class From { kRow, kBadTokenPolicy, kRelayed };

struct Row {
  Status status;
  std::string_view name;
  TokenError error;
  std::string_view text;  // "{}" is replaced by the refusal's detail
  From from = From::kRow;
};

using E = TokenError;
using S = Status;

constexpr Row kTable[] = {
    {S::kWrongContentType, "wrong_content_type", E::kInvalidRequest,
     "content type must be application/x-www-form-urlencoded"},
    {S::kMalformedBody, "malformed_body", E::kInvalidRequest, "malformed form body"},
    {S::kUnknownParameter, "unknown_parameter", E::kInvalidRequest, "unknown parameter '{}'"},
    {S::kNotUtf8, "not_utf8", E::kInvalidRequest, "form parameters must be UTF-8"},
    {S::kRepeatedParameter, "repeated_parameter", E::kInvalidRequest, "parameter '{}' is repeated"},
    {S::kMultipleAuthMethods, "multiple_auth_methods", E::kInvalidRequest,
     "more than one client authentication method used"},
    {S::kAuthRequired, "auth_required", E::kInvalidClient, "client authentication required"},
    {S::kUnknownClient, "unknown_client", E::kInvalidClient, "client authentication failed"},
    {S::kClientAuthFailed, "client_auth_failed", E::kInvalidClient, "client authentication failed"},
    {S::kMalformedBasic, "malformed_basic", E::kInvalidClient, "malformed Basic credentials"},
    {S::kWrongAuthMethod, "wrong_auth_method", E::kInvalidClient,
     "client must authenticate with {}"},
    {S::kAssertionTypeUnsupported, "assertion_type_unsupported", E::kInvalidClient,
     "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
    {S::kAssertionClientIdMismatch, "assertion_client_id_mismatch", E::kInvalidClient,
     "client_id does not match the assertion"},
    {S::kClientKeyUnusable, "client_key_unusable", E::kInvalidClient, "client key unusable: {}"},
    {S::kAssertionInvalid, "assertion_invalid", E::kInvalidClient, "client assertion: {}"},
    {S::kAssertionSubMismatch, "assertion_sub_mismatch", E::kInvalidClient,
     "client assertion sub must equal iss"},
    {S::kAssertionWithoutJti, "assertion_without_jti", E::kInvalidClient,
     "client assertion needs jti"},
    {S::kAssertionReplayed, "assertion_replayed", E::kInvalidClient, "client assertion replayed"},
    {S::kTlsCertificateMissing, "tls_certificate_missing", E::kInvalidClient,
     "client authentication failed: {} needs the client's certificate on the TLS connection "
     "(RFC 8705 §2)"},
    {S::kTlsCertificateUntrusted, "tls_certificate_untrusted", E::kInvalidClient,
     "client authentication failed: the certificate does not chain to a trusted CA (RFC 8705 "
     "§2.1)"},
    {S::kTlsSubjectMismatch, "tls_subject_mismatch", E::kInvalidClient,
     "client authentication failed: the certificate's subject is not the registered "
     "tls_client_auth_subject_dn (RFC 8705 §2.1.2)"},
    {S::kTlsCertificateNotRegistered, "tls_certificate_not_registered", E::kInvalidClient,
     "client authentication failed: not the certificate registered for "
     "self_signed_tls_client_auth (RFC 8705 §2.2)"},
    {S::kMissingGrantType, "missing_grant_type", E::kInvalidRequest, "missing grant_type"},
    {S::kUnsupportedGrantType, "unsupported_grant_type", E::kUnsupportedGrantType,
     "grant_type '{}' is not supported"},
    {S::kGrantNotAllowed, "grant_not_allowed", E::kUnauthorizedClient,
     "client may not use grant {}"},
    {S::kNoTokenExchange, "no_token_exchange", E::kUnauthorizedClient,
     "this authorization server does not perform token exchange"},
    {S::kDpopProofRequired, "dpop_proof_required", E::kInvalidDpopProof,
     "this client's access tokens are DPoP-bound (RFC 9449 §5.2): send a DPoP proof"},
    {S::kDpopNonceRequired, "dpop_nonce_required", E::kUseDpopNonce,
     "use the DPoP-Nonce this server sent (RFC 9449 §8)"},
    {S::kDpopProofInvalid, "dpop_proof_invalid", E::kInvalidDpopProof, "{}"},
    {S::kDpopJktNotAllowed, "dpop_jkt_not_allowed", E::kInvalidRequest,
     "dpop_jkt: this client may not bind tokens to another key"},
    {S::kDpopJktMalformed, "dpop_jkt_malformed", E::kInvalidRequest,
     "dpop_jkt is not a JWK SHA-256 thumbprint"},
    {S::kDpopJktWithoutProof, "dpop_jkt_without_proof", E::kInvalidRequest,
     "dpop_jkt needs the client's own DPoP proof"},
    {S::kCertificateRequired, "certificate_required", E::kInvalidRequest,
     "this client's access tokens are certificate-bound (RFC 8705 §3): connect with its client "
     "certificate"},
    {S::kX5tNotAllowed, "x5t_not_allowed", E::kInvalidRequest,
     "tls_x5t_s256: this client may not bind tokens to another certificate"},
    {S::kX5tWithoutCertificate, "x5t_without_certificate", E::kInvalidRequest,
     "tls_x5t_s256 needs the client's own certificate"},
    {S::kX5tMalformed, "x5t_malformed", E::kInvalidRequest,
     "tls_x5t_s256 is not a certificate SHA-256 thumbprint"},
    {S::kScopeNotAllowed, "scope_not_allowed", E::kInvalidScope,
     "scope '{}' is not allowed for this client"},
    {S::kMissingRefreshToken, "missing_refresh_token", E::kInvalidRequest, "missing refresh_token"},
    {S::kRefreshTokenUnknown, "refresh_token_unknown", E::kInvalidGrant, "unknown refresh token"},
    {S::kRefreshTokenOfOtherClient, "refresh_token_of_other_client", E::kInvalidGrant,
     "refresh token was issued to another client"},
    {S::kRefreshFamilyRevoked, "refresh_family_revoked", E::kInvalidGrant,
     "refresh token family revoked"},
    {S::kRefreshTokenExpired, "refresh_token_expired", E::kInvalidGrant, "refresh token expired"},
    {S::kRefreshTokenReused, "refresh_token_reused", E::kInvalidGrant,
     "refresh token reuse detected: the family is revoked"},
    {S::kRefreshScopeExceeds, "refresh_scope_exceeds", E::kInvalidScope,
     "scope '{}' exceeds the original grant"},
    {S::kMissingSubjectToken, "missing_subject_token", E::kInvalidRequest, "missing subject_token"},
    {S::kMissingSubjectTokenType, "missing_subject_token_type", E::kInvalidRequest,
     "missing subject_token_type"},
    {S::kUnsupportedSubjectTokenType, "unsupported_subject_token_type", E::kInvalidRequest,
     "unsupported subject_token_type '{}'"},
    {S::kActorTokenTypeRequired, "actor_token_type_required", E::kInvalidRequest,
     "actor_token_type is required with actor_token"},
    {S::kActorTokenTypeWithoutToken, "actor_token_type_without_token", E::kInvalidRequest,
     "actor_token_type without actor_token"},
    {S::kUnsupportedActorTokenType, "unsupported_actor_token_type", E::kInvalidRequest,
     "unsupported actor_token_type '{}'"},
    {S::kActorTokenNotAccepted, "actor_token_not_accepted", E::kInvalidRequest,
     "this AS performs impersonation only; actor_token is not accepted"},
    {S::kUnsupportedRequestedTokenType, "unsupported_requested_token_type", E::kInvalidRequest,
     "requested_token_type '{}' is not issued by this AS"},
    {S::kResourceNotAbsolute, "resource_not_absolute", E::kInvalidTarget,
     "resource '{}' is not an absolute URI without fragment (RFC 8707 §2)"},
    {S::kMalformedScope, "malformed_scope", E::kInvalidScope, "malformed scope token"},
    {S::kTargetNotAllowed, "target_not_allowed", E::kInvalidTarget,
     "target '{}' is not allowed for this client"},
    {S::kNoTarget, "no_target", E::kInvalidTarget,
     "no audience requested and none registered for this client"},
    {S::kMixedBrokeredTargets, "mixed_brokered_targets", E::kInvalidTarget,
     "cannot mix targets served by '{}' with local ones"},
    {S::kSubjectTokenInvalid, "subject_token_invalid", E::kInvalidGrant, "subject_token: {}",
     From::kBadTokenPolicy},
    {S::kSubjectTokenDpopBound, "subject_token_dpop_bound", E::kInvalidDpopProof,
     "the subject token is DPoP-bound: prove the exchanger's own key with a DPoP proof"},
    {S::kActorTokenInvalid, "actor_token_invalid", E::kInvalidGrant, "actor_token: {}",
     From::kBadTokenPolicy},
    {S::kMayActRefuses, "may_act_refuses", E::kInvalidGrant,
     "may_act of the subject token does not permit actor '{}'", From::kBadTokenPolicy},
    {S::kScopeExceeds, "scope_exceeds", E::kInvalidScope,
     "scope '{}' exceeds the subject token or the client's registration"},
    {S::kSubjectExpiresTooSoon, "subject_expires_too_soon", E::kInvalidGrant,
     "subject_token expires too soon to be exchanged", From::kBadTokenPolicy},
    {S::kActChainTooDeep, "act_chain_too_deep", E::kInvalidRequest,
     "delegation chain deeper than {}"},
    {S::kBackChannelUnreachable, "back_channel_unreachable", E::kTemporarilyUnavailable,
     "back-channel AS '{}' unreachable"},
    {S::kBackChannelRefused, "back_channel_refused", E::kServerError, "back-channel exchange at {}",
     From::kRelayed},
    {S::kBackChannelFailed, "back_channel_failed", E::kServerError, "back-channel exchange at {}"},
    {S::kMissingToken, "missing_token", E::kInvalidRequest, "missing token"},
    {S::kAdminKeyRequired, "admin_key_required", E::kForbidden, "X-Txlab-Admin required"},
    {S::kNoSuchClient, "no_such_client", E::kNotFound, ""},
};

constexpr size_t kRows = sizeof kTable / sizeof kTable[0];
static_assert(kRows == static_cast<size_t>(Status::kNoSuchClient) + 1,
              "every Status has exactly one row");

constexpr bool rows_in_enum_order() {
  for (size_t i = 0; i < kRows; ++i)
    if (static_cast<size_t>(kTable[i].status) != i) return false;
  return true;
}
static_assert(rows_in_enum_order(), "kTable rows follow the enum's order");

const Row& row(Status s) { return kTable[static_cast<size_t>(s)]; }

}  // namespace

std::string_view to_string(Status s) { return row(s).name; }

WireRefusal to_wire(const Refusal& r, TokenError bad_token_error) {
  const Row& x = row(r.status);
  const TokenError error = x.from == From::kBadTokenPolicy ? bad_token_error
                           : x.from == From::kRelayed      ? r.relayed
                                                           : x.error;
  std::string text(x.text);
  if (const size_t at = text.find("{}"); at != std::string::npos) text.replace(at, 2, r.detail);
  return {error, std::move(text)};
}

}  // namespace txlab::oauth
