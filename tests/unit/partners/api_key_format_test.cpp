// Key format, randomness, the keyed hash and where its secret comes from.
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>

#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/partners/api_key_format.hpp"
#include "core/partners/key_hasher.hpp"
#include "core/partners/migrations.hpp"
#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::partners {
namespace {

TEST(ApiKeyFormat, LiveAndTestKeysHaveThePrefixAnd32Base62Characters) {
  for (std::string env : {"live", "test"}) {
    std::string key = generate_api_key(env);
    ASSERT_EQ(key.size(), 8u + 32u) << key;
    EXPECT_EQ(key.substr(0, 8), "pk_" + env + "_");
    for (char c : key.substr(8)) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << key;
    EXPECT_TRUE(is_well_formed_api_key(key));
    EXPECT_EQ(api_key_prefix(key), key.substr(0, 12));
  }
  EXPECT_THROW(generate_api_key("prod"), std::invalid_argument);
}

TEST(ApiKeyFormat, CarriesAtLeast128RandomBits) {
  // 32 uniform base62 digits: 32 · log2(62) ≈ 190.5 bits.
  EXPECT_GE(kApiKeyRandomChars * std::log2(62.0), 190.0);
  // Uniformity, roughly: over many keys every one of the 62 digits shows up, none dominates.
  std::map<char, int> counts;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string key = generate_api_key("live");
    EXPECT_TRUE(seen.insert(key).second) << "duplicate key";
    for (char c : key.substr(8)) ++counts[c];
  }
  EXPECT_EQ(counts.size(), 62u);
  double expected = 2000.0 * 32 / 62;  // ≈ 1032 per digit
  for (auto [c, n] : counts) {
    EXPECT_GT(n, expected * 0.8) << c;
    EXPECT_LT(n, expected * 1.2) << c;
  }
}

TEST(ApiKeyFormat, RecognisesMalformedKeys) {
  std::string good = generate_api_key("test");
  EXPECT_TRUE(is_well_formed_api_key(good));
  EXPECT_FALSE(is_well_formed_api_key(""));
  EXPECT_FALSE(is_well_formed_api_key(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(is_well_formed_api_key(good + "x"));
  EXPECT_FALSE(is_well_formed_api_key("sk_live_" + good.substr(8)));
  EXPECT_FALSE(is_well_formed_api_key("pk_prod_" + good.substr(8)));
  std::string bad_char = good;
  bad_char[20] = '-';
  EXPECT_FALSE(is_well_formed_api_key(bad_char));
}

TEST(KeyHasher, IsKeyedDeterministicAndHex) {
  KeyHasher a(std::string(32, 'a'));
  KeyHasher b(std::string(32, 'b'));
  std::string key = generate_api_key("live");
  std::string hash = a.hash(key);
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a.hash(key), hash);
  EXPECT_NE(b.hash(key), hash) << "another secret gives another hash";
  EXPECT_NE(a.hash(generate_api_key("live")), hash);
  EXPECT_EQ(hash.find(key.substr(8)), std::string::npos);
}

// BLAKE2b-256 of the key, keyed with BLAKE2b-256 of the secret, straight from libsodium.
std::string reference_hash(const std::string& secret, const std::string& key) {
  std::array<unsigned char, 32> keyed{}, digest{};
  crypto_generichash(keyed.data(), keyed.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), nullptr, 0);
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(key.data()), key.size(), keyed.data(),
                     keyed.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.pop_back();
  return hex;
}

// The thread's memo of recent digests answers only for the same key and the same secret: keys
// that share their last bytes (one slot), keys one byte apart, two hashers, a copy, the length
// edges and far more keys than slots all read as libsodium computes them, first time and again.
TEST(KeyHasher, MemoizedDigestsAreTheKeyedHash) {
  const std::string secret_a(32, 'a'), secret_b(40, 'b');
  KeyHasher a(secret_a);
  KeyHasher b(secret_b);
  KeyHasher copy = a;
  std::vector<std::string> keys;
  for (int i = 0; i < 300; ++i) keys.push_back(generate_api_key(i % 2 ? "live" : "test"));
  for (int i = 0; i < 20; ++i) keys.push_back("pk_live_" + std::to_string(i) + "SameTail12345678");
  keys.push_back("");
  keys.push_back(std::string(95, 'k'));
  keys.push_back(std::string(96, 'k'));
  keys.push_back(std::string(97, 'k'));
  keys.push_back(std::string(96, 'k') + "x");
  for (int round = 0; round < 3; ++round) {
    for (const auto& key : keys) {
      KeyHasher::Hex out;
      ASSERT_EQ(a.hash(key, out), reference_hash(secret_a, key)) << key;
      ASSERT_EQ(b.hash(key, out), reference_hash(secret_b, key)) << key;
      ASSERT_EQ(copy.hash(key), reference_hash(secret_a, key)) << key;
      ASSERT_EQ(a.hash(key, out), reference_hash(secret_a, key)) << key;
    }
  }
  // Keys one byte apart, anywhere but in the tail that picks the slot: each takes the slot from
  // the one before, and the comparison must see the byte wherever it is.
  const std::string base = generate_api_key("live");
  for (std::size_t at = 0; at + 8 < base.size(); ++at) {
    std::string changed = base;
    changed[at] = changed[at] == 'Z' ? 'Y' : 'Z';
    const std::string& near = changed;
    for (const std::string* key : {&base, &near, &base, &near}) {
      KeyHasher::Hex out;
      ASSERT_EQ(a.hash(*key, out), reference_hash(secret_a, *key)) << *key << " at " << at;
    }
  }
  // The same key through another thread's memo reads the same.
  std::string other;
  std::thread([&] { other = a.hash(keys.front()); }).join();
  EXPECT_EQ(other, reference_hash(secret_a, keys.front()));
}

TEST(KeyHasher, RefusesAShortSecretNamingTheConfigKey) {
  try {
    KeyHasher hasher("too-short");
    FAIL() << "a 9-character secret was accepted";
  } catch (const KeySecretError& e) {
    EXPECT_NE(
        std::string(e.what()).find("security.key_secret must be at least 32 characters (got 9)"),
        std::string::npos)
        << e.what();
  }
}

class KeySecretTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = storage::open_sqlite({.path = (dir / "portico.db").string()});
    storage::apply_migrations(*db, kMigrationOwner, partners_migrations());
  }
  test::TempDir dir;
  std::shared_ptr<Database> db;
};

TEST_F(KeySecretTest, ConfiguredSecretWinsAndIsNotStored) {
  std::string configured(40, 'k');
  EXPECT_EQ(resolve_key_secret(*db, configured), configured);
  EXPECT_TRUE(db->query("SELECT * FROM core_secrets").empty());
}

TEST_F(KeySecretTest, ShortConfiguredSecretIsRefused) {
  EXPECT_THROW(resolve_key_secret(*db, "short"), KeySecretError);
}

TEST_F(KeySecretTest, GeneratedSecretIsMadeOnceAndKeptAcrossRestarts) {
  std::string first = resolve_key_secret(*db, "");
  EXPECT_GE(first.size(), kMinKeySecretChars);
  EXPECT_EQ(resolve_key_secret(*db, ""), first);
  db.reset();
  auto reopened = storage::open_sqlite({.path = (dir / "portico.db").string()});
  EXPECT_EQ(resolve_key_secret(*reopened, ""), first);
}

}  // namespace
}  // namespace portico::partners
