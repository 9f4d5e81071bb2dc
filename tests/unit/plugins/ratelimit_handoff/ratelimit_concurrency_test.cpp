// Both rate-limit policies under threads: no lost counts across many keys, no over-admission on
// one key. One typed test, so each new policy gets the same guarantees checked.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"
#include "plugins/ratelimit_token_bucket/gcra.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitQuota;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);

template <class Body>
void on_threads(int count, Body body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t) threads.emplace_back(body, t);
  for (std::thread& thread : threads) thread.join();
}

template <class Limiter>
class RateLimitConcurrency : public ::testing::Test {};

using Limiters = ::testing::Types<portico::ratelimit_sliding_window::SlidingWindowLimiter,
                                  portico::ratelimit_token_bucket::TokenBucketLimiter>;
TYPED_TEST_SUITE(RateLimitConcurrency, Limiters);

TYPED_TEST(RateLimitConcurrency, EightThreadsOnAHundredKeysLoseNoCount) {
  TypeParam limiter;
  const RateLimitQuota huge{"huge", 1'000'000'000, 60s, 0};
  std::atomic<int> refused{0};
  on_threads(8, [&](int thread) {
    for (int i = 0; i < 10'000; ++i) {
      const std::string key = "partner-" + std::to_string((i + thread * 13) % 100);
      if (!limiter.acquire(key, huge, kStart + 5s).allowed) ++refused;
    }
  });
  EXPECT_EQ(refused.load(), 0);
  for (int k = 0; k < 100; ++k) {
    // 80,000 acquires over 100 keys: 800 each, plus this one.
    EXPECT_EQ(limiter.acquire("partner-" + std::to_string(k), huge, kStart + 5s).remaining,
              1'000'000'000 - 801)
        << "key " << k;
  }
  EXPECT_EQ(limiter.tracked_keys(), 100u);
}

TYPED_TEST(RateLimitConcurrency, EightThreadsOnOneKeyAdmitExactlyTheLimit) {
  TypeParam limiter;
  const RateLimitQuota premium{"premium", 1000, 60s, 0};
  std::atomic<int> allowed{0};
  on_threads(8, [&](int) {
    for (int i = 0; i < 1000; ++i) {
      if (limiter.acquire("one-partner", premium, kStart + 3s).allowed) ++allowed;
    }
  });
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
