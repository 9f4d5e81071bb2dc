// sdk::text_hash, the hash of the gateway's text-keyed maps: the same for a text however it is
// held, every byte of it counts (each length of the tail it reads as overlapping words), and ids
// of the kinds the maps hold do not collide.
#include "portico/sdk/text_key.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace portico::sdk {
namespace {

TEST(TextHash, OneTextOneHashHoweverHeld) {
  const std::string text = "ptr_0123456789abcdefghijklmn";
  EXPECT_EQ(text_hash(text), text_hash(std::string_view(text)));
  EXPECT_EQ(TextHash{}(text), text_hash(text));
  EXPECT_EQ(TextHash{}(hashed_text(text)), text_hash(text));
  EXPECT_EQ(text_hash(std::string(text)), text_hash(text.c_str()));

  std::unordered_map<std::string, int, TextHash, TextEqual> map;
  map.emplace(text, 7);
  EXPECT_EQ(map.find(std::string_view(text))->second, 7);
  EXPECT_EQ(map.find(hashed_text(text))->second, 7);
  EXPECT_EQ(map.find(std::string_view("ptr_0123456789abcdefghijklmo")), map.end());
}

// Any one byte changed, at any place of texts of 0 to 40 bytes (every tail length, and the words
// before it), gives another hash; so does the length alone.
TEST(TextHash, EveryByteAndTheLengthCount) {
  std::unordered_set<std::size_t> seen;
  std::size_t texts = 0;
  for (std::size_t size = 0; size <= 40; ++size) {
    const std::string base(size, 'a');
    seen.insert(text_hash(base));
    ++texts;
    for (std::size_t at = 0; at < size; ++at) {
      for (const char c : {'b', '\0', '\xff'}) {
        std::string changed = base;
        changed[at] = c;
        seen.insert(text_hash(changed));
        ++texts;
      }
    }
  }
  EXPECT_EQ(seen.size(), texts);
}

// 200,000 ids as the gateway makes them (a prefix and random base62), 100,000 IPv4 addresses and
// the product ids of a catalog: no two share a hash, and the low bits that pick a shard are used
// evenly.
TEST(TextHash, IdsAddressesAndProductsDoNotCollide) {
  std::mt19937_64 random(7);
  const std::string base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::unordered_set<std::string> texts;
  while (texts.size() < 200'000) {
    std::string id = "ptr_";
    for (int i = 0; i < 24; ++i) id += base62[random() % base62.size()];
    texts.insert(id);
  }
  for (int i = 0; i < 100'000; ++i) {
    texts.insert("10." + std::to_string(i >> 16 & 255) + "." + std::to_string(i >> 8 & 255) + "." +
                 std::to_string(i & 255));
    texts.insert("prod_" + std::to_string(1'000'000 + i).substr(1));
  }
  std::unordered_set<std::size_t> hashes;
  std::array<std::size_t, 32> shards{};
  for (const auto& text : texts) {
    hashes.insert(text_hash(text));
    ++shards[text_hash(text) % shards.size()];
  }
  EXPECT_EQ(hashes.size(), texts.size());
  for (const std::size_t count : shards) {
    EXPECT_NEAR(static_cast<double>(count), texts.size() / 32.0, texts.size() / 32.0 * 0.05);
  }
}

// same_text (TextEqual's) compares up to 32 bytes as overlapping words: it must agree with memcmp
// at every size around its cases' edges, with a bit of each byte, in turn, changed.
TEST(SameText, AgreesWithMemcmpAtEverySizeAndWhereverTheyDiffer) {
  std::mt19937 random(13);
  for (std::size_t size = 0; size <= 80; ++size) {
    std::string a(size, '\0');
    for (char& c : a) c = static_cast<char>(random() % 256);
    EXPECT_TRUE(same_text(a, std::string(a))) << size;
    for (std::size_t at = 0; at < size; ++at) {  // one byte different, in each place
      std::string b = a;
      b[at] = static_cast<char>(b[at] ^ (1 << (random() % 8)));
      ASSERT_FALSE(same_text(a, b)) << size << " " << at;
    }
    if (size > 0) {
      EXPECT_FALSE(same_text(a, a.substr(0, size - 1))) << size;
    }
  }
  EXPECT_TRUE(same_text(std::string_view(), ""));
}

}  // namespace
}  // namespace portico::sdk
