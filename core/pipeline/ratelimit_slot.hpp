// The tier rate limiter in force, shared by every snapshot, so a reload never grants fresh quota.
// Snapshots point their `ratelimit` at the slot, not at a plugin; the slot forwards to the policy
// of the newest snapshot. When a reload brings another policy instance (a new version of the
// plugin, changed settings, another algorithm), replace() holds requests back for a moment, moves
// the counts over through export_usage()/import_usage() (plugin API 1.2) and only then lets them
// through to the new policy: no request is lost, none counted twice, even for a request that
// started on the old snapshot. A reload that removes rate limiting parks the counts until a
// policy comes back.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "portico/plugin.hpp"

namespace portico::pipeline {

class RateLimiterSlot final : public RateLimitPolicy {
 public:
  struct Candidate {
    std::shared_ptr<RateLimitPolicy> policy;  // null = no rate limiting
    bool speaks_handoff = false;              // the plugin declares API 1.2 or newer
    bool answers_now = false;                 // API 3.2 or newer: may be asked acquire_now
  };
  struct Handover {
    bool replaced = false;          // another instance took over
    std::size_t keys_carried = 0;   // keys whose counts the new policy took over
    std::string warning;            // counts that could not be carried, and why
  };

  RateLimitDecision acquire(std::string_view key, const RateLimitQuota& quota,
                            std::chrono::system_clock::time_point now) override;
  void acquire_async(std::string_view key, const RateLimitQuota& quota,
                     std::chrono::system_clock::time_point now,
                     Completion<RateLimitDecision> done) override;
  // The policy's answer now when it gives one (API 3.2) — under the same lock as acquire_async,
  // so a handover never splits its counts.
  std::optional<RateLimitDecision> acquire_now(std::string_view key, const RateLimitQuota& quota,
                                               std::chrono::system_clock::time_point now) override;
  void refund(std::string_view key, const RateLimitQuota& quota,
              std::chrono::system_clock::time_point now) override;

  // Makes `next` the policy in force (a no-op when it already is). Exceptions from the plugins
  // propagate and leave the policy in force unchanged.
  Handover replace(Candidate next, std::chrono::system_clock::time_point now);

  std::shared_ptr<RateLimitPolicy> current() const;

 private:
  mutable std::shared_mutex mutex_;
  Candidate current_;
  std::vector<RateLimitUsage> parked_;  // counts kept while no policy is configured
};

}  // namespace portico::pipeline
