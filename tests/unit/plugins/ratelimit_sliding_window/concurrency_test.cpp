// The sliding-window limiter's memory bound (idle keys swept, a full map evicts) and a
// cost-per-acquire measurement that is printed, not asserted. Its behaviour under threads is
// checked with the other policy in ../ratelimit_concurrency_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"

namespace {

using namespace std::chrono_literals;
using portico::RateLimitQuota;
using portico::ratelimit_sliding_window::SlidingWindowLimiter;
using Clock = std::chrono::system_clock;

const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);

TEST(SlidingWindowMemory, IdleKeysAreSweptAsOtherKeysAreUsed) {
  SlidingWindowLimiter limiter;
  const RateLimitQuota basic{"basic", 100, 60s, 0};
  for (int k = 0; k < 1000; ++k) limiter.acquire("early-" + std::to_string(k), basic, kStart);
  EXPECT_EQ(limiter.tracked_keys(), 1000u);
  // 61 s on, everything counted at kStart has slid out; use enough new keys that every shard
  // reaches its sweep interval.
  for (int round = 0; round < 16; ++round) {
    for (int k = 0; k < 5000; ++k)
      limiter.acquire("late-" + std::to_string(k), basic, kStart + 61s);
  }
  EXPECT_EQ(limiter.tracked_keys(), 5000u);
  EXPECT_EQ(limiter.evicted_keys(), 0u);
}

TEST(SlidingWindowMemory, KeysStillCountingAreKeptThroughASweep) {
  SlidingWindowLimiter limiter;
  const RateLimitQuota basic{"basic", 100, 60s, 0};
  for (int i = 0; i < 100; ++i) limiter.acquire("busy", basic, kStart);
  for (int round = 0; round < 16; ++round) {
    for (int k = 0; k < 5000; ++k)
      limiter.acquire("other-" + std::to_string(k), basic, kStart + 30s);
  }
  EXPECT_FALSE(limiter.acquire("busy", basic, kStart + 30s).allowed);
}

TEST(SlidingWindowMemory, AFullMapEvictsTheLeastRecentlyUsed) {
  SlidingWindowLimiter limiter(6400);  // 100 keys per shard
  const RateLimitQuota basic{"basic", 100, 60s, 0};
  for (int k = 0; k < 50'000; ++k) {
    limiter.acquire("ip-" + std::to_string(k), basic, kStart + std::chrono::milliseconds(k));
  }
  EXPECT_LE(limiter.tracked_keys(), 6400u);
  EXPECT_GE(limiter.tracked_keys(), 6000u);
  EXPECT_GE(limiter.evicted_keys(), 50'000u - 6400u);
  // The newest keys survive; the oldest were forgotten (and so start afresh).
  EXPECT_EQ(limiter.acquire("ip-49999", basic, kStart + 50s).remaining, 98);
  EXPECT_EQ(limiter.acquire("ip-0", basic, kStart + 50s).remaining, 99);
}

// Prints the cost of an admitted and of a refused acquire; timings vary too much across
// machines to assert.
template <class Acquire>
double ns_per_call(int calls, Acquire acquire) {
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) acquire(i);
  const auto took = std::chrono::steady_clock::now() - began;
  return std::chrono::duration<double, std::nano>(took).count() / calls;
}

TEST(SlidingWindowCost, MeasuresOneAcquire) {
  SlidingWindowLimiter limiter;
  const RateLimitQuota premium{"premium", 1000, 60s, 0};
  std::vector<std::string> keys;
  for (int k = 0; k < 1000; ++k) keys.push_back("partner-" + std::to_string(k));
  int allowed = 0;
  // Time moves 1 ms every 100 acquires, as in real traffic.
  const double admitted_ns = ns_per_call(1'000'000, [&](int i) {
    allowed += limiter.acquire(keys[i % 1000], premium, kStart + std::chrono::milliseconds(i / 100))
                   .allowed;
  });
  EXPECT_EQ(allowed, 1'000'000);
  const RateLimitQuota one{"one", 1, 60s, 0};
  limiter.acquire("exhausted", one, kStart);
  const double refused_ns = ns_per_call(1'000'000, [&](int i) {
    allowed +=
        limiter.acquire("exhausted", one, kStart + std::chrono::milliseconds(i / 100)).allowed;
  });
  EXPECT_EQ(allowed, 1'000'000);
  std::cout << "[ cost     ] sliding window: " << admitted_ns
            << " ns per admitted acquire (1000 keys), " << refused_ns << " ns per refused one\n";
  RecordProperty("ns_per_admitted_acquire", std::to_string(admitted_ns));
  RecordProperty("ns_per_refused_acquire", std::to_string(refused_ns));
}

}  // namespace
