// The product catalog through the real binary: admin import/upsert/stock routes, partner reads
// with filters, keyset cursors under concurrent updates, ETag/304 (refunded from the rate limit),
// stock changes visible at once (also when another writer changes the stock table directly), the
// outbox events of every change, and `portico catalog import`.
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

TEST(Products, ImportThenReadDetailInventoryAndList) {
  Shop shop;
  json answer = shop.admin.import(catalog(3));
  EXPECT_EQ(answer["created"], 3);
  EXPECT_EQ(answer["inventory_changed"], 3);
  EXPECT_EQ(answer["ids"], (json{"prod_0001", "prod_0002", "prod_0003"}));

  auto detail = shop.get("/v1/products/prod_0002");
  ASSERT_EQ(detail.status, 200) << detail.body;
  EXPECT_EQ(detail.header("Content-Type"), "application/json");
  json p = json::parse(detail.body);
  EXPECT_EQ(p["id"], "prod_0002");
  EXPECT_EQ(p["sku"], "SKU-0002");
  EXPECT_EQ(p["name"], "무선 이어폰 / Wireless Earbuds 2");
  EXPECT_EQ(p["price"], (json{{"amount", 10002}, {"currency", "KRW"}}));
  EXPECT_EQ(p["status"], "active");
  EXPECT_EQ(p["inventory"], (json{{"available", 9}, {"reserved", 0}}));
  EXPECT_EQ(p["updated_at"].get<std::string>().size(), 24u);  // 2026-11-26T10:00:00.000Z

  json inventory = shop.get_json("/v1/products/prod_0002/inventory");
  EXPECT_EQ(inventory["product_id"], "prod_0002");
  EXPECT_EQ(inventory["available"], 9);
  EXPECT_EQ(inventory["reserved"], 0);
  EXPECT_EQ(inventory["warehouses"], (json{{{"id", "icn-1"}, {"available", 2}, {"reserved", 0}},
                                           {{"id", "pus-1"}, {"available", 7}, {"reserved", 0}}}));
  EXPECT_TRUE(inventory["updated_at"].is_string());

  json list = shop.get_json("/v1/products");
  EXPECT_EQ(ids_of(list), (std::vector<std::string>{"prod_0001", "prod_0002", "prod_0003"}));
  EXPECT_EQ(list["has_more"], false);
  EXPECT_TRUE(list["next_cursor"].is_null());
  EXPECT_EQ(list["data"][1], p);  // list items are the detail representation
}

TEST(Products, UnknownIdsAnswer404NotFound) {
  Shop shop;
  shop.admin.import(catalog(1));
  for (std::string target :
       std::vector<std::string>{"/v1/products/prod_9999", "/v1/products/prod_9999/inventory",
                                "/v1/products/bad%20id", "/v1/products/" + std::string(100, 'x')}) {
    auto res = shop.get(target);
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(json::parse(res.body)["code"], "not_found") << target;
  }
  auto admin = shop.admin.call("PUT", "/products/prod_9999/inventory",
                               {{"warehouses", {{{"id", "icn-1"}, {"available", 1}}}}});
  EXPECT_EQ(admin.status, 404);
  EXPECT_EQ(json::parse(admin.body)["code"], "not_found");
}

TEST(Products, NeedTheProductsReadScopeAndTheAdminToken) {
  Shop shop;
  shop.admin.import(catalog(1));
  std::string orders_only =
      shop.admin.key(shop.admin.partner("basic"), {{"scopes", {"orders:read"}}});
  EXPECT_EQ(shop.gw.get("/v1/products", {{"X-API-Key", orders_only}}).status, 403);
  EXPECT_EQ(shop.gw.get("/v1/products").status, 401);
  EXPECT_EQ(shop.admin.send("POST", "/products/import", "[]", "wrong-token").status, 401);
}

