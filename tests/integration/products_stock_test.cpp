// The catalog through the real binary: stock changes, events, admin validation, the import
// command and a throughput figure.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/products_helpers.hpp"

namespace portico::test::products {
namespace {

TEST(Products, StockChangesAreVisibleImmediately) {
  Shop shop;
  shop.admin.import(catalog(1));
  HttpConnection c("127.0.0.1", shop.gw.port);
  auto inventory = [&] {
    auto res = c.request("GET", "/v1/products/prod_0001/inventory", {{"X-API-Key", shop.key}});
    EXPECT_EQ(res.status, 200) << res.body;
    return json::parse(res.body);
  };
  auto summary = [&] {
    auto res = c.request("GET", "/v1/products/prod_0001", {{"X-API-Key", shop.key}});
    return json::parse(res.body)["inventory"];
  };
  for (int round = 0; round < 20; ++round) {
    inventory();  // warm the cache with the state before the write
    auto set = shop.admin.call("PUT", "/products/prod_0001/inventory",
                               {{"warehouses", {{{"id", "icn-1"}, {"available", 100 + round}}}}});
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(inventory()["warehouses"][0]["available"], 100 + round);
    EXPECT_EQ(summary()["available"], 100 + round + 7);

    auto adjust = shop.admin.call("POST", "/products/prod_0001/inventory/adjustments",
                                  {{"warehouse", "pus-1"}, {"delta", -2}, {"reason", "damaged"}});
    ASSERT_EQ(adjust.status, 200) << adjust.body;
    EXPECT_EQ(json::parse(adjust.body)["warehouses"][1]["available"], 5);
    EXPECT_EQ(inventory()["warehouses"][1]["available"], 5);
    EXPECT_EQ(summary()["available"], 100 + round + 5);
    ASSERT_EQ(shop.admin
                  .call("POST", "/products/prod_0001/inventory/adjustments",
                        {{"warehouse", "pus-1"}, {"delta", 2}})
                  .status,
              200);
  }

  json before = inventory();
  auto refused = shop.admin.call("POST", "/products/prod_0001/inventory/adjustments",
                                 {{"warehouse", "pus-1"}, {"delta", -8}, {"reason", "too many"}});
  EXPECT_EQ(refused.status, 409);
  json problem = json::parse(refused.body);
  EXPECT_EQ(problem["code"], "insufficient_inventory");
  EXPECT_EQ(problem["errors"][0]["field"], "delta");
  EXPECT_EQ(inventory(), before);  // unchanged

  auto new_warehouse = shop.admin.call("POST", "/products/prod_0001/inventory/adjustments",
                                       {{"warehouse", "gmp-1"}, {"delta", 4}});
  ASSERT_EQ(new_warehouse.status, 200);
  EXPECT_EQ(inventory()["warehouses"].size(), 3u);
}

TEST(Products, AWriterOutsideTheProcessIsSeenWithinAPollInterval) {
  // What an orders plugin does inside its own transaction (README "Stock SQL contract"), done here
  // by another process: the cache skips the database while nothing was written through the
  // gateway, and learns of an outside commit from SQLite's data_version within 100 ms (PostgreSQL:
  // from the commit's notification). (Writes
  // through the gateway are seen on the very next read: the orders tests check that.)
  Shop shop;
  shop.admin.import(catalog(1));
  json before = shop.get_json("/v1/products/prod_0001/inventory");
  ASSERT_EQ(before["warehouses"][0]["available"], 1);
  ASSERT_EQ(before["warehouses"][1]["available"], 7);
  query_db(shop.gw.dir / "portico.db",
           "UPDATE stock SET available = available - 3, reserved = reserved + 3,"
           " updated_at = '2031-01-01T00:00:00.000Z'"
           " WHERE product_id = 'prod_0001' AND warehouse_id = 'pus-1' AND available >= 3",
           true);
  json after = shop.get_json("/v1/products/prod_0001/inventory");
  for (int wait = 0; wait < 40 && after["warehouses"][1]["available"] != 4; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    after = shop.get_json("/v1/products/prod_0001/inventory");
  }
  EXPECT_EQ(after["warehouses"][1]["available"], 4);
  EXPECT_EQ(after["warehouses"][1]["reserved"], 3);
  EXPECT_EQ(after["reserved"], 3);
  EXPECT_EQ(shop.get_json("/v1/products/prod_0001")["inventory"],
            (json{{"available", 5}, {"reserved", 3}}));
}

TEST(Products, EveryChangeWritesItsEventInTheSameCommit) {
  Shop shop;
  shop.admin.import(catalog(1));
  auto created = events_of(shop, "prod_0001");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0]["type"], "product.updated");
  EXPECT_EQ(created[0]["partner_id"], "");  // catalog events are for every partner
  EXPECT_EQ(created[0]["data"]["object"]["id"], "prod_0001");
  EXPECT_FALSE(created[0]["data"].contains("previous_attributes"));
  EXPECT_EQ(created[1]["type"], "inventory.changed");
  EXPECT_EQ(created[1]["data"]["object"]["available"], 8);

