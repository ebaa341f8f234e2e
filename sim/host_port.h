// A listen address as given on a command line: "HOST:PORT" (IPv6 as "[::1]:PORT"), and whether
// a host is this machine's loopback.
#pragma once

#include <string>

namespace txlab {

// Splits "HOST:PORT" (brackets of an IPv6 host removed); false when malformed or PORT > 65535.
bool parse_host_port(const std::string& v, std::string* host, int* port);

// 127.x.y.z, ::1 or localhost.
bool is_loopback_host(const std::string& host);

}  // namespace txlab
