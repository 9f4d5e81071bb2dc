#include "core/pipeline/ratelimit_slot.hpp"

#include <mutex>
#include <utility>

namespace portico::pipeline {

RateLimitDecision RateLimiterSlot::acquire(std::string_view key, const RateLimitQuota& quota,
                                           std::chrono::system_clock::time_point now) {
  std::shared_lock lock(mutex_);
  if (!current_.policy) {
    // A request that began on a snapshot with rate limiting, after a reload removed it.
    return {true, quota.limit, quota.limit, {}, {}};
  }
  return current_.policy->acquire(key, quota, now);
}

// Forwarded under the lock: an in-process policy answers inside it, so a handover never splits
// its counts (the pipeline applies the answer only after this returns); a policy that answers
// later keeps its counts in another server and has nothing to hand over.
void RateLimiterSlot::acquire_async(std::string_view key, const RateLimitQuota& quota,
                                    std::chrono::system_clock::time_point now,
                                    Completion<RateLimitDecision> done) {
  std::shared_lock lock(mutex_);
  if (!current_.policy) return done(RateLimitDecision{true, quota.limit, quota.limit, {}, {}});
  current_.policy->acquire_async(key, quota, now, std::move(done));
}

std::optional<RateLimitDecision> RateLimiterSlot::acquire_now(
    std::string_view key, const RateLimitQuota& quota, std::chrono::system_clock::time_point now) {
  std::shared_lock lock(mutex_);
  if (!current_.policy) return RateLimitDecision{true, quota.limit, quota.limit, {}, {}};
  if (!current_.answers_now) return std::nullopt;
  return current_.policy->acquire_now(key, quota, now);
}

void RateLimiterSlot::refund(std::string_view key, const RateLimitQuota& quota,
                             std::chrono::system_clock::time_point now) {
  std::shared_lock lock(mutex_);
  if (current_.policy) current_.policy->refund(key, quota, now);
}

RateLimiterSlot::Handover RateLimiterSlot::replace(Candidate next,
                                                   std::chrono::system_clock::time_point now) {
  Handover handover;
  std::shared_ptr<RateLimitPolicy> outgoing;  // released after the lock: may unload a library
  {
    std::unique_lock lock(mutex_);
    if (next.policy == current_.policy) return handover;
    std::vector<RateLimitUsage> usage;
    bool complete = true;
    if (!current_.policy) {
      usage = parked_;
    } else if (current_.speaks_handoff) {
      usage = current_.policy->export_usage(now);
    } else {
      complete = false;
      handover.warning =
          "the outgoing rate-limit policy predates plugin API 1.2 and cannot hand its counts "
          "over: partners' rate limits start afresh";
    }
    if (next.policy) {
      if (next.speaks_handoff) {
        next.policy->import_usage(usage, now);
        handover.keys_carried = usage.size();
      } else if (complete && !usage.empty()) {
        handover.warning =
            "the incoming rate-limit policy predates plugin API 1.2 and cannot take counts over: "
            "partners' rate limits start afresh";
      }
      parked_.clear();
    } else {
      parked_ = std::move(usage);
      handover.keys_carried = parked_.size();
    }
    outgoing = std::exchange(current_.policy, std::move(next.policy));
    current_.speaks_handoff = next.speaks_handoff;
    current_.answers_now = next.answers_now;
    handover.replaced = true;
  }
  return handover;
}

std::shared_ptr<RateLimitPolicy> RateLimiterSlot::current() const {
  std::shared_lock lock(mutex_);
  return current_.policy;
}

}  // namespace portico::pipeline
