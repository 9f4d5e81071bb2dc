// The tier limit counted in Redis (window_script.hpp), so every gateway node sharing the server
// counts against the same numbers, and the counts outlive a gateway restart. The core asks
// through acquire_async(); the answer comes from the pipeline's thread, never blocking the
// request's. When Redis cannot be reached: failure_mode "closed" answers 503
// `rate_limit_unavailable` with Retry-After, "open" counts with the local sliding-window counter
// meanwhile (each node alone: the limit is then per node). Either way the outage and its end are
// logged once, with how many requests it touched.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/ratelimit_common/sliding_window.hpp"
#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "redis_pipeline.hpp"

namespace portico::ratelimit_redis {

enum class FailureMode { closed, open };

struct LimiterSettings {
  RedisSettings redis;
  std::string key_prefix = "portico:rl:";
  FailureMode failure_mode = FailureMode::closed;
  std::size_t max_local_keys = ratelimit_sliding_window::kDefaultMaxKeys;
};

class RedisLimiter final : public RateLimitPolicy {
 public:
  // `log` may be null (tests); it must outlive the limiter.
  RedisLimiter(LimiterSettings settings, Log* log);
  ~RedisLimiter() override;

  void acquire_async(std::string_view key, const RateLimitQuota& quota,
                     std::chrono::system_clock::time_point now,
                     Completion<RateLimitDecision> done) override;
  // Blocking form (tools, tests): waits for the asynchronous answer.
  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override;
  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point now) override;
  // The counts live in Redis, shared by every node: nothing to hand over on a reload.
  std::vector<RateLimitUsage> export_usage(std::chrono::system_clock::time_point) const override {
    return {};
  }
  void import_usage(const std::vector<RateLimitUsage>&,
                    std::chrono::system_clock::time_point) override {}

  // Requests decided without Redis (locally or refused) since the last outage began.
  std::uint64_t degraded_requests() const { return degraded_.load(); }
  bool redis_up() const { return pipeline_->up(); }

 private:
  void on_state(bool up, const std::string& why);
  void degrade(std::string_view key, const RateLimitQuota& quota,
               std::chrono::system_clock::time_point now, const std::string& why,
               const Completion<RateLimitDecision>& done);

  LimiterSettings settings_;
  Log* log_;
  ratelimit_sliding_window::SlidingWindowLimiter local_;
  std::atomic<std::uint64_t> degraded_{0};
  std::mutex state_mutex_;
  bool down_ = false;  // an outage was logged and its end was not yet
  std::unique_ptr<RedisPipeline> pipeline_;  // last: its thread calls back into the members above
};

}  // namespace portico::ratelimit_redis
