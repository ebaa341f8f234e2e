// The server's pure parts: the router (literal, capture and wildcard patterns; 405 with Allow,
// 404 JSON; which routes skip the worker pool) and header handling of messages.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/http/message.h"
#include "sim/http/server.h"

namespace txlab {

// ---- Router (pure) ----

TEST(RouterTest, LiteralCaptureAndWildcardPatterns) {
  std::vector<std::string> caps;
  EXPECT_TRUE(http::Router::match("/token", "/token", &caps));
  EXPECT_FALSE(http::Router::match("/token", "/token/", &caps));
  EXPECT_FALSE(http::Router::match("/token", "/tok", &caps));
  EXPECT_FALSE(http::Router::match("/token", "/tokenx", &caps));
  ASSERT_TRUE(http::Router::match("/admin/clients/{}/rotate-secret",
                                  "/admin/clients/svc-cfa/rotate-secret", &caps));
  EXPECT_EQ(caps, std::vector<std::string>{"svc-cfa"});
  EXPECT_FALSE(http::Router::match("/admin/clients/{}/rotate-secret",
                                   "/admin/clients//rotate-secret", &caps));
  EXPECT_FALSE(http::Router::match("/admin/clients/{}/rotate-secret",
                                   "/admin/clients/a/b/rotate-secret", &caps));
  EXPECT_TRUE(http::Router::match("/*", "/", &caps));
  EXPECT_TRUE(http::Router::match("/*", "/orders/42", &caps));
  EXPECT_TRUE(http::Router::match("/a/*", "/a/b/c", &caps));
  EXPECT_FALSE(http::Router::match("/a/*", "/ab", &caps));
  // Linear in the path: a 1 MiB path is matched (and refused) without recursion.
  EXPECT_FALSE(http::Router::match("/admin/clients/{}/x",
                                   "/admin/clients/" + std::string(1 << 20, 'a'), &caps));
}

TEST(RouterTest, Rfc9110Section15_5_6WrongMethodIs405WithAllowUnknownPathIs404Json) {
  http::Router r;
  int hits = 0;
  r.get("/jwks", [&](const http::Request&, http::Response&) { ++hits; });
  r.post("/jwks", [&](const http::Request&, http::Response&) { ++hits; });
  http::Request req;
  req.method = "DELETE";
  req.path = "/jwks";
  http::Response res;
  r.dispatch(req, res);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.header("allow"), "GET, POST");
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "method_not_allowed");
  req.method = "GET";
  req.path = "/nope";
  res = {};
  r.dispatch(req, res);
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(nlohmann::json::parse(res.body)["error"], "not_found");
  req.method = "HEAD";
  req.path = "/jwks";
  res = {};
  r.dispatch(req, res);
  EXPECT_EQ(hits, 1);  // HEAD runs the GET route
}

TEST(RouterTest, OnlyRoutesDeclaredQuickSkipTheWorkerPool) {
  http::Router r;
  r.get_quick("/jwks", [](const http::Request&, http::Response&) {});
  r.get("/token-status", [](const http::Request&, http::Response&) {});
  r.post("/jwks", [](const http::Request&, http::Response&) {});
  http::Request req;
  req.method = "GET";
  req.path = "/jwks";
  EXPECT_TRUE(r.is_quick(req));
  req.method = "HEAD";
  EXPECT_TRUE(r.is_quick(req));
  req.method = "POST";
  EXPECT_FALSE(r.is_quick(req));
  req.method = "GET";
  req.path = "/token-status";
  EXPECT_FALSE(r.is_quick(req));
  req.path = "/nope";
  EXPECT_FALSE(r.is_quick(req));
}

TEST(MessageTest, HeadersAreCaseInsensitiveAndSetHeaderReplaces) {
  http::Request req;
  req.headers = {{"Authorization", "a"}, {"authorization", "b"}, {"X", "1"}};
  EXPECT_EQ(req.header("AUTHORIZATION"), "a");
  EXPECT_EQ(req.header_count("authorization"), 2u);
  EXPECT_FALSE(req.has_header("Y"));
  http::Response res;
  res.set_header("Content-Type", "text/plain");
  res.set_content("{}", "application/json");
  EXPECT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.header("content-type"), "application/json");
}

// ---- Deadlines ----

}  // namespace txlab
