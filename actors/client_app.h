// The one client (CFA, or callers A1/A2/A3): gets its access token by client_credentials,
// calls a gateway with it, and serves POST /invoke so a user or the workload runner can
// trigger a call: {"to": ROLE, "path": "/orders/42", "method": "GET"} -> {"status", "body"}.
#pragma once

#include <mutex>
#include <string>

#include "actors/role.h"

namespace txlab {

class ClientApp : public Role {
 public:
  ClientApp(RoleEnv env, ClientSpec spec);
  ~ClientApp() override;
  RoleKind kind() const override { return RoleKind::kClient; }

 private:
  void handle_invoke(const http::Request& req, http::Response& res);
  // Cached until 30 s before expiry. Empty on failure (details in *error_json).
  std::string access_token(std::string* error_json);

  ClientSpec spec_;
  std::mutex mu_;
  std::string token_;
  int64_t token_exp_s_ = 0;
  bool token_dpop_ = false;  // token_type DPoP: presented with proofs
};

}  // namespace txlab
