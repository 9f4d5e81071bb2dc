// refund(): a request given back (a 304 the core does not count) is as if it never came — in the
// current bucket, across a bucket boundary, and never below nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "plugins/ratelimit_common/sliding_window.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitQuota;
using portico::ratelimit_sliding_window::SlidingWindowLimiter;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);
const RateLimitQuota kBasic{"basic", 100, 60s, 0};

int passing_now(SlidingWindowLimiter& limiter, const std::string& key, Clock::time_point now) {
  int passed = 0;
  while (limiter.acquire(key, kBasic, now).allowed && passed < 1000) ++passed;
  return passed;
}

TEST(SlidingWindowRefund, ARefundedRequestLeavesTheRemainingUnchanged) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(limiter.acquire("p", kBasic, kStart).remaining, 99);
  for (int i = 0; i < 300; ++i) {
    ASSERT_EQ(limiter.acquire("p", kBasic, kStart + 10ms).remaining, 98) << i;
    limiter.refund("p", kBasic, kStart + 10ms);
  }
  EXPECT_EQ(limiter.acquire("p", kBasic, kStart + 20ms).remaining, 98);
}

TEST(SlidingWindowRefund, AFullWindowGetsExactlyOneRequestBackPerRefund) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "p", kStart), 100);
  limiter.refund("p", kBasic, kStart + 1ms);
  limiter.refund("p", kBasic, kStart + 1ms);
  EXPECT_EQ(passing_now(limiter, "p", kStart + 2ms), 2);
}

TEST(SlidingWindowRefund, ARefundAfterABucketBoundaryTakesFromTheNewestCountedBucket) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "p", kStart + 999ms), 100);
  // The next 1 s bucket has begun and holds nothing: the request went into the one before.
  limiter.refund("p", kBasic, kStart + 1000ms);
  EXPECT_EQ(passing_now(limiter, "p", kStart + 1001ms), 1);
}

TEST(SlidingWindowRefund, NothingCountedMeansNothingToGiveBack) {
  SlidingWindowLimiter limiter;
  limiter.refund("never-seen", kBasic, kStart);
  EXPECT_EQ(passing_now(limiter, "never-seen", kStart), 100);
  limiter.refund("p", kBasic, kStart);
  limiter.acquire("p", kBasic, kStart);
  limiter.refund("p", kBasic, kStart);
  limiter.refund("p", kBasic, kStart);  // one more than was counted
  EXPECT_EQ(passing_now(limiter, "p", kStart), 100);
}

TEST(SlidingWindowRefund, ARefundUnderAnotherWindowLengthChangesNothing) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "p", kStart), 100);
  limiter.refund("p", RateLimitQuota{"basic", 100, 30s, 0}, kStart);
  EXPECT_EQ(passing_now(limiter, "p", kStart), 0);
}

}  // namespace
