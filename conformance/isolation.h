// Trust isolation over a whole topology: every token the scenario can produce, presented over
// HTTP to every verifier (gateways, resource servers, exchanging ASes as subject-token
// consumers), compared with what the scenario's trust configuration allows.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace txlab {
class World;
}

namespace txlab::conformance {

struct IsolationToken {
  std::string label;  // "AT1(cfa)", "call c1 AT2", "id_token(as-c2p)"
  std::string token;
  nlohmann::json header, claims;
};

struct IsolationCell {
  std::string token, verifier;
  bool expected = false;  // the trust configuration allows it
  bool actual = false;    // the verifier accepted it
  std::string observed;   // "200", "401 invalid_token", ...
  std::string reason;     // why it is expected to be refused
};

struct IsolationMatrix {
  std::vector<std::string> tokens, verifiers;
  std::vector<IsolationCell> cells;
  size_t mismatches() const;
};

// Collects the tokens (client_credentials of every client, every token of the first
// successful workload call, an ID token per exchanging AS) and presents each to every verifier.
IsolationMatrix check_isolation(World& world);
// Presents the given tokens only.
IsolationMatrix check_isolation(World& world, const std::vector<IsolationToken>& tokens);
std::vector<IsolationToken> collect_tokens(World& world);

// The expectation for one token at one verifier, from the scenario's trust configuration.
bool isolation_expected(World& world, const std::string& verifier, const nlohmann::json& header,
                        const nlohmann::json& claims, std::string* reason);

std::string render_text(const IsolationMatrix& m);

}  // namespace txlab::conformance
