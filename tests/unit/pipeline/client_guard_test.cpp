#include "core/pipeline/client_guard.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "core/pipeline/snapshot.hpp"

namespace portico::pipeline {
namespace {

using namespace std::chrono_literals;
using Outcome = GuardDecision::Outcome;

struct FakeClock {
  std::chrono::steady_clock::time_point now{};  // 0 = the start of every window
  ClientGuard::Clock clock() {
    return [this] { return now; };
  }
};

config::SecurityConfig settings(std::int64_t ip_limit, std::int64_t failure_limit) {
  config::SecurityConfig s;
  s.client_ip_limit = ip_limit;
  s.client_ip_window = 60s;
  s.auth_failure_limit = failure_limit;
  s.auth_failure_window = 60s;
  s.lockout = 15min;
  return s;
}

TEST(ClientGuard, IpLimitRefusesTheRequestOverTheLimitWithRetryAfter) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings(3, 20);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::allowed);
  GuardDecision refused = guard.admit("203.0.113.9", s);
  EXPECT_EQ(refused.outcome, Outcome::rate_limited);
  // Everything was spent at the start of the window: the next window begins in 60 s, and its
  // estimate drops under the limit a millisecond later.
  EXPECT_EQ(refused.retry_after, 60001ms);
  EXPECT_EQ(guard.rate_limited_requests(), 1u);
  // Another IP is not affected.
  EXPECT_EQ(guard.admit("203.0.113.10", s).outcome, Outcome::allowed);
}

TEST(ClientGuard, IpLimitSlides) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings(10, 20);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(guard.admit("198.51.100.1", s).outcome, Outcome::allowed);
  time.now += 60s + 30s;  // half way through the next window: the previous weighs 5
  int allowed = 0;
  while (guard.admit("198.51.100.1", s).outcome == Outcome::allowed) ++allowed;
  EXPECT_EQ(allowed, 5);
  time.now += 120s;  // two windows later nothing is left
  EXPECT_EQ(guard.admit("198.51.100.1", s).outcome, Outcome::allowed);
}

TEST(ClientGuard, RetryAfterPointsAtTheFirstMomentARequestPasses) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings(4, 20);
  for (int i = 0; i < 4; ++i) guard.admit("198.51.100.2", s);
  time.now += 75s;  // next window, 25 % in: previous weighs 3, so one more passes
  EXPECT_EQ(guard.admit("198.51.100.2", s).outcome, Outcome::allowed);
  GuardDecision refused = guard.admit("198.51.100.2", s);
  ASSERT_EQ(refused.outcome, Outcome::rate_limited);
  time.now += refused.retry_after - 1ms;
  EXPECT_EQ(guard.admit("198.51.100.2", s).outcome, Outcome::rate_limited);
  time.now += 1ms;
  EXPECT_EQ(guard.admit("198.51.100.2", s).outcome, Outcome::allowed);
}

