// The sliding-window counter: Cloudflare's estimate (the previous window's count weighted by its
// overlap with the sliding window, plus the current count), taken at 1/60-window granularity so
// it stays within one bucket of an exact sliding log. WindowCounts is one key's state;
// SlidingWindowLimiter is the thread-safe RateLimitPolicy over many keys, and hands its counts over
// on a reload (export_usage/import_usage).
#pragma once

#include <algorithm>
#include <array>
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

namespace portico::ratelimit_sliding_window {

inline constexpr std::int64_t kBuckets = 60;  // buckets per window
inline constexpr std::size_t kDefaultMaxKeys = 100'000;

// Time is counted in ticks of 1/kBuckets ms, so for a window of W ms bucket b spans ticks
// [b·W, (b+1)·W) exactly, whatever W, and window-aligned intervals are whole sets of buckets.
//
// At tick u in bucket c (offset o = u − c·W) the sliding window (u − kBuckets·W, u] covers
// buckets c−N+1 … c whole and the tail (1 − o/W) of bucket c−N, so the estimate is
//   E = recent + oldest × (W − o) / W.
// A request passes while E < limit. All arithmetic is on E×W, which is an integer.
class WindowCounts {
 public:
  // Counts one request at `now_ms` against `limit` per `window_ms` (both ≥ 1).
  RateLimitDecision acquire(std::int64_t limit, std::int64_t window_ms, std::int64_t now_ms) {
    if (window_ms != window_ms_) restart(window_ms, now_ms);
    limit_ = limit;
    // Threads may arrive with slightly older clocks; a key's time never runs backwards.
    latest_ms_ = std::max(latest_ms_, now_ms);
    const std::int64_t lag_ms = latest_ms_ - now_ms;
    const std::int64_t tick = latest_ms_ * kBuckets;
    advance_to(floor_div(tick, window_ms_));
    const std::int64_t offset = tick - head_ * window_ms_;

    Wide used = weighted_used(offset);
    const Wide limit_w = Wide{limit} * window_ms_;
    std::uint32_t& newest = counts_[slot(head_)];
    RateLimitDecision decision;
    decision.limit = limit;
    decision.allowed = used < limit_w && newest < std::numeric_limits<std::uint32_t>::max();
    if (decision.allowed) {
      ++newest;
      ++recent_;
      used += window_ms_;
    }
    // Requests that would pass right now: those keeping E below the limit.
    decision.remaining =
        std::max<std::int64_t>(0, limit - static_cast<std::int64_t>(used / window_ms_));
    if (!decision.allowed) {
      decision.retry_after =
          std::chrono::milliseconds(lag_ms + ms_until(used, limit_w - 1, offset));
    }
    decision.reset_after = std::chrono::milliseconds(lag_ms + ms_until_whole(used, offset));
    return decision;
  }

  // Gives back one admitted request (a 304 the core refunds): one count of the current bucket,
  // where acquire() just put it, or of the newest non-empty bucket when a bucket boundary passed
  // in between. A key counted under another window length, or with nothing counted, is left as is.
  void refund(std::int64_t window_ms, std::int64_t now_ms) {
    if (window_ms != window_ms_) return;
    latest_ms_ = std::max(latest_ms_, now_ms);
    advance_to(floor_div(latest_ms_ * kBuckets, window_ms_));
    for (std::int64_t bucket = head_; bucket >= head_ - kBuckets; --bucket) {
      std::uint32_t& count = counts_[slot(bucket)];
      if (count == 0) continue;
      --count;
      if (bucket > head_ - kBuckets) --recent_;  // the oldest bucket is not part of recent_
      return;
    }
  }

  // The hits still counted at `now` — every bucket with a count, from the decaying oldest one on
  // — into `usage`; false if there are none. Each bucket is stamped at the last instant a request
  // in it can have been counted (its end, or the end of the key's latest millisecond), so a
  // reader that counts a hit for a window from its stamp holds it no shorter than this counter.
  bool describe(std::chrono::system_clock::time_point now, RateLimitUsage& usage) const {
    using Clock = std::chrono::system_clock;
    if (window_ms_ == 0) return false;
    const std::int64_t current = floor_div(std::max(latest_ms_, to_ms(now)) * kBuckets, window_ms_);
    for (std::int64_t bucket = std::max(head_, current) - kBuckets; bucket <= head_; ++bucket) {
      const std::uint32_t count = counts_[slot(bucket)];
      if (count == 0) continue;
      const std::int64_t end_ms =
          std::min(ceil_div((bucket + 1) * window_ms_, kBuckets), latest_ms_ + 1);
      usage.hits.push_back(
          {Clock::time_point(std::chrono::milliseconds(end_ms)) - Clock::duration(1), count});
    }
    if (usage.hits.empty()) return false;
    usage.quota.limit = limit_;
    usage.quota.window = std::chrono::milliseconds(window_ms_);
    return true;
  }

