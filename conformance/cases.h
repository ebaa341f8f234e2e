// The case registry: each file adds the cases of its RFC sections.
#pragma once

#include <vector>

#include "conformance/case.h"

namespace txlab::conformance {

class Probe;

// What a case that sends the exchanger's password with Basic grades when it cannot: INFORMATIONAL
// when the exchanger authenticates with its certificate (RFC 8705 §2: there is no password to
// send, the case does not apply), UNIMPLEMENTED when the server does not take Basic.
Finding without_basic(const Probe& p);

void add_request_cases(std::vector<Case>& out);
// How the token endpoint reads a request: RFC 6749 §3.2 (unrecognized and empty parameters),
// §2.3.1 (credentials not in the URI), RFC 8693 §2.1 (POST, form encoding).
void add_form_cases(std::vector<Case>& out);
// HTTP as RFC 9110 defines it (media type and auth scheme case, media type parameters) and
// malformed bodies (RFC 6749 §5.2 invalid_request, never a server error).
void add_http_cases(std::vector<Case>& out);      // RFC 8693 §2.1, RFC 6749 §2.3.1/§3.2/§5.2
void add_response_cases(std::vector<Case>& out);  // RFC 8693 §2.2.1, §3; RFC 6749 §5.1; RFC 9068
void add_subject_cases(
    std::vector<Case>& out);  // RFC 8693 §2.2.2 subject tokens and targets; RFC 8707
void add_act_cases(std::vector<Case>& out);  // RFC 8693 §4.1 act, §4.4 may_act
void add_scope_cases(std::vector<Case>& out);
void add_dpop_cases(std::vector<Case>& out);  // RFC 9449 §4.3, §5, §6.1, §11.3 (DPoP)
void add_mtls_cases(std::vector<Case>& out);  // RFC 8705 §2, §2.1, §3.1 (mutual TLS)
// Probe families: forgeries and bad claims for subject and actor tokens of each type; the
// issued token re-exchanged (RFC 7515 §5.2, RFC 7519 §4.1, RFC 8725 §3).
void add_family_cases(std::vector<Case>& out);
// Probes by bug class on every slot: near-miss comparisons, parser differentials, the
// signature's algorithm, exact client authentication (RFC 7519 §2/§4, RFC 7515 §4/§5.2,
// RFC 8725 §3.8, RFC 6749 §5.2).
void add_class_cases(std::vector<Case>& out);
// The issuer rotates its key (built-in targets, --serve-issuer): registered after every case
// that mints tokens with the key it withdraws.
void add_rotation_cases(std::vector<Case>& out);
// Judged last, over everything the run saw (RFC 6749 §5.2 character set of every error).
void add_summary_cases(std::vector<Case>& out);

}  // namespace txlab::conformance
