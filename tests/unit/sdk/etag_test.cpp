// If-None-Match against a strong ETag: exact, listed, weak and "*" hits; anything else misses,
// including malformed headers (which must never turn into a 304). If-Match compares strongly: a
// weak tag never matches, and a malformed header never lets an update through.
#include <gtest/gtest.h>

#include "portico/sdk/etag.hpp"

namespace {

using portico::sdk::if_match_hits;
using portico::sdk::if_none_match_hits;

constexpr const char* kTag = "\"5d41402abc4b2a76b9719d911017c592\"";

TEST(IfNoneMatch, TheSameTagHits) {
  EXPECT_TRUE(if_none_match_hits(kTag, kTag));
  EXPECT_TRUE(if_none_match_hits(" \"5d41402abc4b2a76b9719d911017c592\" ", kTag));
}

TEST(IfNoneMatch, AnyTagOfAListHits) {
  EXPECT_TRUE(if_none_match_hits("\"a\", \"5d41402abc4b2a76b9719d911017c592\"", kTag));
  EXPECT_TRUE(if_none_match_hits("\"5d41402abc4b2a76b9719d911017c592\",\"b\"", kTag));
  EXPECT_TRUE(if_none_match_hits("\"a, b\", \"5d41402abc4b2a76b9719d911017c592\"", kTag));
}

TEST(IfNoneMatch, WeakComparisonAsRfc9110Requires) {
  EXPECT_TRUE(if_none_match_hits("W/\"5d41402abc4b2a76b9719d911017c592\"", kTag));
}

TEST(IfNoneMatch, StarHitsAnyExistingRepresentation) {
  EXPECT_TRUE(if_none_match_hits("*", kTag));
  EXPECT_TRUE(if_none_match_hits(" * ", kTag));
}

TEST(IfNoneMatch, OtherTagsAndMalformedHeadersMiss) {
  EXPECT_FALSE(if_none_match_hits("\"other\"", kTag));
  EXPECT_FALSE(if_none_match_hits("", kTag));
  EXPECT_FALSE(if_none_match_hits("5d41402abc4b2a76b9719d911017c592", kTag));    // unquoted
  EXPECT_FALSE(if_none_match_hits("\"5d41402abc4b2a76b9719d911017c592", kTag));  // unclosed
  EXPECT_FALSE(if_none_match_hits("*x", kTag));
  EXPECT_FALSE(if_none_match_hits("\"5d41402abc4b2a76b9719d911017c59\"", kTag));
  EXPECT_FALSE(if_none_match_hits("w/\"5d41402abc4b2a76b9719d911017c592\"", kTag));
}

TEST(IfMatch, TheSameTagOrAStarHits) {
  EXPECT_TRUE(if_match_hits(kTag, kTag));
  EXPECT_TRUE(if_match_hits("\"a\", \"5d41402abc4b2a76b9719d911017c592\"", kTag));
  EXPECT_TRUE(if_match_hits("*", kTag));
}

TEST(IfMatch, WeakOtherAndMalformedTagsMiss) {
  EXPECT_FALSE(if_match_hits("W/\"5d41402abc4b2a76b9719d911017c592\"", kTag));
  EXPECT_FALSE(if_match_hits("\"other\"", kTag));
  EXPECT_FALSE(if_match_hits("", kTag));
  EXPECT_FALSE(if_match_hits("5d41402abc4b2a76b9719d911017c592", kTag));
  EXPECT_FALSE(if_match_hits("\"5d41402abc4b2a76b9719d911017c592", kTag));
  EXPECT_FALSE(if_match_hits("*x", kTag));
  EXPECT_FALSE(if_match_hits(kTag, "W/\"5d41402abc4b2a76b9719d911017c592\""));
}

}  // namespace
