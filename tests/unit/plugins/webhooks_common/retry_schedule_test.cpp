// The retry schedule: the contract's delays, ±20 % jitter from an injected random number, the end
// of the schedule, and Retry-After (seconds or HTTP-date, capped at 24 h) only ever delaying.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "webhooks_common/retry_schedule.hpp"

namespace {

using namespace portico::webhooks;
using namespace std::chrono;
using namespace std::chrono_literals;

// Sun, 06 Nov 1994 08:49:37 GMT — RFC 9110's example date.
const sys_seconds kRfcExample = sys_days(1994y / November / 6) + 8h + 49min + 37s;
const system_clock::time_point kNow = sys_days(2026y / November / 26) + 10h;

TEST(RetrySchedule, IsTheContractsNineDelays) {
  const std::array<seconds, 9> expected = {5s, 5min, 30min, 2h, 5h, 10h, 14h, 20h, 24h};
  EXPECT_EQ(kRetrySchedule, expected);
  EXPECT_EQ(kMaxAttempts, 10);
  for (int failed = 1; failed <= 9; ++failed) {
    // unit_random 0.5 is the midpoint: no jitter.
    EXPECT_EQ(next_retry_delay(failed, 0.5), duration_cast<milliseconds>(expected[failed - 1]))
        << failed;
  }
}

TEST(RetrySchedule, JitterIsPlusMinusTwentyPercent) {
  EXPECT_EQ(next_retry_delay(1, 0.0), 4000ms);
  EXPECT_EQ(next_retry_delay(1, 0.25), 4500ms);
  EXPECT_EQ(next_retry_delay(1, 0.75), 5500ms);
  EXPECT_EQ(next_retry_delay(1, 0.999999), 6000ms);
  EXPECT_EQ(next_retry_delay(2, 0.0), 240s);
  EXPECT_EQ(next_retry_delay(9, 0.0), duration_cast<milliseconds>(24h * 0.8));
  const milliseconds top = *next_retry_delay(9, 0.9999999);
  EXPECT_LT(top, duration_cast<milliseconds>(24h * 1.2) + 1ms);
  EXPECT_GT(top, duration_cast<milliseconds>(24h * 1.2) - 100ms);
  // Every random value lands inside the band, monotonically.
  milliseconds previous = 0ms;
  for (int i = 0; i < 1000; ++i) {
    const milliseconds delay = *next_retry_delay(4, i / 1000.0);
    EXPECT_GE(delay, duration_cast<milliseconds>(2h * 0.8));
    EXPECT_LE(delay, duration_cast<milliseconds>(2h * 1.2));
    EXPECT_GE(delay, previous);
    previous = delay;
  }
}

TEST(RetrySchedule, OutOfRangeRandomnessIsClamped) {
  EXPECT_EQ(next_retry_delay(1, -3.0), 4000ms);
  EXPECT_EQ(next_retry_delay(1, 1.0), 6000ms);
  EXPECT_EQ(next_retry_delay(1, 42.0), 6000ms);
  EXPECT_EQ(next_retry_delay(1, std::nan("")), 4000ms);
}

TEST(RetrySchedule, EndsAfterTheNinthRetry) {
  EXPECT_TRUE(next_retry_delay(9, 0.5).has_value());
  EXPECT_FALSE(next_retry_delay(10, 0.5).has_value());
  EXPECT_FALSE(next_retry_delay(11, 0.5).has_value());
  EXPECT_FALSE(next_retry_delay(1'000'000, 0.5).has_value());
  EXPECT_EQ(next_retry_delay(0, 0.5), 0ms);  // nothing failed: go now
  EXPECT_EQ(next_retry_delay(-1, 0.5), 0ms);
}

TEST(RetrySchedule, TotalSpanIsAboutThreeDays) {
  milliseconds total = 0ms;
  for (int failed = 1; next_retry_delay(failed, 0.5); ++failed)
    total += *next_retry_delay(failed, 0.5);
  EXPECT_EQ(total, duration_cast<milliseconds>(75h + 35min + 5s));
  EXPECT_LT(total, kDisableAfter);
}

TEST(HttpDate, ParsesAllThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", kNow), kRfcExample);
  EXPECT_EQ(parse_http_date("Thu, 26 Nov 2026 10:00:30 GMT", kNow), kNow + 30s);
  EXPECT_EQ(parse_http_date("sun, 06 nov 1994 08:49:37 GMT", kNow), kRfcExample);
  // Two-digit years: not more than 50 years ahead of now.
  EXPECT_EQ(parse_http_date("Friday, 01-Jan-76 00:00:00 GMT", kNow),
            sys_seconds(sys_days(2076y / January / 1)));
  EXPECT_EQ(parse_http_date("Friday, 01-Jan-77 00:00:00 GMT", kNow),
            sys_seconds(sys_days(1977y / January / 1)));
  EXPECT_EQ(parse_http_date("Sun Nov 16 08:49:37 1994", kNow), kRfcExample + days(10));
}

TEST(HttpDate, RefusesMalformedDates) {
  for (std::string_view bad : {
           "",
           "Sun, 06 Nov 1994 08:49:37 UTC",
           "Sun, 06 Nov 1994 08:49:37",
           "Sun, 6 Nov 1994 08:49:37 GMT",
           "Sun, 31 Feb 1994 08:49:37 GMT",
           "Sun, 06 Foo 1994 08:49:37 GMT",
           "Xyz, 06 Nov 1994 08:49:37 GMT",
           "Sun, 06 Nov 1994 24:00:00 GMT",
           "Sun, 06 Nov 1994 08:60:00 GMT",
           "Sun, 06 Nov 94 08:49:37 GMT",
           "Sun, 06 Nov 1994 8:49:37 GMT",
           "Funday, 06-Nov-94 08:49:37 GMT",
           "Sun Nov 6 08:49:37 1994",
           "1994-11-06T08:49:37Z",
           "tomorrow",
       }) {
    EXPECT_FALSE(parse_http_date(bad, kNow).has_value()) << bad;
  }
}

TEST(RetryAfter, DeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kNow), 120s);
  EXPECT_EQ(parse_retry_after("0", kNow), 0ms);
  EXPECT_EQ(parse_retry_after("  30 ", kNow), 30s);
  EXPECT_EQ(parse_retry_after("86400", kNow), 24h);
  EXPECT_EQ(parse_retry_after("86401", kNow), 24h);                       // capped
  EXPECT_EQ(parse_retry_after("99999999999999999999999999", kNow), 24h);  // no overflow
  for (std::string_view bad : {"", "   ", "-5", "+5", "1.5", "5s", "0x10", "1 2"}) {
    EXPECT_FALSE(parse_retry_after(bad, kNow).has_value()) << bad;
  }
}

