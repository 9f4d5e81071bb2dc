// refund(): TAT moves back one emission interval, never before now, so a refunded request is as
// if it never came and a full bucket cannot be overfilled.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "plugins/ratelimit_token_bucket/gcra.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitQuota;
using portico::ratelimit_token_bucket::TokenBucketLimiter;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);
const RateLimitQuota kBasic{"basic", 100, 60s, 0};  // T = 600 ms

int passing_now(TokenBucketLimiter& limiter, const std::string& key, Clock::time_point now) {
  int passed = 0;
  while (limiter.acquire(key, kBasic, now).allowed && passed < 1000) ++passed;
  return passed;
}

TEST(TokenBucketRefund, ARefundedRequestLeavesTheRemainingUnchanged) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(limiter.acquire("p", kBasic, kStart).remaining, 99);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(limiter.acquire("p", kBasic, kStart).remaining, 98) << i;
    limiter.refund("p", kBasic, kStart);
  }
  EXPECT_EQ(limiter.acquire("p", kBasic, kStart).remaining, 98);
}

TEST(TokenBucketRefund, AnEmptyBucketGetsOneRequestBackPerRefund) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "p", kStart), 100);
  limiter.refund("p", kBasic, kStart);
  limiter.refund("p", kBasic, kStart);
  EXPECT_EQ(passing_now(limiter, "p", kStart), 2);
}

TEST(TokenBucketRefund, TheBucketIsNeverFilledBeyondFull) {
  TokenBucketLimiter limiter;
  limiter.refund("never-seen", kBasic, kStart);
  EXPECT_EQ(passing_now(limiter, "never-seen", kStart), 100);

  limiter.acquire("p", kBasic, kStart);  // TAT = start + 600 ms
  for (int i = 0; i < 5; ++i) limiter.refund("p", kBasic, kStart + 100ms);
  EXPECT_EQ(passing_now(limiter, "p", kStart + 100ms), 100);
}

TEST(TokenBucketRefund, ARefundAfterTimePassedOnlyGivesBackWhatIsStillOwed) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "p", kStart), 100);  // TAT = start + 60 s
  // 59.7 s later the debt is 300 ms: a refund clears it, no more.
  limiter.refund("p", kBasic, kStart + 59'700ms);
  EXPECT_EQ(passing_now(limiter, "p", kStart + 59'700ms), 100);
}

}  // namespace
