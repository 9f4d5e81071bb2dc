// When a failed webhook delivery is tried again (CONTRACT.md "Webhooks"): pure functions, with
// the randomness and the clock passed in so tests never sleep.
//
// Attempt 1 is immediate; after it fails, retries follow at about 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 14 h, 20 h and 24 h (each ±20 % jitter, counted from the failure before it) — 10 attempts
// over about 3 days 4 h — and then the event is marked failed for that endpoint. A Retry-After
// on a failed response (429, 503, ...) can only push a retry later, by at most 24 h, and never
// adds attempts.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <string_view>

namespace portico::webhooks {

inline constexpr std::array<std::chrono::seconds, 9> kRetrySchedule = {
    std::chrono::seconds(5), std::chrono::minutes(5), std::chrono::minutes(30),
    std::chrono::hours(2),   std::chrono::hours(5),   std::chrono::hours(10),
    std::chrono::hours(14),  std::chrono::hours(20),  std::chrono::hours(24),
};
// The first attempt plus one per scheduled retry.
inline constexpr int kMaxAttempts = 1 + static_cast<int>(kRetrySchedule.size());
inline constexpr double kRetryJitter = 0.2;  // ±20 %
inline constexpr std::chrono::hours kMaxRetryAfter{24};
// A delivery succeeds with a 2xx within this time.
inline constexpr std::chrono::seconds kDeliveryTimeout{15};
// An endpoint failing everything for this long is disabled.
inline constexpr std::chrono::hours kDisableAfter{5 * 24};

// The wait before the next attempt after `failed_attempts` attempts failed (1 after the first
// attempt failed): kRetrySchedule[failed_attempts - 1] scaled by 0.8 + 0.4 × unit_random, where
// unit_random is uniform in [0, 1) (clamped into it). nullopt once the schedule is exhausted
// (failed_attempts ≥ kMaxAttempts): the event has failed. 0 ms when nothing failed yet.
std::optional<std::chrono::milliseconds> next_retry_delay(int failed_attempts, double unit_random);

// An HTTP-date (RFC 9110 §5.6.7): IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete
// RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years after `now` is
// read as the century before) and asctime ("Sun Nov  6 08:49:37 1994") forms. nullopt when
// malformed.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::system_clock::time_point now);

// A Retry-After value as the wait from `now`: delta-seconds ("120") or an HTTP-date (a date in the
// past waits 0). Capped at kMaxRetryAfter; nullopt when empty or malformed (then it is ignored).
std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

// next_retry_delay, pushed back to the Retry-After wait when that is later. nullopt when the
// schedule is exhausted, whatever Retry-After says.
std::optional<std::chrono::milliseconds> retry_delay(
    int failed_attempts, double unit_random, std::optional<std::chrono::milliseconds> retry_after);
// The same from the raw Retry-After header value ("" when the response had none).
std::optional<std::chrono::milliseconds> retry_delay(int failed_attempts, double unit_random,
                                                     std::string_view retry_after_header,
                                                     std::chrono::system_clock::time_point now);

}  // namespace portico::webhooks
