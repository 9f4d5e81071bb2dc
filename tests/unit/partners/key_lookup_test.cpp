// What auth sees through the KeyDirectory after each admin action: issue, revoke, rotate, partner
// disable and tier change, all effective on the next lookup; last_used_at written in batches.
#include <atomic>
#include <fstream>
#include <iterator>
#include <thread>

#include "tests/unit/partners/partners_fixture.hpp"

namespace portico::partners::testing {
namespace {

bool is_usable(const std::optional<ApiKeyRecord>& record, TimePoint now) {
  return record && !record->revoked && record->partner_status == "active" &&
         (!record->expires_at || now < *record->expires_at);
}

TEST_F(PartnersTest, AnIssuedKeyIsFoundWithItsPartnersCurrentState) {
  auto partner = create_partner(
      "Acme", "premium", {{"allowed_cidrs", {"203.0.113.0/24"}}, {"rate_limit_override", 250}});
  auto issued = issue_key(partner["id"], {{"scopes", {"orders:read", "products:read"}}});
  auto record = keys->find_api_key(issued["key"].get<std::string>());
  ASSERT_TRUE(record);
  EXPECT_EQ(record->key_id, issued["id"]);
  EXPECT_EQ(record->prefix, issued["prefix"]);
  EXPECT_EQ(record->partner_id, partner["id"]);
  EXPECT_EQ(record->partner_status, "active");
  EXPECT_EQ(record->tier, "premium");
  EXPECT_EQ(record->rate_limit_override, 250);
  EXPECT_EQ(record->scopes, (std::vector<std::string>{"products:read", "orders:read"}));
  EXPECT_EQ(record->allowed_cidrs, (std::vector<std::string>{"203.0.113.0/24"}));
  EXPECT_FALSE(record->expires_at);
  EXPECT_FALSE(record->revoked);
}

TEST_F(PartnersTest, UnknownAndAlmostRightKeysAreNotFound) {
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  EXPECT_FALSE(keys->find_api_key("pk_live_00000000000000000000000000000000"));
  std::string altered = key;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(keys->find_api_key(altered));
  EXPECT_FALSE(keys->find_api_key(""));
}

TEST_F(PartnersTest, KeysSurviveARestart) {
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  auto fresh = reloaded_directory();
  ASSERT_TRUE(fresh->find_api_key(key));
  EXPECT_EQ(fresh->find_api_key(key)->partner_id, partner["id"]);
}

// Keys and partners spread over the directory's shards, each found by the same hash it was put
// under — issued one by one (put_key, put_partner) or read back whole (load) — and the last use
// of each recorded where a flush finds it.
TEST_F(PartnersTest, ManyKeysOfManyPartnersAreEachFoundWhereTheyWerePut) {
  std::vector<std::pair<std::string, std::string>> issued;  // key, partner id
  for (int p = 0; p < 40; ++p) {
    const std::string id = create_partner("Partner " + std::to_string(p))["id"];
    for (int k = 0; k < 5; ++k) issued.emplace_back(issue_key(id)["key"], id);
  }
  auto fresh = reloaded_directory();
  EXPECT_EQ(keys->key_count(), issued.size());
  EXPECT_EQ(fresh->key_count(), issued.size());
  for (const auto& [key, partner_id] : issued) {
    for (const auto* directory : {keys.get(), fresh.get()}) {
      const ApiKeyIdentity found = directory->find_api_key_identity(key);
      ASSERT_TRUE(found.identity) << key;
      EXPECT_EQ(found.identity->partner_id, partner_id);
      EXPECT_TRUE(found.partner_active);
      std::string altered = key;
      altered.back() = altered.back() == 'a' ? 'b' : 'a';
      EXPECT_FALSE(directory->find_api_key_identity(altered).identity);
    }
    keys->record_use(keys->find_api_key(key)->key_id);
  }
  EXPECT_EQ(keys->flush_last_used(), issued.size());
}

TEST_F(PartnersTest, RevocationHoldsFromTheNextLookup) {
  auto partner = create_partner();
  auto issued = issue_key(partner["id"]);
  std::string key = issued["key"];
  ASSERT_TRUE(is_usable(keys->find_api_key(key), now));
  service->revoke_key(partner["id"], issued["id"]);
  auto record = keys->find_api_key(key);
  EXPECT_FALSE(is_usable(record, now));
  EXPECT_FALSE(is_usable(reloaded_directory()->find_api_key(key), now)) << "also after a restart";
  // Revoking again is harmless and keeps the first revocation time.
  auto first = service->list_keys(partner["id"], {})["data"][0]["revoked_at"];
  advance(std::chrono::seconds(30));
  service->revoke_key(partner["id"], issued["id"]);
  EXPECT_EQ(service->list_keys(partner["id"], {})["data"][0]["revoked_at"], first);
}

TEST_F(PartnersTest, RotationKeepsTheOldKeyOnlyForTheOverlap) {
  auto partner = create_partner();
  auto old_key = issue_key(partner["id"], {{"scopes", {"usage:read"}}, {"env", "test"}});
  auto rotated = service->rotate_key(partner["id"], old_key["id"], {{"overlap_seconds", 3600}});
  std::string new_plain = rotated["key"];
  EXPECT_TRUE(new_plain.starts_with("pk_test_")) << "the env carries over";
  EXPECT_EQ(rotated["scopes"], json({"usage:read"})) << "the scopes carry over";
  EXPECT_EQ(rotated["previous_key"]["id"], old_key["id"]);
  EXPECT_EQ(rotated["previous_key"]["expires_at"], "2026-11-26T11:00:00Z");

  advance(std::chrono::seconds(3599));
  EXPECT_TRUE(is_usable(keys->find_api_key(old_key["key"].get<std::string>()), now));
  EXPECT_TRUE(is_usable(keys->find_api_key(new_plain), now));
  advance(std::chrono::seconds(1));
  EXPECT_FALSE(is_usable(keys->find_api_key(old_key["key"].get<std::string>()), now));
  EXPECT_TRUE(is_usable(keys->find_api_key(new_plain), now));

  auto listed = service->list_keys(partner["id"], {})["data"];
  ASSERT_EQ(listed.size(), 2u);
  auto old_listed = listed[0]["id"] == old_key["id"] ? listed[0] : listed[1];
  EXPECT_EQ(old_listed["status"], "expired");
  EXPECT_EQ(old_listed["replaced_by"], rotated["id"]);
}

TEST_F(PartnersTest, RotationWithoutOverlapEndsTheOldKeyAtOnce) {
  auto partner = create_partner();
  auto old_key = issue_key(partner["id"]);
  service->rotate_key(partner["id"], old_key["id"], {{"overlap_seconds", 0}});
  EXPECT_FALSE(is_usable(keys->find_api_key(old_key["key"].get<std::string>()), now));
}

TEST_F(PartnersTest, RotationDefaultsToADayAndNeverExtendsAnEarlierExpiry) {
  auto partner = create_partner();
  auto a = issue_key(partner["id"]);
  auto rotated = service->rotate_key(partner["id"], a["id"], json::object());
  EXPECT_EQ(rotated["previous_key"]["expires_at"], "2026-11-27T10:00:00Z");

  auto b = issue_key(partner["id"], {{"expires_at", "2026-11-26T10:10:00Z"}});
  auto rotated_b = service->rotate_key(partner["id"], b["id"], {{"overlap_seconds", 3600}});
  EXPECT_EQ(rotated_b["previous_key"]["expires_at"], "2026-11-26T10:10:00Z");
}

TEST_F(PartnersTest, ExpiryIsNormalisedToUtcAndReportedForTheCallerToEnforce) {
  auto partner = create_partner();
  auto issued = issue_key(partner["id"], {{"expires_at", "2026-11-26T12:00:00+01:00"}});
  EXPECT_EQ(issued["expires_at"], "2026-11-26T11:00:00Z");
  auto record = keys->find_api_key(issued["key"].get<std::string>());
  ASSERT_TRUE(record && record->expires_at);
  EXPECT_EQ(*record->expires_at, *util::parse_rfc3339("2026-11-26T11:00:00Z"));
  advance(std::chrono::hours(1));
  EXPECT_FALSE(is_usable(keys->find_api_key(issued["key"].get<std::string>()), now));
}

TEST_F(PartnersTest, DisablingAPartnerStopsItsKeysOnTheNextLookup) {
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  service->disable_partner(partner["id"]);
  EXPECT_EQ(keys->find_api_key(key)->partner_status, "disabled");
  EXPECT_FALSE(is_usable(keys->find_api_key(key), now));
  service->update_partner(partner["id"], {{"status", "active"}});
  EXPECT_TRUE(is_usable(keys->find_api_key(key), now));
}

TEST_F(PartnersTest, TierAllowListAndOverrideChangesReachTheNextLookup) {
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  service->update_partner(partner["id"], {{"tier", "premium"},
                                          {"allowed_cidrs", {"2001:db8::/32", "10.0.0.1"}},
                                          {"rate_limit_override", 5000}});
  auto record = keys->find_api_key(key);
  EXPECT_EQ(record->tier, "premium");
  EXPECT_EQ(record->allowed_cidrs, (std::vector<std::string>{"2001:db8::/32", "10.0.0.1/32"}));
  EXPECT_EQ(record->rate_limit_override, 5000);
  EXPECT_EQ(reloaded_directory()->find_api_key(key)->tier, "premium");
}

// API 2.1: the identity the directory keeps per key — shared by every lookup while neither the
// key nor its partner changes, rebuilt when they do, and always what find_api_key says.
TEST_F(PartnersTest, TheKeptIdentityIsSharedUntilTheKeyOrItsPartnerChanges) {
  auto partner = create_partner(
      "Acme", "premium", {{"allowed_cidrs", {"203.0.113.0/24"}}, {"rate_limit_override", 250}});
  auto issued = issue_key(partner["id"], {{"scopes", {"orders:read", "products:read"}}});
  const std::string key = issued["key"];
  auto first = keys->find_api_key_identity(key);
  ASSERT_TRUE(first.identity);
  EXPECT_EQ(first.identity->partner_id, partner["id"]);
  EXPECT_EQ(first.identity->credential_id, issued["id"]);
  EXPECT_EQ(first.identity->scheme, "api_key");
  EXPECT_EQ(first.identity->tier, "premium");
  EXPECT_EQ(first.identity->rate_limit_override, 250);
  EXPECT_EQ(first.identity->scopes, keys->find_api_key(key)->scopes);
  EXPECT_EQ(first.identity->allowed_cidrs, (std::vector<std::string>{"203.0.113.0/24"}));
  EXPECT_TRUE(first.partner_active);
  EXPECT_FALSE(first.revoked);
  EXPECT_EQ(keys->find_api_key_identity(key).identity, first.identity);  // the same object

  service->update_partner(partner["id"], {{"tier", "basic"}, {"rate_limit_override", 7}});
  auto changed = keys->find_api_key_identity(key);
  EXPECT_NE(changed.identity, first.identity);
  EXPECT_EQ(changed.identity->tier, "basic");
  EXPECT_EQ(changed.identity->rate_limit_override, 7);
  EXPECT_EQ(keys->find_api_key_identity(key).identity, changed.identity);

  service->disable_partner(partner["id"]);
  EXPECT_FALSE(keys->find_api_key_identity(key).partner_active);
  service->revoke_key(partner["id"], issued["id"]);
  auto revoked = keys->find_api_key_identity(key);
  EXPECT_TRUE(!revoked.identity || revoked.revoked);
  EXPECT_FALSE(keys->find_api_key_identity("pk_live_00000000000000000000000000000000").identity);

  // A directory loaded from the database keeps them too.
  auto other = issue_key(partner["id"]);
  auto fresh = reloaded_directory();
  auto loaded = fresh->find_api_key_identity(other["key"].get<std::string>());
  ASSERT_TRUE(loaded.identity);
  EXPECT_EQ(loaded.identity->tier, "basic");
  EXPECT_EQ(fresh->find_api_key_identity(other["key"].get<std::string>()).identity, loaded.identity);
}

TEST_F(PartnersTest, LastUsedIsKeptInMemoryAndFlushedInOneBatch) {
  auto partner = create_partner();
  auto a = issue_key(partner["id"]);
  auto b = issue_key(partner["id"]);
  keys->record_use(a["id"].get<std::string>());
  advance(std::chrono::seconds(5));
  keys->record_use(a["id"].get<std::string>());
  keys->record_use(b["id"].get<std::string>());
  auto stored = [&](const json& key) {
    return db
        ->query("SELECT last_used_at FROM api_keys WHERE id = ?", {key["id"].get<std::string>()})
        .front()
        .optional_text(0);
  };
  EXPECT_FALSE(stored(a)) << "nothing is written per request";
  EXPECT_EQ(keys->flush_last_used(), 2u);
  EXPECT_EQ(stored(a), "2026-11-26T10:00:05Z");
  EXPECT_EQ(stored(b), "2026-11-26T10:00:05Z");
  EXPECT_EQ(keys->flush_last_used(), 0u) << "a flush empties the batch";
}

// last_used_at is kept to the second: a thread's further uses within the second it recorded
// cannot change it and are not recorded again (no shared write per request); the next second's is.
TEST_F(PartnersTest, UsesWithinTheSecondRecordedAreThatUse) {
  auto partner = create_partner();
  auto a = issue_key(partner["id"]);
  keys->record_use(a["id"].get<std::string>());
  EXPECT_EQ(keys->flush_last_used(), 1u);
  keys->record_use(a["id"].get<std::string>());
  EXPECT_EQ(keys->flush_last_used(), 0u) << "the same second is written already";
  advance(std::chrono::seconds(1));
  keys->record_use(a["id"].get<std::string>());
  EXPECT_EQ(keys->flush_last_used(), 1u);
  EXPECT_EQ(service->list_keys(partner["id"], {})["data"][0]["last_used_at"],
            "2026-11-26T10:00:01Z");
}

TEST_F(PartnersTest, KeyListingShowsTheLatestUseWithoutAnExplicitFlush) {
  auto partner = create_partner();
  auto a = issue_key(partner["id"]);
  advance(std::chrono::seconds(42));
  keys->record_use(a["id"].get<std::string>());
  auto listed = service->list_keys(partner["id"], {})["data"][0];
  EXPECT_EQ(listed["last_used_at"], "2026-11-26T10:00:42Z");
}

TEST_F(PartnersTest, ThePlainKeyIsStoredNowhereOnlyItsHashAndPrefix) {
  auto partner = create_partner();
  std::vector<std::string> plain;
  for (int i = 0; i < 5; ++i) plain.push_back(issue_key(partner["id"])["key"]);
  auto rotated = service->rotate_key(partner["id"], issue_key(partner["id"])["id"], json::object());
  plain.push_back(rotated["key"]);
  keys->record_use(rotated["id"].get<std::string>());
  keys->flush_last_used();

  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::ifstream in(entry.path(), std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_NE(bytes.find("ptr_"), std::string::npos) << "the scan does see the database";
  for (const auto& key : plain) {
    EXPECT_EQ(bytes.find(key), std::string::npos) << "plain key in the database files";
    EXPECT_EQ(bytes.find(key.substr(12)), std::string::npos) << "the secret part is stored";
    EXPECT_NE(bytes.find(keys->hasher().hash(key)), std::string::npos) << "its hash is";
  }
}

}  // namespace
}  // namespace portico::partners::testing

namespace portico::partners::testing {
namespace {

TEST_F(PartnersTest, LookupsRunConcurrentlyWithAdminChanges) {
  auto partner = create_partner();
  std::vector<std::string> plain;
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) {
    auto issued = issue_key(partner["id"]);
    plain.push_back(issued["key"]);
    ids.push_back(issued["id"]);
  }
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (std::size_t i = t; !stop; ++i) {
        auto record = keys->find_api_key(plain[i % plain.size()]);
        if (record) keys->record_use(record->key_id);
        ++lookups;
      }
    });
  }
  // The admin changes must overlap the lookups: start them once every reader is running.
  while (lookups.load() < 4 * 8) std::this_thread::yield();
  for (int round = 0; round < 20; ++round) {
    service->update_partner(partner["id"], {{"tier", round % 2 ? "premium" : "basic"}});
    if (round < 4) service->revoke_key(partner["id"], ids[round]);
    keys->flush_last_used();
  }
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_GT(lookups.load(), 0);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(keys->find_api_key(plain[i])->revoked, i < 4);
  EXPECT_EQ(keys->find_api_key(plain[7])->tier, "premium");
}

}  // namespace
}  // namespace portico::partners::testing