TEST(RetryAfter, HttpDates) {
  EXPECT_EQ(parse_retry_after("Thu, 26 Nov 2026 10:05:00 GMT", kNow), 5min);
  EXPECT_EQ(parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", kNow), 0ms);  // past: now
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), 0ms);
  EXPECT_EQ(parse_retry_after("Sat, 28 Nov 2026 10:00:00 GMT", kNow), 24h);  // capped
  EXPECT_EQ(parse_retry_after("Thu, 26 Nov 2026 10:00:00 GMT", kNow + 500ms), 0ms);
  EXPECT_EQ(parse_retry_after("Thu, 26 Nov 2026 10:00:01 GMT", kNow + 500ms), 500ms);
}

TEST(RetryDelay, TheLaterOfScheduleAndRetryAfter) {
  EXPECT_EQ(retry_delay(1, 0.5, std::nullopt), 5s);
  EXPECT_EQ(retry_delay(1, 0.5, std::optional<milliseconds>(60s)), 60s);
  EXPECT_EQ(retry_delay(1, 0.5, std::optional<milliseconds>(1s)), 5s);
  EXPECT_EQ(retry_delay(2, 0.5, std::optional<milliseconds>(60s)), 5min);
  EXPECT_EQ(retry_delay(1, 0.5, std::optional<milliseconds>(48h)), 24h);  // capped here too
  EXPECT_EQ(retry_delay(1, 0.5, "120", kNow), 120s);
  EXPECT_EQ(retry_delay(1, 0.5, "", kNow), 5s);
  EXPECT_EQ(retry_delay(1, 0.5, "garbage", kNow), 5s);  // ignored
  EXPECT_EQ(retry_delay(1, 0.0, "Thu, 26 Nov 2026 11:00:00 GMT", kNow), 1h);
  EXPECT_EQ(retry_delay(9, 1.0, "86400", kNow), next_retry_delay(9, 1.0));  // schedule is later
}

TEST(RetryDelay, RetryAfterNeverExtendsTheSchedule) {
  EXPECT_FALSE(retry_delay(10, 0.5, std::optional<milliseconds>(10s)).has_value());
  EXPECT_FALSE(retry_delay(10, 0.5, "10", kNow).has_value());
}

TEST(Constants, MatchTheContract) {
  EXPECT_EQ(kDeliveryTimeout, 15s);
  EXPECT_EQ(kDisableAfter, days(5));
  EXPECT_EQ(kMaxRetryAfter, 24h);
  EXPECT_DOUBLE_EQ(kRetryJitter, 0.2);
}

}  // namespace
