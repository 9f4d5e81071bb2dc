// Token bucket → token bucket on a reload: the new instance's TAT is the old one's, or later by
// less than one emission interval (so, when the debt is whole intervals, every later decision is
// the same); many keys, the key bound, refunds, a changed burst, and nothing to hand over.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plugins/ratelimit_token_bucket/gcra.hpp"
#include "tests/unit/plugins/ratelimit_handoff/handoff_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace portico::test::handoff;
using portico::RateLimitQuota;
using portico::RateLimitUsage;
using portico::ratelimit_token_bucket::kDefaultMaxKeys;
using portico::ratelimit_token_bucket::TokenBucketLimiter;

const RateLimitQuota kBasic{"basic", 100, 60s, 0};   // T = 600 ms, holds 100
const RateLimitQuota kBursty{"bursty", 10, 10s, 5};  // T = 1 s, holds 15

// Moves every arrival back onto a grid from kStart, so every TAT is on it too.
std::vector<Clock::time_point> on_grid(std::vector<Clock::time_point> times, Clock::duration grid) {
  for (Clock::time_point& at : times) at = kStart + (at - kStart) / grid * grid;
  return times;
}

void count_all(TokenBucketLimiter& limiter, const std::string& key, const RateLimitQuota& quota,
               const std::vector<Clock::time_point>& arrivals) {
  for (Clock::time_point at : arrivals) limiter.acquire(key, quota, at);
}

std::unique_ptr<TokenBucketLimiter> importing(const std::vector<RateLimitUsage>& usage,
                                              Clock::time_point at, std::int64_t burst = 0) {
  auto to = std::make_unique<TokenBucketLimiter>(kDefaultMaxKeys, burst);
  to->import_usage(usage, at);
  return to;
}

TEST(TokenBucketHandoff, WithADebtOfWholeIntervalsTheNewInstanceDecidesExactlyAsTheOldOne) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    TokenBucketLimiter original;
    // Arrivals on a 3 s grid, a whole number of both emission intervals; so is the handoff.
    const auto history = on_grid(bursty(kStart, 150s, 2'000ms, 8, seed), 3s);
    count_all(original, "a", kBasic, history);
    count_all(original, "b", kBursty, history);
    const Clock::time_point handoff = kStart + 150s;
    std::unique_ptr<TokenBucketLimiter> imported =
        importing(original.export_usage(handoff), handoff);
    const auto future = bursty(handoff, 150s, 900ms, 6, seed + 100);
    expect_same_decisions(original, *imported, "a", kBasic, future);
    expect_same_decisions(original, *imported, "b", kBursty, future);
  }
}

TEST(TokenBucketHandoff, OtherwiseTheTatIsLaterByLessThanOneInterval) {
  for (unsigned seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto history = bursty(kStart, 100s, 900ms, 3, seed);
    TokenBucketLimiter original;
    TokenBucketLimiter original_again;
    count_all(original, "a", kBasic, history);
    count_all(original_again, "a", kBasic, history);
    const Clock::time_point handoff = kStart + 100s + 123'456'789ns;
    const std::vector<RateLimitUsage> usage = original.export_usage(handoff);
    // TAT ≤ imported TAT < TAT + T: at most one request fewer now, none fewer one T later.
    const int passing = passing_now(original, "a", kBasic, handoff);
    const int imported_passing = passing_now(*importing(usage, handoff), "a", kBasic, handoff);
    EXPECT_TRUE(imported_passing == passing || imported_passing == passing - 1)
        << imported_passing << " pass after the handoff, " << passing << " without it";
    EXPECT_GE(passing_now(*importing(usage, handoff), "a", kBasic, handoff + 600ms), passing);
    // Once the bucket is full again nothing of the difference is left.
    expect_same_decisions(original_again, *importing(usage, handoff), "a", kBasic,
                          bursty(handoff + 61s, 60s, 900ms, 6, seed + 100));
  }
}

