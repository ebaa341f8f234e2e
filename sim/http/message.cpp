// Request/Response helpers and the regex-free router.
#include "sim/http/message.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace txlab::http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

namespace {
std::string first(const Headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}
}  // namespace

std::string Request::header(std::string_view name) const { return first(headers, name); }

size_t Request::header_count(std::string_view name) const {
  size_t n = 0;
  for (const auto& [k, v] : headers) n += iequals(k, name) ? 1 : 0;
  return n;
}

void Response::set_header(std::string_view name, std::string value) {
  for (auto it = headers.begin(); it != headers.end();)
    it = iequals(it->first, name) ? headers.erase(it) : std::next(it);
  headers.emplace_back(std::string(name), std::move(value));
}

std::string Response::header(std::string_view name) const { return first(headers, name); }

void Response::set_content(std::string content, std::string content_type) {
  body = std::move(content);
  set_header("Content-Type", std::move(content_type));
}

void Router::any(std::string pattern, const Handler& handler) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) add(m, pattern, handler);
}

void Router::add(std::string method, std::string pattern, Handler handler, bool quick) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler), quick, {}});
}

void Router::add_async(std::string method, std::string pattern, AsyncHandler handler) {
  routes_.push_back({std::move(method), std::move(pattern), {}, false, std::move(handler)});
}

void Router::any_async(std::string pattern, const AsyncHandler& handler) {
  for (const char* m : {"GET", "POST", "PUT", "PATCH", "DELETE"}) add_async(m, pattern, handler);
}

const AsyncHandler* Router::async_route(Request& req) const {
  const Route* r = find(req.method, req.path);
  if (!r || !r->async) return nullptr;
  std::vector<std::string> caps;
  match(r->pattern, req.path, &caps);
  fill_matches(req, std::move(caps));
  return &r->async;
}

void Router::fill_matches(Request& req, std::vector<std::string> captures) {
  req.matches.clear();
  req.matches.push_back(req.path);
  for (auto& c : captures) req.matches.push_back(std::move(c));
}

const Router::Route* Router::find(const std::string& method, const std::string& path) const {
  const std::string m = method == "HEAD" ? "GET" : method;
  for (const auto& r : routes_)
    if (r.method == m && match(r.pattern, path, nullptr)) return &r;
  return nullptr;
}

bool Router::is_quick(const Request& req) const {
  const Route* r = find(req.method, req.path);
  return r && r->quick;
}

bool Router::match(std::string_view pattern, std::string_view path,
                   std::vector<std::string>* captures) {
  std::vector<std::string> caps;
  size_t p = 0, q = 0;  // positions in pattern and path
  while (true) {
    if (pattern.substr(p) == "*") {
      if (captures) *captures = std::move(caps);
      return true;
    }
    if (pattern.substr(p, 2) == "{}") {
      const size_t end = path.find('/', q);
      const std::string_view seg = path.substr(q, end == std::string_view::npos ? end : end - q);
      if (seg.empty()) return false;
      caps.emplace_back(seg);
      q += seg.size();
      p += 2;
      continue;
    }
    if (p == pattern.size() || q == path.size()) break;
    if (pattern[p] != path[q]) return false;
    ++p;
    ++q;
  }
  if (p != pattern.size() || q != path.size()) return false;
  if (captures) *captures = std::move(caps);
  return true;
}

void Router::dispatch(Request& req, Response& res) const {
  const std::string method = req.method == "HEAD" ? "GET" : req.method;
  std::string allow;
  for (const auto& r : routes_) {
    std::vector<std::string> caps;
    if (!match(r.pattern, req.path, &caps)) continue;
    if (r.method != method) {
      if (allow.find(r.method) == std::string::npos)
        allow += (allow.empty() ? "" : ", ") + r.method;
      continue;
    }
    fill_matches(req, std::move(caps));
    if (r.handler) {
      r.handler(req, res);
    } else {  // an async route reached synchronously (a caller outside the server): 500
      reply_http_error(res, 500, "an async route cannot be dispatched synchronously");
    }
    return;
  }
  if (!allow.empty()) {
    // RFC 9110 §15.5.6: a 405 carries Allow.
    reply_http_error(res, 405);
    res.set_header("Allow", allow);
    return;
  }
  reply_http_error(res, 404);
}

namespace {
std::string_view reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "no such path";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 411:
      return "length required";
    case 413:
      return "request body too large";
    case 414:
      return "URI too long";
    case 417:
      return "expectation failed";
    case 431:
      return "request header fields too large";
    case 501:
      return "not implemented";
    case 503:
      return "service unavailable";
    case 505:
      return "HTTP version not supported";
    default:
      return status >= 500 ? "server error" : "request refused";
  }
}
}  // namespace

void reply_http_error(Response& res, int status, std::string_view detail) {
  const char* code = status == 404   ? "not_found"
                     : status == 405 ? "method_not_allowed"
                     : status == 503 ? "temporarily_unavailable"
                     : status >= 500 ? "server_error"
                                     : "invalid_request";
  std::string description = "HTTP " + std::to_string(status) + " " + std::string(reason(status));
  if (!detail.empty()) description += ": " + std::string(detail);
  res.status = status;
  res.set_content(nlohmann::json{{"error", code}, {"error_description", description}}.dump(),
                  "application/json");
}

}  // namespace txlab::http
