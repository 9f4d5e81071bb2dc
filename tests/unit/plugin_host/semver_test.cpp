// Semantic versions: parsing, semver.org precedence, and the ranges plugin tables pin with.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "core/plugin_host/semver.hpp"

namespace portico::plugin_host {
namespace {

SemVer v(std::string_view text) {
  auto parsed = SemVer::parse(text);
  if (!parsed) throw std::invalid_argument("test version " + std::string(text));
  return *parsed;
}

TEST(SemVerParse, ReadsReleaseAndPrerelease) {
  EXPECT_EQ(v("1.2.3"), (SemVer{1, 2, 3, ""}));
  EXPECT_EQ(v("1.2.3-beta.1"), (SemVer{1, 2, 3, "beta.1"}));
  EXPECT_EQ(v("0.0.0"), (SemVer{0, 0, 0, ""}));
  EXPECT_EQ(v("10.20.30-rc-1"), (SemVer{10, 20, 30, "rc-1"}));
  EXPECT_EQ(v("1.2.3-beta.1").to_string(), "1.2.3-beta.1");
  EXPECT_EQ(v("1.0.0+build.5").to_string(), "1.0.0");  // build metadata has no precedence
}

TEST(SemVerParse, RejectsMalformedText) {
  for (const char* text : {"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "v1.2.3",
                           "1.2.3-", "1.2.3-beta..1", "1.2.3-01", "1.2.3-b$", "a.b.c", "1.2.3 ",
                           " 1.2.3", "-1.2.3", "1.2.3+", "99999999999.0.0"}) {
    EXPECT_EQ(SemVer::parse(text), std::nullopt) << text;
  }
}

TEST(SemVerOrder, FollowsSemverPrecedence) {
  // The example chain from semver.org §11, plus numeric (not textual) number comparison.
  std::vector<std::string_view> ascending = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                             "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                             "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                             "1.2.0",       "1.10.0",        "2.0.0"};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    EXPECT_TRUE(v(ascending[i]) < v(ascending[i + 1])) << ascending[i] << " < " << ascending[i + 1];
    EXPECT_FALSE(v(ascending[i + 1]) < v(ascending[i])) << ascending[i + 1];
  }
  EXPECT_FALSE(v("1.0.0") < v("1.0.0"));
}

TEST(SemVerRange, AnyMatchesEverything) {
  for (const char* range : {"", "*", "  "}) {
    EXPECT_TRUE(satisfies(v("0.1.0"), range)) << range;
    EXPECT_TRUE(satisfies(v("7.3.1-beta"), range)) << range;
  }
}

TEST(SemVerRange, ExactVersion) {
  EXPECT_TRUE(satisfies(v("1.2.3"), "1.2.3"));
  EXPECT_TRUE(satisfies(v("1.2.3"), "=1.2.3"));
  EXPECT_FALSE(satisfies(v("1.2.4"), "1.2.3"));
  EXPECT_FALSE(satisfies(v("1.2.3-beta"), "1.2.3"));
  // A partial version stands for all its releases.
  EXPECT_TRUE(satisfies(v("1.2.9"), "1.2"));
  EXPECT_FALSE(satisfies(v("1.3.0"), "1.2"));
}

TEST(SemVerRange, CaretKeepsTheMajor) {
  EXPECT_TRUE(satisfies(v("1.2.0"), "^1.2"));
  EXPECT_TRUE(satisfies(v("1.9.7"), "^1.2"));
  EXPECT_FALSE(satisfies(v("1.1.9"), "^1.2"));
  EXPECT_FALSE(satisfies(v("2.0.0"), "^1.2"));
  EXPECT_FALSE(satisfies(v("2.0.0-beta.1"), "^1.2"));  // not a prerelease of the next major
  EXPECT_TRUE(satisfies(v("1.2.3"), "^1.2.3"));
  EXPECT_FALSE(satisfies(v("1.2.2"), "^1.2.3"));
  EXPECT_TRUE(satisfies(v("1.0.0"), "^1"));
  EXPECT_FALSE(satisfies(v("2.0.0"), "^1"));
}