TEST(Products, APageWalkDuringUpdatesNeitherRepeatsNorSkips) {
  Shop shop;
  json items = catalog(1000);
  ASSERT_EQ(shop.admin.import(items)["created"], 1000);
  std::set<std::string> originals;
  for (const auto& item : items) originals.insert(item["id"]);

  std::atomic<bool> stop{false};
  std::atomic<int> updates{0};
  std::thread updater([&] {
    Admin admin{shop.gw.admin_port};
    unsigned seed = 7;
    while (!stop) {
      seed = seed * 1103515245u + 12345u;
      int n = static_cast<int>(seed % 1000) + 1;
      json p = product(n, items[n - 1]["category"]);
      p.erase("inventory");
      p["name"] = "Renamed " + std::to_string(seed);  // a new updated_at, a new version
      p["price"]["amount"] = seed % 100000;
      auto res = admin.call("PUT", "/products/" + p["id"].get<std::string>(), p);
      EXPECT_EQ(res.status, 200) << res.body;
      admin.call("POST", "/products/" + p["id"].get<std::string>() + "/inventory/adjustments",
                 {{"warehouse", "pus-1"}, {"delta", 1}});
      if (updates % 10 == 0) {  // and new products appearing mid-walk
        json extra = product(5000 + updates, "audio");
        admin.call("PUT", "/products/" + extra["id"].get<std::string>(), extra);
      }
      ++updates;
    }
  });
  std::vector<std::string> seen = walk(shop, "", 7);
  std::vector<std::string> audio = walk(shop, "&category=audio", 9);
  stop = true;
  updater.join();
  EXPECT_GT(updates.load(), 10) << "the updates must overlap the walk";

  std::multiset<std::string> counted(seen.begin(), seen.end());
  for (const auto& id : counted) EXPECT_EQ(counted.count(id), 1u) << id << " returned twice";
  for (const auto& id : originals) EXPECT_EQ(counted.count(id), 1u) << id << " skipped";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  std::set<std::string> audio_originals;
  for (const auto& item : items)
    if (item["category"] == "audio") audio_originals.insert(item["id"]);
  std::multiset<std::string> audio_counted(audio.begin(), audio.end());
  for (const auto& id : audio_counted) EXPECT_EQ(audio_counted.count(id), 1u) << id;
  for (const auto& id : audio_originals) EXPECT_EQ(audio_counted.count(id), 1u) << id;
}

TEST(Products, EachFilterSelectsWhatItSays) {
  Shop shop;
  json items = catalog(40);
  items[4]["status"] = "inactive";
  items[9]["status"] = "inactive";
  items[5]["name"] = "유자차 / Yuja Tea";
  items[6]["sku"] = "TEA-BLACK-7";
  shop.admin.import(items);

  EXPECT_EQ(walk(shop, "&category=kitchen", 3).size(), 10u);
  for (const auto& id : walk(shop, "&category=kitchen", 100)) {
    EXPECT_EQ(shop.get_json("/v1/products/" + id)["category"], "kitchen");
  }
  EXPECT_EQ(walk(shop, "&status=inactive", 10),
            (std::vector<std::string>{"prod_0005", "prod_0010"}));
  EXPECT_EQ(walk(shop, "&status=active", 100).size(), 38u);
  EXPECT_EQ(walk(shop, "&q=WIRELESS%20earbuds%2012", 10), (std::vector<std::string>{"prod_0012"}));
  EXPECT_EQ(walk(shop, "&q=%EC%9C%A0%EC%9E%90", 10),  // 유자
            (std::vector<std::string>{"prod_0006"}));
  EXPECT_EQ(walk(shop, "&q=tea-black", 10), (std::vector<std::string>{"prod_0007"}));
  EXPECT_EQ(walk(shop, "&q=1%25", 10).size(), 0u);  // % is literal, not a wildcard
  EXPECT_EQ(walk(shop, "&category=kitchen&status=inactive", 10),
            (std::vector<std::string>{"prod_0005"}));

  // updated_since: only what changed at or after the moment.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::string since = shop.get_json("/v1/products/prod_0001")["updated_at"];
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  json changed = items[20];
  changed.erase("inventory");
  changed["price"]["amount"] = 1;
  ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0021", changed).status, 200);
  std::string after = shop.get_json("/v1/products/prod_0021")["updated_at"];
  EXPECT_EQ(walk(shop, "&updated_since=" + after, 10), (std::vector<std::string>{"prod_0021"}));
  EXPECT_EQ(walk(shop, "&updated_since=2000-01-01T09:00:00%2B09:00", 100).size(), 40u);
  EXPECT_GE(walk(shop, "&updated_since=" + since, 100).size(), 1u);
  EXPECT_EQ(walk(shop, "&updated_since=2999-01-01T00:00:00Z", 10).size(), 0u);
}

