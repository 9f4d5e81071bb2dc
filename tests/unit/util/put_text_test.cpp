// util::copy_bytes copies small sizes with overlapping loads and stores and util::assign_text
// writes over a string's bytes without std::string::assign: each must give exactly what memcpy
// and assign give, at every size around their cases' edges, without touching a byte beyond.
#include "core/util/put_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace portico::util {
namespace {

std::string random_text(std::mt19937& random, std::size_t size) {
  std::string text(size, '\0');
  for (char& c : text) c = static_cast<char>(random() % 256);
  return text;
}

TEST(CopyBytes, CopiesEverySizeExactlyAndNothingBeyond) {
  std::mt19937 random(7);
  for (std::size_t size = 0; size <= 80; ++size) {
    for (std::size_t offset = 0; offset < 8; ++offset) {  // unaligned sources and destinations
      const std::string from = random_text(random, size + offset);
      std::vector<char> to(size + 2 * 8 + offset, '#');
      copy_bytes(to.data() + 8 + offset, from.data() + offset, size);
      EXPECT_EQ(std::string(to.data() + 8 + offset, size), from.substr(offset)) << size;
      for (std::size_t i = 0; i < 8 + offset; ++i) ASSERT_EQ(to[i], '#') << size << " " << i;
      for (std::size_t i = 8 + offset + size; i < to.size(); ++i) {
        ASSERT_EQ(to[i], '#') << size << " " << i;
      }
    }
  }
}

TEST(PutText, ReturnsTheByteAfterAndTakesAnEmptyViewWithNoData) {
  char room[40];
  char* end = put_text(room, "Content-Length: ");
  EXPECT_EQ(end, room + 16);
  EXPECT_EQ(put_text(end, std::string_view()), end);  // data() is null
  EXPECT_EQ(std::string_view(room, 16), "Content-Length: ");
}

TEST(AssignText, GivesWhatAssignGivesWhetherTheStringShrinksGrowsOrOutgrowsItsRoom) {
  std::mt19937 random(11);
  std::string reused, reference;
  for (int round = 0; round < 2000; ++round) {
    const std::string text = random_text(random, random() % (round % 10 == 0 ? 200 : 40));
    assign_text(reused, text);
    reference.assign(text);
    ASSERT_EQ(reused, reference) << round;
    ASSERT_EQ(reused.size(), text.size());
    ASSERT_EQ(reused.c_str()[reused.size()], '\0');  // still terminated, as assign leaves it
  }
}

TEST(AssignText, KeepsTheStringsMemoryWhenItFits) {
  std::string reused(100, 'x');
  reused.clear();
  const char* const memory = reused.data();
  assign_text(reused, "/v1/products/prod_000123");
  assign_text(reused, "GET");
  assign_text(reused, std::string(100, 'y'));
  EXPECT_EQ(reused.data(), memory);
  EXPECT_EQ(reused, std::string(100, 'y'));
}

}  // namespace
}  // namespace portico::util
