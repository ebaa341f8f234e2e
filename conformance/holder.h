// Sender-constrained tokens in the isolation matrix and the attack catalogue: whose key a token
// is bound to, which role proves a client's key, and a request sent with that role's DPoP proof
// (retried once with the server's nonce, RFC 9449 §8).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "actors/dpop.h"
#include "sim/http/client_pool.h"

namespace txlab {
class World;
}

namespace txlab::conformance {

// The role of `w` whose DPoP key `claims` are bound to (cnf.jkt), or nullptr (unbound, or
// bound to a key no role of this world holds).
const DpopProver* holder_of(World& w, const nlohmann::json& claims);
// The prover of the role that uses `client_id` at `as_role` with `dpop: true` (a client, a
// gateway's exchange, a broker's back channel), or nullptr.
const DpopProver* prover_for_client(World& w, const std::string& as_role,
                                    const std::string& client_id);
// Sends `req` to `base` (path from req); with `prover`, a DPoP proof for it (ath when an
// access token is presented), retried once with the nonce of a use_dpop_nonce answer.
http::InboundResponse send_proved(World& w, const std::string& base, http::OutboundRequest req,
                                  const DpopProver* prover, const std::string& access_token = {});

}  // namespace txlab::conformance