TEST(SemVerRange, CaretOnZeroMajorKeepsTheMinor) {
  EXPECT_TRUE(satisfies(v("0.2.5"), "^0.2"));
  EXPECT_FALSE(satisfies(v("0.3.0"), "^0.2"));
  EXPECT_TRUE(satisfies(v("0.2.9"), "^0.2.3"));
  EXPECT_FALSE(satisfies(v("0.2.2"), "^0.2.3"));
  EXPECT_FALSE(satisfies(v("0.3.0"), "^0.2.3"));
}

TEST(SemVerRange, TildeKeepsMajorAndMinor) {
  EXPECT_TRUE(satisfies(v("1.2.0"), "~1.2"));
  EXPECT_TRUE(satisfies(v("1.2.9"), "~1.2"));
  EXPECT_FALSE(satisfies(v("1.3.0"), "~1.2"));
  EXPECT_TRUE(satisfies(v("1.2.4"), "~1.2.3"));
  EXPECT_FALSE(satisfies(v("1.2.2"), "~1.2.3"));
  EXPECT_FALSE(satisfies(v("1.3.0"), "~1.2.3"));
}

TEST(SemVerRange, Comparisons) {
  EXPECT_TRUE(satisfies(v("1.0.0"), ">=1.0"));
  EXPECT_FALSE(satisfies(v("0.9.9"), ">=1.0"));
  EXPECT_FALSE(satisfies(v("1.0.5"), ">1.0"));  // above every 1.0.x
  EXPECT_TRUE(satisfies(v("1.1.0"), ">1.0"));
  EXPECT_TRUE(satisfies(v("1.0.1"), ">1.0.0"));
  EXPECT_FALSE(satisfies(v("1.0.0"), ">1.0.0"));
  EXPECT_TRUE(satisfies(v("1.99.0"), "<2"));
  EXPECT_FALSE(satisfies(v("2.0.0"), "<2"));
  EXPECT_TRUE(satisfies(v("2.1.7"), "<=2.1"));  // every 2.1.x
  EXPECT_FALSE(satisfies(v("2.2.0"), "<=2.1"));
  EXPECT_TRUE(satisfies(v("2.1.0"), "<=2.1.0"));
  EXPECT_FALSE(satisfies(v("2.1.1"), "<=2.1.0"));
}

TEST(SemVerRange, SpaceSeparatedTermsMustAllHold) {
  EXPECT_TRUE(satisfies(v("1.2.0"), ">=1.2 <2"));
  EXPECT_TRUE(satisfies(v("1.9.0"), ">=1.2 <2"));
  EXPECT_FALSE(satisfies(v("1.1.0"), ">=1.2 <2"));
  EXPECT_FALSE(satisfies(v("2.0.0"), ">=1.2 <2"));
  EXPECT_TRUE(satisfies(v("1.5.0"), ">= 1.2  < 2"));  // operator written apart from its version
}

TEST(SemVerRange, MalformedRangeThrowsWithAClearMessage) {
  auto message = [](std::string_view range) {
    try {
      satisfies(v("1.0.0"), range);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  EXPECT_EQ(message("^x"),
            "invalid version range '^x': 'x' is not a version (expected 1, 1.2 or 1.2.3)");
  EXPECT_EQ(message(">=1.2 <2.x"),
            "invalid version range '>=1.2 <2.x': '2.x' is not a version (expected 1, 1.2 or "
            "1.2.3)");
  EXPECT_EQ(message("^1 || ^2"),
            "invalid version range '^1 || ^2': '||' alternatives are not supported");
  EXPECT_EQ(message(">="), "invalid version range '>=': operator without a version");
  // Checked even when an earlier term already fails.
  EXPECT_NE(message("<1 ^bad"), "no exception");
  for (const char* range : {"^", "~~1", "=>1.0", "1.2.3.4", "latest", "1.*", "v1"}) {
    EXPECT_FALSE(valid_range(range)) << range;
  }
  for (const char* range : {"", "*", "1.2.3", "^1.2", "~1.2.3", ">=1.0", ">=1.2 <2"}) {
    EXPECT_TRUE(valid_range(range)) << range;
  }
}

}  // namespace
}  // namespace portico::plugin_host