TEST(ClientGuard, LockoutAfterTheLimitOfFailuresWarnsOnceAndExpires) {
  FakeClock time;
  std::vector<std::string> warnings;
  ClientGuard guard(time.clock(), [&](const Lockout& l) { warnings.push_back(l.message); });
  auto s = settings(1000, 3);
  guard.record_auth_failure("203.0.113.9", s);
  guard.record_auth_failure("203.0.113.9", s);
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::allowed);
  EXPECT_EQ(guard.lockouts(), 0u);
  guard.record_auth_failure("203.0.113.9", s);
  EXPECT_EQ(guard.lockouts(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "client 203.0.113.9 locked out for 900s after 3 failed authentications within 60s");

  GuardDecision refused = guard.admit("203.0.113.9", s);
  EXPECT_EQ(refused.outcome, Outcome::locked_out);
  EXPECT_EQ(refused.retry_after, 15min);
  EXPECT_EQ(guard.admit("203.0.113.10", s).outcome, Outcome::allowed);  // only that IP

  // In-flight failures during the lockout neither extend it nor warn again.
  guard.record_auth_failure("203.0.113.9", s);
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(guard.auth_failures(), 4u);

  time.now += 15min - 1s;
  refused = guard.admit("203.0.113.9", s);
  EXPECT_EQ(refused.outcome, Outcome::locked_out);
  EXPECT_EQ(refused.retry_after, 1s);
  EXPECT_EQ(guard.locked_out_requests(), 2u);
  time.now += 1s;
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::allowed);

  // A fresh count after the lockout: two failures do not lock again, a third does.
  guard.record_auth_failure("203.0.113.9", s);
  guard.record_auth_failure("203.0.113.9", s);
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::allowed);
  guard.record_auth_failure("203.0.113.9", s);
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::locked_out);
  EXPECT_EQ(guard.lockouts(), 2u);
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(ClientGuard, ALockoutSaysHowManyFailuresWithinWhichWindow) {
  FakeClock time;
  std::vector<Lockout> lockouts;
  ClientGuard guard(time.clock(), [&](const Lockout& l) { lockouts.push_back(l); });
  auto s = settings(1000, 4);
  s.auth_failure_window = 2min;
  s.lockout = 10min;
  for (int i = 0; i < 4; ++i) guard.record_auth_failure("203.0.113.9", s);
  ASSERT_EQ(lockouts.size(), 1u);
  EXPECT_EQ(lockouts[0].client_ip, "203.0.113.9");
  EXPECT_EQ(lockouts[0].failures, 4);
  EXPECT_EQ(lockouts[0].window, 2min);
  EXPECT_EQ(lockouts[0].duration, 10min);
  EXPECT_EQ(lockouts[0].message,
            "client 203.0.113.9 locked out for 600s after 4 failed authentications within 120s");
}

TEST(ClientGuard, FailuresSpreadBeyondTheWindowDoNotLock) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings(1000, 3);
  for (int i = 0; i < 10; ++i) {
    guard.record_auth_failure("203.0.113.9", s);
    time.now += 61s;
  }
  EXPECT_EQ(guard.lockouts(), 0u);
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::allowed);
}

TEST(ClientGuard, MemoryIsBoundedAndIdleClientsArePruned) {
  FakeClock time;
  ClientGuard guard(time.clock(), {}, 64);
  auto s = settings(1000, 3);
  for (int i = 0; i < 1000; ++i) {
    guard.admit("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), s);
  }
  EXPECT_LE(guard.tracked_clients(), 64u);
  time.now += 121s;
  guard.prune(s);
  EXPECT_EQ(guard.tracked_clients(), 0u);
}

TEST(ClientGuard, PruneKeepsLockouts) {
  FakeClock time;
  ClientGuard guard(time.clock());
  auto s = settings(1000, 1);
  guard.record_auth_failure("203.0.113.9", s);
  time.now += 10min;
  guard.prune(s);
  EXPECT_EQ(guard.admit("203.0.113.9", s).outcome, Outcome::locked_out);
}

TEST(ClientGuard, ConcurrentAdmitsCountExactly) {
  FakeClock time;  // never advanced: only the counting races
  ClientGuard guard(time.clock());
  config::SecurityConfig s = settings(4000, 20);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (guard.admit("192.0.2.1", s).outcome == Outcome::allowed) ++allowed;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 4000);
  EXPECT_EQ(guard.rate_limited_requests(), 4000u);
}

// Through the pipeline: 401s of the authenticate stage lock the IP out.
class RejectEverything final : public AuthScheme {
 public:
  AuthResult authenticate(const Request&) override {
    Problem p;
    p.status = 401;
    p.code = "unauthorized";
    p.title = "Unauthorized";
    p.detail = "bad key";
    return AuthResult::rejected(p);
  }
};

struct GuardedPipeline : ::testing::Test {
  FakeClock time;
  std::vector<std::string> warnings;
  RejectEverything auth;
  Snapshot snapshot;
  void SetUp() override {
    auto config = std::make_shared<config::Config>();
    config->security = settings(5, 3);
    snapshot.config = config;
    snapshot.client_guard = std::make_shared<ClientGuard>(
        time.clock(), [this](const Lockout& l) { warnings.push_back(l.message); });
    snapshot.stages = standard_stages(*config);
    snapshot.auth_schemes.push_back(&auth);
    Route open;
    open.method = "GET";
    open.path = "/open";
    open.authenticated = false;
    open.handler = [](const Request&) { return Response::json(200, {}); };
    snapshot.router.add(open, "test");
    Route secret = open;
    secret.path = "/v1/secret";
    secret.authenticated = true;
    snapshot.router.add(secret, "test");
  }
  Response call(std::string path, std::string ip = "203.0.113.9") {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    r.client_ip = std::move(ip);
    r.headers = {{"X-API-Key", "pk_test_wrong"}};
    return snapshot.handle(r);
  }
};