  // Takes over hits counted elsewhere for `limit` per `window_ms` (both ≥ 1), at `now`: each goes
  // into the bucket its stamp falls in, as if acquire() had counted it then. Hits that have left
  // the window are dropped; a stamp after `now` (another thread's clock ran ahead) moves the key's
  // clock forward as such a request would have. From another instance of this counter that
  // rebuilds its buckets exactly. A key counted under another window length starts afresh, as
  // with acquire().
  void import(std::int64_t limit, std::int64_t window_ms,
              const std::vector<RateLimitUsage::Hits>& hits,
              std::chrono::system_clock::time_point now) {
    if (window_ms != window_ms_) restart(window_ms, to_ms(now));
    limit_ = limit;
    move_clock_to(to_ms(now));
    for (const RateLimitUsage::Hits& hit : hits) {
      if (hit.count <= 0) continue;
      const std::int64_t at_ms = to_ms(hit.at);
      move_clock_to(at_ms);
      const std::int64_t bucket = floor_div(at_ms * kBuckets, window_ms_);
      if (bucket >= head_ - kBuckets) add(bucket, hit.count);  // else it has left the window
    }
  }

  // Nothing counted any more: every bucket up to head_ has slid out of the window.
  bool idle_at(std::int64_t now_ms) const {
    return window_ms_ == 0 ||
           (now_ms >= latest_ms_ && floor_div(now_ms * kBuckets, window_ms_) > head_ + kBuckets);
  }
  std::int64_t eviction_rank() const { return latest_ms_; }

 private:
  using Wide = __int128;  // E×W: counts up to 2^63 times windows up to 2^63 ms without overflow

  static std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
  }
  static std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return -floor_div(-a, b); }
  static std::size_t slot(std::int64_t bucket) {
    const std::int64_t ring = kBuckets + 1;
    return static_cast<std::size_t>(((bucket % ring) + ring) % ring);
  }
  static std::int64_t to_ms(std::chrono::system_clock::time_point at) {
    return std::chrono::floor<std::chrono::milliseconds>(at.time_since_epoch()).count();
  }

  // A new window length makes the old buckets meaningless; the key starts afresh.
  void restart(std::int64_t window_ms, std::int64_t now_ms) {
    window_ms_ = window_ms;
    latest_ms_ = now_ms;
    head_ = floor_div(now_ms * kBuckets, window_ms);
    recent_ = 0;
    counts_.fill(0);
  }

  // The ring holds buckets head_−N … head_; recent_ is the sum of head_−N+1 … head_.
  void advance_to(std::int64_t bucket) {
    if (bucket <= head_) return;
    if (bucket - head_ > kBuckets) {
      counts_.fill(0);
      recent_ = 0;
      head_ = bucket;
      return;
    }
    while (head_ < bucket) {
      ++head_;
      recent_ -= counts_[slot(head_ - kBuckets)];  // now the oldest, decaying bucket
      counts_[slot(head_)] = 0;                    // reuses the slot of the bucket that left
    }
  }

  // A key's time never runs backwards (see acquire()).
  void move_clock_to(std::int64_t ms) {
    if (ms <= latest_ms_) return;
    latest_ms_ = ms;
    advance_to(floor_div(ms * kBuckets, window_ms_));
  }

  // Adds `count` to a bucket of the ring, saturating like acquire() (which refuses at the top).
  void add(std::int64_t bucket, std::int64_t count) {
    std::uint32_t& counted = counts_[slot(bucket)];
    const std::int64_t room = std::numeric_limits<std::uint32_t>::max() - counted;
    const std::int64_t added = std::min(count, room);
    counted += static_cast<std::uint32_t>(added);
    if (bucket > head_ - kBuckets) recent_ += added;  // the oldest bucket is not part of recent_
  }

  Wide weighted_used(std::int64_t offset) const {
    return Wide{recent_} * window_ms_ +
           Wide{counts_[slot(head_ - kBuckets)]} * (window_ms_ - offset);
  }

  // Milliseconds until E×W falls to `target` or below if no request comes. During bucket head_+k
  // the bucket head_−N+k is the oldest: E×W loses its count every tick until it is gone.
  // Counted from the start of the current bucket, so every bucket decays over a whole W.
  std::int64_t ms_until(Wide used, Wide target, std::int64_t offset) const {
    std::size_t at = slot(head_ - kBuckets);
    Wide excess = used - target;
    if (excess <= 0) return 0;
    excess += Wide{counts_[at]} * offset;  // what the oldest bucket already lost this bucket
    for (std::int64_t k = 0; k <= kBuckets; ++k, at = (at == kBuckets) ? 0 : at + 1) {
      const std::uint32_t count = counts_[at];
      if (count == 0) continue;
      const Wide decay = Wide{count} * window_ms_;
      if (excess <= decay) {
        const Wide ticks = Wide{k} * window_ms_ + (excess + count - 1) / count - offset;
        return static_cast<std::int64_t>((ticks + kBuckets - 1) / kBuckets);
      }
      excess -= decay;
    }
    // Not reached for target ≥ 0: after N+1 buckets nothing is counted any more.
    return ((kBuckets + 1) * window_ms_ - offset + kBuckets - 1) / kBuckets;
  }

  // Milliseconds until the whole quota is back (remaining == limit, i.e. E < 1): that happens
  // while the newest non-empty bucket decays, once what is left of it is under one request.
  // O(1) where the general walk above would cross the whole window.
  std::int64_t ms_until_whole(Wide used, std::int64_t offset) const {
    if (used <= window_ms_ - 1) return 0;
    std::int64_t newest = head_;
    while (counts_[slot(newest)] == 0) --newest;  // used > 0, so some bucket in the ring counts
    const std::int64_t count = counts_[slot(newest)];
    // Bucket `newest` decays during bucket newest+N; x ticks into it, count·(W − x) remain.
    const std::int64_t x = window_ms_ - (window_ms_ - 1) / count;
    const Wide ticks = Wide{newest + kBuckets - head_} * window_ms_ + x - offset;
    return static_cast<std::int64_t>((ticks + kBuckets - 1) / kBuckets);
  }

  std::int64_t window_ms_ = 0;
  std::int64_t limit_ = 0;  // the last limit counted under, for describe()
  std::int64_t latest_ms_ = std::numeric_limits<std::int64_t>::min();
  std::int64_t head_ = 0;
  std::int64_t recent_ = 0;
  std::array<std::uint32_t, kBuckets + 1> counts_{};
};

