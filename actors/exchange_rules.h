// The RFC 8693 token-exchange grant as pure rules: parse (form -> typed request, RFC 8693
// §2.1), targets (audience / RFC 8707 resource against the client's registration), and decide
// (verified subject and actor claims, client policy and now -> what to issue). Every refusal is a
// named Status of the token endpoint, mapped to the wire in its one table (to_wire). No sockets, no
// clocks, no keys: the authorization server does the I/O around these (verifying tokens, signing,
// the back channel).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/errors.h"
#include "actors/token_client.h"
#include "actors/token_status.h"
#include "sim/http/form.h"
#include "sim/scenario.h"

namespace txlab::exchange {

// The grant refuses with the token endpoint's one Status enum and its one wire table
// (actors/token_status.h).
using oauth::Refusal;
using oauth::Result;
using oauth::Status;
using oauth::to_string;
using oauth::to_wire;
using oauth::WireRefusal;

// A parsed exchange request.
struct Request {
  std::string subject_token, subject_type;
  std::optional<std::string> actor_token, actor_type;
  std::string issued_type = kTypeAccessToken;  // requested_token_type, when given and issued here
  std::vector<std::string> resources, audiences;
  std::optional<std::vector<std::string>> scope;
};

struct ParsePolicy {
  bool delegation = true;       // actor tokens accepted
  bool refresh_tokens = false;  // requested_token_type refresh_token can be issued
};

// RFC 8693 §2.1 (and RFC 8707 §2, RFC 6749 §3.3 syntax), in the grant's order.
Result<Request> parse(const http::FormParams& form, const ParsePolicy& policy);

// The targets of the issued token: resources then audiences, each registered for the client;
// the client's registered audiences when none is requested (RFC 8693 §2.2.2 invalid_target).
Result<std::vector<std::string>> targets(const Request& r, const ClientRegistration& client);

// What the AS issues, decided from verified inputs.
struct Decision {
  std::vector<std::string> scope;  // issued scope (⊆ subject ∩ client)
  bool report_scope = true;  // RFC 8693 §2.2.1: scope returned when it differs from the request
  int64_t ttl_s = 0;
  nlohmann::json actor;  // {"sub", "iss"?}: who acts (the client without actor_token)
  nlohmann::json act;    // the issued act claim, or null (impersonation)
};

struct Inputs {
  const Request& request;
  const ClientRegistration& client;
  const ExchangePolicy& policy;
  const nlohmann::json& subject;  // verified subject token claims
  const nlohmann::json* actor;    // verified actor token claims, when actor_token was sent
  int64_t now_s;
};

// RFC 8693 §4.4 may_act, scope (RFC 6749 §3.3), lifetime (policy cap and the subject's exp),
// act (§4.1: current actor outermost, earlier actors nested; or the caller-in-act convention).
Result<Decision> decide(const Inputs& in);

}  // namespace txlab::exchange