TEST(TokenBucketHandoff, ReloadAfterReloadStaysExact) {
  TokenBucketLimiter original;
  count_all(original, "a", kBasic, on_grid(bursty(kStart, 90s, 800ms, 5, 11), 600ms));
  std::unique_ptr<TokenBucketLimiter> second =
      importing(original.export_usage(kStart + 90s), kStart + 90s);
  expect_same_decisions(original, *second, "a", kBasic,
                        on_grid(bursty(kStart + 90s, 30s, 800ms, 5, 12), 600ms));
  std::unique_ptr<TokenBucketLimiter> third =
      importing(second->export_usage(kStart + 120s), kStart + 120s);
  expect_same_decisions(original, *third, "a", kBasic, bursty(kStart + 120s, 90s, 800ms, 5, 13));
}

TEST(TokenBucketHandoff, ExportsTheDebtAsRequestsStampedByWhenTheyComeBack) {
  TokenBucketLimiter limiter;
  for (int i = 0; i < 3; ++i) limiter.acquire("p", kBursty, kStart);  // TAT = start + 3 s
  const Clock::time_point handoff = kStart + 500ms;
  const std::vector<RateLimitUsage> usage = limiter.export_usage(handoff);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].key, "p");
  EXPECT_EQ(usage[0].quota.limit, 10);
  EXPECT_EQ(usage[0].quota.window, 10s);
  EXPECT_EQ(usage[0].quota.burst, 5);
  // 2.5 s of debt is 3 requests (rounded up), back 0.5 s, 1.5 s and 2.5 s from now: each stamped
  // a 10 s window before that.
  ASSERT_EQ(usage[0].hits.size(), 3u);
  EXPECT_EQ(usage[0].hits[0].at, handoff - 9'500ms);
  EXPECT_EQ(usage[0].hits[1].at, handoff - 8'500ms);
  EXPECT_EQ(usage[0].hits[2].at, handoff - 7'500ms);
  for (const RateLimitUsage::Hits& hit : usage[0].hits) EXPECT_EQ(hit.count, 1);
}

TEST(TokenBucketHandoff, ALargeDebtIsExportedInAtMostSixtyHits) {
  TokenBucketLimiter limiter;
  const RateLimitQuota premium{"premium", 1000, 60s, 0};
  for (int i = 0; i < 1000; ++i) limiter.acquire("p", premium, kStart);
  const std::vector<RateLimitUsage> usage = limiter.export_usage(kStart);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_LE(usage[0].hits.size(), 60u);  // 17 requests a hit
  std::int64_t owed = 0;
  for (const RateLimitUsage::Hits& hit : usage[0].hits) owed += hit.count;
  EXPECT_EQ(owed, 1000);
  // Each hit is held until its last request comes back: the last one a whole window from now.
  EXPECT_EQ(usage[0].hits.back().at, kStart);
  EXPECT_TRUE(std::is_sorted(usage[0].hits.begin(), usage[0].hits.end(),
                             [](const auto& a, const auto& b) { return a.at < b.at; }));
}

TEST(TokenBucketHandoff, APartlyUsedBucketCarriesOver) {
  TokenBucketLimiter original;
  for (int i = 0; i < 30; ++i) original.acquire("p", kBasic, kStart);
  const Clock::time_point handoff = kStart + 6s;  // ten intervals repaid: 20 owed
  std::unique_ptr<TokenBucketLimiter> imported = importing(original.export_usage(handoff), handoff);
  const portico::RateLimitDecision next = imported->acquire("p", kBasic, handoff);
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.remaining, 79);
  EXPECT_EQ(next.reset_after, 12'600ms);
  EXPECT_EQ(passing_now(*imported, "p", kBasic, handoff), 79);
}

TEST(TokenBucketHandoff, ABurstTheReloadAddsIsGivenOnTopOfTheCarriedDebt) {
  TokenBucketLimiter original;  // burst 0
  for (int i = 0; i < 100; ++i) original.acquire("p", kBasic, kStart);
  const Clock::time_point handoff = kStart + 6s;  // 90 owed; 10 pass
  std::unique_ptr<TokenBucketLimiter> bigger =
      importing(original.export_usage(handoff), handoff, /*burst=*/20);
  EXPECT_EQ(passing_now(*bigger, "p", kBasic, handoff), 30);
  EXPECT_EQ(passing_now(original, "p", kBasic, handoff), 10);
}

TEST(TokenBucketHandoff, HitsThatLeftTheWindowLongAgoCountForNothing) {
  const Clock::time_point handoff = kStart + 200s;
  TokenBucketLimiter limiter;
  // 100 requests 61 s ago: paid off a second ago, and out of any 60 s window.
  limiter.import_usage({{"p", kBasic, {{handoff - 61s, 100}}}}, handoff);
  EXPECT_EQ(passing_now(limiter, "p", kBasic, handoff), 100);
}

TEST(TokenBucketHandoff, AnImportNeverOwesMoreThanAnEmptyBucket) {
  // More hits than the bucket holds (counted under a bigger quota, say): empty, not in arrears.
  const Clock::time_point handoff = kStart + 100s;
  TokenBucketLimiter limiter;
  limiter.import_usage({{"p", kBasic, {{handoff - 30s, 150}}}}, handoff);
  EXPECT_EQ(passing_now(limiter, "p", kBasic, handoff), 0);
  EXPECT_EQ(passing_now(limiter, "p", kBasic, handoff + 600ms), 1);
}

TEST(TokenBucketHandoff, EveryKeyIsCarriedOver) {
  TokenBucketLimiter original;
  constexpr int kKeys = 5'000;
  for (int k = 0; k < kKeys; ++k) {
    for (int i = 0; i <= k % 7; ++i) {
      original.acquire("partner-" + std::to_string(k), kBasic, kStart + (k % 50) * 600ms);
    }
  }
  const Clock::time_point handoff = kStart + 30s;  // only keys counted in the last 4.2 s owe
  const std::vector<RateLimitUsage> usage = original.export_usage(handoff);
  std::unique_ptr<TokenBucketLimiter> imported = importing(usage, handoff);
  EXPECT_EQ(imported->tracked_keys(), usage.size());
  EXPECT_GT(usage.size(), 100u);
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "partner-" + std::to_string(k);
    const auto want = original.acquire(key, kBasic, handoff);
    const auto got = imported->acquire(key, kBasic, handoff);
    ASSERT_TRUE(same(want, got)) << key << ": " << describe(want) << " vs " << describe(got);
  }
}

TEST(TokenBucketHandoff, AnImportKeepsTheKeyBound) {
  TokenBucketLimiter original;
  for (int k = 0; k < 5'000; ++k) original.acquire("partner-" + std::to_string(k), kBasic, kStart);
  TokenBucketLimiter small(640);
  small.import_usage(original.export_usage(kStart + 100ms), kStart + 100ms);
  EXPECT_LE(small.tracked_keys(), 640u);
  EXPECT_GT(small.evicted_keys(), 0u);
}

TEST(TokenBucketHandoff, NothingOwedHandsOverNothing) {
  TokenBucketLimiter limiter;
  EXPECT_TRUE(limiter.export_usage(kStart).empty());
  limiter.refund("refunded", kBasic, kStart);  // creates the key, counts nothing
  limiter.acquire("repaid", kBasic, kStart);
  EXPECT_TRUE(limiter.export_usage(kStart + 600ms).empty());
  EXPECT_EQ(limiter.export_usage(kStart + 599ms).size(), 1u);

  TokenBucketLimiter fresh;
  fresh.import_usage({}, kStart);
  fresh.import_usage({{"a", kBasic, {}},
                      {"b", kBasic, {{kStart, 0}}},
                      {"c", {"none", 0, 60s, 0}, {{kStart, 5}}},
                      {"d", {"zero", 5, 0s, 0}, {{kStart, 5}}}},
                     kStart);
  EXPECT_EQ(fresh.tracked_keys(), 0u);
  EXPECT_TRUE(fresh.export_usage(kStart).empty());
}

TEST(TokenBucketHandoff, ARefundAfterTheHandoffGivesBackAnImportedRequest) {
  TokenBucketLimiter original;
  for (int i = 0; i < 100; ++i) original.acquire("p", kBasic, kStart);
  const Clock::time_point handoff = kStart + 6s;
  std::unique_ptr<TokenBucketLimiter> imported = importing(original.export_usage(handoff), handoff);
  imported->refund("p", kBasic, handoff);
  original.refund("p", kBasic, handoff);
  EXPECT_EQ(passing_now(*imported, "p", kBasic, handoff), 11);
  EXPECT_EQ(passing_now(original, "p", kBasic, handoff), 11);
}

}  // namespace
