// A rendered body and its answers: the 200 is made once and every request gets that same shared
// response (nothing copied per request); a revalidation naming its ETag gets a 304 without body.
#include <gtest/gtest.h>

#include <string>

#include "plugins/routes_products/representation.hpp"
#include "portico/sdk/sodium.hpp"

namespace {

namespace rp = portico::routes_products;
using portico::Request;

Request get(std::string if_none_match = "") {
  Request request;
  request.method = "GET";
  if (!if_none_match.empty()) request.headers.emplace_back("If-None-Match", if_none_match);
  return request;
}

TEST(Representation, EveryRequestGetsTheOne200MadeWithIt) {
  const rp::Representation shown(R"({"id":"p1"})");
  EXPECT_EQ(shown.body(), R"({"id":"p1"})");
  EXPECT_EQ(shown.etag(), portico::sdk::strong_etag(R"({"id":"p1"})"));
  portico::Answer first = shown.answer(get());
  portico::Answer second = shown.answer(get(R"("some-other-tag")"));
  ASSERT_TRUE(first.shared());
  EXPECT_EQ(first.shared(), second.shared());
  const portico::Response& ok = first.response();
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.content_type, "application/json");
  EXPECT_EQ(ok.body, R"({"id":"p1"})");
  EXPECT_EQ(*ok.header("ETag"), shown.etag());
  EXPECT_EQ(*ok.header("Cache-Control"), "private, no-cache");
}

TEST(Representation, ARevalidationOfItsETagIsA304WithoutBody) {
  const rp::Representation shown(R"({"id":"p1"})");
  portico::Answer answer = shown.answer(get("\"x\", " + shown.etag()));
  EXPECT_FALSE(answer.shared());
  EXPECT_EQ(answer.response().status, 304);
  EXPECT_TRUE(answer.response().body.empty());
  EXPECT_EQ(*answer.response().header("ETag"), shown.etag());
  EXPECT_EQ(*answer.response().header("Cache-Control"), "private, no-cache");
}

TEST(Representation, OneNeverRenderedIsAnError) {
  const rp::Representation nothing;
  EXPECT_EQ(nothing.body(), "");
  EXPECT_THROW(nothing.answer(get()), std::invalid_argument);
}

}  // namespace
