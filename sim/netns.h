// Zones as hosts (txlab run --netns): a Linux network namespace per zone, each role on its own
// address inside its zone's namespace, a veth pair between two zones only where the scenario
// declares a link between them, routes only to the declared targets, and a filter on each zone
// boundary that admits new connections only for declared (caller, callee) pairs — replies of
// admitted connections pass, anything else is reset. Inside a zone, roles reach each other
// freely (a zone is one network). Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN), `ip` (iproute2)
// and `iptables`.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace txlab::netns {

// Runs the calling thread in the namespace `ns_fd` for its scope (setns(2)), then restores the
// thread's own. Threads created inside the scope stay in `ns_fd` for life.
class Enter {
 public:
  explicit Enter(int ns_fd);
  ~Enter();
  Enter(const Enter&) = delete;
  Enter& operator=(const Enter&) = delete;

 private:
  int original_ = -1;
};

// Whether this process may create namespaces; when not, *why says what is missing.
bool can_create(std::string* why);

struct Plan {
  std::map<std::string, std::string> zone_of;           // role -> zone
  std::set<std::pair<std::string, std::string>> links;  // (caller, callee) roles, declared
};

class Network {
 public:
  // Creates the namespaces, addresses, links, routes and filters. nullptr and *error on failure
  // (anything half made is removed).
  static std::unique_ptr<Network> create(const Plan& plan, std::string* error);
  ~Network();  // deletes the namespaces
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  std::string ip_of(const std::string& role) const;      // "10.77.1.10"
  std::string border_ip(const std::string& zone) const;  // where a zone's fault proxies bind
  int fd_of_zone(const std::string& zone) const;         // an open namespace fd
  int fd_of_role(const std::string& role) const;
  std::string zone_of(const std::string& role) const;
  std::string name_of_zone(const std::string& zone) const;  // "txlab-1234-1"
  std::vector<std::string> zones() const;
  // The zone whose namespace holds `ip`, or "".
  std::string zone_of_ip(const std::string& ip) const;
  // Can `role` (from its namespace and address) open a TCP connection to ip:port within
  // `timeout_ms`? On failure *why says how it failed (no route, reset, timeout).
  bool can_connect(const std::string& role, const std::string& ip, int port, int timeout_ms,
                   std::string* why) const;
  // Admits new connections from `from_role` to ip:port across the zone boundary (a fault
  // proxy of a declared link, on its zone's border address, once its port is known).
  bool admit(const std::string& from_role, const std::string& ip, int port, std::string* error);
  // The commands that built the network (README, debugging).
  const std::vector<std::string>& commands() const { return commands_; }

 private:
  Network() = default;
  bool run(const std::vector<std::string>& argv, std::string* error);
  struct ZoneNs {
    std::string name;
    int index = 0;
    int fd = -1;
  };
  std::map<std::string, ZoneNs> zones_;
  std::map<std::string, std::string> zone_of_, ip_of_;
  std::map<std::pair<std::string, std::string>, std::string> devices_;  // (zone, peer zone)
  std::vector<std::string> commands_;
};

}  // namespace txlab::netns
