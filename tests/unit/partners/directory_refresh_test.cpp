// Another node on the same database: a second KeyDirectory (the other gateway's index) follows
// every change made through this one's PartnerService — issue, revoke, disable, tier — on its next
// refresh_if_changed(), and nothing else makes it reload (not a key's last use). While nothing
// at all is written, a refresh does not even ask the database; another process's write is still
// seen.
#include <thread>

#include "tests/support/counting_database.hpp"
#include "tests/unit/partners/partners_fixture.hpp"

namespace portico::partners::testing {
namespace {

TEST_F(PartnersTest, AnotherNodesIndexFollowsChangesOnItsNextRefresh) {
  auto other_node = reloaded_directory();
  EXPECT_FALSE(other_node->refresh_if_changed()) << "nothing changed since it loaded";

  auto partner = create_partner("Acme", "basic");
  auto issued = issue_key(partner["id"]);
  const std::string key = issued["key"];
  EXPECT_FALSE(other_node->find_api_key(key)) << "not before its refresh";
  EXPECT_TRUE(other_node->refresh_if_changed());
  ASSERT_TRUE(other_node->find_api_key(key));
  EXPECT_EQ(other_node->find_api_key(key)->tier, "basic");
  EXPECT_FALSE(other_node->refresh_if_changed()) << "one reload per change";

  // A key's use (flushed by this node) is not a change of the directory.
  keys->record_use(issued["id"].get<std::string>());
  ASSERT_EQ(keys->flush_last_used(), 1u);
  EXPECT_FALSE(other_node->refresh_if_changed());

  service->update_partner(partner["id"], {{"tier", "premium"}});
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_EQ(other_node->find_api_key(key)->tier, "premium");

  service->disable_partner(partner["id"]);
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_EQ(other_node->find_api_key(key)->partner_status, "disabled");

  service->revoke_key(partner["id"], issued["id"]);
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_FALSE(other_node->find_api_key(key)) << "revoked keys leave the index";
}

// Each thread remembers its last identity lookup (the hot path asks for the same key request
// after request): never across a change of the index, never for another directory.
TEST_F(PartnersTest, TheRememberedIdentityNeverOutlivesAChange) {
  auto other_node = reloaded_directory();
  auto partner = create_partner("Acme", "basic");
  auto issued = issue_key(partner["id"]);
  const std::string key = issued["key"];
  // Not found, twice (the second from the memo), and found once the index has the key.
  EXPECT_FALSE(other_node->find_api_key_identity(key).identity);
  EXPECT_FALSE(other_node->find_api_key_identity(key).identity);
  ASSERT_TRUE(keys->find_api_key_identity(key).identity) << "this node put it at issue";
  ASSERT_TRUE(other_node->refresh_if_changed());
  ASSERT_TRUE(other_node->find_api_key_identity(key).identity);
  EXPECT_EQ(other_node->find_api_key_identity(key).identity->tier, "basic");
  // Alternating between the two directories, each answers from its own index.
  service->update_partner(partner["id"], {{"tier", "premium"}});
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(keys->find_api_key_identity(key).identity->tier, "premium");
    EXPECT_EQ(other_node->find_api_key_identity(key).identity->tier, "basic");
  }
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_EQ(other_node->find_api_key_identity(key).identity->tier, "premium");
  // Two directories loaded once each (so each has changed as often) at different tiers.
  auto at_premium = reloaded_directory();
  service->update_partner(partner["id"], {{"tier", "basic"}});
  auto at_basic = reloaded_directory();
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(at_premium->find_api_key_identity(key).identity->tier, "premium");
    EXPECT_EQ(at_basic->find_api_key_identity(key).identity->tier, "basic");
  }
  service->disable_partner(partner["id"]);
  EXPECT_FALSE(keys->find_api_key_identity(key).partner_active);
  EXPECT_TRUE(other_node->find_api_key_identity(key).partner_active) << "not before its refresh";
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_FALSE(other_node->find_api_key_identity(key).partner_active);
  service->revoke_key(partner["id"], issued["id"]);
  const auto revoked = keys->find_api_key_identity(key);
  EXPECT_TRUE(!revoked.identity || revoked.revoked);
  ASSERT_TRUE(other_node->refresh_if_changed());
  EXPECT_FALSE(other_node->find_api_key_identity(key).identity);
  // Another thread has a memo of its own, and sees the same.
  std::thread([&] { EXPECT_FALSE(other_node->find_api_key_identity(key).identity); }).join();
}

