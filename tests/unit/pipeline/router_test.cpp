#include "core/pipeline/router.hpp"

#include <gtest/gtest.h>

namespace portico::pipeline {
namespace {

Route make(std::string method, std::string path) {
  Route r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.handler = [](const Request&) { return Response{}; };
  return r;
}

TEST(Router, MatchesLiteralAndCaptureSegments) {
  Router router;
  router.add(make("GET", "/v1/products"), "products");
  router.add(make("GET", "/v1/products/{id}"), "products");
  router.add(make("GET", "/v1/products/{id}/inventory"), "products");

  auto list = router.match("GET", "/v1/products");
  ASSERT_NE(list.entry, nullptr);
  EXPECT_EQ(list.entry->route.path, "/v1/products");

  auto one = router.match("GET", "/v1/products/prod_42/inventory");
  ASSERT_NE(one.entry, nullptr);
  EXPECT_EQ(one.entry->route.path, "/v1/products/{id}/inventory");
  EXPECT_EQ(one.params.at("id"), "prod_42");
}

TEST(Router, LiteralSegmentWinsOverCapture) {
  Router router;
  router.add(make("GET", "/v1/orders/{id}"), "orders");
  router.add(make("GET", "/v1/orders/export"), "orders");
  EXPECT_EQ(router.match("GET", "/v1/orders/export").entry->route.path, "/v1/orders/export");
  EXPECT_EQ(router.match("GET", "/v1/orders/ord_1").entry->route.path, "/v1/orders/{id}");
}

TEST(Router, UnknownPathMatchesNothing) {
  Router router;
  router.add(make("GET", "/v1/products/{id}"), "products");
  auto m = router.match("GET", "/v1/nothing");
  EXPECT_EQ(m.entry, nullptr);
  EXPECT_TRUE(m.allowed_methods.empty());
  EXPECT_EQ(router.match("GET", "/v1/products/").entry, nullptr);  // empty capture
  EXPECT_EQ(router.match("GET", "/v1/products/a/b").entry, nullptr);
  EXPECT_EQ(router.match("GET", "no-slash").entry, nullptr);
}

TEST(Router, KnownPathWrongMethodListsAllowedMethods) {
  Router router;
  router.add(make("GET", "/v1/orders"), "orders");
  router.add(make("POST", "/v1/orders"), "orders");
  auto m = router.match("DELETE", "/v1/orders");
  EXPECT_EQ(m.entry, nullptr);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add(make("GET", "/healthz"), "core");
  EXPECT_NE(router.match("HEAD", "/healthz").entry, nullptr);
}

TEST(Router, DuplicateRouteNamesBothOwners) {
  Router router;
  router.add(make("GET", "/v1/hello"), "hello");
  try {
    router.add(make("GET", "/v1/hello"), "hello2");
    FAIL() << "expected a conflict";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "hello2: route GET /v1/hello is already provided by hello");
  }
}

TEST(Router, MalformedRoutesAreRefused) {
  Router router;
  EXPECT_THROW(router.add(make("GET", "v1/x"), "p"), std::invalid_argument);
  Route no_handler = make("GET", "/v1/x");
  no_handler.handler = nullptr;
  EXPECT_THROW(router.add(no_handler, "p"), std::invalid_argument);
  router.add(make("GET", "/v1/a/{id}"), "p");
  EXPECT_THROW(router.add(make("GET", "/v1/a/{other}/b"), "p"), std::invalid_argument);
}

}  // namespace
}  // namespace portico::pipeline
