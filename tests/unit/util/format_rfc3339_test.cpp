// util::format_rfc3339 and sdk::format_timestamp put the digits in place: they must write what
// gmtime_r and printf wrote before, for any time the clock holds — before 1970 too, at every
// millisecond boundary — with and without milliseconds.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "core/util/time.hpp"
#include "portico/sdk/time.hpp"

namespace portico::util {
namespace {

using std::chrono::system_clock;

// The implementation these replaced.
std::string by_printf(system_clock::time_point t, bool millis) {
  using namespace std::chrono;
  auto seconds = time_point_cast<std::chrono::seconds>(t);
  if (seconds > t) seconds -= std::chrono::seconds(1);
  const std::time_t tt = system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  if (millis) {
    const auto ms = duration_cast<milliseconds>(t - seconds).count();
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

TEST(FormatRfc3339, WritesWhatPrintfWrote) {
  std::mt19937_64 random(3);
  std::vector<system_clock::time_point> times = {
      system_clock::time_point{},                                // the epoch
      system_clock::time_point{} - std::chrono::nanoseconds(1),  // just before it
      system_clock::time_point{} - std::chrono::milliseconds(1001), system_clock::time_point::min(),
      system_clock::time_point::max()};
  const auto span = system_clock::duration::max().count();
  for (int i = 0; i < 100'000; ++i) {
    const auto r = static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(span));
    times.push_back(system_clock::time_point(system_clock::duration(i % 2 ? r : -r)));
  }
  for (const auto t : times) {
    ASSERT_EQ(format_rfc3339(t, false), by_printf(t, false)) << t.time_since_epoch().count();
    ASSERT_EQ(format_rfc3339(t, true), by_printf(t, true)) << t.time_since_epoch().count();
    ASSERT_EQ(sdk::format_timestamp(t), by_printf(t, true)) << t.time_since_epoch().count();
  }
}

}  // namespace
}  // namespace portico::util