// The copies a thread's memo hands out count on a block of that thread's own: requests on two
// I/O threads for one partner do not both write the identity's shared count.
TEST_F(PartnersTest, ARememberedIdentityIsCountedOnTheThreadsOwnBlock) {
  auto partner = create_partner();
  const std::string key = issue_key(partner["id"])["key"];
  ASSERT_TRUE(keys->find_api_key_identity(key).identity);  // now remembered by this thread
  std::vector<std::shared_ptr<const Identity>> held;
  for (int i = 0; i < 100; ++i) held.push_back(keys->find_api_key_identity(key).identity);
  long shared_count = 0;
  const Identity* looked_up = nullptr;
  std::thread([&] {
    const auto identity = keys->find_api_key_identity(key).identity;  // not remembered here yet
    shared_count = identity.use_count();
    looked_up = identity.get();
  }).join();
  EXPECT_EQ(looked_up, held.front().get()) << "one identity, however it is counted";
  EXPECT_EQ(held.back()->partner_id, partner["id"].get<std::string>());
  EXPECT_LT(shared_count, 10) << "the 100 copies held here count on this thread's block";
  held.clear();
  EXPECT_EQ(keys->find_api_key_identity(key).identity->partner_id,
            partner["id"].get<std::string>());
}

TEST_F(PartnersTest, AWriteOutsideTheServiceIsFollowedToo) {
  // The CLI or an operator's SQL: the triggers move the version whatever the write path.
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  keys->refresh_if_changed();
  db->execute("UPDATE api_keys SET revoked_at = '2026-11-26T10:00:00.000Z'");
  EXPECT_TRUE(keys->refresh_if_changed());
  EXPECT_FALSE(keys->find_api_key(key));
}

TEST_F(PartnersTest, AnIdleRefreshAsksTheDatabaseNothing) {
  auto counting = std::make_shared<test::CountingDatabase>(db);
  KeyDirectory directory(counting, KeyHasher(kSecret), clock());
  directory.load();
  counting->queries = 0;
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(directory.refresh_if_changed());
  EXPECT_EQ(counting->queries, 0) << "nothing was written: the version cannot have moved";

  // A write of any kind: one look at the version, and a reload only if it moved.
  db->execute("CREATE TABLE unrelated(x INTEGER)");
  EXPECT_FALSE(directory.refresh_if_changed());
  EXPECT_EQ(counting->queries, 1);
  EXPECT_FALSE(directory.refresh_if_changed());
  EXPECT_EQ(counting->queries, 1) << "that write was looked at once";

  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  EXPECT_TRUE(directory.refresh_if_changed());
  EXPECT_TRUE(directory.find_api_key(key));
}

TEST_F(PartnersTest, AnotherProcesssWriteIsSeenThoughThisOneWroteNothing) {
  // A second handle on the file is another process (the CLI): its commits reach this handle's
  // write generation through the checkpoint thread's round (100 ms), so the refresh looks.
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  ASSERT_TRUE(keys->refresh_if_changed() || keys->find_api_key(key));
  EXPECT_FALSE(keys->refresh_if_changed());
  {
    auto other_process = storage::open_sqlite({.path = db_path().string()});
    other_process->execute("UPDATE api_keys SET revoked_at = '2026-11-26T10:00:00.000Z'");
  }
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {  // at most 5 s
    reloaded = keys->refresh_if_changed();
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(reloaded);
  EXPECT_FALSE(keys->find_api_key(key)) << "the revocation reached this process's index";
}

}  // namespace
}  // namespace portico::partners::testing
