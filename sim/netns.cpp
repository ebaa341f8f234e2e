// Network namespaces for zones.
#include "sim/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace txlab::netns {

namespace {
std::pair<std::string, std::string> zone_pair(const std::string& a, const std::string& b) {
  return a < b ? std::pair{a, b} : std::pair{b, a};
}
}  // namespace

Enter::Enter(int ns_fd) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) throw std::runtime_error("cannot open this thread's network namespace");
  if (::setns(ns_fd, CLONE_NEWNET) != 0) {
    ::close(original_);
    throw std::runtime_error(std::string("setns: ") + std::strerror(errno));
  }
}

Enter::~Enter() {
  if (original_ < 0) return;
  ::setns(original_, CLONE_NEWNET);  // back where the thread was; nothing to do if it fails
  ::close(original_);
}

bool can_create(std::string* why) {
  if (::geteuid() != 0) {
    *why =
        "network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN): run as root, or "
        "without --netns";
    return false;
  }
  for (const char* tool : {"ip", "iptables"}) {
    bool found = false;
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"})
      found = found || ::access((std::string(dir) + tool).c_str(), X_OK) == 0;
    if (!found) {
      *why = std::string("'") + tool + "' is missing (Debian packages iproute2 and iptables)";
      return false;
    }
  }
  return true;
}

bool Network::run(const std::vector<std::string>& argv, std::string* error) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  commands_.push_back(line);
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) {
    *error = "pipe: " + std::string(std::strerror(errno));
    return false;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(err[1]);
  std::string output;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0;)
    if (output.size() < 4096) output.append(buf, static_cast<size_t>(n));
  ::close(err[0]);
  int status = 0;
  if (rc != 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    *error = "'" + line + "' failed" + (output.empty() ? "" : ": " + output);
    return false;
  }
  return true;
}

std::unique_ptr<Network> Network::create(const Plan& plan, std::string* error) {
  std::unique_ptr<Network> net(new Network());
  std::set<std::string> zone_names;
  for (const auto& [role, zone] : plan.zone_of) zone_names.insert(zone);
  if (zone_names.size() > 200) {
    *error = "at most 200 zones";
    return nullptr;
  }
  const std::string prefix = "txlab-" + std::to_string(::getpid()) + "-";
  int index = 0;
  for (const auto& z : zone_names) {
    ZoneNs ns;
    ns.index = ++index;
    ns.name = prefix + std::to_string(ns.index);
    if (!net->run({"ip", "netns", "add", ns.name}, error)) return nullptr;
    net->zones_[z] = ns;  // from here on the destructor removes it
    net->zones_[z].fd = ::open(("/run/netns/" + ns.name).c_str(), O_RDONLY | O_CLOEXEC);
    if (net->zones_[z].fd < 0) {
      *error = "cannot open /run/netns/" + ns.name + ": " + std::strerror(errno);
      return nullptr;
    }
    if (!net->run({"ip", "-n", ns.name, "link", "set", "lo", "up"}, error)) return nullptr;
    if (!net->run({"ip", "-n", ns.name, "addr", "add", net->border_ip(z) + "/32", "dev", "lo"},
                  error))
      return nullptr;
  }
  std::map<std::string, int> next_host;
  for (const auto& [role, zone] : plan.zone_of) {
    const int host = 10 + next_host[zone]++;
    if (host > 240) {
      *error = "at most 230 roles per zone";
      return nullptr;
    }
    net->zone_of_[role] = zone;
    net->ip_of_[role] =
        "10.77." + std::to_string(net->zones_.at(zone).index) + "." + std::to_string(host);
    if (!net->run({"ip", "-n", net->zones_.at(zone).name, "addr", "add", net->ip_of_[role] + "/32",
                   "dev", "lo"},
                  error))
      return nullptr;
  }
  // A veth pair per pair of zones that a declared link crosses.
  struct Pair {
    std::string a, b, dev_a, dev_b, ip_a, ip_b;
  };
  std::map<std::pair<std::string, std::string>, Pair> pairs;
  for (const auto& [from, to] : plan.links) {
    const std::string za = plan.zone_of.at(from), zb = plan.zone_of.at(to);
    if (za == zb) continue;
    const auto key = zone_pair(za, zb);
    if (pairs.count(key)) continue;
    const int p = static_cast<int>(pairs.size());
    Pair pr{key.first,
            key.second,
            "txv" + std::to_string(p) + "a",
            "txv" + std::to_string(p) + "b",
            "10.78." + std::to_string(p) + ".1",
            "10.78." + std::to_string(p) + ".2"};
    const auto& na = net->zones_.at(pr.a).name;
    const auto& nb = net->zones_.at(pr.b).name;
    if (!net->run({"ip", "link", "add", pr.dev_a, "netns", na, "type", "veth", "peer", "name",
                   pr.dev_b, "netns", nb},
                  error) ||
        !net->run({"ip", "-n", na, "addr", "add", pr.ip_a + "/30", "dev", pr.dev_a}, error) ||
        !net->run({"ip", "-n", nb, "addr", "add", pr.ip_b + "/30", "dev", pr.dev_b}, error) ||
        !net->run({"ip", "-n", na, "link", "set", pr.dev_a, "up"}, error) ||
        !net->run({"ip", "-n", nb, "link", "set", pr.dev_b, "up"}, error))
      return nullptr;
    pairs[key] = pr;
    net->devices_[{pr.a, pr.b}] = pr.dev_a;
    net->devices_[{pr.b, pr.a}] = pr.dev_b;
  }
  // Routes: the caller's zone reaches the callee (and the callee zone's border, where proxies
  // listen); the callee's zone routes replies back to the caller. Nothing else is routed.
  std::set<std::pair<std::string, std::string>> routes;  // (zone, destination ip)
  auto route = [&](const std::string& zone, const std::string& dest, const Pair& pr) {
    if (!routes.insert({zone, dest}).second) return true;
    const bool side_a = zone == pr.a;
    return net->run({"ip", "-n", net->zones_.at(zone).name, "route", "add", dest + "/32", "via",
                     side_a ? pr.ip_b : pr.ip_a, "dev", side_a ? pr.dev_a : pr.dev_b},
                    error);
  };
  // Filters: per boundary device, new connections only for declared pairs.
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<std::string, std::string>>>
      admitted;  // (zone, device) -> (source ip, destination ip)
  for (const auto& [from, to] : plan.links) {
    const std::string za = plan.zone_of.at(from), zb = plan.zone_of.at(to);
    if (za == zb) continue;
    const Pair& pr = pairs.at(zone_pair(za, zb));
    const std::string src = net->ip_of_.at(from), dst = net->ip_of_.at(to);
    if (!route(za, dst, pr) || !route(za, net->border_ip(zb), pr) || !route(zb, src, pr))
      return nullptr;
    const std::string dev = zb == pr.a ? pr.dev_a : pr.dev_b;
    admitted[{zb, dev}].push_back({src, dst});
  }
  for (const auto& [key, pr] : pairs) {
    for (const auto& [zone, dev] : {std::pair{pr.a, pr.dev_a}, std::pair{pr.b, pr.dev_b}}) {
      const std::string ns = net->zones_.at(zone).name;
      const std::vector<std::string> ipt = {"ip", "netns", "exec", ns, "iptables", "-w"};
      auto rule = [&](std::vector<std::string> tail) {
        std::vector<std::string> argv = ipt;
        argv.insert(argv.end(), tail.begin(), tail.end());
        return net->run(argv, error);
      };
      if (!rule({"-A", "INPUT", "-i", dev, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED",
                 "-j", "ACCEPT"}))
        return nullptr;
      for (const auto& [src, dst] : admitted[{zone, dev}])
        if (!rule({"-A", "INPUT", "-i", dev, "-p", "tcp", "-s", src, "-d", dst, "-j", "ACCEPT"}))
          return nullptr;
      if (!rule({"-A", "INPUT", "-i", dev, "-p", "tcp", "-j", "REJECT", "--reject-with",
                 "tcp-reset"}) ||
          !rule({"-A", "INPUT", "-i", dev, "-j", "DROP"}))
        return nullptr;
    }
  }
  return net;
}

