// Per-owner migrations: applied once and recorded, numbering checks, failures leave nothing.
#include <gtest/gtest.h>

#include "core/storage/migrations.hpp"
#include "core/storage/sqlite_database.hpp"
#include "plugins/routes_orders/order_schema.hpp"
#include "tests/support/temp_dir.hpp"

namespace portico::storage {
namespace {

const Migration kCreateWidgets{1, "create widgets",
                               "CREATE TABLE widgets(id TEXT PRIMARY KEY, name TEXT NOT NULL);"};
const Migration kAddColor{2, "add widget color",
                          "ALTER TABLE widgets ADD COLUMN color TEXT NOT NULL DEFAULT 'red';"};

class MigrationsTest : public ::testing::Test {
 protected:
  std::shared_ptr<Database> open() { return open_sqlite({.path = (dir / "portico.db").string()}); }

  std::string error_of(Database& db, const std::string& owner,
                       const std::vector<Migration>& migrations) {
    try {
      apply_migrations(db, owner, migrations);
    } catch (const DatabaseError& error) {
      return error.what();
    }
    return "no error";
  }

  bool table_exists(Database& db, const std::string& name) {
    return !db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {name})
                .empty();
  }

  test::TempDir dir;
};

TEST_F(MigrationsTest, AppliesOnceAndRecordsEachStep) {
  {
    auto db = open();
    EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets}), 1);
    EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets}), 0);
  }
  auto db = open();  // a restart
  EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets}), 0);
  EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets, kAddColor}), 1);
  db->execute("INSERT INTO widgets(id, name) VALUES ('w1', 'gear')");
  EXPECT_EQ(db->query("SELECT color FROM widgets").at(0).text("color"), "red");

  auto applied = applied_migrations(*db);
  ASSERT_EQ(applied.size(), 2u);
  EXPECT_EQ(applied[0].owner, "widgets");
  EXPECT_EQ(applied[0].version, 1);
  EXPECT_EQ(applied[0].description, "create widgets");
  EXPECT_EQ(applied[1].version, 2);
  EXPECT_EQ(applied[1].description, "add widget color");
  EXPECT_EQ(applied[1].applied_at.size(), 20u) << applied[1].applied_at;  // RFC 3339, seconds
  EXPECT_EQ(applied[1].applied_at.back(), 'Z');
}

TEST_F(MigrationsTest, AStepRunsItsVariantForThisBackendOrItsPortableSql) {
  auto db = open();
  Migration own_dialect{1, "sqlite variant", "THIS IS NOT SQL"};
  own_dialect.dialects = {{"postgres", "ALSO NOT SQL"},
                          {"sqlite", "CREATE TABLE gadgets(id TEXT PRIMARY KEY) WITHOUT ROWID;"}};
  Migration portable{2, "portable", "CREATE TABLE gizmos(id TEXT PRIMARY KEY);"};
  portable.dialects = {{"postgres", "NOT FOR SQLITE"}};
  EXPECT_EQ(apply_migrations(*db, "dialects", {own_dialect, portable}), 2);
  EXPECT_TRUE(table_exists(*db, "gadgets"));
  EXPECT_TRUE(table_exists(*db, "gizmos"));
}

TEST_F(MigrationsTest, OwnersAreVersionedIndependently) {
  auto db = open();
  EXPECT_EQ(apply_migrations(*db, "core", core_migrations()), 2);
  EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets, kAddColor}), 2);
  EXPECT_EQ(apply_migrations(*db, "orders", {{1, "orders", "CREATE TABLE orders(id TEXT);"}}), 1);

  auto applied = applied_migrations(*db);
  ASSERT_EQ(applied.size(), 5u);
  EXPECT_EQ(applied[0].owner, "core");
  EXPECT_EQ(applied[1].owner, "core");
  EXPECT_EQ(applied[2].owner, "orders");
  EXPECT_EQ(applied[3].owner, "widgets");
  EXPECT_EQ(applied[3].version, 1);
  EXPECT_EQ(applied[4].version, 2);
}

TEST_F(MigrationsTest, AcceptsStepsListedOutOfOrder) {
  auto db = open();
  EXPECT_EQ(apply_migrations(*db, "widgets", {kAddColor, kCreateWidgets}), 2);
}

TEST_F(MigrationsTest, FailedStepLeavesNothingAndNamesOwnerAndVersion) {
  auto db = open();
  Migration broken{2, "add gadgets",
                   "CREATE TABLE gadgets(id TEXT);\n"
                   "INSERT INTO gadgets VALUES ('g1');\n"
                   "INSERT INTO no_such_table VALUES (1);"};
  std::string message = error_of(*db, "widgets", {kCreateWidgets, broken});
  EXPECT_EQ(
      message.rfind("widgets migration 2 (add gadgets) failed: no such table: no_such_table", 0),
      0u)
      << message;

  // Step 1 committed on its own; nothing of step 2 remains, and it is not recorded.
  EXPECT_TRUE(table_exists(*db, "widgets"));
  EXPECT_FALSE(table_exists(*db, "gadgets"));
  auto applied = applied_migrations(*db);
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0].version, 1);

  // Fixing the step lets it run.
  broken.sql = "CREATE TABLE gadgets(id TEXT);";
  EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets, broken}), 1);
}

