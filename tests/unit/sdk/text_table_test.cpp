// sdk::TextTable, the open-addressed array under each KeyShards shard: checked against
// std::unordered_map over random adds, finds and erasures — small tables whose runs wrap round
// the end, keys whose hashes collide, growth — and with a state that owns something, so a move
// that lost or duplicated an entry would show.
#include "portico/sdk/text_table.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

namespace portico::sdk {
namespace {

struct Value {
  int n = 0;
};

// Keys whose hashes all share their low bits (one home slot), or are the text's own hash.
HashedText key_of(const std::string& text, bool colliding) {
  HashedText key = hashed_text(text);
  if (colliding) key.hash = (key.hash << 12) | 5;  // same home in any table below 4,096 slots
  return key;
}

void check_same(TextTable<Value>& table, const std::unordered_map<std::string, int>& expected,
                bool colliding) {
  ASSERT_EQ(table.size(), expected.size());
  for (const auto& [text, n] : expected) {
    Value* found = table.find(key_of(text, colliding));
    ASSERT_NE(found, nullptr) << text;
    EXPECT_EQ(found->n, n) << text;
  }
  std::size_t seen = 0;
  table.for_each([&](const std::string& text, const Value& value) {
    ++seen;
    ASSERT_TRUE(expected.contains(text)) << text;
    EXPECT_EQ(value.n, expected.at(text)) << text;
  });
  EXPECT_EQ(seen, expected.size());
}

TEST(TextTable, AgreesWithAnUnorderedMapOverRandomAddsFindsAndErasures) {
  for (bool colliding : {false, true}) {
    std::mt19937 random(colliding ? 11 : 7);
    TextTable<Value> table;
    std::unordered_map<std::string, int> expected;
    for (int step = 0; step < 20'000; ++step) {
      const std::string text = "k" + std::to_string(random() % (colliding ? 60 : 400));
      const HashedText key = key_of(text, colliding);
      switch (random() % 8) {
        case 0: {  // erase a random tenth (or the key's residue class)
          const unsigned residue = random() % 10;
          const std::size_t erased = table.erase_if([&](const std::string& k, const Value& v) {
            return static_cast<unsigned>(v.n + static_cast<int>(k.size())) % 10 == residue;
          });
          std::size_t expected_erased = 0;
          std::erase_if(expected, [&](const auto& entry) {
            const bool erase =
                static_cast<unsigned>(entry.second + static_cast<int>(entry.first.size())) % 10 ==
                residue;
            expected_erased += erase;
            return erase;
          });
          ASSERT_EQ(erased, expected_erased) << "step " << step;
          break;
        }
        default: {  // find or add, and count
          Value* value = table.find(key);
          ASSERT_EQ(value != nullptr, expected.contains(text)) << text << " step " << step;
          if (!value) value = &table.add(key);
          ++value->n;
          ++expected[text];
        }
      }
      if (step % 997 == 0) check_same(table, expected, colliding);
    }
    check_same(table, expected, colliding);
    table.erase_if([](const std::string&, const Value&) { return true; });
    EXPECT_TRUE(table.empty());
    EXPECT_EQ(table.find(key_of("k1", colliding)), nullptr);
  }
}

// A state that owns a resource, as the list cache's slots own their charge: every one made is
// destroyed once, however the table moved it.
struct Owning {
  Owning() : alive(nullptr) {}
  Owning(Owning&& other) noexcept : alive(std::exchange(other.alive, nullptr)) {}
  Owning(const Owning&) = delete;
  ~Owning() {
    if (alive) --*alive;
  }
  int* alive;
};

TEST(TextTable, MovesEachStateWithoutLosingOrDuplicatingWhatItOwns) {
  int alive = 0;
  {
    TextTable<Owning> table;
    for (int k = 0; k < 1000; ++k) {
      Owning& state = table.add(hashed_text("key_" + std::to_string(k)));
      state.alive = &alive;
      ++alive;
    }
    EXPECT_EQ(alive, 1000);
    // Half erased (their followers shift back), then more added (growth moves the rest).
    table.erase_if([](const std::string& key, const Owning&) { return key.back() % 2 == 0; });
    EXPECT_EQ(alive, 500);
    EXPECT_EQ(table.size(), 500u);
    for (int k = 1000; k < 3000; ++k) {
      Owning& state = table.add(hashed_text("key_" + std::to_string(k)));
      state.alive = &alive;
      ++alive;
    }
    EXPECT_EQ(alive, 2500);
    EXPECT_NE(table.find(hashed_text("key_999")), nullptr);
    EXPECT_EQ(table.find(hashed_text("key_998")), nullptr);
  }
  EXPECT_EQ(alive, 0) << "the table's destruction destroyed every state once";
}

}  // namespace
}  // namespace portico::sdk
