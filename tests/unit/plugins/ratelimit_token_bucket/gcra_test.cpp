// GCRA decisions with time driven by hand: a full bucket of `limit`, then one request per
// emission interval; burst allowances; remaining/reset/retry values; steady-rate admission.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "plugins/ratelimit_token_bucket/gcra.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitDecision;
using portico::RateLimitQuota;
using portico::ratelimit_token_bucket::Cell;
using portico::ratelimit_token_bucket::TokenBucketLimiter;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);
const RateLimitQuota kBasic{"basic", 100, 60s, 0};  // T = 600 ms, τ = 59.4 s
const RateLimitQuota kPremium{"premium", 1000, 60s, 0};

int passing_now(TokenBucketLimiter& limiter, const std::string& key, const RateLimitQuota& quota,
                Clock::time_point now) {
  int passed = 0;
  while (limiter.acquire(key, quota, now).allowed && passed < 1'000'000) ++passed;
  return passed;
}

TEST(TokenBucket, TheCellOfTheBasicTier) {
  const Cell cell = Cell::of(100, 60s, 0);
  EXPECT_EQ(cell.emission_ns, 600'000'000);
  EXPECT_EQ(cell.tolerance_ns, 59'400'000'000);
  // Emission intervals round up, never admitting faster than the quota.
  EXPECT_EQ(Cell::of(7, 60s, 0).emission_ns, 8'571'428'572);
  EXPECT_EQ(Cell::of(100, 60s, 20).tolerance_ns, 119 * 600'000'000LL);
}

TEST(TokenBucket, AFullBucketAdmitsTheLimitThenRefuses) {
  TokenBucketLimiter limiter;
  for (int i = 0; i < 100; ++i) {
    RateLimitDecision decision = limiter.acquire("partner", kBasic, kStart);
    ASSERT_TRUE(decision.allowed) << "request " << i + 1;
    EXPECT_EQ(decision.limit, 100);
    EXPECT_EQ(decision.remaining, 99 - i);
    EXPECT_EQ(decision.reset_after, (i + 1) * 600ms);  // each request is 600 ms of refill
    EXPECT_EQ(decision.retry_after, 0ms);
  }
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, 600ms);  // one emission interval
  EXPECT_EQ(refused.reset_after, 60s);
}

TEST(TokenBucket, ThenOneRequestPerEmissionInterval) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  RateLimitDecision early = limiter.acquire("partner", kBasic, kStart + 599ms);
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after, 1ms);
  for (int i = 1; i <= 10; ++i) {
    RateLimitDecision decision = limiter.acquire("partner", kBasic, kStart + i * 600ms);
    EXPECT_TRUE(decision.allowed) << i;
    EXPECT_EQ(decision.remaining, 0);
    RateLimitDecision next = limiter.acquire("partner", kBasic, kStart + i * 600ms);
    EXPECT_FALSE(next.allowed) << i;
    EXPECT_EQ(next.retry_after, 600ms);
  }
}

TEST(TokenBucket, HalfTheBucketRefillsInHalfTheWindow) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 30s), 50);
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 90s), 100);
}

TEST(TokenBucket, PremiumTierAdmitsOneThousand) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "premium-partner", kPremium, kStart), 1000);
  RateLimitDecision refused = limiter.acquire("premium-partner", kPremium, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 60ms);
}

TEST(TokenBucket, ABurstAllowanceHoldsExtraRequests) {
  TokenBucketLimiter limiter;
  const RateLimitQuota bursty{"basic", 100, 60s, 20};
  RateLimitDecision first = limiter.acquire("partner", bursty, kStart);
  // 119 could follow, but remaining never claims more than the limit.
  EXPECT_EQ(first.remaining, 100);
  EXPECT_EQ(passing_now(limiter, "partner", bursty, kStart), 119);
  RateLimitDecision refused = limiter.acquire("partner", bursty, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 600ms);
  EXPECT_EQ(refused.reset_after, 72s);  // 120 × 600 ms
}

TEST(TokenBucket, ThePluginsBurstAppliesWhenTheQuotaHasNone) {
  TokenBucketLimiter limiter(100'000, 10);
  EXPECT_EQ(passing_now(limiter, "partner-a", kBasic, kStart), 110);
  EXPECT_EQ(passing_now(limiter, "partner-b", {"basic", 100, 60s, 5}, kStart), 105);
}

TEST(TokenBucket, RefusedRequestsConsumeNothing) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart), 100);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_FALSE(limiter.acquire("partner", kBasic, kStart + 500ms).allowed);
  }
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 30s), 50);
}

TEST(TokenBucket, DistinctKeysDoNotInterfere) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner-a", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner-b", kBasic, kStart), 100);
  EXPECT_EQ(passing_now(limiter, "partner-c", kPremium, kStart), 1000);
}

TEST(TokenBucket, AnOlderClockWaitsTheDifferenceLonger) {
  TokenBucketLimiter limiter;
  EXPECT_EQ(passing_now(limiter, "partner", kBasic, kStart + 10s), 100);
  RateLimitDecision refused = limiter.acquire("partner", kBasic, kStart + 9s);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 1'600ms);
}

TEST(TokenBucket, EmissionIntervalsThatAreNotWholeMillisecondsRoundUp) {
  TokenBucketLimiter limiter;
  const RateLimitQuota odd{"odd", 7, 60s, 0};
  EXPECT_EQ(passing_now(limiter, "partner", odd, kStart), 7);
  RateLimitDecision refused = limiter.acquire("partner", odd, kStart);
  EXPECT_EQ(refused.retry_after, 8'572ms);  // 8571.428572 ms rounded up
  EXPECT_FALSE(limiter.acquire("partner", odd, kStart + 8'571ms).allowed);
  EXPECT_TRUE(limiter.acquire("partner", odd, kStart + 8'572ms).allowed);
}

TEST(TokenBucket, AZeroLimitRefusesEverythingWithoutState) {
  TokenBucketLimiter limiter;
  RateLimitDecision refused = limiter.acquire("partner", {"closed", 0, 60s, 0}, kStart);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 60s);
  EXPECT_EQ(limiter.tracked_keys(), 0u);
}

// Arrivals at rate_num/rate_den × the limit for ten windows.
int steady_admitted(std::int64_t rate_num, std::int64_t rate_den) {
  TokenBucketLimiter limiter;
  int admitted = 0;
  for (std::int64_t k = 0;; ++k) {
    const std::int64_t at_ms = k * 60'000 * rate_den / (100 * rate_num);
    if (at_ms >= 600'000) break;
    admitted +=
        limiter.acquire("steady", kBasic, kStart + std::chrono::milliseconds(at_ms)).allowed;
  }
  return admitted;
}

TEST(TokenBucket, SteadyRatesUpToTheLimitAllPass) {
  EXPECT_EQ(steady_admitted(9, 10), 900);
  EXPECT_EQ(steady_admitted(1, 1), 1000);
}

TEST(TokenBucket, OverTheLimitAFullBucketThenTheRate) {
  // A full bucket (100) plus one per 600 ms for the 599.4 s after the first arrival (999).
  EXPECT_EQ(steady_admitted(11, 10), 1099);
  EXPECT_EQ(steady_admitted(2, 1), 1099);
}

}  // namespace
