// The token bucket as GCRA (generic cell rate algorithm): one theoretical arrival time per key
// instead of a token count and a refill timestamp. ArrivalSchedule is one key's state;
// TokenBucketLimiter is the thread-safe RateLimitPolicy over many keys, and hands its counts over
// on a reload (export_usage/import_usage, with tat_taking_over()).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plugins/ratelimit_common/quota.hpp"
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

// A hit handed over from another policy instance: `count` requests counted at `at_ns`.
struct HandedHit {
  std::int64_t at_ns = 0;
  std::int64_t count = 0;
};

// The TAT of a key whose TAT is `tat_ns` after taking over `hits` (oldest first, counts ≥ 1)
// counted under `cell` and a window of `window_ns`, at `now_ns`: the later of
//   - replaying them, TAT = max(TAT, at) + count·T: what this bucket would have made of them;
//   - now + H·T, H the hits still in the window (stamped less than a window ago): all of them
//     owed as if just made, so no more remains now than a window policy had left — and exactly
//     this bucket's own debt, which it exports as hits spread over the last window.
// Capped at τ + T from now, an empty bucket: more than it can ever owe by its own counting.
inline std::int64_t tat_taking_over(const Cell& cell, std::int64_t window_ns,
                                    const std::vector<HandedHit>& hits, std::int64_t now_ns,
                                    std::int64_t tat_ns) {
  using Wide = __int128;
  constexpr Wide kMaxCount = Wide{1} << 62;  // keeps count·T far from overflowing Wide
  const Wide emission = cell.emission_ns;
  const Wide cap = Wide{now_ns} + cell.tolerance_ns + cell.emission_ns;
  Wide target = tat_ns;
  Wide in_window = 0;
  for (const HandedHit& hit : hits) {
    target = std::min(std::max<Wide>(target, hit.at_ns) + hit.count * emission, cap);
    if (Wide{hit.at_ns} + window_ns > now_ns) {
      in_window = std::min(in_window + hit.count, kMaxCount);
    }
  }
  target = std::max(target, Wide{now_ns} + in_window * emission);
  return static_cast<std::int64_t>(std::max<Wide>(tat_ns, std::min(target, cap)));
}

// One key: its theoretical arrival time (a TAT at or before now is a full bucket), and the quota
// it was last counted under, for the handoff.
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

  // Remembers the quota acquire() counts under (tier aside: no policy needs it).
  void count_under(const RateLimitQuota& quota) {
    limit_ = quota.limit;
    window_ms_ = quota.window.count();
    burst_ = quota.burst;
  }
  RateLimitQuota quota() const {
    return {{}, limit_, std::chrono::milliseconds(window_ms_), burst_};
  }

  // The debt at `now` as requests (rounded up: never fresh quota), stamped by when this bucket
  // gives them back: the k-th of S at now + debt − (S − k)·T, so stamped a window before that —
  // a reader counting a hit for a window from its stamp holds it as long as this bucket does, and
  // lets it go then (stamps after `now`, possible with a burst allowance, are held at `now`). In
  // at most kHandoffGroups hits, each stamped for the last request in it.
  static constexpr std::int64_t kHandoffGroups = 60;
  std::vector<RateLimitUsage::Hits> owed_at(const Cell& cell,
                                            std::chrono::system_clock::time_point now) const {
    using Clock = std::chrono::system_clock;
    const std::int64_t now_ns =
        std::chrono::floor<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    std::vector<RateLimitUsage::Hits> hits;
    if (tat_ns_ <= now_ns || window_ms_ < 1) return hits;
    const std::int64_t debt = tat_ns_ - now_ns;
    const std::int64_t owed = debt / cell.emission_ns + (debt % cell.emission_ns != 0 ? 1 : 0);
    const std::int64_t per_hit = (owed + kHandoffGroups - 1) / kHandoffGroups;
    const __int128 window_ns = __int128{window_ms_} * 1'000'000;
    for (std::int64_t first = 1; first <= owed; first += per_hit) {
      const std::int64_t last = std::min(owed, first + per_hit - 1);
      // How long before now the last request of the hit went out of a window: ≥ 0.
      const __int128 before = window_ns - debt + __int128{owed - last} * cell.emission_ns;
      const auto stamp_before = std::chrono::floor<Clock::duration>(std::chrono::nanoseconds(
          static_cast<std::int64_t>(std::clamp<__int128>(before, 0, now_ns))));
      hits.push_back({now - stamp_before, last - first + 1});
    }
    return hits;
  }

  // Takes over hits counted elsewhere under `quota` (see tat_taking_over()).
  void take_over(const RateLimitQuota& quota, const Cell& cell, std::int64_t window_ns,
                 const std::vector<HandedHit>& hits, std::int64_t now_ns) {
    count_under(quota);
    tat_ns_ = tat_taking_over(cell, window_ns, hits, now_ns, tat_ns_);
  }

  bool idle_at(std::int64_t now_ns) const { return tat_ns_ <= now_ns; }
  std::int64_t eviction_rank() const { return tat_ns_; }

 private:
  static std::chrono::milliseconds ceil_ms(std::int64_t ns) {
    return std::chrono::ceil<std::chrono::milliseconds>(std::chrono::nanoseconds(ns));
  }

  std::int64_t tat_ns_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t limit_ = 0;  // 0: never counted
  std::int64_t window_ms_ = 0;
  std::int64_t burst_ = 0;
};

