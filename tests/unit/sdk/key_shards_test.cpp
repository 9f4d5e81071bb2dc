// sdk::KeyShards: each key's state found again under its own shard's lock — with the hash worked
// out once for the shard and the map — a bound on the keys kept, the lowest-ranked evicted first,
// and idle entries swept.
#include "portico/sdk/key_shards.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace portico::sdk {
namespace {

struct Count {
  std::int64_t uses = 0;
  std::int64_t last = 0;
  bool idle_at(std::int64_t now) const { return now - last > 1000; }
  std::int64_t eviction_rank() const { return uses; }
};

TEST(KeyShards, EachKeyFindsItsOwnStateAgain) {
  KeyShards<Count> shards(100'000);
  std::map<std::string, std::int64_t> expected;
  for (int round = 0; round < 3; ++round) {
    for (int k = 0; k < 2000; ++k) {
      const std::string key = "partner_" + std::to_string(k * 7919 % 2000) + "|/v1/x";
      if (k % (round + 1) != 0) continue;
      const std::int64_t uses = shards.with(key, round, [&](Count& count) {
        count.last = round;
        return ++count.uses;
      });
      EXPECT_EQ(uses, ++expected[key]) << key;
    }
  }
  EXPECT_EQ(shards.size(), expected.size());
  std::size_t seen = 0;
  shards.for_each([&](const std::string& key, const Count& count) {
    ++seen;
    EXPECT_EQ(count.uses, expected.at(key)) << key;
  });
  EXPECT_EQ(seen, expected.size());
  EXPECT_EQ(shards.evictions(), 0u);
}

TEST(KeyShards, KeepsAtMostItsCapacityAndEvictsTheLowestRankedFirst) {
  KeyShards<Count> shards(64 * 4);  // four keys per shard
  ASSERT_EQ(shards.capacity(), 256u);
  // A key used often, then many keys used once: the busy one outranks them and stays.
  for (int i = 0; i < 50; ++i) shards.with("busy", 0, [](Count& count) { ++count.uses; });
  for (int k = 0; k < 5000; ++k) {
    shards.with("key_" + std::to_string(k), 0, [](Count& count) { ++count.uses; });
    ASSERT_LE(shards.size(), shards.capacity());
  }
  EXPECT_GT(shards.evictions(), 0u);
  bool busy_kept = false;
  shards.for_each([&](const std::string& key, const Count& count) {
    if (key == "busy") busy_kept = count.uses == 50;
  });
  EXPECT_TRUE(busy_kept);
}

TEST(KeyShards, IdleEntriesAreSweptAsTheShardIsUsed) {
  KeyShards<Count> shards(100'000);
  for (int k = 0; k < 500; ++k) {
    shards.with("old_" + std::to_string(k), 0, [](Count& count) { count.last = 0; });
  }
  EXPECT_EQ(shards.size(), 500u);
  // Much later, enough uses of one key make every shard it lives in sweep; the others keep theirs
  // until their own uses come.
  for (int k = 0; k < 64 * 300; ++k) {
    shards.with("new_" + std::to_string(k % 64), 5000, [](Count& count) { count.last = 5000; });
  }
  std::size_t old_left = 0;
  shards.for_each(
      [&](const std::string& key, const Count&) { old_left += key.starts_with("old_"); });
  EXPECT_LT(old_left, 500u);
}

}  // namespace
}  // namespace portico::sdk
