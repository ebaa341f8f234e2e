// txlab's own HTTP request/response and router: what a role's handler sees. No server library
// type crosses this line, so actors/ is independent of how bytes are read (Boost.Beast today).
// Pure data and pure functions: routing is unit-tested without sockets.
#pragma once

#include <utility>  // Boost 1.74 asio uses std::exchange without including it

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace txlab::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // as sent, e.g. "POST"
  std::string target;  // request-target as sent (origin-form: path and query)
  std::string path;    // target without the query, not decoded (routing is on the raw bytes)
  std::string query;   // after '?', not decoded
  Headers headers;     // in arrival order, names as sent
  std::string body;
  // Captures of the matched route: [0] the whole path, then one per `{}` segment.
  std::vector<std::string> matches;
  // Set by the server from the TLS session only (never from a header): whether the request
  // came over TLS, the client certificate of the connection (DER; "" when none was sent), and
  // whether it chains to the CA the server checks client certificates against.
  bool tls = false;
  std::string client_cert_der;
  bool client_cert_verified = false;

  // Case-insensitive (RFC 9110 §5.1); the first value, or "" when absent.
  std::string header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  bool has_header(std::string_view name) const { return header_count(name) > 0; }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  // Replaces any header of that name.
  void set_header(std::string_view name, std::string value);
  std::string header(std::string_view name) const;
  void set_content(std::string content, std::string content_type);
};

using Handler = std::function<void(const Request&, Response&)>;
// A handler that waits on the network as a coroutine (co_await on an async client) instead of
// blocking a thread: the server runs it on the I/O thread that parsed the request, never on
// the worker pool. Whatever it waits for must have a deadline.
using AsyncHandler = std::function<boost::asio::awaitable<void>(const Request&, Response&)>;

bool iequals(std::string_view a, std::string_view b);

// Routes by method and path. A pattern is a literal path whose segments may be `{}` (one
// non-empty segment, captured into Request::matches) and whose last segment may be `*` (any
// remainder: "/*" matches every path, "/a/*" matches "/a/" and below). No regular expressions:
// matching is linear in the path and safe on hostile input.
class Router {
 public:
  void get(std::string pattern, Handler handler) { add("GET", std::move(pattern), handler); }
  void post(std::string pattern, Handler handler) { add("POST", std::move(pattern), handler); }
  // GET, POST, PUT, PATCH and DELETE.
  void any(std::string pattern, const Handler& handler);
  // `quick`: the handler never blocks (no I/O, no waiting; e.g. a cached JWKS), so the server
  // may run it on the I/O thread and spare two thread hand-offs.
  void add(std::string method, std::string pattern, Handler handler, bool quick = false);
  void get_quick(std::string pattern, Handler handler) {
    add("GET", std::move(pattern), std::move(handler), true);
  }
  // True when the route `req` would take is a quick one.
  bool is_quick(const Request& req) const;
  // Async routes (see AsyncHandler); `any_async` registers GET, POST, PUT, PATCH and DELETE.
  void add_async(std::string method, std::string pattern, AsyncHandler handler);
  void any_async(std::string pattern, const AsyncHandler& handler);
  // The handler of the route `req` takes when that route is async (req.matches filled), or
  // null: a sync route, or none (dispatch answers 404/405).
  const AsyncHandler* async_route(Request& req) const;

  // Runs the first route that matches; 404 (no route for the path) or 405 with Allow (the
  // path exists for other methods) as JSON otherwise. HEAD runs the GET route (the server
  // drops the body). `req.matches` is filled for the handler.
  void dispatch(Request& req, Response& res) const;

  // Pure matcher, exposed for tests: true and the captures when `path` fits `pattern`.
  static bool match(std::string_view pattern, std::string_view path,
                    std::vector<std::string>* captures);

 private:
  struct Route {
    std::string method, pattern;
    Handler handler;
    bool quick = false;
    AsyncHandler async;  // set: an async route (handler empty)
  };
  static void fill_matches(Request& req, std::vector<std::string> captures);
  const Route* find(const std::string& method, const std::string& path) const;
  std::vector<Route> routes_;
};

// The JSON error body every refusal of the HTTP layer carries (404, 405, 408, 413, 431, 503…):
// {"error": code, "error_description": "HTTP <status> <reason>"}.
void reply_http_error(Response& res, int status, std::string_view detail = {});

}  // namespace txlab::http
