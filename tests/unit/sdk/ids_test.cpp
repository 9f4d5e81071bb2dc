// sdk::random_id and sdk::time_ordered_id: the "prefix_" + 24 base62 format every id keeps, and
// time-ordered ids sorting by the millisecond they were made (so rows keyed by them append).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "portico/sdk/sodium.hpp"

namespace {

using namespace std::chrono_literals;
using portico::sdk::random_id;
using portico::sdk::time_ordered_id;

bool is_base62(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

TEST(SdkIds, TimeOrderedIdsKeepTheRandomIdFormat) {
  ASSERT_NO_THROW(portico::sdk::initialise_sodium());
  const std::string random = random_id("ord_");
  const std::string ordered = time_ordered_id("ord_");
  EXPECT_EQ(ordered.size(), random.size());
  EXPECT_EQ(ordered.rfind("ord_", 0), 0u);
  EXPECT_TRUE(is_base62(ordered.substr(4))) << ordered;
}

TEST(SdkIds, LaterMillisecondsSortAfterWhateverTheRandomPart) {
  const auto t0 = std::chrono::system_clock::time_point(1'764'000'000'000ms);
  std::vector<std::string> ids;
  for (int step = 0; step < 2000; ++step) ids.push_back(time_ordered_id("ord_", t0 + step * 1ms));
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  // Across a base62 carry (…z → …10) and years apart too.
  EXPECT_LT(time_ordered_id("e_", t0), time_ordered_id("e_", t0 + 24h * 365 * 30));
}

TEST(SdkIds, TheSameMillisecondStillGivesDistinctUnguessableIds) {
  const auto t0 = std::chrono::system_clock::time_point(1'764'000'000'000ms);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(time_ordered_id("ord_", t0));
  EXPECT_EQ(seen.size(), 10000u);
  // 16 random characters after the 8 of the stamp.
  EXPECT_NE(time_ordered_id("x_", t0).substr(10), time_ordered_id("x_", t0).substr(10));
  EXPECT_EQ(time_ordered_id("x_", t0).substr(0, 10), time_ordered_id("x_", t0).substr(0, 10));
}

TEST(SdkIds, AClockBeforeTheEpochDoesNotWrapAround) {
  const auto before = std::chrono::system_clock::time_point(-5ms);
  EXPECT_EQ(time_ordered_id("x_", before).substr(0, 10), "x_00000000");
}

}  // namespace
