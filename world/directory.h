// Who is where in a world: each role's URL, token path and issuer, the URL one role reaches
// another at (through a fault proxy when a link is declared), where a role listens and the URL
// it is reached at from elsewhere; published to the roles as their Directory (actors/role.h).
// Part of the World (world.directory()).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/role.h"
#include "sim/scenario.h"

namespace txlab {

class AuthorizationServer;
class Transport;

struct RoleInfo {
  std::string id;
  RoleKind kind;
  std::string zone;
  std::string url;
  std::string issuer;  // ASes only
};

class WorldDirectory {
 public:
  // The world's roles by id (all of them, and its authorization servers), and its transport
  // (for the fault proxies on links). All must outlive the directory.
  WorldDirectory(const Scenario& scenario, const std::map<std::string, Role*>& roles,
                 const std::map<std::string, AuthorizationServer*>& ases,
                 const Transport& transport);

  std::string url_of(const std::string& role) const;  // throws std::out_of_range
  // An authorization server's token endpoint below url_of: "/token", or an external AS's path.
  std::string token_path_of(const std::string& role) const;
  // The URL `from` uses to reach `to`: through a fault proxy when a link is declared.
  std::string url_for(const std::string& from, const std::string& to) const;
  std::string issuer_of(const std::string& role) const;      // throws std::out_of_range
  std::string role_of_issuer(const std::string& iss) const;  // "" if none
  // An authorization server txlab does not run (kind: external_authorization_server).
  bool is_external(const std::string& role) const;  // external, or remote (serve --role)
  std::vector<RoleInfo> roles() const;

  // Before start(): serve `role` on this address and port instead of 127.0.0.1:0.
  void listen_on(const std::string& role, const std::string& host, int port);
  std::optional<std::pair<std::string, int>> listen_address(const std::string& role) const;
  // Before start(): the URL `role` is reached at from elsewhere (serve --public-url); its
  // metadata, and its issuer when the scenario sets none or `issuer: served`, use it.
  void public_url(const std::string& role, const std::string& url);

  // What the roles read: shared with each role's Directory, filled by publish().
  const std::shared_ptr<Directory::Shared>& shared() const { return shared_; }
  // Once every role and proxy listens: their URLs and issuers, published to the roles.
  void publish();

 private:
  const Scenario& scenario_;
  const std::map<std::string, Role*>& roles_;
  const std::map<std::string, AuthorizationServer*>& ases_;
  const Transport& transport_;
  std::shared_ptr<Directory::Shared> shared_ = std::make_shared<Directory::Shared>();
  std::map<std::string, std::pair<std::string, int>> listen_;
};

}  // namespace txlab
