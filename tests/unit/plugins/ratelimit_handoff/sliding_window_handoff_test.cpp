// Sliding window → sliding window on a reload: the new instance decides exactly as the old one
// would have, bucket for bucket, whatever the traffic and the moment; hits that left the window
// stay behind; many keys, the key bound, refunds, and nothing to hand over.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"
#include "tests/unit/plugins/ratelimit_handoff/handoff_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace portico::test::handoff;
using portico::RateLimitQuota;
using portico::RateLimitUsage;
using portico::ratelimit_sliding_window::SlidingWindowLimiter;

const RateLimitQuota kBasic{"basic", 100, 60s, 0};
const RateLimitQuota kShort{"short", 20, 10s, 0};  // 1/6 s buckets: boundaries inside a second
const RateLimitQuota kOdd{"odd", 7, 1'001ms, 0};   // buckets of 16.68 ms: not whole milliseconds

// A fresh limiter holding what `from` exported at `at`.
std::unique_ptr<SlidingWindowLimiter> handed_over(const SlidingWindowLimiter& from,
                                                  Clock::time_point at) {
  auto to = std::make_unique<SlidingWindowLimiter>();
  to->import_usage(from.export_usage(at), at);
  return to;
}

void count_all(SlidingWindowLimiter& limiter, const std::string& key, const RateLimitQuota& quota,
               const std::vector<Clock::time_point>& arrivals) {
  for (Clock::time_point at : arrivals) limiter.acquire(key, quota, at);
}

TEST(SlidingWindowHandoff, TheNewInstanceDecidesExactlyAsTheOldOneWouldHave) {
  // Over the limit (runs of up to 6 every 0.45 s on average) and under it (0.7 a second).
  struct Traffic {
    std::chrono::milliseconds max_gap;
    int max_run;
  };
  for (const Traffic traffic : {Traffic{900ms, 6}, Traffic{3'000ms, 2}}) {
    for (unsigned seed = 1; seed <= 4; ++seed) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", gap " +
                   std::to_string(traffic.max_gap.count()) + "ms");
      SlidingWindowLimiter original;
      const auto history = bursty(kStart, 150s, traffic.max_gap, traffic.max_run, seed);
      count_all(original, "a", kBasic, history);
      count_all(original, "b", kShort, history);
      count_all(original, "c", kOdd, history);
      const Clock::time_point handoff = kStart + 150s + 123'456'789ns;
      std::unique_ptr<SlidingWindowLimiter> imported = handed_over(original, handoff);
      const auto future = bursty(handoff, 180s, traffic.max_gap, traffic.max_run, seed + 100);
      expect_same_decisions(original, *imported, "a", kBasic, future);
      expect_same_decisions(original, *imported, "b", kShort, future);
      expect_same_decisions(original, *imported, "c", kOdd, future);
    }
  }
}

TEST(SlidingWindowHandoff, TheMomentOfTheHandoffDoesNotMatter) {
  const Clock::time_point last_request = kStart + 119s + 999ms;
  for (const Clock::duration offset :
       {Clock::duration(0ns), Clock::duration(1ns), Clock::duration(1ms),
        Clock::duration(999'999ns), Clock::duration(1s), Clock::duration(59s), Clock::duration(60s),
        Clock::duration(60'500ms), Clock::duration(61s)}) {
    SCOPED_TRACE("handoff " + std::to_string(offset.count()) + "ns after the last request");
    SlidingWindowLimiter original;
    const auto history = bursty(kStart, 120s, 700ms, 4, 7);
    count_all(original, "a", kBasic, history);
    count_all(original, "b", kShort, history);
    original.acquire("a", kBasic, last_request);
    const Clock::time_point handoff = last_request + offset;
    std::unique_ptr<SlidingWindowLimiter> imported = handed_over(original, handoff);
    const auto future = joined(burst(handoff, 30), bursty(handoff, 70s, 400ms, 3, 8));
    expect_same_decisions(original, *imported, "a", kBasic, future);
    expect_same_decisions(original, *imported, "b", kShort, future);
  }
}

TEST(SlidingWindowHandoff, ReloadAfterReloadStaysExact) {
  SlidingWindowLimiter original;
  count_all(original, "a", kBasic, bursty(kStart, 90s, 800ms, 5, 11));
  std::unique_ptr<SlidingWindowLimiter> second = handed_over(original, kStart + 90s);
  const auto between = bursty(kStart + 90s, 20s, 800ms, 5, 12);
  expect_same_decisions(original, *second, "a", kBasic, between);
  std::unique_ptr<SlidingWindowLimiter> third = handed_over(*second, kStart + 110s + 5ms);
  expect_same_decisions(original, *third, "a", kBasic,
                        bursty(kStart + 110s + 5ms, 90s, 800ms, 5, 13));
}

TEST(SlidingWindowHandoff, AKeyWhoseClockRanAheadIsHandedOverAsItIs) {
  // A request from a thread whose clock reads 3 ms later than the handoff's, in the next bucket.
  SlidingWindowLimiter original;
  count_all(original, "a", kShort, steady(kStart, 15s, 1'200ms));
  const Clock::time_point handoff = kStart + 15s + 166ms;  // ⅔ ms before a bucket boundary
  ASSERT_TRUE(original.acquire("a", kShort, handoff + 3ms).allowed);
  std::unique_ptr<SlidingWindowLimiter> imported = handed_over(original, handoff);
  expect_same_decisions(original, *imported, "a", kShort,
                        joined(burst(handoff, 12), bursty(handoff, 15s, 300ms, 3, 22)));
}

TEST(SlidingWindowHandoff, APartlyUsedQuotaCarriesOver) {
  SlidingWindowLimiter original;
  for (int i = 0; i < 30; ++i) original.acquire("p", kBasic, kStart + 5s);
  const Clock::time_point handoff = kStart + 20s;
  std::unique_ptr<SlidingWindowLimiter> imported = handed_over(original, handoff);
  const portico::RateLimitDecision next = imported->acquire("p", kBasic, handoff);
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.remaining, 69);
  EXPECT_EQ(next.reset_after, 60'001ms);  // this request's bucket decays from 80 s on
  EXPECT_EQ(passing_now(*imported, "p", kBasic, handoff), 69);
  EXPECT_EQ(passing_now(*imported, "p", kBasic, kStart + 66s), 30);  // the 5 s bucket is gone
}

TEST(SlidingWindowHandoff, HitsThatLeftTheWindowStayBehind) {
  const Clock::time_point handoff = kStart + 120s + 500ms;  // in the bucket from 120 s
  SlidingWindowLimiter limiter;
  // Buckets before the one from 60 s (which decays now) have left the window.
  limiter.import_usage(
      {{"p", kBasic, {{handoff - 90s, 50}, {handoff - 61s, 40}, {handoff - 30s, 10}}}}, handoff);
  EXPECT_EQ(passing_now(limiter, "p", kBasic, handoff), 90);

  // The decaying bucket still counts for what is left of it: 40 × (1 − 0.5) = 20.
  SlidingWindowLimiter decaying;
  decaying.import_usage({{"p", kBasic, {{handoff - 60s, 40}}}}, handoff);
  EXPECT_EQ(passing_now(decaying, "p", kBasic, handoff), 80);

  // An exporter hands over nothing for a key whose hits have all gone.
  SlidingWindowLimiter original;
  original.acquire("gone", kBasic, kStart);
  original.acquire("kept", kBasic, kStart + 30s);
  const std::vector<RateLimitUsage> usage = original.export_usage(kStart + 61s);
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].key, "kept");
  EXPECT_EQ(usage[0].quota.limit, 100);
  EXPECT_EQ(usage[0].quota.window, 60s);
  ASSERT_EQ(usage[0].hits.size(), 1u);
  EXPECT_EQ(usage[0].hits[0].count, 1);
  // Stamped at the last instant the request can have been counted: within its millisecond.
  EXPECT_GE(usage[0].hits[0].at, kStart + 30s);
  EXPECT_LT(usage[0].hits[0].at, kStart + 30s + 1ms);
}

TEST(SlidingWindowHandoff, EveryKeyIsCarriedOver) {
  SlidingWindowLimiter original;
  constexpr int kKeys = 5'000;
  for (int k = 0; k < kKeys; ++k) {
    for (int i = 0; i <= k % 7; ++i) {
      original.acquire("partner-" + std::to_string(k), kBasic,
                       kStart + std::chrono::seconds(k % 50));
    }
  }
  const Clock::time_point handoff = kStart + 55s;
  const std::vector<RateLimitUsage> usage = original.export_usage(handoff);
  EXPECT_EQ(usage.size(), static_cast<std::size_t>(kKeys));
  SlidingWindowLimiter imported;
  imported.import_usage(usage, handoff);
  EXPECT_EQ(imported.tracked_keys(), static_cast<std::size_t>(kKeys));
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "partner-" + std::to_string(k);
    const auto want = original.acquire(key, kBasic, handoff);
    const auto got = imported.acquire(key, kBasic, handoff);
    ASSERT_TRUE(same(want, got)) << key << ": " << describe(want) << " vs " << describe(got);
  }
}

TEST(SlidingWindowHandoff, AnImportKeepsTheKeyBound) {
  SlidingWindowLimiter original;
  for (int k = 0; k < 5'000; ++k) original.acquire("partner-" + std::to_string(k), kBasic, kStart);
  SlidingWindowLimiter small(640);
  small.import_usage(original.export_usage(kStart + 1s), kStart + 1s);
  EXPECT_LE(small.tracked_keys(), 640u);
  EXPECT_GT(small.evicted_keys(), 0u);
}

TEST(SlidingWindowHandoff, NothingCountedHandsOverNothing) {
  SlidingWindowLimiter limiter;
  EXPECT_TRUE(limiter.export_usage(kStart).empty());
  limiter.refund("p", kBasic, kStart);  // creates the key, counts nothing
  EXPECT_TRUE(limiter.export_usage(kStart).empty());

  SlidingWindowLimiter fresh;
  fresh.import_usage({}, kStart);
  // Entries without hits, with only empty hits, or under a quota that admits nothing keep no
  // state.
  fresh.import_usage({{"a", kBasic, {}},
                      {"b", kBasic, {{kStart, 0}}},
                      {"c", {"none", 0, 60s, 0}, {{kStart, 5}}},
                      {"d", {"zero", 5, 0s, 0}, {{kStart, 5}}}},
                     kStart);
  EXPECT_EQ(fresh.tracked_keys(), 0u);
  EXPECT_TRUE(fresh.export_usage(kStart).empty());
}

TEST(SlidingWindowHandoff, ARefundAfterTheHandoffGivesBackAnImportedRequest) {
  SlidingWindowLimiter original;
  for (int i = 0; i < 100; ++i) original.acquire("p", kBasic, kStart + 10s);
  const Clock::time_point handoff = kStart + 30s;
  std::unique_ptr<SlidingWindowLimiter> imported = handed_over(original, handoff);
  imported->refund("p", kBasic, handoff);
  original.refund("p", kBasic, handoff);
  EXPECT_EQ(passing_now(*imported, "p", kBasic, handoff), 1);
  EXPECT_EQ(passing_now(original, "p", kBasic, handoff), 1);
}

TEST(SlidingWindowHandoff, AKeyCountedUnderAnotherWindowLengthStartsAfresh) {
  // As acquire() does when a tier's window changes: the old buckets mean nothing.
  SlidingWindowLimiter limiter;
  for (int i = 0; i < 20; ++i) limiter.acquire("p", kShort, kStart);
  limiter.import_usage({{"p", kBasic, {{kStart, 30}}}}, kStart + 1s);
  EXPECT_EQ(passing_now(limiter, "p", kBasic, kStart + 1s), 70);
}

}  // namespace