Network::~Network() {
  std::string ignored;
  for (auto& [zone, ns] : zones_) {
    if (ns.fd >= 0) ::close(ns.fd);
    run({"ip", "netns", "del", ns.name}, &ignored);
  }
}

bool Network::admit(const std::string& from_role, const std::string& ip, int port,
                    std::string* error) {
  const std::string from_zone = zone_of_.at(from_role), to_zone = zone_of_ip(ip);
  if (to_zone.empty() || to_zone == from_zone) return true;  // inside a zone all is open
  auto dev = devices_.find({to_zone, from_zone});
  if (dev == devices_.end()) {
    *error = "no link between zones '" + from_zone + "' and '" + to_zone + "'";
    return false;
  }
  // Inserted after the ESTABLISHED rule, before the final reset.
  return run({"ip",
              "netns",
              "exec",
              zones_.at(to_zone).name,
              "iptables",
              "-w",
              "-I",
              "INPUT",
              "2",
              "-i",
              dev->second,
              "-p",
              "tcp",
              "-s",
              ip_of(from_role),
              "-d",
              ip,
              "--dport",
              std::to_string(port),
              "-j",
              "ACCEPT"},
             error);
}

std::string Network::ip_of(const std::string& role) const { return ip_of_.at(role); }

std::string Network::border_ip(const std::string& zone) const {
  return "10.77." + std::to_string(zones_.at(zone).index) + ".250";
}

int Network::fd_of_zone(const std::string& zone) const { return zones_.at(zone).fd; }
int Network::fd_of_role(const std::string& role) const { return fd_of_zone(zone_of_.at(role)); }
std::string Network::zone_of(const std::string& role) const { return zone_of_.at(role); }
std::string Network::name_of_zone(const std::string& zone) const { return zones_.at(zone).name; }

std::vector<std::string> Network::zones() const {
  std::vector<std::string> out;
  for (const auto& [z, ns] : zones_) out.push_back(z);
  return out;
}

std::string Network::zone_of_ip(const std::string& ip) const {
  for (const auto& [role, addr] : ip_of_)
    if (addr == ip) return zone_of_.at(role);
  for (const auto& [z, ns] : zones_)
    if (border_ip(z) == ip) return z;
  return {};
}

bool Network::can_connect(const std::string& role, const std::string& ip, int port, int timeout_ms,
                          std::string* why) const {
  int fd = -1;
  {
    Enter in(fd_of_role(role));
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    *why = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in src{}, dst{};
  src.sin_family = dst.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip_of(role).c_str(), &src.sin_addr);
  ::inet_pton(AF_INET, ip.c_str(), &dst.sin_addr);
  dst.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
    *why = std::string("bind: ") + std::strerror(errno);
  } else if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0) {
    ok = true;
  } else if (errno != EINPROGRESS) {
    *why = std::strerror(errno);
  } else {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, timeout_ms) != 1) {
      *why = "timed out";
    } else {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
      if (!ok) *why = std::strerror(err);
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace txlab::netns
