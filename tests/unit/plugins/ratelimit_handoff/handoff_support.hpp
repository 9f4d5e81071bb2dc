// Shared by the rate-limit handoff tests: deterministic request sequences, and running one
// sequence against two policies to compare what they decide.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "portico/plugin.hpp"

namespace portico::test::handoff {

using Clock = std::chrono::system_clock;

// A whole minute since the epoch: a bucket boundary for every window that divides a minute.
inline const Clock::time_point kStart = Clock::time_point{} + std::chrono::hours(24 * 365 * 56);

// Runs of 1…max_run requests at one instant, up to `max_gap` apart (microsecond resolution, so
// instants fall inside milliseconds too). The same seed gives the same sequence.
inline std::vector<Clock::time_point> bursty(Clock::time_point from, Clock::duration span,
                                             std::chrono::milliseconds max_gap, int max_run,
                                             unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<std::int64_t> gap_us(0, max_gap.count() * 1000);
  std::uniform_int_distribution<int> run(1, max_run);
  std::vector<Clock::time_point> times;
  for (Clock::time_point at = from; at < from + span;
       at += std::chrono::microseconds(gap_us(random))) {
    for (int i = run(random); i > 0; --i) times.push_back(at);
  }
  return times;
}

// One request every `every`, starting at `from`.
inline std::vector<Clock::time_point> steady(Clock::time_point from, Clock::duration span,
                                             Clock::duration every) {
  std::vector<Clock::time_point> times;
  for (Clock::time_point at = from; at < from + span; at += every) times.push_back(at);
  return times;
}

// `count` requests at one instant.
inline std::vector<Clock::time_point> burst(Clock::time_point at, int count) {
  return std::vector<Clock::time_point>(static_cast<std::size_t>(count), at);
}

inline std::vector<Clock::time_point> joined(std::vector<Clock::time_point> first,
                                             const std::vector<Clock::time_point>& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

inline std::string describe(const RateLimitDecision& decision) {
  std::ostringstream text;
  text << (decision.allowed ? "allowed" : "refused") << " limit=" << decision.limit
       << " remaining=" << decision.remaining << " reset=" << decision.reset_after.count()
       << "ms retry=" << decision.retry_after.count() << "ms";
  return text.str();
}

inline bool same(const RateLimitDecision& a, const RateLimitDecision& b) {
  return a.allowed == b.allowed && a.limit == b.limit && a.remaining == b.remaining &&
         a.reset_after == b.reset_after && a.retry_after == b.retry_after;
}

inline std::int64_t ms_after(Clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at - kStart).count();
}

// Runs `arrivals` for `key` against both policies; every decision must be the same.
inline void expect_same_decisions(RateLimitPolicy& expected, RateLimitPolicy& actual,
                                  const std::string& key, const RateLimitQuota& quota,
                                  const std::vector<Clock::time_point>& arrivals) {
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    const RateLimitDecision want = expected.acquire(key, quota, arrivals[i]);
    const RateLimitDecision got = actual.acquire(key, quota, arrivals[i]);
    ASSERT_TRUE(same(want, got)) << key << ": request " << i << " at start+"
                                 << ms_after(arrivals[i]) << "ms: expected " << describe(want)
                                 << ", got " << describe(got);
  }
}

// Counts `arrivals` for `key`; answers how many were admitted.
inline int admitted(RateLimitPolicy& policy, const std::string& key, const RateLimitQuota& quota,
                    const std::vector<Clock::time_point>& arrivals) {
  int passed = 0;
  for (Clock::time_point at : arrivals) passed += policy.acquire(key, quota, at).allowed ? 1 : 0;
  return passed;
}

// Acquires until the first refusal; answers how many passed.
inline int passing_now(RateLimitPolicy& policy, const std::string& key, const RateLimitQuota& quota,
                       Clock::time_point now) {
  int passed = 0;
  while (passed < 1'000'000 && policy.acquire(key, quota, now).allowed) ++passed;
  return passed;
}

}  // namespace portico::test::handoff
