// txlab health: GET a URL, exit 0 on 200 within 3 s (the image's and Compose's health check).
#include <iostream>

#include "cli/command.h"
#include "sim/http/client_pool.h"

namespace txlab::cli {

int cmd_health(const Args& a) {
  const std::string& url = a.scenario;
  if (url.rfind("http://", 0) != 0) usage_error("health needs an http:// URL, got '" + url + "'");
  const size_t slash = url.find('/', 7);
  http::OutboundRequest req;
  req.path = slash == std::string::npos ? "/" : url.substr(slash);
  req.timeout_ms = 3000;
  http::HttpClientPool pool;
  const auto res = pool.send(url.substr(0, slash), req);
  if (res.status == 200) return 0;
  std::cerr << "txlab health: " << url << ": "
            << (res.status ? std::to_string(res.status) : std::string(http::to_string(res.error)))
            << "\n";
  return 1;
}

}  // namespace txlab::cli
