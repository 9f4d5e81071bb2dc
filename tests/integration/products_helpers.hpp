// Shared by the catalog integration tests: an admin client, a partner ("shop") with a key,
// product fixtures, page walks and outbox reads from the database file.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "pg_database.hpp"
#include "tests/integration/gateway_fixture.hpp"

namespace portico::test::products {

using json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Admin {
  std::uint16_t port;
  int partners_created = 0;
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& token = "test-admin-token") {
    Headers headers{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    return http_request(port, method, "/admin/v1" + path, headers, body);
  }
  HttpResponse call(const std::string& method, const std::string& path, const json& body) {
    return send(method, path, body.dump());
  }
  // Partner names are unique: "Shop premium 1", "Shop premium 2", ...
  std::string partner(const std::string& tier, json extra = json::object()) {
    json body = {{"name", "Shop " + tier + " " + std::to_string(++partners_created)},
                 {"tier", tier}};
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

inline json product(int n, const std::string& category = "audio") {
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

inline json catalog(int count) {
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

// Rows of a query on the gateway's database, opened by this test as a second process would: its
// SQLite file, or (testing_on_postgres()) the PostgreSQL database the fixture made for the file.
inline std::vector<std::vector<std::string>> query_postgres(const std::string& url,
                                                            const std::string& sql, bool write) {
  static std::map<std::string, std::shared_ptr<Database>> open;
  auto& db = open[url];
  if (!db) db = store_postgres::open_postgres({.conninfo = url});
  std::vector<std::vector<std::string>> rows;
  if (write) {
    db->execute(sql);
    return rows;
  }
  for (const Row& row : db->query(sql)) {
    std::vector<std::string> texts;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const Value& v = row.at(c);
      if (const auto* d = std::get_if<double>(&v)) {
        texts.push_back(std::to_string(*d));
      } else {
        texts.push_back(row.text(c));
      }
    }
    rows.push_back(std::move(texts));
  }
  return rows;
}

inline std::vector<std::vector<std::string>> query_db(const std::filesystem::path& file,
                                                      const std::string& sql, bool write = false) {
  // Gateways with a config of their own (ReloadGateway) stay on SQLite.
  const auto found = postgres_databases().find(file.parent_path());
  if (found != postgres_databases().end()) return query_postgres(found->second, sql, write);
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
inline std::vector<json> events_of(const Shop& shop, const std::string& subject) {
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

inline std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> ids;
  for (const auto& item : page["data"]) ids.push_back(item["id"]);
  return ids;
}

// Every id of a filtered walk, page by page.
inline std::vector<std::string> walk(Shop& shop, const std::string& filters, int limit) {
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

inline std::string field_of_first_error(const HttpResponse& res) {
  json body = json::parse(res.body);
  if (!body.contains("errors") || body["errors"].empty()) return "<none>";
  return body["errors"][0]["field"];
}

}  // namespace portico::test::products
