// util::parse_rfc3339 refuses times system_clock cannot hold instead of overflowing into another
// time (the json_bodies fuzz target found `"expires_at": "4054-01-31T00:00:00Z"` on a key).
#include <gtest/gtest.h>

#include "core/util/time.hpp"

namespace portico::util {
namespace {

TEST(ParseRfc3339Range, AcceptsTheClocksWholeRange) {
  ASSERT_TRUE(parse_rfc3339("2262-04-11T23:47:16Z").has_value());
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2262-04-11T23:47:16Z")), "2262-04-11T23:47:16Z");
  ASSERT_TRUE(parse_rfc3339("1677-09-21T00:12:44Z").has_value());
  EXPECT_EQ(format_rfc3339(*parse_rfc3339("2027-01-31T00:00:00Z")), "2027-01-31T00:00:00Z");
}

TEST(ParseRfc3339Range, RefusesTimesBeyondTheClock) {
  EXPECT_FALSE(parse_rfc3339("2262-04-11T23:47:17Z").has_value());
  EXPECT_FALSE(parse_rfc3339("4054-01-31T00:00:00Z").has_value());
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59.999Z").has_value());
  EXPECT_FALSE(parse_rfc3339("1677-09-21T00:12:43Z").has_value());
  EXPECT_FALSE(parse_rfc3339("0000-01-01T00:00:00+23:59").has_value());
}

}  // namespace
}  // namespace portico::util
