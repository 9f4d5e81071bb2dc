// util::plain_json_run tests sixteen and eight bytes at a time: it must give what a byte-at-a-time
// reading gives, wherever the first byte to escape sits in a block.
#include "core/util/json_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace portico::util {
namespace {

// The run read a byte at a time.
template <Plain kind>
std::size_t reference_run(std::string_view text, std::size_t from) {
  std::size_t at = from;
  while (at < text.size() && plain_byte<kind>(static_cast<unsigned char>(text[at]))) ++at;
  return at - from;
}

// A random text of up to 79 bytes, one in eight of them any byte, the rest printable, and a
// random place in it to start from.
struct RandomCut {
  std::string text;
  std::size_t from;
};
RandomCut random_cut(std::mt19937& random) {
  std::string text(random() % 80, 'a');
  for (char& c : text) {
    c = static_cast<char>(random() % 8 == 0 ? random() % 256 : 0x20 + random() % 0x5F);
  }
  const std::size_t from = text.empty() ? 0 : random() % text.size();
  return {std::move(text), from};
}

TEST(JsonText, EveryByteAtEveryPlaceOfTwoChunks) {
  for (int c = 0; c < 256; ++c) {
    const bool plain = c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
    for (std::size_t at = 0; at < 41; ++at) {
      std::string text(41, 'x');  // two blocks of sixteen, one of eight, one byte
      text[at] = static_cast<char>(c);
      EXPECT_EQ(plain_json_run(text), plain ? text.size() : at) << c << " at " << at;
      EXPECT_EQ(plain_json_text(text), plain) << c << " at " << at;
    }
  }
}

// The header scan's kind: printable ASCII, quote and backslash included.
TEST(JsonText, PrintableRunsTakeQuotesAndBackslashes) {
  for (int c = 0; c < 256; ++c) {
    const bool plain = c >= 0x20 && c < 0x7F;
    for (std::size_t at = 0; at < 41; ++at) {
      std::string text(41, 'x');
      text[at] = static_cast<char>(c);
      EXPECT_EQ(plain_run<Plain::printable>(text), plain ? text.size() : at) << c << " at " << at;
    }
  }
  std::mt19937 random(43);
  for (int i = 0; i < 20000; ++i) {
    const auto [text, from] = random_cut(random);
    ASSERT_EQ(plain_run<Plain::printable>(text, from), reference_run<Plain::printable>(text, from))
        << text;
  }
}

TEST(JsonText, RandomTextReadsAsByteAtATime) {
  std::mt19937 random(42);
  for (int i = 0; i < 20000; ++i) {
    const auto [text, from] = random_cut(random);
    ASSERT_EQ(plain_json_run(text, from), reference_run<Plain::json>(text, from)) << text;
  }
  EXPECT_EQ(plain_json_run(""), 0u);
  EXPECT_TRUE(plain_json_text(""));
}

}  // namespace
}  // namespace portico::util
