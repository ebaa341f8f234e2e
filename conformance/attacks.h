// The attack catalogue (seed 004, RFC 8725): token-type confusion, issuer mix-up, leaked client
// credentials, classic JWT attacks, cross-zone replay, revocation and introspection — each a
// data-driven case run against a live World and judged against a precise expectation. The
// catalogue is data (conformance/attacks_catalogue.h, one file per group of categories).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace txlab {
class World;
}

namespace txlab::conformance {

struct AttackResult {
  std::string id;        // "jwt/alg-none"
  std::string category;  // "JWT attacks (RFC 8725)"
  std::string title;
  std::string target;    // role attacked
  std::string expected;  // "401 invalid_token"
  std::string observed;
  bool passed = false;  // the attack was rejected as expected
  std::string note;
};

struct AttackReport {
  std::string scenario;
  std::vector<AttackResult> results;
  size_t failed() const;
};

// Runs every attack that applies to the scenario's topology. Secret rotation runs last (it
// changes a live credential). Never throws for an attack's sake: a broken attack is a failure.
// Called after each attack (progress lines); may be empty.
using AttackProgress = std::function<void(size_t done, const AttackResult&)>;
AttackReport run_attacks(World& world, const AttackProgress& progress = {});

// The ids of the attacks that a defect of the attacked verifier (by its catalogue name) makes
// leak, as the catalogue records it (the self-checks in tests/attack_test.cpp).
std::vector<std::string> attacks_leaking_with(const std::string& defect);

std::string render_text(const AttackReport& report, bool color = false);
nlohmann::json render_json(const AttackReport& report);
std::string render_junit(const AttackReport& report);
struct IsolationMatrix;
// The attack report plus the isolation matrix as one more test suite (a case per mismatching
// cell, or one passing case), so JUnit fails exactly when `txlab attack` exits 1.
std::string render_junit(const AttackReport& report, const IsolationMatrix& isolation);

}  // namespace txlab::conformance
