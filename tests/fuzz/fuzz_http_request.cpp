// Fuzz target: the HTTP/1.1 request parser wrapper every role's server uses (Boost.Beast's
// parser with txlab's limits and header checks, sim/http/server.h parse_request), then routing.
// Invariants: a request the server would run has an origin-form path and a body within the
// limit; a refusal is one of the statuses the server answers in JSON.
#include <cstdint>
#include <string_view>

#include "sim/http/server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const txlab::http::Router router = [] {
    txlab::http::Router r;
    r.get("/jwks",
          [](const txlab::http::Request&, txlab::http::Response& res) { res.body = "{}"; });
    r.post("/admin/clients/{}/rotate-secret",
           [](const txlab::http::Request& req, txlab::http::Response& res) {
             if (req.matches.size() != 2 || req.matches[1].empty() ||
                 req.matches[1].find('/') != std::string::npos)
               __builtin_trap();
             res.body = "{}";
           });
    r.any("/api/*",
          [](const txlab::http::Request&, txlab::http::Response& res) { res.body = "{}"; });
    return r;
  }();
  txlab::http::ServerOptions small;
  small.max_header_bytes = 512;
  small.max_header_count = 8;
  small.max_body_bytes = 256;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const auto& limits : {txlab::http::ServerOptions{}, small}) {
    auto parsed = txlab::http::parse_request(in, limits);
    if (parsed.status != 0) {
      if (parsed.complete) __builtin_trap();
      switch (parsed.status) {
        case 400:
        case 413:
        case 417:
        case 431:
          break;
        default:
          __builtin_trap();
      }
      continue;
    }
    if (!parsed.complete) continue;
    const auto& req = parsed.request;
    if (req.path.empty() || req.path[0] != '/' || req.body.size() > limits.max_body_bytes ||
        parsed.consumed > size)
      __builtin_trap();
    txlab::http::Request routed = req;
    txlab::http::Response res;
    router.dispatch(routed, res);
    if (res.status < 200 || res.status > 599) __builtin_trap();
  }
  return 0;
}