// Thread-safe, sharded, bounded in memory. `default_burst` applies when a quota carries none.
class TokenBucketLimiter final : public RateLimitPolicy {
 public:
  explicit TokenBucketLimiter(std::size_t max_keys = kDefaultMaxKeys,
                              std::int64_t default_burst = 0)
      : keys_(max_keys), default_burst_(std::max<std::int64_t>(0, default_burst)) {}

  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override {
    if (ratelimit_common::admits_nothing(quota)) return ratelimit_common::refuse_all(quota);
    const Cell cell = cell_of(quota);
    const std::int64_t now_ns = to_ns(now);
    return keys_.with(key, now_ns, [&](ArrivalSchedule& schedule) {
      schedule.count_under(quota);
      return schedule.acquire(cell, now_ns);
    });
  }

  // The schedules are in memory: every decision is given now (API 3.2).
  std::optional<RateLimitDecision> acquire_now(std::string_view key, const RateLimitQuota& quota,
                                               std::chrono::system_clock::time_point now) override {
    return acquire(key, quota, now);
  }

  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point now) override {
    if (ratelimit_common::admits_nothing(quota)) return;
    const Cell cell = cell_of(quota);
    const std::int64_t now_ns = to_ns(now);
    keys_.with(key, now_ns, [&](ArrivalSchedule& schedule) { schedule.refund(cell, now_ns); });
  }

  // Every key in debt (ArrivalSchedule::owed_at()), under the quota it was last counted under.
  // Another token bucket takes the debt over exactly, or later by less than one T; a window
  // policy holds each request until this bucket would have given it back.
  std::vector<RateLimitUsage> export_usage(
      std::chrono::system_clock::time_point now) const override {
    std::vector<RateLimitUsage> usage;
    keys_.for_each([&](const std::string& key, const ArrivalSchedule& schedule) {
      const RateLimitQuota quota = schedule.quota();
      if (quota.limit < 1) return;  // only ever refunded: nothing counted
      std::vector<RateLimitUsage::Hits> hits = schedule.owed_at(cell_of(quota), now);
      if (!hits.empty()) usage.push_back({key, quota, std::move(hits)});
    });
    return usage;
  }

  // Each entry under its own quota, with this bucket's default burst applied like acquire()
  // does; max_keys still bounds the keys kept.
  void import_usage(const std::vector<RateLimitUsage>& usage,
                    std::chrono::system_clock::time_point now) override {
    const std::int64_t now_ns = to_ns(now);
    std::vector<HandedHit> hits;
    for (const RateLimitUsage& entry : usage) {
      if (ratelimit_common::admits_nothing(entry.quota)) continue;  // keep no state
      hits.clear();
      for (const RateLimitUsage::Hits& hit : entry.hits) {
        if (hit.count > 0) hits.push_back({to_ns(hit.at), hit.count});
      }
      if (hits.empty()) continue;
      std::stable_sort(hits.begin(), hits.end(),
                       [](const HandedHit& a, const HandedHit& b) { return a.at_ns < b.at_ns; });
      const Cell cell = cell_of(entry.quota);
      // Clamped like Cell::of() clamps τ: beyond ~73 years nothing changes.
      const std::int64_t window_ns = static_cast<std::int64_t>(
          std::min<__int128>(__int128{entry.quota.window.count()} * 1'000'000,
                             std::numeric_limits<std::int64_t>::max() / 4));
      keys_.with(entry.key, now_ns, [&](ArrivalSchedule& schedule) {
        schedule.take_over(entry.quota, cell, window_ns, hits, now_ns);
      });
    }
  }

  std::size_t tracked_keys() const { return keys_.size(); }
  std::uint64_t evicted_keys() const { return keys_.evictions(); }

 private:
  static std::int64_t to_ns(std::chrono::system_clock::time_point at) {
    return std::chrono::floor<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  }
  Cell cell_of(const RateLimitQuota& quota) const {
    return Cell::of(quota.limit, quota.window, quota.burst > 0 ? quota.burst : default_burst_);
  }

  sdk::KeyShards<ArrivalSchedule> keys_;
  std::int64_t default_burst_;
};

}  // namespace portico::ratelimit_token_bucket
