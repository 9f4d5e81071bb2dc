// Another node on the same database: a second KeyDirectory (the other gateway's index) follows
// every change made through this one's PartnerService — issue, revoke, disable, tier — on its next
// refresh_if_changed(), and nothing else makes it reload (not a key's last use).
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

TEST_F(PartnersTest, AWriteOutsideTheServiceIsFollowedToo) {
  // The CLI or an operator's SQL: the triggers move the version whatever the write path.
  auto partner = create_partner();
  std::string key = issue_key(partner["id"])["key"];
  keys->refresh_if_changed();
  db->execute("UPDATE api_keys SET revoked_at = '2026-11-26T10:00:00.000Z'");
  EXPECT_TRUE(keys->refresh_if_changed());
  EXPECT_FALSE(keys->find_api_key(key));
}

}  // namespace
}  // namespace portico::partners::testing