TEST_F(MigrationsTest, RefusesGapsAndBadNumbers) {
  auto db = open();
  Migration third{3, "third", "CREATE TABLE t3(x);"};
  EXPECT_EQ(error_of(*db, "widgets", {kCreateWidgets, third}),
            "widgets: migrations must be numbered 1, 2, 3…; found 3");
  EXPECT_EQ(error_of(*db, "widgets", {kAddColor}),
            "widgets: migrations must be numbered 1, 2, 3…; found 2");
  EXPECT_EQ(error_of(*db, "widgets", {kCreateWidgets, kCreateWidgets}),
            "widgets: migrations must be numbered 1, 2, 3…; found 1");
  EXPECT_EQ(error_of(*db, "widgets", {{0, "zero", "SELECT 1;"}}),
            "widgets: migrations must be numbered 1, 2, 3…; found 0");
  // Nothing ran, not even step 1.
  EXPECT_FALSE(table_exists(*db, "widgets"));
}

TEST_F(MigrationsTest, RefusesDatabaseNewerThanThisBuild) {
  {
    auto db = open();
    EXPECT_EQ(apply_migrations(*db, "widgets", {kCreateWidgets, kAddColor}), 2);
  }
  auto db = open();  // an older build of the plugin
  EXPECT_EQ(error_of(*db, "widgets", {kCreateWidgets}),
            "widgets: database is at migration 2, newer than this build (1)");
  EXPECT_EQ(error_of(*db, "widgets", {}),
            "widgets: database is at migration 2, newer than this build (0)");
}

TEST_F(MigrationsTest, CoreMigrationsCreateTheOutboxAndTheStoreProbe) {
  auto db = open();
  EXPECT_EQ(apply_migrations(*db, "core", core_migrations()), 2);
  EXPECT_TRUE(table_exists(*db, "outbox_events"));
  EXPECT_TRUE(table_exists(*db, "core_store_probe"));
  auto indexes = db->query(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox_events'"
      " AND sql IS NOT NULL ORDER BY name");
  ASSERT_EQ(indexes.size(), 2u);
  EXPECT_EQ(indexes[0].text(0), "outbox_events_created_at");
  EXPECT_EQ(indexes[1].text(0), "outbox_events_partner_sequence");
}

// routes_orders' second step turns idempotency_keys from a table stored in the random key's
// order into an appended one: every record is kept, a key is still unique per partner, and the
// records now lie in insertion order.
TEST_F(MigrationsTest, IdempotencyKeysBecomeAppendedAndKeepEveryRecord) {
  auto db = open();
  apply_migrations(*db, "core", core_migrations());
  const std::vector<Migration> steps = routes_orders::order_migrations();
  ASSERT_GE(steps.size(), 2u);
  ASSERT_EQ(apply_migrations(*db, "routes_orders", {steps[0]}), 1);
  const char* insert =
      "INSERT INTO idempotency_keys(partner_id, key, fingerprint, status, body, order_id,"
      " created_at) VALUES (?, ?, 'f', 201, ?, ?, ?)";
  db->execute(insert, {"ptn_1", "zz-key", "{\"id\":\"ord_1\"}", "ord_1", "2026-12-01T00:00:01Z"});
  db->execute(insert, {"ptn_1", "aa-key", "{\"id\":\"ord_2\"}", "ord_2", "2026-12-01T00:00:02Z"});
  db->execute(insert, {"ptn_2", "zz-key", "{\"id\":\"ord_3\"}", "ord_3", "2026-12-01T00:00:03Z"});

  EXPECT_EQ(apply_migrations(*db, "routes_orders", steps), static_cast<int>(steps.size()) - 1);
  const Rows sql = db->query("SELECT sql FROM sqlite_master WHERE name = 'idempotency_keys'");
  ASSERT_EQ(sql.size(), 1u);
  EXPECT_EQ(sql[0].text(0).find("WITHOUT ROWID"), std::string::npos) << sql[0].text(0);
  // Every record, in the order they were written (the rowid's), not the key's.
  const Rows rows =
      db->query("SELECT partner_id, key, body, order_id FROM idempotency_keys ORDER BY rowid");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].text(3), "ord_1");
  EXPECT_EQ(rows[1].text(3), "ord_2");
  EXPECT_EQ(rows[2].text(3), "ord_3");
  EXPECT_EQ(rows[1].text(2), "{\"id\":\"ord_2\"}");
  // A key is unique per partner still (the order route relies on the ConstraintError).
  EXPECT_THROW(db->execute(insert, {"ptn_1", "aa-key", "{}", "ord_4", "2026-12-01T00:00:04Z"}),
               ConstraintError);
  db->execute(insert, {"ptn_3", "aa-key", "{}", "ord_4", "2026-12-01T00:00:04Z"});
  // Lookups by key and pruning by age go through indexes.
  const auto plan = [&](const std::string& query) {
    std::string text;
    for (const Row& row : db->query("EXPLAIN QUERY PLAN " + query)) text += row.text(3) + "\n";
    return text;
  };
  EXPECT_NE(plan("SELECT body FROM idempotency_keys WHERE partner_id = 'p' AND key = 'k'")
                .find("idempotency_keys_by_key"),
            std::string::npos);
  EXPECT_NE(plan("SELECT key FROM idempotency_keys WHERE created_at < 'x' ORDER BY created_at")
                .find("idempotency_keys_by_age"),
            std::string::npos);
}

}  // namespace
}  // namespace portico::storage
