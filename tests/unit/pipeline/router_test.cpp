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
  std::map<std::string, std::string> params;
  router.add(make("GET", "/v1/products"), "products");
  router.add(make("GET", "/v1/products/{id}"), "products");
  router.add(make("GET", "/v1/products/{id}/inventory"), "products");

  auto list = router.match("GET", "/v1/products", params);
  ASSERT_NE(list.entry, nullptr);
  EXPECT_EQ(list.entry->route.path, "/v1/products");

  auto one = router.match("GET", "/v1/products/prod_42/inventory", params);
  ASSERT_NE(one.entry, nullptr);
  EXPECT_EQ(one.entry->route.path, "/v1/products/{id}/inventory");
  EXPECT_EQ(params.at("id"), "prod_42");
}

// A node with a few segments or methods is walked in order, one with many searched by halves:
// either way every route is found, near misses (a prefix, one letter more, another case) are not,
// and HEAD finds GET.
TEST(Router, EveryRouteIsFoundAmongFewOrManySiblings) {
  for (const int siblings : {1, 3, 8, 9, 40}) {
    Router router;
    std::map<std::string, std::string> params;
    const char* methods[] = {"GET",     "POST",  "PUT",  "PATCH", "DELETE",
                             "OPTIONS", "TRACE", "LOCK", "COPY",  "MOVE"};
    for (int i = 0; i < siblings; ++i) {
      const std::string name = "/v1/s" + std::to_string(i);
      for (int m = 0; m < (i % 10) + 1; ++m) router.add(make(methods[m], name + "/{id}"), "test");
    }
    for (int i = 0; i < siblings; ++i) {
      const std::string name = "/v1/s" + std::to_string(i);
      for (int m = 0; m < (i % 10) + 1; ++m) {
        const auto found = router.match(methods[m], name + "/x" + std::to_string(i), params);
        ASSERT_NE(found.entry, nullptr) << siblings << " " << methods[m] << " " << name;
        EXPECT_EQ(found.entry->route.method, methods[m]);
        EXPECT_EQ(found.entry->route.path, name + "/{id}");
        EXPECT_EQ(params.at("id"), "x" + std::to_string(i));
      }
      EXPECT_NE(router.match("HEAD", name + "/x", params).entry, nullptr) << siblings;
      EXPECT_EQ(router.match("GE", name + "/x", params).entry, nullptr);
      EXPECT_EQ(router.match("get", name + "/x", params).entry, nullptr);
      EXPECT_EQ(router.match("GET", name + "z/x", params).entry, nullptr) << siblings;
      EXPECT_EQ(router.match("GET", "/v1/S" + std::to_string(i) + "/x", params).entry, nullptr);
    }
    EXPECT_EQ(router.match("GET", "/v1/s/x", params).entry, nullptr);
  }
}

TEST(Router, LiteralSegmentWinsOverCapture) {
  Router router;
  std::map<std::string, std::string> params;
  router.add(make("GET", "/v1/orders/{id}"), "orders");
  router.add(make("GET", "/v1/orders/export"), "orders");
  EXPECT_EQ(router.match("GET", "/v1/orders/export", params).entry->route.path, "/v1/orders/export");
  EXPECT_EQ(router.match("GET", "/v1/orders/ord_1", params).entry->route.path, "/v1/orders/{id}");
}

TEST(Router, UnknownPathMatchesNothing) {
  Router router;
  std::map<std::string, std::string> params;
  router.add(make("GET", "/v1/products/{id}"), "products");
  auto m = router.match("GET", "/v1/nothing", params);
  EXPECT_EQ(m.entry, nullptr);
  EXPECT_TRUE(m.allowed_methods.empty());
  EXPECT_EQ(router.match("GET", "/v1/products/", params).entry, nullptr);  // empty capture
  EXPECT_EQ(router.match("GET", "/v1/products/a/b", params).entry, nullptr);
  EXPECT_EQ(router.match("GET", "no-slash", params).entry, nullptr);
}

TEST(Router, KnownPathWrongMethodListsAllowedMethods) {
  Router router;
  std::map<std::string, std::string> params;
  router.add(make("GET", "/v1/orders"), "orders");
  router.add(make("POST", "/v1/orders"), "orders");
  auto m = router.match("DELETE", "/v1/orders", params);
  EXPECT_EQ(m.entry, nullptr);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  std::map<std::string, std::string> params;
  router.add(make("GET", "/healthz"), "core");
  EXPECT_NE(router.match("HEAD", "/healthz", params).entry, nullptr);
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

TEST(Router, SetsTheCapturesInTheMapItIsGivenAndClearsItWhenNothingMatches) {
  Router router;
  router.add(make("GET", "/v1/warehouses/{wid}/products/{id}"), "products");
  std::map<std::string, std::string> params;
  ASSERT_NE(router.match("GET", "/v1/warehouses/w1/products/p1", params).entry, nullptr);
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"id", "p1"}, {"wid", "w1"}}));
  // The same route again: the values change in the nodes the map already has.
  const std::string* id_value = &params.at("id");
  ASSERT_NE(router.match("GET", "/v1/warehouses/w2/products/a-much-longer-product-id", params).entry,
            nullptr);
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"id", "a-much-longer-product-id"},
                                                         {"wid", "w2"}}));
  EXPECT_EQ(&params.at("id"), id_value);
  // Other names replace the old ones; no match leaves none.
  router.add(make("GET", "/v1/orders/{order}"), "orders");
  ASSERT_NE(router.match("GET", "/v1/orders/o1", params).entry, nullptr);
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"order", "o1"}}));
  // As many captures, another name.
  router.add(make("GET", "/v1/customers/{customer}"), "customers");
  ASSERT_NE(router.match("GET", "/v1/customers/c1", params).entry, nullptr);
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"customer", "c1"}}));
  // Two captures, one of them named as before.
  router.add(make("GET", "/v1/customers/{customer}/orders/{order}"), "customers");
  ASSERT_NE(router.match("GET", "/v1/warehouses/w3/products/p3", params).entry, nullptr);
  ASSERT_NE(router.match("GET", "/v1/customers/c2/orders/o2", params).entry, nullptr);
  EXPECT_EQ(params, (std::map<std::string, std::string>{{"customer", "c2"}, {"order", "o2"}}));
  EXPECT_EQ(router.match("GET", "/v1/nothing", params).entry, nullptr);
  EXPECT_TRUE(params.empty());
}

}  // namespace
}  // namespace portico::pipeline
