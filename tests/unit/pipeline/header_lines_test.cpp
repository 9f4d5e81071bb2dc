// The gateway's own header lines (header_lines.hpp): written as "Name: value\r\n", CR and LF made
// spaces, the heap only past the inline room, and read back line by line.
#include "core/pipeline/header_lines.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace portico::pipeline {
namespace {

HeaderList read_back(std::string_view lines) {
  HeaderList out;
  HeaderLines::append_to(out, lines);
  return out;
}

TEST(HeaderLines, WritesLinesAndNumbersAndReadsThemBack) {
  HeaderLines lines;
  EXPECT_TRUE(lines.empty());
  lines.add("RateLimit", "\"basic\";r=57;t=43");
  lines.add("X-RateLimit-Remaining", std::int64_t{-9223372036854775807 - 1});
  lines.add("X-RateLimit-Limit", std::int64_t{100});
  EXPECT_EQ(lines.view(),
            "RateLimit: \"basic\";r=57;t=43\r\nX-RateLimit-Remaining: -9223372036854775808\r\n"
            "X-RateLimit-Limit: 100\r\n");
  auto back = read_back(lines.view());
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[0], (std::pair<std::string, std::string>{"RateLimit", "\"basic\";r=57;t=43"}));
  EXPECT_EQ(back[2].second, "100");
}

TEST(HeaderLines, NoValueOrNameCanEndTheLineOrStartAHeader) {
  HeaderLines lines;
  lines.add("X-Request-Id", "abc\r\nSet-Cookie: evil=1");
  lines.add("Bad\nName", "\r");
  EXPECT_EQ(lines.view(), "X-Request-Id: abc  Set-Cookie: evil=1\r\nBad Name:  \r\n");
  EXPECT_EQ(read_back(lines.view()).size(), 2u);
}

TEST(HeaderLines, SpillsToTheHeapPastItsRoomAndKeepsEveryByte) {
  HeaderLines lines;
  std::string expected;
  for (int i = 0; i < 40; ++i) {  // well past the inline room
    const std::string value(i, static_cast<char>('a' + i % 26));
    lines.add("X-Line-" + std::to_string(i), value);
    expected += "X-Line-" + std::to_string(i) + ": " + value + "\r\n";
    ASSERT_EQ(lines.view(), expected) << "after line " << i;
  }
  EXPECT_EQ(read_back(lines.view()).size(), 40u);
}

}  // namespace
}  // namespace portico::pipeline
