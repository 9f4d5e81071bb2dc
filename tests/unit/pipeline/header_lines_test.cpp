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

// Eight bytes at a time or one: each CR and LF becomes a space wherever it is — at every place of
// texts of every length up to four words, next to bytes that differ from them by one bit — and
// every other byte stays.
TEST(BlankLineBreaks, EveryCrAndLfAndNothingElseWhereverTheyAre) {
  const char others[] = {'\x0c', '\x0e', '\x0b', '\x8d', '\x8a', '\x2d', 'a', ' ', '\0', '\xff'};
  for (std::size_t size = 0; size <= 32; ++size) {
    for (std::size_t at = 0; at < size; ++at) {
      for (const char line_break : {'\r', '\n'}) {
        std::string text(size, others[(size + at) % std::size(others)]);
        for (std::size_t i = 0; i < size; ++i) text[i] = others[(i * 7 + size) % std::size(others)];
        text[at] = line_break;
        if (at + 3 < size) text[at + 3] = line_break == '\r' ? '\n' : '\r';
        std::string expected = text;
        for (char& c : expected) c = (c == '\r' || c == '\n') ? ' ' : c;
        blank_line_breaks(text.data(), text.data() + text.size());
        ASSERT_EQ(text, expected) << "size " << size << " at " << at;
      }
    }
  }
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
