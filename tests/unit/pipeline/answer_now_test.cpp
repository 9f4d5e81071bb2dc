// Answers given now (plugin API 3.2): an auth scheme's authenticate_now, a rate-limit policy's
// acquire_now and a NowOrLater handler's `now` are asked first and, when they answer, the request
// goes on without a completion; with no answer now the asynchronous call follows; a plugin older
// than 3.2 is never asked now.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/pipeline/ratelimit_slot.hpp"
#include "core/pipeline/snapshot.hpp"
#include "core/pipeline/stages.hpp"
#include "core/pipeline/worker_pool.hpp"
#include "portico/sdk/routes.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Identity> partner(std::string id) {
  auto who = std::make_shared<Identity>();
  who->partner_id = std::move(id);
  who->tier = "basic";
  return who;
}

// Answers now with `now` (std::nullopt: no answer now), and later with a partner "ptr_later";
// counts both kinds of call.
class TwoWayAuth final : public AuthScheme {
 public:
  explicit TwoWayAuth(std::optional<AuthResult> now) : now_(std::move(now)) {}
  AuthResult authenticate(const Request&) override { throw std::logic_error("not called"); }
  std::optional<AuthResult> authenticate_now(const Request&) override {
    ++asked_now;
    return now_;
  }
  void authenticate_async(const Request&, Completion<AuthResult> done) override {
    ++asked_later;
    std::thread([done] { done(AuthResult::authenticated(partner("ptr_later"))); }).detach();
  }
  std::atomic<int> asked_now{0};
  std::atomic<int> asked_later{0};

 private:
  std::optional<AuthResult> now_;
};

// Allows `allowed` requests; answers now when `answers_now`, otherwise from another thread.
class TwoWayPolicy final : public RateLimitPolicy {
 public:
  TwoWayPolicy(std::int64_t allowed, bool answers_now) : allowed_(allowed), now_(answers_now) {}
  RateLimitDecision acquire(std::string_view, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point) override {
    const std::int64_t n = ++count_;
    return {n <= allowed_, quota.limit, std::max<std::int64_t>(allowed_ - n, 0), 60s,
            n <= allowed_ ? 0s : 30s};
  }
  std::optional<RateLimitDecision> acquire_now(std::string_view key, const RateLimitQuota& quota,
                                               std::chrono::system_clock::time_point now) override {
    ++asked_now;
    if (!now_) return std::nullopt;
    return acquire(key, quota, now);
  }
  void acquire_async(std::string_view key, const RateLimitQuota& quota,
                     std::chrono::system_clock::time_point now,
                     Completion<RateLimitDecision> done) override {
    ++asked_later;
    RateLimitDecision decision = acquire(key, quota, now);
    std::thread([done, decision] { done(decision); }).detach();
  }
  std::atomic<int> asked_now{0};
  std::atomic<int> asked_later{0};

 private:
  std::int64_t allowed_;
  bool now_;
  std::atomic<std::int64_t> count_{0};
};

struct AnswerNow : ::testing::Test {
  Snapshot snapshot;
  void SetUp() override {
    snapshot.stages = standard_stages();
    snapshot.router.add(
        sdk::route("GET", "/me", "",
                   [](const Request& r) {
                     return Response::json(200, {{"partner", r.identity->partner_id}});
                   }),
        "test");
  }
  Response call(const std::string& path) {
    Request r;
    r.method = "GET";
    r.path = path;
    r.headers = {{"X-API-Key", "k"}};
    return snapshot.handle(r);
  }
  static std::string partner_of(const Response& response) {
    return nlohmann::json::parse(response.body).value("partner", "");
  }
};

TEST_F(AnswerNow, ASchemeAnsweringNowIsNotAskedLater) {
  TwoWayAuth auth(AuthResult::authenticated(partner("ptr_now")));
  snapshot.auth_schemes.push_back(&auth);
  Response ok = call("/me");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(partner_of(ok), "ptr_now");
  EXPECT_EQ(auth.asked_now, 1);
  EXPECT_EQ(auth.asked_later, 0);
}