  json changed = product(1, "kitchen");  // as catalog(1) made it
  changed.erase("inventory");
  changed["name"] = "New name";
  ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0001", changed).status, 200);
  ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0001", changed).status, 200);  // no change
  ASSERT_EQ(shop.admin
                .call("POST", "/products/prod_0001/inventory/adjustments",
                      {{"warehouse", "icn-1"}, {"delta", -1}})
                .status,
            200);
  ASSERT_EQ(shop.admin
                .call("POST", "/products/prod_0001/inventory/adjustments",
                      {{"warehouse", "icn-1"}, {"delta", -5}})
                .status,
            409);  // refused: no event

  auto events = events_of(shop, "prod_0001");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2]["type"], "product.updated");
  EXPECT_EQ(events[2]["data"]["object"]["name"], "New name");
  EXPECT_EQ(events[2]["data"]["previous_attributes"],
            (json{{"name", "무선 이어폰 / Wireless Earbuds 1"}}));
  EXPECT_EQ(events[3]["type"], "inventory.changed");
  EXPECT_EQ(events[3]["data"]["object"]["available"], 7);
  EXPECT_EQ(events[3]["data"]["previous_attributes"]["available"], 8);
  EXPECT_EQ(events[3]["data"]["object"]["warehouses"][0]["available"], 0);
}

TEST(Products, AdminBodiesAreCheckedWholeBeforeAnythingIsWritten) {
  Shop shop;
  json items = catalog(5);
  items[3]["price"]["amount"] = -1;
  items[1].erase("name");
  auto res = shop.admin.call("POST", "/products/import", items);
  EXPECT_EQ(res.status, 400);
  json problem = json::parse(res.body);
  EXPECT_EQ(problem["code"], "invalid_request");
  EXPECT_EQ(problem["errors"], (json{{{"field", "[1].name"}, {"message", "is required"}},
                                     {{"field", "[3].price.amount"},
                                      {"message", "must be between 0 and 1000000000000000"}}}));
  EXPECT_EQ(shop.get_json("/v1/products")["data"].size(), 0u);

  shop.admin.import(catalog(2));
  json clash = json::array({product(4), product(3)});
  clash[1]["sku"] = "SKU-0001";  // prod_0003 would take prod_0001's SKU
  auto conflict = shop.admin.call("POST", "/products/import", clash);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(json::parse(conflict.body)["code"], "duplicate_sku");
  EXPECT_EQ(field_of_first_error(conflict), "[1].sku");
  EXPECT_EQ(shop.get("/v1/products/prod_0004").status, 404);  // all or nothing
  json twice = json::array({product(5), product(6)});
  twice[1]["sku"] = "SKU-0005";
  EXPECT_EQ(field_of_first_error(shop.admin.call("POST", "/products/import", twice)), "[1].sku");

  EXPECT_EQ(shop.admin.send("POST", "/products/import", "[{").status, 400);
  auto mismatch = shop.admin.call("PUT", "/products/prod_0001", product(2));
  EXPECT_EQ(mismatch.status, 400);
  auto zero = shop.admin.call("POST", "/products/prod_0001/inventory/adjustments",
                              {{"warehouse", "icn-1"}, {"delta", 0}});
  EXPECT_EQ(field_of_first_error(zero), "delta");

  json fresh = product(77);
  fresh.erase("id");
  fresh.erase("inventory");
  auto created = shop.admin.call("PUT", "/products/custom-id_1", fresh);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(shop.admin.call("PUT", "/products/custom-id_1", fresh).status, 200);
  EXPECT_EQ(shop.get_json("/v1/products/custom-id_1")["sku"], "SKU-0077");
}

