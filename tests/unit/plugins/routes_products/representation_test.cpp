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

// Handed out with its owner's ownership (a cache's hit): the same 200, and only the owner's count
// moves — the response's own is not touched.
TEST(Representation, The200CanShareItsOwnersOwnership) {
  struct Owner {
    rp::Representation shown{R"({"id":"p1"})"};
  };
  auto owner = std::make_shared<const Owner>();
  const portico::Response* ok = owner->shown.answer(get()).shared().get();
  const long response_count = owner->shown.answer(get()).shared().use_count();
  std::shared_ptr<const Owner> moved = owner;
  portico::Answer answer = owner->shown.answer(get(), std::move(moved));
  ASSERT_TRUE(answer.shared());
  EXPECT_EQ(answer.shared().get(), ok);
  EXPECT_EQ(owner.use_count(), 2) << "the answer holds the owner";
  EXPECT_EQ(owner->shown.answer(get()).shared().use_count(), response_count);
  // A revalidation is still its 304.
  std::shared_ptr<const Owner> again = owner;
  portico::Answer revalidated = owner->shown.answer(get(owner->shown.etag()), std::move(again));
  EXPECT_FALSE(revalidated.shared());
  EXPECT_EQ(revalidated.response().status, 304);
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
