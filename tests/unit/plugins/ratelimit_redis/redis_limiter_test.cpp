// The Redis-backed limiter against a real redis-server (tests/support/redis_server.hpp): exact
// across several limiters ("nodes") sharing the server, the same figures as the local counter,
// counts that outlive a limiter, refunds, and both failure modes through an outage and its end.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"
#include "plugins/ratelimit_redis/redis_limiter.hpp"
#include "portico/problem.hpp"
#include "tests/support/redis_server.hpp"

namespace {

namespace rr = portico::ratelimit_redis;
using namespace std::chrono_literals;
using portico::RateLimitDecision;
using portico::RateLimitQuota;

class RecordingLog final : public portico::Log {
 public:
  void write(portico::LogLevel, std::string_view message) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  bool said(const std::string& part) {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(part) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

RateLimitQuota per_minute(std::int64_t limit) { return {"basic", limit, 60s, 0}; }

class RedisLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!portico::test::RedisServer::available()) {
      GTEST_SKIP() << "redis-server is not installed (packaging/dev.sh installs it)";
    }
    redis_.start();
  }

  rr::LimiterSettings settings(rr::FailureMode mode = rr::FailureMode::closed) {
    rr::LimiterSettings s;
    std::string error;
    s.redis.address = rr::parse_redis_url(redis_.url(), error).value();
    s.redis.retry_interval = 50ms;
    s.failure_mode = mode;
    return s;
  }

  // Waits (≤ 5 s) until the limiter answers from Redis again after an outage.
  static bool back(rr::RedisLimiter& limiter, const std::string& key) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        limiter.acquire(key, per_minute(1000), std::chrono::system_clock::now());
        if (limiter.redis_up()) return true;
      } catch (const portico::ProblemError&) {
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  portico::test::RedisServer redis_;
};