TEST(Products, CatalogImportCommandLoadsTheDemoCatalog) {
  Shop shop;
  std::vector<std::string> env{"PORTICO_ADMIN_TOKEN=test-admin-token"};
  std::string admin_url = "http://127.0.0.1:" + std::to_string(shop.gw.admin_port);
  std::string demo = std::string(PORTICO_SOURCE_DIR) + "/configs/demo/catalog.json";
  auto run =
      run_portico({"catalog", "import", demo, "--admin", admin_url}, std::chrono::seconds(60), env);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("1000 created"), std::string::npos) << run.output;
  EXPECT_EQ(walk(shop, "", 100).size(), 1000u);
  json first = shop.get_json("/v1/products/prod_0001");
  EXPECT_NE(first["name"].get<std::string>().find(" / "), std::string::npos);
  EXPECT_EQ(first["price"]["currency"], "KRW");
  auto warehouses = shop.get_json("/v1/products/prod_0001/inventory")["warehouses"];
  ASSERT_EQ(warehouses.size(), 2u);
  EXPECT_EQ(warehouses[0]["id"], "icn-1");
  EXPECT_EQ(warehouses[1]["id"], "pus-1");

  auto again = run_portico({"catalog", "import", demo, "--admin", admin_url, "--json"},
                           std::chrono::seconds(60), env);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(json::parse(again.output)["unchanged"], 1000);

  TempDir files;
  auto bad_json = files.write("bad.json", "[\n  {\"sku\": \"A\"},\n  {\"sku\": }\n]\n");
  auto bad = run_portico({"catalog", "import", bad_json.string(), "--admin", admin_url},
                         std::chrono::seconds(30), env);
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.json:3:"), std::string::npos) << bad.output;

  auto invalid = files.write("invalid.json", "[{\"sku\": \"A\", \"name\": \"A\"}]");
  auto refused = run_portico({"catalog", "import", invalid.string(), "--admin", admin_url},
                             std::chrono::seconds(30), env);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("[0].price"), std::string::npos) << refused.output;

  auto csv = files.write("shop.csv",
                         "id,sku,name,category,price_amount,currency,stock.icn-1,stock.pus-1\n"
                         "csv_1,CSV-1,\"Tea, green\",food,4500,KRW,10,\n"
                         "csv_2,CSV-2,\"Say \"\"hi\"\"\",food,900,KRW,,3\n");
  auto csv_run = run_portico({"catalog", "import", csv.string(), "--admin", admin_url},
                             std::chrono::seconds(30), env);
  ASSERT_EQ(csv_run.exit_code, 0) << csv_run.output;
  EXPECT_EQ(shop.get_json("/v1/products/csv_1")["name"], "Tea, green");
  EXPECT_EQ(shop.get_json("/v1/products/csv_2")["name"], "Say \"hi\"");
  EXPECT_EQ(shop.get_json("/v1/products/csv_2/inventory")["available"], 3);

  auto bad_csv =
      files.write("bad.csv", "sku,name,price_amount,currency\nA,A,12,KRW\nB,B,1.5,KRW\n");
  auto bad_csv_run = run_portico({"catalog", "import", bad_csv.string(), "--admin", admin_url},
                                 std::chrono::seconds(30), env);
  EXPECT_EQ(bad_csv_run.exit_code, 2) << bad_csv_run.output;
  EXPECT_NE(bad_csv_run.output.find("bad.csv:3 price_amount"), std::string::npos)
      << bad_csv_run.output;
}

// Not an assertion: a figure for the report. One keep-alive connection per thread, through
// authentication and the rate limit, cache hits.
TEST(Products, DetailThroughputIsMeasured) {
  Shop shop({"--set", "security.client_ip_limit=1000000000"});
  shop.admin.import(catalog(100));
  std::string partner = shop.admin.partner("premium", {{"rate_limit_override", 1000000000}});
  std::string key = shop.admin.key(partner);
  for (int threads : {1, 4}) {
    std::atomic<long> done{0};
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        HttpConnection c("127.0.0.1", shop.gw.port);
        int n = t;
        while (std::chrono::steady_clock::now() < until) {
          char target[64];
          std::snprintf(target, sizeof target, "/v1/products/prod_%04d", n++ % 100 + 1);
          auto res = c.request("GET", target, {{"X-API-Key", key}});
          if (res.status != 200) {
            ADD_FAILURE() << res.status << " " << res.body;
            return;
          }
          ++done;
        }
      });
    }
    for (auto& w : workers) w.join();
    std::cout << "[ measure  ] GET /v1/products/{id}, " << threads
              << " connection(s): " << done.load() / 2 << " requests/s\n";
  }
}

}  // namespace
}  // namespace portico::test::products
