// What every rate-limit policy answers for a quota that admits nothing (a tier or override with
// limit 0, or a window of 0): refused, without keeping state for the key.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "portico/plugin.hpp"

namespace portico::ratelimit_common {

inline bool admits_nothing(const RateLimitQuota& quota) {
  return quota.limit < 1 || quota.window.count() < 1;
}

// Retry after the window (at least a second): the quota may have been raised by then.
inline RateLimitDecision refuse_all(const RateLimitQuota& quota) {
  const auto wait = std::max(quota.window, std::chrono::milliseconds(1000));
  return {false, std::max<std::int64_t>(0, quota.limit), 0, wait, wait};
}

}  // namespace portico::ratelimit_common
