// The one resource server (PBA): verifies the access token itself and answers 200 with
// JSON of what it saw (iss, sub, aud, act chain, scope, client_id, sub_id).
#pragma once

#include "actors/bearer_guard.h"
#include "actors/role.h"

namespace txlab {

class ResourceServer : public Role {
 public:
  ResourceServer(RoleEnv env, ResourceServerSpec spec);
  ~ResourceServer() override;
  RoleKind kind() const override { return RoleKind::kResourceServer; }

 private:
  ResourceServerSpec spec_;
  BearerGuard guard_;
};

}  // namespace txlab
