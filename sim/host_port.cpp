// Listen addresses (see host_port.h).
#include "sim/host_port.h"

#include <cctype>

namespace txlab {

bool parse_host_port(const std::string& v, std::string* host, int* port) {
  const size_t colon = v.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == v.size()) return false;
  *host = v.substr(0, colon);
  if (host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  long long p = 0;
  for (size_t i = colon + 1; i < v.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(v[i])) || i - colon > 5) return false;
    p = p * 10 + (v[i] - '0');
  }
  if (p < 0 || p > 65535) return false;
  *port = static_cast<int>(p);
  return true;
}

bool is_loopback_host(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

}  // namespace txlab