TEST_F(AnswerNow, ASchemeWithNoAnswerNowIsAskedLater) {
  TwoWayAuth auth(std::nullopt);
  snapshot.auth_schemes.push_back(&auth);
  Response ok = call("/me");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(partner_of(ok), "ptr_later");
  EXPECT_EQ(auth.asked_now, 1);
  EXPECT_EQ(auth.asked_later, 1);
}

TEST_F(AnswerNow, ASchemeOfAPluginOlderThan32IsNeverAskedNow) {
  TwoWayAuth auth(AuthResult::authenticated(partner("ptr_now")));
  snapshot.auth_schemes.push_back({&auth, false});
  Response ok = call("/me");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(partner_of(ok), "ptr_later");
  EXPECT_EQ(auth.asked_now, 0);
}

TEST_F(AnswerNow, NotMineNowAsksTheNextSchemeAndARefusalNowIsThe401WithItsChallenge) {
  TwoWayAuth not_mine(AuthResult::not_mine());
  Problem why;
  why.status = 401;
  why.code = "unauthorized";
  why.title = "Unauthorized";
  why.detail = "Refused now.";
  TwoWayAuth refuses(AuthResult::rejected(why));
  snapshot.auth_schemes = {&not_mine, &refuses};
  Response refused = call("/me");
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(nlohmann::json::parse(refused.body)["detail"], "Refused now.");
  EXPECT_TRUE(refused.header("WWW-Authenticate"));
  EXPECT_EQ(not_mine.asked_now, 1);
  EXPECT_EQ(refuses.asked_now, 1);
  EXPECT_EQ(not_mine.asked_later + refuses.asked_later, 0);
}

TEST_F(AnswerNow, APolicyAnsweringNowSetsTheHeadersAndRefusesWithoutAskingLater) {
  TwoWayAuth auth(AuthResult::authenticated(partner("ptr_now")));
  TwoWayPolicy policy(1, true);
  snapshot.auth_schemes.push_back(&auth);
  snapshot.ratelimit = &policy;
  Response first = call("/me");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-RateLimit-Remaining").value_or(""), "0");
  Response second = call("/me");
  EXPECT_EQ(second.status, 429);
  EXPECT_EQ(second.header("Retry-After").value_or(""), "30");
  EXPECT_EQ(policy.asked_now, 2);
  EXPECT_EQ(policy.asked_later, 0);
}

TEST_F(AnswerNow, APolicyWithNoAnswerNowIsAskedLater) {
  TwoWayAuth auth(AuthResult::authenticated(partner("ptr_now")));
  TwoWayPolicy policy(1, false);
  snapshot.auth_schemes.push_back(&auth);
  snapshot.ratelimit = &policy;
  EXPECT_EQ(call("/me").status, 200);
  EXPECT_EQ(call("/me").status, 429);
  EXPECT_EQ(policy.asked_now, 2);
  EXPECT_EQ(policy.asked_later, 2);
}

// The gateway's slot forwards acquire_now only to a policy of API 3.2 or newer, and answers now
// itself when no policy is in force.
TEST(RateLimiterSlotNow, ForwardsOnlyToAPolicyThatAnswersNow) {
  const auto at = std::chrono::system_clock::now();
  RateLimitQuota quota{"basic", 5, 60s, 0};
  RateLimiterSlot slot;
  auto empty = slot.acquire_now("k", quota, at);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->allowed);
  EXPECT_EQ(empty->remaining, 5);

  auto newer = std::make_shared<TwoWayPolicy>(3, true);
  slot.replace({newer, true, true}, at);
  auto decision = slot.acquire_now("k", quota, at);
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->remaining, 2);
  EXPECT_EQ(newer->asked_now, 1);

  auto older = std::make_shared<TwoWayPolicy>(3, true);
  slot.replace({older, true, false}, at);
  EXPECT_FALSE(slot.acquire_now("k", quota, at));
  EXPECT_EQ(older->asked_now, 0);
}

