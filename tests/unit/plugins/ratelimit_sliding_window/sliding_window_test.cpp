// The sliding-window counter's decisions with time driven by hand: the contract's 100/101st,
// premium, the window sliding, remaining/reset/retry values, and the edges.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "plugins/ratelimit_common/sliding_window.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitDecision;
using portico::RateLimitQuota;
using portico::ratelimit_sliding_window::SlidingWindowLimiter;
using Clock = std::chrono::system_clock;

// A whole minute (and so a whole bucket) since the epoch, like the SDK's FakeHost.
const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);
const RateLimitQuota kBasic{"basic", 100, 60s, 0};
const RateLimitQuota kPremium{"premium", 1000, 60s, 0};

// Acquires until the first refusal; answers how many passed.
int passing_now(SlidingWindowLimiter& limiter, const std::string& key, const RateLimitQuota& quota,
                Clock::time_point now) {
  int passed = 0;
  while (limiter.acquire(key, quota, now).allowed && passed < 1'000'000) ++passed;
  return passed;
}

TEST(SlidingWindow, BasicTierAdmitsOneHundredThenRefusesTheNext) {
  SlidingWindowLimiter limiter;
  for (int i = 0; i < 100; ++i) {
    RateLimitDecision decision = limiter.acquire("partner", kBasic, kStart);
    ASSERT_TRUE(decision.allowed) << "request " << i + 1;
    EXPECT_EQ(decision.limit, 100);
    EXPECT_EQ(decision.remaining, 99 - i);
    EXPECT_EQ(decision.retry_after, 0ms);
  }
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 100);
  EXPECT_EQ(refused.remaining, 0);
  // The burst sits in one 1 s bucket, counted whole until it becomes the oldest bucket 60 s on;
  // the first tick of its decay (1/60 ms) brings the estimate under 100.
  EXPECT_EQ(refused.retry_after, 60'001ms);
}

TEST(SlidingWindow, RemainingAndResetOfTheFirstAndLastRequest) {
  SlidingWindowLimiter limiter;
  RateLimitDecision first = limiter.acquire("partner", kBasic, kStart);
  EXPECT_EQ(first.remaining, 99);
  EXPECT_EQ(first.reset_after, 60'001ms);  // one request: gone as soon as its bucket decays
  for (int i = 0; i < 98; ++i) limiter.acquire("partner", kBasic, kStart);
  RateLimitDecision last = limiter.acquire("partner", kBasic, kStart);
  EXPECT_TRUE(last.allowed);
  EXPECT_EQ(last.remaining, 0);
  // Whole quota back means an estimate under 1: 99 % of the bucket's decay, 60 s + 990.01 ms.
  EXPECT_EQ(last.reset_after, 60'991ms);
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart + 59s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1'001ms);
  EXPECT_EQ(refused.reset_after, 1'991ms);
}

TEST(SlidingWindow, PremiumTierAdmitsOneThousand) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "premium-partner", kPremium, kStart + 17s), 1000);
  RateLimitDecision refused = limiter.acquire("premium-partner", kPremium, kStart + 17s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 60'001ms);
}

TEST(SlidingWindow, ARetryAfterTheAnnouncedWaitPasses) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 250ms), 100);
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart + 20s);
  ASSERT_FALSE(refused.allowed);
  const auto retry_at = kStart + 20s + refused.retry_after;
  EXPECT_FALSE(limiter.acquire("partner", kBasic, retry_at - 1ms).allowed);
  EXPECT_TRUE(limiter.acquire("partner", kBasic, retry_at).allowed);
}

TEST(SlidingWindow, TheBurstDecaysAcrossItsBucketOneMinuteLater) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 60s), 0);
  // 60.001 s: the estimate is 99.9, one passes.
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 60'001ms), 1);
  // 60.5 s: half the burst's bucket has slid out, 50 + 1 counted, 49 more pass.
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 60'500ms), 49);
  // 61 s: the burst is gone; the 50 admitted since are all that count.
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 61s), 50);
}

TEST(SlidingWindow, HalfThePreviousWindowRemainsThirtySecondsIntoTheNext) {
  SlidingWindowLimiter limiter;
  // 100 requests spread evenly over the first window (one every 600 ms) all pass.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(limiter.acquire("partner", kBasic, kStart + i * 600ms).allowed) << i;
  }
  // At 90 s the window (30 s, 90 s] holds 48 whole requests (31.2 s … 59.4 s) and the
  // bucket [30 s, 31 s) with 2, still counted whole: 50 of the 100 remain.
  RateLimitDecision decision = limiter.acquire("partner", kBasic, kStart + 90s);
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.remaining, 49);
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 90s), 49);
  // That [30 s, 31 s) bucket starts decaying at once: a request fits a tick later.
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart + 90s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1ms);
  // By 120 s only the 50 requests made at 90 s count.
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 120s), 50);
}

TEST(SlidingWindow, RefusedRequestsConsumeNothing) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(limiter.acquire("partner", kBasic, kStart + 30s).allowed);
  }
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 60'500ms), 50);
}

TEST(SlidingWindow, DistinctKeysDoNotInterfere) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner-a", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner-b", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner-c", kPremium, kStart), 1000);
  EXPECT_FALSE(limiter.acquire("partner-a", kBasic, kStart + 1s).allowed);
}

TEST(SlidingWindow, AnOlderClockCountsAtTheKeysNewestTime) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 10s), 100);
  // A thread that read the clock a second earlier waits that second longer.
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart + 9s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 61'001ms);
}

TEST(SlidingWindow, ANewWindowLengthStartsTheKeyAfresh) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  const RateLimitQuota hourly{"hourly", 100, 1h, 0};
  EXPECT_EQ(passing_now(limiter, "partner", hourly, kStart + 1s), 100);
  RateLimitDecision refused = limiter.acquire("partner", hourly, kStart + 1s);
  // Buckets are now 1 min; the burst's began at kStart, so it starts to decay at kStart + 1 h.
  EXPECT_EQ(refused.retry_after, 3'599'001ms);
}

TEST(SlidingWindow, ALimitRaisedMidWindowAppliesAtOnce) {
  SlidingWindowLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  const RateLimitQuota raised{"basic", 150, 60s, 0};  // per-partner override
  EXPECT_EQ(passing_now(limiter, "partner", raised, kStart + 1s), 50);
}

TEST(SlidingWindow, AZeroLimitRefusesEverythingWithoutState) {
  SlidingWindowLimiter limiter;
  RateLimitDecision refused = limiter.acquire("partner", {"closed", 0, 60s, 0}, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 60s);
  EXPECT_EQ(limiter.tracked_keys(), 0u);
}

TEST(SlidingWindow, WindowsThatAreNotWholeSecondsWork) {
  SlidingWindowLimiter limiter;
  const RateLimitQuota odd{"odd", 7, 1001ms, 0};
  EXPECT_EQ(passing_now(limiter, "partner", odd, kStart), 7);
  RateLimitDecision refused = limiter.acquire("partner", odd, kStart);
  // Buckets are 1001/60 ms; kStart (a whole second) lies inside one, so the burst's bucket
  // decays from 1001 ms on, less the part of that bucket already behind kStart.
  const auto retry_at = kStart + refused.retry_after;
  EXPECT_GT(refused.retry_after, 984ms);
  EXPECT_LE(refused.retry_after, 1002ms);
  EXPECT_FALSE(limiter.acquire("partner", odd, retry_at - 1ms).allowed);
  EXPECT_TRUE(limiter.acquire("partner", odd, retry_at).allowed);
}

}  // namespace
