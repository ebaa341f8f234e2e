// Sender-constrained tokens in the isolation matrix and the attack catalogue: who presents a
// token as its holder would — the role whose DPoP key (cnf.jkt) or client certificate
// (cnf.x5t#S256) it is bound to — and requests sent as that role: with its DPoP proof (retried
// once with the server's nonce, RFC 9449 §8) and over its own TLS connection with its client
// certificate (RFC 8705).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "actors/dpop.h"
#include "sim/http/client_pool.h"
#include "sim/http/form.h"

namespace txlab {
class World;
}

namespace txlab::conformance {

struct Presenter {
  const DpopProver* dpop = nullptr;      // proves this key (DPoP scheme) when set
  http::HttpClientPool* pool = nullptr;  // sends with this pool (a role's certificate) when set
};

// The role of `w` a token with these claims is bound to (its DPoP key and/or its client
// certificate); empty for an unbound token or one bound to nothing a role of this world holds.
Presenter holder_of(World& w, const nlohmann::json& claims);
// The role that uses `client_id` at `as_role` (a client, a gateway's exchange or introspection,
// a broker's back channel): its prover when it uses DPoP, its pool under mutual TLS.
Presenter presenter_for_client(World& w, const std::string& as_role, const std::string& client_id);
// A token request to `as_role` authenticated as its registration of `client_id` asks: HTTP
// Basic with `secret`, or under RFC 8705 only client_id in the form (the TLS connection
// authenticates).
http::OutboundRequest token_request(World& w, const std::string& as_role, const std::string& path,
                                    http::FormParams form, const std::string& client_id,
                                    const std::string& secret);
// Sends `req` to `base` (path from req) as `who`: with a DPoP proof for it (ath when an access
// token is presented; retried once with the nonce of a use_dpop_nonce answer), over its pool.
http::InboundResponse send_proved(World& w, const std::string& base, http::OutboundRequest req,
                                  const Presenter& who, const std::string& access_token = {});

}  // namespace txlab::conformance