Problem bad_id() {
  Problem p;
  p.status = 400;
  p.code = "bad_id";
  p.title = "Bad id";
  return p;
}

struct NowOrLaterRoutes : AnswerNow {
  std::atomic<int> later_calls{0};
  WorkerPool workers{1};
  void SetUp() override {
    snapshot.stages = standard_stages();
    snapshot.workers = &workers;
    Route route = sdk::now_or_later_route(
        "GET", "/items/{id}", "",
        [](const Request& r) -> std::optional<Answer> {
          const std::string& id = r.param("id");
          if (id == "bad") throw ProblemError(bad_id());
          if (id != "cached") return std::nullopt;
          return Answer(Response::json(200, {{"from", "now"}}));
        },
        [this](const Request&, Reply reply) {
          ++later_calls;
          std::thread([reply] {
            reply(Answer(Response::json(200, {{"from", "later"}})));
          }).detach();
        });
    route.authenticated = false;
    snapshot.router.add(std::move(route), "test");
  }
  static std::string from(const Response& response) {
    return nlohmann::json::parse(response.body).value("from", "");
  }
};

TEST_F(NowOrLaterRoutes, TheRouterFindsTheHandlersParts) {
  auto entries = snapshot.router.entries();
  auto it = std::find_if(entries.begin(), entries.end(),
                         [](const RouteEntry* e) { return e->route.path == "/items/{id}"; });
  ASSERT_NE(it, entries.end());
  EXPECT_NE((*it)->now_or_later, nullptr);
}

TEST_F(NowOrLaterRoutes, NowAnswersWithoutLaterAndAMissGoesLater) {
  Response hit = call("/items/cached");
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(from(hit), "now");
  EXPECT_EQ(later_calls, 0);
  Response miss = call("/items/other");
  EXPECT_EQ(miss.status, 200);
  EXPECT_EQ(from(miss), "later");
  EXPECT_EQ(later_calls, 1);
}

TEST_F(NowOrLaterRoutes, AProblemThrownNowIsTheAnswer) {
  Response bad = call("/items/bad");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad.body)["code"], "bad_id");
  EXPECT_EQ(later_calls, 0);
}

// Called as any AsyncHandler (call_route_and_wait, older callers), it does the same through its
// Reply.
TEST_F(NowOrLaterRoutes, CalledAsAnAsyncHandlerItAnswersThroughTheReply) {
  auto entries = snapshot.router.entries();
  auto it = std::find_if(entries.begin(), entries.end(),
                         [](const RouteEntry* e) { return e->route.path == "/items/{id}"; });
  ASSERT_NE(it, entries.end());
  Request r;
  r.method = "GET";
  r.path_params["id"] = "cached";
  EXPECT_EQ(from(call_route_and_wait((*it)->route, r, 2s)), "now");
  r.path_params["id"] = "other";
  EXPECT_EQ(from(call_route_and_wait((*it)->route, r, 2s)), "later");
  r.path_params["id"] = "bad";
  EXPECT_THROW(call_route_and_wait((*it)->route, r, 2s), ProblemError);
}

TEST(NowOrLaterRouter, AHandlerMissingAPartIsRefusedNamingIt) {
  Router router;
  try {
    router.add(sdk::now_or_later_route("GET", "/x", "", nullptr,
                                       [](const Request&, Reply reply) { reply(Answer()); }),
               "plugin_x");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "plugin_x: route GET /x has a NowOrLater handler without its now part");
  }
  try {
    router.add(
        sdk::now_or_later_route(
            "GET", "/y", "", [](const Request&) -> std::optional<Answer> { return {}; }, nullptr),
        "plugin_x");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "plugin_x: route GET /y has a NowOrLater handler without its later part");
  }
}

}  // namespace
}  // namespace portico::pipeline
