#include "core/util/strings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "core/util/random_id.hpp"
#include "core/util/time.hpp"

namespace portico::util {
namespace {

TEST(Strings, EditDistanceCountsASwapAsOneEdit) {
  EXPECT_EQ(edit_distance("tls", "tsl"), 1u);
  EXPECT_EQ(edit_distance("listen", "listne"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Strings, ClosestMatchSuggestsTyposOnly) {
  std::vector<std::string> keys{"listen", "threads", "tls", "dir"};
  EXPECT_EQ(closest_match("listne", keys), "listen");
  EXPECT_EQ(closest_match("tsl", keys), "tls");
  EXPECT_EQ(closest_match("dri", keys), "dir");
  EXPECT_EQ(closest_match("completely_else", keys), "");
  EXPECT_EQ(closest_match("listen", keys), "");  // an exact match is not a typo
}

TEST(Strings, TrimAndSplit) {
  EXPECT_EQ(trim("  a b \t\n"), "a b");
  EXPECT_EQ(split("a,b,,c", ','), (std::vector<std::string>{"a", "b", "", "c"}));
}

TEST(RandomId, HasPrefixLengthAndAlphabet) {
  std::string id = random_id("evt_", 24);
  EXPECT_EQ(id.size(), 28u);
  EXPECT_EQ(id.rfind("evt_", 0), 0u);
  for (char c : id.substr(4)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
  EXPECT_NE(random_id("x_"), random_id("x_"));
  EXPECT_EQ(random_token(32).size(), 43u);  // base64url without padding
}

TEST(RandomId, TimeOrderedIdsSortByCreationAndStayUnique) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(time_ordered_id("evt_"));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  for (const auto& id : ids) {
    EXPECT_EQ(id.size(), 28u);
    for (char c : id.substr(4)) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
  }
  EXPECT_NE(time_ordered_id("x_"), time_ordered_id("x_"));
  EXPECT_THROW(time_ordered_id("x_", 9), std::invalid_argument);
}

TEST(Time, Rfc3339RoundTrip) {
  auto t = parse_rfc3339("2026-11-26T10:20:30Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-11-26T10:20:30Z");
  auto offset = parse_rfc3339("2026-11-26T19:20:30.250+09:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(format_rfc3339(*offset, true), "2026-11-26T10:20:30.250Z");
  EXPECT_FALSE(parse_rfc3339("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-11-26 10:20:30Z"));
  EXPECT_FALSE(parse_rfc3339("2026-11-26T10:20:30"));
  EXPECT_FALSE(parse_rfc3339("2026-11-26T10:20:30Zjunk"));
}

}  // namespace
}  // namespace portico::util
