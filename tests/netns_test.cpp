// Zones as hosts: the network sim/netns builds admits exactly the declared links. Needs root
// (CI runs as root); without it, the reason is the assertion.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sim/netns.h"

namespace {

using namespace txlab;

// A listening socket on ip:0 inside `ns_fd`; returns {fd, port}.
std::pair<int, int> listen_in(int ns_fd, const std::string& ip) {
  int fd = -1;
  {
    netns::Enter in(ns_fd);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << ip;
  EXPECT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return {fd, ntohs(a.sin_port)};
}

TEST(NetnsTest, OnlyDeclaredLinksCrossTheZoneBoundary) {
  std::string why;
  if (!netns::can_create(&why)) {
    // Not root: the refusal must say so (txlab run --netns prints it and exits 2).
    EXPECT_NE(why.find("root"), std::string::npos) << why;
    FAIL() << "this test needs root to build namespaces: " << why;
  }
  netns::Plan plan;
  plan.zone_of = {{"a", "cloud"}, {"b", "cloud"}, {"c", "on-prem"}, {"d", "on-prem"}};
  plan.links = {{"a", "c"}, {"a", "b"}};
  auto net = netns::Network::create(plan, &why);
  ASSERT_TRUE(net) << why;
  EXPECT_NE(net->ip_of("a"), net->ip_of("c"));
  EXPECT_EQ(net->zone_of_ip(net->ip_of("d")), "on-prem");
  std::map<std::string, std::pair<int, int>> servers;
  for (const auto& r : {"a", "b", "c", "d"})
    servers[r] = listen_in(net->fd_of_role(r), net->ip_of(r));
  auto open = [&](const std::string& from, const std::string& to) {
    std::string how;
    return net->can_connect(from, net->ip_of(to), servers[to].second, 1000, &how);
  };
  EXPECT_TRUE(open("a", "c"));  // declared, across the boundary
  EXPECT_TRUE(open("a", "b"));  // inside a zone
  EXPECT_TRUE(open("b", "a"));  // inside a zone, undeclared: a zone is one network
  EXPECT_TRUE(open("c", "d"));
  EXPECT_FALSE(open("b", "c"));  // routed (a's link), but not admitted for b
  EXPECT_FALSE(open("a", "d"));  // not routed
  EXPECT_FALSE(open("c", "a"));  // the reply route exists; a new connection back is reset
  EXPECT_FALSE(open("d", "b"));
  // A proxy port on the border, admitted for one caller only.
  const auto proxy = listen_in(net->fd_of_zone("on-prem"), net->border_ip("on-prem"));
  ASSERT_TRUE(net->admit("a", net->border_ip("on-prem"), proxy.second, &why)) << why;
  std::string how;
  EXPECT_TRUE(net->can_connect("a", net->border_ip("on-prem"), proxy.second, 1000, &how)) << how;
  EXPECT_FALSE(net->can_connect("b", net->border_ip("on-prem"), proxy.second, 1000, &how));
  for (auto& [r, s] : servers) ::close(s.first);
  ::close(proxy.first);
  const std::string name = net->name_of_zone("cloud");
  net.reset();  // the namespaces go with it
  EXPECT_NE(::access(("/run/netns/" + name).c_str(), F_OK), 0);
}

}  // namespace
