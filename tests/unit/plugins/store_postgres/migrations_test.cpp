// Nodes that start together on one PostgreSQL database migrate it exactly once: every node runs
// the core's, the partners' and each in-tree plugin's migrations at the same moment, on its own
// store handle, and each step runs on one of them only.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "core/partners/migrations.hpp"
#include "core/storage/migrations.hpp"
#include "pg_database.hpp"
#include "plugins/routes_orders/order_schema.hpp"
#include "plugins/routes_products/catalog_schema.hpp"
#include "tests/support/postgres_server.hpp"

namespace portico::test {
namespace {

TEST(PostgresMigrations, NodesStartingTogetherApplyEachStepOnce) {
  if (!PostgresServer::available()) GTEST_SKIP() << "PostgreSQL is not installed";
  const std::string url = PostgresServer::shared().create_database("migrate");
  const std::vector<std::pair<std::string, std::vector<Migration>>> owners = {
      {"core", storage::core_migrations()},
      {"partners", partners::partners_migrations()},
      {"routes_products", routes_products::catalog_migrations()},
      {"routes_orders", routes_orders::order_migrations()},
  };
  std::size_t steps = 0;
  for (const auto& [owner, migrations] : owners) steps += migrations.size();

  constexpr int kNodes = 4;
  std::vector<std::shared_ptr<Database>> nodes;
  for (int n = 0; n < kNodes; ++n) nodes.push_back(store_postgres::open_postgres({.conninfo = url}));
  std::atomic<int> ran{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> starting;
  for (int n = 0; n < kNodes; ++n) {
    starting.emplace_back([&, n] {
      try {
        for (const auto& [owner, migrations] : owners) {
          ran += storage::apply_migrations(*nodes[static_cast<std::size_t>(n)], owner, migrations);
        }
      } catch (const std::exception& e) {
        ++failed;
        ADD_FAILURE() << "node " << n << ": " << e.what();
      }
    });
  }
  for (auto& t : starting) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(ran, static_cast<int>(steps)) << "every step exactly once over all nodes";
  EXPECT_EQ(storage::applied_migrations(*nodes[0]).size(), steps);
  // The schema works: the triggers' PostgreSQL forms included.
  auto& db = *nodes[1];
  db.execute("INSERT INTO products(id, sku, name, price_amount, currency, status, created_at,"
             " updated_at) VALUES ('p1', 's1', 'n', 1, 'KRW', 'active', 't', 't')");
  db.execute("INSERT INTO warehouses(id, created_at) VALUES ('w1', 't')");
  db.execute("INSERT INTO stock(product_id, warehouse_id, available, updated_at)"
             " VALUES ('p1', 'w1', 5, 't')");
  db.execute("UPDATE stock SET available = 4 WHERE product_id = 'p1'");
  EXPECT_EQ(db.query("SELECT stock_version FROM products WHERE id = 'p1'").at(0).integer(0), 2);
  const auto before = db.query("SELECT version FROM directory_version").at(0).integer(0);
  db.execute("INSERT INTO partners(id, name, tier, created_at, updated_at)"
             " VALUES ('ptr_1', 'a', 'basic', 't', 't')");
  EXPECT_EQ(db.query("SELECT version FROM directory_version").at(0).integer(0), before + 1);
}

}  // namespace
}  // namespace portico::test
