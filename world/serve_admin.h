// Events while `txlab serve` runs: the timeline's event catalogue (rotate and retire keys,
// revoke and restore clients, revoke tokens, rotate secrets, roles down and up, clock steps,
// policy changes), applied now to the roles this process runs, from stdin lines or from an
// admin endpoint on loopback that takes a bearer token.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/http/message.h"
#include "sim/http/server.h"

namespace txlab {

class World;

class ServeAdmin {
 public:
  // `token` guards the admin endpoint (compared in constant time); empty refuses every request.
  ServeAdmin(World& world, std::string token);
  ~ServeAdmin();

  struct Outcome {
    bool ok = false;
    std::string event;   // the event as understood ("rotate_key as-c")
    std::string result;  // what applying it did, or why it was refused
  };
  // Parses (as a timeline entry, or the short form "down gw-c2pe"), checks and applies one event.
  Outcome submit(const std::string& text);
  // The newest applied or refused events (at most kHistory), and how many older ones were dropped.
  nlohmann::json history() const;
  static constexpr size_t kHistory = 1000;

  // The admin endpoint on 127.0.0.1:`port` (0: any): POST /events (the body is one event),
  // GET /events (the history); both need "Authorization: Bearer TOKEN" (401 otherwise).
  // Returns the port.
  int start(int port);
  // The endpoint's routing and authorization, without sockets (tests).
  void handle(const http::Request& req, http::Response& res);

 private:
  World& world_;
  const std::string token_;
  mutable std::mutex mu_;  // one event at a time; guards the history
  std::deque<nlohmann::json> history_;
  size_t dropped_ = 0;
  std::unique_ptr<http::LoopbackServer> server_;
};

// A random bearer token (32 bytes from the system's CSPRNG, base64url).
std::string random_admin_token();

}  // namespace txlab