// The default rate-limit policy: thread-safe, sharded, bounded in memory.
class SlidingWindowLimiter final : public RateLimitPolicy {
 public:
  explicit SlidingWindowLimiter(std::size_t max_keys = kDefaultMaxKeys) : keys_(max_keys) {}

  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override {
    const std::int64_t window_ms = quota.window.count();
    if (ratelimit_common::admits_nothing(quota)) return ratelimit_common::refuse_all(quota);
    const std::int64_t now_ms =
        std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count();
    return keys_.with(key, now_ms, [&](WindowCounts& counts) {
      return counts.acquire(quota.limit, window_ms, now_ms);
    });
  }

  // The counts are in memory: every decision is given now (API 3.2).
  std::optional<RateLimitDecision> acquire_now(std::string_view key, const RateLimitQuota& quota,
                                               std::chrono::system_clock::time_point now) override {
    return acquire(key, quota, now);
  }

  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point now) override {
    const std::int64_t window_ms = quota.window.count();
    if (ratelimit_common::admits_nothing(quota)) return;
    const std::int64_t now_ms =
        std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count();
    keys_.with(key, now_ms, [&](WindowCounts& counts) { counts.refund(window_ms, now_ms); });
  }

  // Every key with hits still in its window, as WindowCounts::describe() stamps them. The quota is
  // the last limit and window the key was counted under (tiers are not kept: no policy needs them).
  std::vector<RateLimitUsage> export_usage(
      std::chrono::system_clock::time_point now) const override {
    std::vector<RateLimitUsage> usage;
    keys_.for_each([&](const std::string& key, const WindowCounts& counts) {
      RateLimitUsage entry;
      if (!counts.describe(now, entry)) return;
      entry.key = key;
      usage.push_back(std::move(entry));
    });
    return usage;
  }

  // Under each entry's own window (WindowCounts::import()); max_keys still bounds the keys kept.
  void import_usage(const std::vector<RateLimitUsage>& usage,
                    std::chrono::system_clock::time_point now) override {
    const std::int64_t now_ms =
        std::chrono::floor<std::chrono::milliseconds>(now.time_since_epoch()).count();
    for (const RateLimitUsage& entry : usage) {
      const std::int64_t window_ms = entry.quota.window.count();
      if (ratelimit_common::admits_nothing(entry.quota)) continue;  // such quotas keep no state
      if (std::none_of(entry.hits.begin(), entry.hits.end(),
                       [](const RateLimitUsage::Hits& hit) { return hit.count > 0; })) {
        continue;
      }
      keys_.with(entry.key, now_ms, [&](WindowCounts& counts) {
        counts.import(entry.quota.limit, window_ms, entry.hits, now);
      });
    }
  }

  std::size_t tracked_keys() const { return keys_.size(); }
  std::uint64_t evicted_keys() const { return keys_.evictions(); }

 private:
  sdk::KeyShards<WindowCounts> keys_;
};

}  // namespace portico::ratelimit_sliding_window