TEST_F(RedisLimiterTest, ThreeNodesSharingRedisAdmitExactlyTheLimit) {
  std::vector<std::unique_ptr<rr::RedisLimiter>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(std::make_unique<rr::RedisLimiter>(settings(), nullptr));
  std::atomic<int> allowed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto& node = *nodes[static_cast<std::size_t>((t + i) % 3)];
        if (node.acquire("prt_shared", per_minute(100), std::chrono::system_clock::now()).allowed) {
          ++allowed;
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(allowed.load(), 100) << "300 requests over 3 nodes against 100/min";
}

TEST_F(RedisLimiterTest, TheFiguresAreTheLocalCounters) {
  rr::RedisLimiter limiter(settings(), nullptr);
  portico::ratelimit_sliding_window::SlidingWindowLimiter local;
  for (int i = 1; i <= 12; ++i) {
    const auto now = std::chrono::system_clock::now();
    const RateLimitDecision remote = limiter.acquire("prt_figures", per_minute(10), now);
    const RateLimitDecision here = local.acquire("prt_figures", per_minute(10), now);
    EXPECT_EQ(remote.allowed, here.allowed) << "request " << i;
    EXPECT_EQ(remote.limit, 10);
    EXPECT_EQ(remote.remaining, here.remaining) << "request " << i;
    // The waits are computed the same way from each side's clock (Redis's own, here ours).
    EXPECT_NEAR(remote.reset_after.count(), here.reset_after.count(), 1000) << "request " << i;
    EXPECT_NEAR(remote.retry_after.count(), here.retry_after.count(), 1000) << "request " << i;
    if (!remote.allowed) {
      EXPECT_GT(remote.retry_after.count(), 0);
    }
  }
}

TEST_F(RedisLimiterTest, CountsOutliveTheGatewayProcess) {
  {
    rr::RedisLimiter before_restart(settings(), nullptr);
    for (int i = 0; i < 60; ++i) {
      ASSERT_TRUE(before_restart.acquire("prt_restart", per_minute(100), std::chrono::system_clock::now()).allowed);
    }
  }
  rr::RedisLimiter after_restart(settings(), nullptr);
  int allowed = 0;
  for (int i = 0; i < 60; ++i) {
    allowed += after_restart.acquire("prt_restart", per_minute(100), std::chrono::system_clock::now()).allowed;
  }
  EXPECT_EQ(allowed, 40) << "a restart mid-window must not grant fresh quota";
}

TEST_F(RedisLimiterTest, ARefundGivesOneRequestBack) {
  rr::RedisLimiter limiter(settings(), nullptr);
  const auto quota = per_minute(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.acquire("prt_refund", quota, std::chrono::system_clock::now()).allowed);
  ASSERT_FALSE(limiter.acquire("prt_refund", quota, std::chrono::system_clock::now()).allowed);
  limiter.refund("prt_refund", quota, std::chrono::system_clock::now());
  // The refund is queued before the next acquire on the same pipeline, so it is counted first.
  EXPECT_TRUE(limiter.acquire("prt_refund", quota, std::chrono::system_clock::now()).allowed);
  EXPECT_FALSE(limiter.acquire("prt_refund", quota, std::chrono::system_clock::now()).allowed);
}

TEST_F(RedisLimiterTest, ClosedAnswers503WhileRedisIsDownAndRecoversByItself) {
  RecordingLog log;
  rr::RedisLimiter limiter(settings(rr::FailureMode::closed), &log);
  ASSERT_TRUE(limiter.acquire("prt_closed", per_minute(100), std::chrono::system_clock::now()).allowed);
  redis_.stop();
  for (int i = 0; i < 3; ++i) {
    try {
      limiter.acquire("prt_closed", per_minute(100), std::chrono::system_clock::now());
      ADD_FAILURE() << "admitted while Redis is down";
    } catch (const portico::ProblemError& error) {
      const portico::Problem& problem = error.problem();
      EXPECT_EQ(problem.status, 503);
      EXPECT_EQ(problem.code, "rate_limit_unavailable");
      bool retry_after = false;
      for (const auto& [name, value] : problem.headers) retry_after |= name == "Retry-After";
      EXPECT_TRUE(retry_after);
    }
  }
  EXPECT_TRUE(log.said("closed: answering 503"));
  EXPECT_GE(limiter.degraded_requests(), 3u);
  redis_.start();
  EXPECT_TRUE(back(limiter, "prt_closed")) << "did not recover within 5 s of Redis's return";
  EXPECT_TRUE(log.said("refused with 503 meanwhile"));
}

TEST_F(RedisLimiterTest, OpenCountsLocallyWhileRedisIsDown) {
  RecordingLog log;
  rr::RedisLimiter limiter(settings(rr::FailureMode::open), &log);
  ASSERT_TRUE(limiter.acquire("prt_open", per_minute(1000), std::chrono::system_clock::now()).allowed);
  redis_.stop();
  int allowed = 0;
  for (int i = 0; i < 7; ++i) {
    allowed += limiter.acquire("prt_open", per_minute(5), std::chrono::system_clock::now()).allowed;
  }
  EXPECT_EQ(allowed, 5) << "the local counter enforces the tier meanwhile";
  EXPECT_TRUE(log.said("open: counting locally"));
  redis_.start();
  EXPECT_TRUE(back(limiter, "prt_open"));
  EXPECT_TRUE(log.said("limited locally meanwhile"));
}

TEST_F(RedisLimiterTest, AnAnswerNeverBlocksTheCaller) {
  rr::RedisLimiter limiter(settings(), nullptr);
  std::promise<std::thread::id> answered_on;
  auto answered = answered_on.get_future();
  limiter.acquire_async("prt_async", per_minute(10), std::chrono::system_clock::now(),
                        portico::Completion<RateLimitDecision>(
                            [&](RateLimitDecision&&, std::exception_ptr) {
                              answered_on.set_value(std::this_thread::get_id());
                            },
                            nullptr));
  ASSERT_EQ(answered.wait_for(5s), std::future_status::ready);
  EXPECT_NE(answered.get(), std::this_thread::get_id()) << "answered on the pipeline's thread";
}

}  // namespace
