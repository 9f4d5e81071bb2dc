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

#include "tests/integration/gateway_fixture.hpp"

namespace portico::test {
namespace {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Admin {
  std::uint16_t port;
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token = "test-admin-token") {
    Headers headers{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    return http_request(port, method, "/admin/v1" + path, headers, body);
  }
  HttpResponse call(const std::string& method, const std::string& path, const json& body) {
    return send(method, path, body.dump());
  }
  std::string partner(const std::string& tier, json extra = json::object()) {
    json body = {{"name", "Shop " + tier}, {"tier", tier}};
    body.update(extra);
    auto res = call("POST", "/partners", body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["id"];
  }
  std::string key(const std::string& partner_id, json body = json::object()) {
    auto res = call("POST", "/partners/" + partner_id + "/keys", body);
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body)["key"];
  }
  json import(const json& items) {
    auto res = call("POST", "/products/import", items);
    EXPECT_EQ(res.status, 200) << res.body;
    return json::parse(res.body);
  }
};

json product(int n, const std::string& category = "audio") {
  char id[32], sku[32];
  std::snprintf(id, sizeof id, "prod_%04d", n);
  std::snprintf(sku, sizeof sku, "SKU-%04d", n);
  return {{"id", id},
          {"sku", sku},
          {"name", "무선 이어폰 / Wireless Earbuds " + std::to_string(n)},
          {"description", "Demo product " + std::to_string(n)},
          {"category", category},
          {"price", {{"amount", 10000 + n}, {"currency", "KRW"}}},
          {"inventory",
           {{"warehouses",
             {{{"id", "icn-1"}, {"available", n % 50}}, {{"id", "pus-1"}, {"available", 7}}}}}}};
}

json catalog(int count) {
  json items = json::array();
  const char* categories[] = {"audio", "kitchen", "fashion", "home"};
  for (int n = 1; n <= count; ++n) items.push_back(product(n, categories[n % 4]));
  return items;
}

// A running gateway with products, a premium partner and its key.
struct Shop {
  explicit Shop(std::vector<std::string> extra = {}) : gw(std::move(extra)), admin{gw.admin_port} {
    key = admin.key(admin.partner("premium"));
  }
  HttpResponse get(const std::string& target, Headers headers = {}) {
    headers.emplace_back("X-API-Key", key);
    return gw.get(target, headers);
  }
  json get_json(const std::string& target) {
    auto res = get(target);
    EXPECT_EQ(res.status, 200) << target << ": " << res.body;
    return json::parse(res.body);
  }
  Gateway gw;
  Admin admin;
  std::string key;
};

// Rows of a query on the gateway's SQLite file, opened by this test as a second process would.
std::vector<std::vector<std::string>> query_db(const std::filesystem::path& file,
                                               const std::string& sql, bool write = false) {
  sqlite3* db = nullptr;
  int flags = write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, flags, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* statement = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(statement); ++c) {
      auto* text = sqlite3_column_text(statement, c);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return rows;
}

// The events about `subject`, oldest first, as their Standard Webhooks bodies.
std::vector<json> events_of(const Shop& shop, const std::string& subject) {
  std::vector<json> events;
  for (const auto& row :
       query_db(shop.gw.dir / "portico.db",
                "SELECT payload, partner_id FROM outbox_events WHERE subject = '" + subject +
                    "' ORDER BY sequence")) {
    json payload = json::parse(row[0]);
    payload["partner_id"] = row[1];
    events.push_back(std::move(payload));
  }
  return events;
}

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> ids;
  for (const auto& item : page["data"]) ids.push_back(item["id"]);
  return ids;
}

// Every id of a filtered walk, page by page.
std::vector<std::string> walk(Shop& shop, const std::string& filters, int limit) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 10000; ++page) {
    std::string target = "/v1/products?limit=" + std::to_string(limit) + filters +
                         (cursor.empty() ? "" : "&cursor=" + cursor);
    json body = shop.get_json(target);
    for (auto& id : ids_of(body)) ids.push_back(id);
    if (!body["has_more"].get<bool>()) {
      EXPECT_TRUE(body["next_cursor"].is_null());
      break;
    }
    cursor = body["next_cursor"];
  }
  return ids;
}

std::string field_of_first_error(const HttpResponse& res) {
  json body = json::parse(res.body);
  if (!body.contains("errors") || body["errors"].empty()) return "<none>";
  return body["errors"][0]["field"];
}

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
  EXPECT_EQ(
      c.request("GET", "/v1/products/prod_0001", {{"X-API-Key", basic}, {"If-None-Match", "*"}})
          .status,
      304);
  auto counted = c.request("GET", "/v1/products/prod_0001",
                           {{"X-API-Key", basic}, {"If-None-Match", "\"stale\""}});
  EXPECT_EQ(counted.status, 200);
  EXPECT_EQ(counted.header("X-RateLimit-Remaining"), "98");

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

TEST(Products, AnotherWriterOfTheStockTableIsSeenOnTheNextRead) {
  // What an orders plugin will do inside its own transaction (README "Stock SQL contract").
  Shop shop;
  shop.admin.import(catalog(1));
  json before = shop.get_json("/v1/products/prod_0001/inventory");
  ASSERT_EQ(before["warehouses"][0]["available"], 1);
  ASSERT_EQ(before["warehouses"][1]["available"], 7);
  query_db(shop.gw.dir / "portico.db",
           "UPDATE stock SET available = available - 3, reserved = reserved + 3,"
           " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
           " WHERE product_id = 'prod_0001' AND warehouse_id = 'pus-1' AND available >= 3",
           true);
  json after = shop.get_json("/v1/products/prod_0001/inventory");
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
}  // namespace portico::test