TEST_F(GuardedPipeline, PreAuthLimitAnswers429RateLimitedWithRetryAfter) {
  for (int i = 0; i < 5; ++i) ASSERT_EQ(call("/open").status, 200);
  Response refused = call("/open");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "61");
  auto body = nlohmann::json::parse(refused.body);
  EXPECT_EQ(body["code"], "rate_limited");
  EXPECT_EQ(body["detail"],
            "Your IP address sent more than 5 requests in 60 seconds. Try again in 61 seconds.");
  EXPECT_EQ(call("/open", "198.51.100.1").status, 200);
}

TEST_F(GuardedPipeline, FailedAuthenticationsLockTheIpOut) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call("/v1/secret").status, 401);
  Response locked = call("/v1/secret");
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(locked.header("Retry-After"), "900");
  auto body = nlohmann::json::parse(locked.body);
  EXPECT_EQ(body["code"], "too_many_auth_failures");
  EXPECT_EQ(body["status"], 429);
  EXPECT_EQ(call("/open").status, 429);  // the whole gateway, not only authenticated routes
  EXPECT_EQ(warnings.size(), 1u);
  EXPECT_EQ(snapshot.client_guard->lockouts(), 1u);
  time.now += 15min;
  EXPECT_EQ(call("/open").status, 200);
}

TEST_F(GuardedPipeline, HealthProbesAreNeitherRefusedNorCounted) {
  Route health;
  health.method = "GET";
  health.path = "/healthz";
  health.authenticated = false;
  health.handler = [](const Request&) { return Response::json(200, {{"status", "ok"}}); };
  snapshot.router.add(health, "core");
  // Not counted: many probes, and the address still has its 5 requests.
  for (int i = 0; i < 50; ++i) ASSERT_EQ(call("/healthz").status, 200);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(call("/open").status, 200);
  // Over the per-IP limit: other routes are refused, the probe is not (HEAD neither).
  EXPECT_EQ(call("/open").status, 429);
  EXPECT_EQ(call("/healthz").status, 200);
  Request head;
  head.method = "HEAD";
  head.path = "/healthz";
  head.client_ip = "203.0.113.9";
  EXPECT_EQ(snapshot.handle(head).status, 200);
  // Locked out (from another address, still under its limit): the probe still answers.
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call("/v1/secret", "198.51.100.7").status, 401);
  EXPECT_EQ(call("/open", "198.51.100.7").status, 429);
  EXPECT_EQ(call("/healthz", "198.51.100.7").status, 200);
  // Only served probe paths: /readyz is no route of this listener, so it is guarded like any.
  EXPECT_EQ(call("/readyz", "198.51.100.7").status, 429);
  EXPECT_EQ(snapshot.client_guard->rate_limited_requests(), 1u);
}

// A scheme answering now (API 3.2) that throws its 401 counts towards the lockout as one that
// throws it through its completion.
TEST_F(GuardedPipeline, A401ThrownByASchemeAnsweringNowCountsAsAFailure) {
  struct ThrowsNow final : AuthScheme {
    AuthResult authenticate(const Request&) override { throw std::logic_error("not called"); }
    std::optional<AuthResult> authenticate_now(const Request&) override {
      Problem p;
      p.status = 401;
      p.code = "unauthorized";
      p.title = "Unauthorized";
      throw ProblemError(p);
    }
  } throws_now;
  snapshot.auth_schemes = {&throws_now};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call("/v1/secret", "203.0.113.60").status, 401);
  EXPECT_EQ(call("/open", "203.0.113.60").status, 429);
}

TEST_F(GuardedPipeline, MissingCredentialsCountAsFailures) {
  for (int i = 0; i < 3; ++i) {
    Request r;
    r.method = "GET";
    r.path = "/v1/secret";
    r.client_ip = "203.0.113.50";
    snapshot.auth_schemes.clear();
    ASSERT_EQ(snapshot.handle(r).status, 401);
  }
  EXPECT_EQ(call("/open", "203.0.113.50").status, 429);
}

}  // namespace
}  // namespace portico::pipeline