TEST(Products, BadLimitsUnknownParametersAndTamperedCursorsAre400) {
  Shop shop;
  shop.admin.import(catalog(30));
  for (std::string query : {"limit=0", "limit=101", "limit=abc", "limit=-5", "limit="}) {
    auto res = shop.get("/v1/products?" + query);
    EXPECT_EQ(res.status, 400) << query;
    EXPECT_EQ(json::parse(res.body)["code"], "invalid_request");
    EXPECT_EQ(field_of_first_error(res), "limit") << query;
  }
  auto unknown = shop.get("/v1/products?sort=name");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(field_of_first_error(unknown), "sort");
  EXPECT_EQ(field_of_first_error(shop.get("/v1/products?status=gone")), "status");
  EXPECT_EQ(field_of_first_error(shop.get("/v1/products?updated_since=today")), "updated_since");

  json first = shop.get_json("/v1/products?limit=10");
  std::string cursor = first["next_cursor"];
  EXPECT_EQ(shop.get("/v1/products?limit=10&cursor=" + cursor).status, 200);
  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (std::string bad : {tampered, cursor.substr(1), std::string("cHJvZF8wMDEw"), cursor + "x"}) {
    auto res = shop.get("/v1/products?limit=10&cursor=" + bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(json::parse(res.body)["code"], "invalid_request");
    EXPECT_EQ(field_of_first_error(res), "cursor");
  }
  auto other_filters = shop.get("/v1/products?limit=10&category=audio&cursor=" + cursor);
  EXPECT_EQ(other_filters.status, 400);
  EXPECT_EQ(field_of_first_error(other_filters), "cursor");
}

TEST(Products, ETagsAnd304sThatDoNotCountAgainstTheRateLimit) {
  Shop shop;
  shop.admin.import(catalog(2));
  std::string basic = shop.admin.key(shop.admin.partner("basic"));
  HttpConnection c("127.0.0.1", shop.gw.port);
  auto first = c.request("GET", "/v1/products/prod_0001", {{"X-API-Key", basic}});
  ASSERT_EQ(first.status, 200);
  auto etag = first.header("ETag");
  ASSERT_TRUE(etag);
  EXPECT_EQ(etag->front(), '"');  // strong
  EXPECT_EQ(first.header("X-RateLimit-Remaining"), "99");

  for (int i = 0; i < 20; ++i) {
    auto again = c.request("GET", "/v1/products/prod_0001",
                           {{"X-API-Key", basic}, {"If-None-Match", *etag}});
    ASSERT_EQ(again.status, 304) << again.body;
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(again.header("ETag"), etag);
    EXPECT_EQ(again.header("X-RateLimit-Remaining"), "99") << "a 304 is not counted";
  }
  EXPECT_EQ(c.request("GET", "/v1/products/prod_0001",
                      {{"X-API-Key", basic}, {"If-None-Match", "\"x\", " + *etag}})
                .status,
            304);
  // `*` still earns a 304 (RFC 9110), but proves no cached copy: it counts (issue 14).
  auto star =
      c.request("GET", "/v1/products/prod_0001", {{"X-API-Key", basic}, {"If-None-Match", "*"}});
  EXPECT_EQ(star.status, 304);
  EXPECT_EQ(star.header("X-RateLimit-Remaining"), "98");
  auto counted = c.request("GET", "/v1/products/prod_0001",
                           {{"X-API-Key", basic}, {"If-None-Match", "\"stale\""}});
  EXPECT_EQ(counted.status, 200);
  EXPECT_EQ(counted.header("X-RateLimit-Remaining"), "97");

  // A product update changes the ETag at once; the old one no longer matches.
  json changed = product(1);
  changed.erase("inventory");
  changed["price"]["amount"] = 55000;
  ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0001", changed).status, 200);
  auto updated =
      c.request("GET", "/v1/products/prod_0001", {{"X-API-Key", basic}, {"If-None-Match", *etag}});
  EXPECT_EQ(updated.status, 200);
  EXPECT_NE(updated.header("ETag"), etag);
  EXPECT_EQ(json::parse(updated.body)["price"]["amount"], 55000);

  // So does a stock change, for the detail (its summary) and the inventory.
  auto inventory = c.request("GET", "/v1/products/prod_0001/inventory", {{"X-API-Key", basic}});
  auto inventory_etag = *inventory.header("ETag");
  auto detail_etag = *updated.header("ETag");
  ASSERT_EQ(shop.admin
                .call("POST", "/products/prod_0001/inventory/adjustments",
                      {{"warehouse", "icn-1"}, {"delta", 3}})
                .status,
            200);
  EXPECT_EQ(c.request("GET", "/v1/products/prod_0001/inventory",
                      {{"X-API-Key", basic}, {"If-None-Match", inventory_etag}})
                .status,
            200);
  EXPECT_EQ(c.request("GET", "/v1/products/prod_0001",
                      {{"X-API-Key", basic}, {"If-None-Match", detail_etag}})
                .status,
            200);

  // Lists carry ETags too.
  auto list = c.request("GET", "/v1/products", {{"X-API-Key", basic}});
  EXPECT_EQ(c.request("GET", "/v1/products",
                      {{"X-API-Key", basic}, {"If-None-Match", *list.header("ETag")}})
                .status,
            304);
}

// List pages are answered from memory while nothing was written (list_cache.hpp): every write —
// a product update, a stock change, an import, a writer outside the process — must show in the
// very next page, never a page cached before it.
TEST(Products, AListPageChangesRightAfterAnUpdateOrAStockChange) {
  Shop shop;
  shop.admin.import(catalog(30));
  HttpConnection c("127.0.0.1", shop.gw.port);
  auto page = [&](const std::string& target) {
    auto res = c.request("GET", target, {{"X-API-Key", shop.key}});
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return res;
  };
  auto item = [](const HttpResponse& res, int index) {
    return json::parse(res.body)["data"][index];
  };
  const std::string first = "/v1/products?limit=5";
  const std::string audio = "/v1/products?category=audio&limit=2";  // prod_0004, prod_0008, …
  std::string second = "/v1/products?limit=5&cursor=" +
                       json::parse(page(first).body)["next_cursor"].get<std::string>();

  for (int round = 1; round <= 10; ++round) {
    // Warm every page with the state before the write (the second read is from memory).
    auto before = page(first);
    EXPECT_EQ(page(first).body, before.body);
    page(audio);
    page(second);

    json changed = product(2, "fashion");
    changed.erase("inventory");
    changed["price"]["amount"] = 20000 + round;
    ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0002", changed).status, 200);
    auto updated = page(first);
    EXPECT_EQ(item(updated, 1)["price"]["amount"], 20000 + round);
    EXPECT_NE(updated.header("ETag"), before.header("ETag"));
    auto revalidated = c.request(
        "GET", first, {{"X-API-Key", shop.key}, {"If-None-Match", *before.header("ETag")}});
    EXPECT_EQ(revalidated.status, 200) << "the old ETag must not match the changed page";

    auto adjusted = shop.admin.call("POST", "/products/prod_0008/inventory/adjustments",
                                    {{"warehouse", "pus-1"}, {"delta", 1}});
    ASSERT_EQ(adjusted.status, 200) << adjusted.body;
    EXPECT_EQ(item(page(audio), 1)["inventory"]["available"], 8 + 7 + round);

    auto set = shop.admin.call("PUT", "/products/prod_0007/inventory",
                               {{"warehouses", {{{"id", "icn-1"}, {"available", 100 + round}}}}});
    ASSERT_EQ(set.status, 200) << set.body;
    EXPECT_EQ(item(page(second), 1)["inventory"]["available"], 100 + round + 7);
  }

  // An import that adds a product shows in the page it lands on.
  page(first);
  json extra = product(0, "audio");  // prod_0000 sorts first
  shop.admin.import(json::array({extra}));
  EXPECT_EQ(item(page(first), 0)["id"], "prod_0000");

  // A writer outside the process (an orders plugin's SQL in another process) is seen within a poll
  // interval, as for the detail.
  query_db(shop.gw.dir / "portico.db",
           "UPDATE stock SET available = available - 3, reserved = reserved + 3"
           " WHERE product_id = 'prod_0001' AND warehouse_id = 'pus-1' AND available >= 3",
           true);
  json reserved = item(page(first), 1)["inventory"];
  for (int wait = 0; wait < 40 && reserved["reserved"] != 3; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    reserved = item(page(first), 1)["inventory"];
  }
  EXPECT_EQ(reserved, (json{{"available", 1 + 4}, {"reserved", 3}}));
}

}  // namespace
}  // namespace portico::test::products
