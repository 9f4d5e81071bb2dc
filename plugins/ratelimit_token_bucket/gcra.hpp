// The token bucket as GCRA (generic cell rate algorithm): one theoretical arrival time per key
// instead of a token count and a refill timestamp. ArrivalSchedule is one key's state;
// TokenBucketLimiter is the thread-safe RateLimitPolicy over many keys.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "portico/plugin.hpp"
#include "portico/sdk/key_shards.hpp"

namespace portico::ratelimit_token_bucket {

inline constexpr std::size_t kDefaultMaxKeys = 100'000;

// The bucket of one quota, in nanoseconds.
//   emission interval T = window / limit (rounded up: never faster than the quota)
//   capacity          C = limit + burst  (burst 0: the bucket holds exactly `limit` requests)
//   tolerance         τ = (C − 1) · T
// A request at t passes when max(TAT, t) − t ≤ τ, and then TAT = max(TAT, t) + T.
struct Cell {
  std::int64_t limit = 0;
  std::int64_t emission_ns = 0;
  std::int64_t tolerance_ns = 0;

  // limit ≥ 1, window ≥ 1 ms, burst ≥ 0.
  static Cell of(std::int64_t limit, std::chrono::milliseconds window, std::int64_t burst) {
    using Wide = __int128;
    const Wide window_ns = Wide{window.count()} * 1'000'000;
    const Wide emission = (window_ns + limit - 1) / limit;
    const Wide tolerance = (Wide{limit} + burst - 1) * emission;
    // Beyond ~73 years of tolerance nothing changes; clamp so TAT arithmetic cannot overflow.
    constexpr Wide kCap = std::numeric_limits<std::int64_t>::max() / 4;
    return {limit, static_cast<std::int64_t>(std::min(emission, kCap)),
            static_cast<std::int64_t>(std::min(tolerance, kCap))};
  }
};

// One key: its theoretical arrival time. A TAT at or before now is a full bucket.
class ArrivalSchedule {
 public:
  RateLimitDecision acquire(const Cell& cell, std::int64_t now_ns) {
    std::int64_t ahead = std::max(tat_ns_, now_ns) - now_ns;  // the debt of the bucket, ≥ 0
    RateLimitDecision decision;
    decision.limit = cell.limit;
    decision.allowed = ahead <= cell.tolerance_ns;
    if (decision.allowed) {
      ahead += cell.emission_ns;
      tat_ns_ = now_ns + ahead;
    } else {
      decision.retry_after = ceil_ms(ahead - cell.tolerance_ns);
    }
    // Requests passing right now: each adds T to the debt, which may not exceed τ before it.
    // Capped at the limit so a burst allowance never shows as remaining > limit.
    if (ahead <= cell.tolerance_ns) {
      decision.remaining = std::min(cell.limit, (cell.tolerance_ns - ahead) / cell.emission_ns + 1);
    }
    decision.reset_after = ceil_ms(ahead);  // the bucket is full again when the debt is paid
    return decision;
  }

  // Gives back one admitted request (a 304 the core refunds): TAT moves back one emission
  // interval, but never before now — a full bucket cannot be overfilled.
  void refund(const Cell& cell, std::int64_t now_ns) {
    if (tat_ns_ <= now_ns) return;  // already full (or never used): nothing to give back
    tat_ns_ = std::max(tat_ns_ - cell.emission_ns, now_ns);
  }

  bool idle_at(std::int64_t now_ns) const { return tat_ns_ <= now_ns; }
  std::int64_t eviction_rank() const { return tat_ns_; }

 private:
  static std::chrono::milliseconds ceil_ms(std::int64_t ns) {
    return std::chrono::ceil<std::chrono::milliseconds>(std::chrono::nanoseconds(ns));
  }

  std::int64_t tat_ns_ = std::numeric_limits<std::int64_t>::min();
};

// Thread-safe, sharded, bounded in memory. `default_burst` applies when a quota carries none.
class TokenBucketLimiter final : public RateLimitPolicy {
 public:
  explicit TokenBucketLimiter(std::size_t max_keys = kDefaultMaxKeys,
                              std::int64_t default_burst = 0)
      : keys_(max_keys), default_burst_(std::max<std::int64_t>(0, default_burst)) {}

  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override {
    if (quota.limit < 1 || quota.window.count() < 1) return refuse_all(quota);
    const Cell cell =
        Cell::of(quota.limit, quota.window, quota.burst > 0 ? quota.burst : default_burst_);
    const std::int64_t now_ns =
        std::chrono::floor<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    return keys_.with(key, now_ns,
                      [&](ArrivalSchedule& schedule) { return schedule.acquire(cell, now_ns); });
  }

  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point now) override {
    if (quota.limit < 1 || quota.window.count() < 1) return;
    const Cell cell =
        Cell::of(quota.limit, quota.window, quota.burst > 0 ? quota.burst : default_burst_);
    const std::int64_t now_ns =
        std::chrono::floor<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    keys_.with(key, now_ns, [&](ArrivalSchedule& schedule) { schedule.refund(cell, now_ns); });
  }

  std::size_t tracked_keys() const { return keys_.size(); }
  std::uint64_t evicted_keys() const { return keys_.evictions(); }

 private:
  // A quota that admits nothing (limit 0) refuses without keeping state.
  static RateLimitDecision refuse_all(const RateLimitQuota& quota) {
    const auto wait = std::max(quota.window, std::chrono::milliseconds(1000));
    return {false, std::max<std::int64_t>(0, quota.limit), 0, wait, wait};
  }

  sdk::KeyShards<ArrivalSchedule> keys_;
  std::int64_t default_burst_;
};

}  // namespace portico::ratelimit_token_bucket
