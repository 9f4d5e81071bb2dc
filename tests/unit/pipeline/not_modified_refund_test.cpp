// A 304 Not Modified does not count against the rate limit (CONTRACT, Caching): Snapshot::handle
// gives the request back to the policy and the 304 shows the refunded remaining figure; other
// statuses, refused requests and unauthenticated routes are left alone.
#include <gtest/gtest.h>

#include "portico/sdk/routes.hpp"

#include <memory>
#include <string>
#include <vector>

#include "core/pipeline/snapshot.hpp"
#include "plugins/ratelimit_common/sliding_window.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

class KeyAuth final : public AuthScheme {
 public:
  AuthResult authenticate(const Request& request) override {
    auto key = request.header("X-API-Key");
    if (!key) return AuthResult::not_mine();
    auto who = std::make_shared<Identity>();
    who->partner_id = "ptr_" + std::string(*key);
    who->tier = "basic";
    who->scopes = {"products:read"};
    return AuthResult::authenticated(who);
  }
};

class RecordingPolicy final : public RateLimitPolicy {
 public:
  RateLimitDecision next{true, 100, 41, 60s, 0ms};
  int acquired = 0;
  std::vector<std::string> refunded;
  RateLimitQuota last_quota;
  RateLimitDecision acquire(std::string_view, const RateLimitQuota&,
                            std::chrono::system_clock::time_point) override {
    ++acquired;
    return next;
  }
  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point) override {
    refunded.emplace_back(key);
    last_quota = quota;
  }
};

struct NotModifiedRefund : ::testing::Test {
  KeyAuth auth;
  RecordingPolicy recording;
  Snapshot snapshot;
  int status = 304;

  void SetUp() override {
    auto config = std::make_shared<config::Config>();
    config->tiers["basic"] = {"basic", 100, 60s, 0};
    snapshot.config = config;
    snapshot.stages = standard_stages(*config);
    snapshot.auth_schemes.push_back(&auth);
    snapshot.ratelimit = &recording;
    snapshot.clock = [] { return kNow; };
    auto answer = [this](const Request&) {
      Response response;
      response.status = status;
      response.set_header("ETag", "\"abc\"");
      return response;
    };
    Route product = sdk::route("GET", "/v1/products/{id}", "products:read", answer);
    Route open = sdk::route("GET", "/open", "", answer);
    open.authenticated = false;
    snapshot.router.add(product, "test");
    snapshot.router.add(open, "test");
  }
  Response call(const std::string& key, const std::string& path = "/v1/products/p1",
                const std::string& if_none_match = "\"abc\"") {
    Request r;
    r.method = "GET";
    r.path = path;
    r.client_ip = "192.0.2.1";
    if (!key.empty()) r.headers.emplace_back("X-API-Key", key);
    if (!if_none_match.empty()) r.headers.emplace_back("If-None-Match", if_none_match);
    return snapshot.handle(r);
  }
};

TEST_F(NotModifiedRefund, A304IsRefundedAndShowsTheRefundedRemaining) {
  Response response = call("acme");
  EXPECT_EQ(response.status, 304);
  EXPECT_EQ(recording.acquired, 1);
  ASSERT_EQ(recording.refunded, std::vector<std::string>{"ptr_acme"});
  EXPECT_EQ(recording.last_quota.tier, "basic");
  EXPECT_EQ(recording.last_quota.limit, 100);
  EXPECT_EQ(response.header("X-RateLimit-Remaining"), "42");
  EXPECT_EQ(response.header("RateLimit"), "\"basic\";r=42;t=60");
  EXPECT_EQ(response.header("X-RateLimit-Limit"), "100");
  EXPECT_EQ(response.header("ETag"), "\"abc\"");
}

// Issue 14: `If-None-Match: *` made every read a refunded 304, lifting the limit. Only a listed
// strong tag equal to the response's strong ETag earns the refund.
TEST_F(NotModifiedRefund, OnlyARealStrongMatchIsRefunded) {
  for (const char* header : {"*", "W/\"abc\"", "\"other\"", "", "\"abc", "*, W/\"abc\""}) {
    Response response = call("acme", "/v1/products/p1", header);
    EXPECT_EQ(response.status, 304);
    EXPECT_EQ(response.header("X-RateLimit-Remaining"), "41") << header;
  }
  EXPECT_TRUE(recording.refunded.empty());
  EXPECT_EQ(call("acme", "/v1/products/p1", "\"x\", \"abc\"").header("X-RateLimit-Remaining"),
            "42");
  EXPECT_EQ(recording.refunded.size(), 1u);
}

TEST_F(NotModifiedRefund, OtherStatusesCount) {
  for (int s : {200, 404, 412, 500}) {
    status = s;
    Response response = call("acme");
    EXPECT_EQ(response.status, s);
    EXPECT_EQ(response.header("X-RateLimit-Remaining"), "41") << s;
  }
  EXPECT_TRUE(recording.refunded.empty());
}

TEST_F(NotModifiedRefund, ARefusedRequestIsNotRefunded) {
  recording.next = {false, 100, 0, 60s, 5s};
  Response response = call("acme");
  EXPECT_EQ(response.status, 429);
  EXPECT_TRUE(recording.refunded.empty());
  EXPECT_EQ(response.header("X-RateLimit-Remaining"), "0");
}

TEST_F(NotModifiedRefund, AnUnauthenticatedRouteHasNothingToRefund) {
  Response response = call("", "/open");
  EXPECT_EQ(response.status, 304);
  EXPECT_EQ(recording.acquired, 0);
  EXPECT_TRUE(recording.refunded.empty());
  EXPECT_FALSE(response.header("X-RateLimit-Remaining"));
}

TEST_F(NotModifiedRefund, TheShownRemainingNeverPassesTheLimit) {
  recording.next = {true, 100, 100, 0ms, 0ms};
  Response response = call("acme");
  EXPECT_EQ(response.header("X-RateLimit-Remaining"), "100");
}

TEST_F(NotModifiedRefund, WithTheSlidingWindowRevalidationsNeverSpendTheQuota) {
  ratelimit_sliding_window::SlidingWindowLimiter limiter;
  snapshot.ratelimit = &limiter;
  status = 200;
  EXPECT_EQ(call("acme").header("X-RateLimit-Remaining"), "99");
  status = 304;
  for (int i = 0; i < 500; ++i) {
    Response response = call("acme");
    ASSERT_EQ(response.status, 304) << i;
    ASSERT_EQ(response.header("X-RateLimit-Remaining"), "99") << i;
  }
  status = 200;
  EXPECT_EQ(call("acme").header("X-RateLimit-Remaining"), "98");
}

}  // namespace
}  // namespace portico::pipeline
