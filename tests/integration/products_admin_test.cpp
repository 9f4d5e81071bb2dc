// The operator's reads of the catalog through the real binary (issue 20):
// GET /admin/v1/products/{id} — the product as partners see it, with its stock per warehouse and
// both updated_at — and GET /admin/v1/products, which selects, pages and refuses exactly as the
// partner list does. Both only with the admin token.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/integration/products_helpers.hpp"

namespace portico::test::products {
namespace {

HttpResponse admin_get(Shop& shop, const std::string& path) {
  return shop.admin.send("GET", path, "");
}

json admin_json(Shop& shop, const std::string& path) {
  auto res = admin_get(shop, path);
  EXPECT_EQ(res.status, 200) << path << ": " << res.body;
  EXPECT_EQ(res.header("Content-Type"), "application/json") << path;
  return json::parse(res.body);
}

// Every id of a walk through the operator's list, page by page, with `filters`.
std::vector<std::string> admin_walk(Shop& shop, const std::string& filters, int limit) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    json body = admin_json(shop, "/products?limit=" + std::to_string(limit) + filters +
                                     (cursor.empty() ? "" : "&cursor=" + cursor));
    EXPECT_LE(body["data"].size(), static_cast<std::size_t>(limit));
    for (auto& id : ids_of(body)) ids.push_back(id);
    if (!body["has_more"].get<bool>()) {
      EXPECT_TRUE(body["next_cursor"].is_null());
      break;
    }
    cursor = body["next_cursor"];
  }
  return ids;
}

TEST(ProductsAdmin, ReadsOneProductWithStockPerWarehouse) {
  Shop shop;
  json items = catalog(3);
  items[1]["status"] = "inactive";
  shop.admin.import(items);

  json shown = admin_json(shop, "/products/prod_0002");
  json partner = shop.get_json("/v1/products/prod_0002");
  json partner_stock = shop.get_json("/v1/products/prod_0002/inventory");
  EXPECT_EQ(shown["status"], "inactive");
  // The partner's product, said the same way, and the same updated_at.
  for (const auto& [field, value] : partner.items()) {
    if (field != "inventory") {
      EXPECT_EQ(shown[field], value) << field;
    }
  }
  EXPECT_EQ(shown["updated_at"].get<std::string>().size(), 24u);
  // The inventory: the partner's summary, its warehouses and the latest stock change.
  EXPECT_EQ(shown["inventory"], (json{{"available", 9},
                                      {"reserved", 0},
                                      {"warehouses",
                                       {{{"id", "icn-1"}, {"available", 2}, {"reserved", 0}},
                                        {{"id", "pus-1"}, {"available", 7}, {"reserved", 0}}}},
                                      {"updated_at", partner_stock["updated_at"]}}));
  EXPECT_TRUE(shown["inventory"]["updated_at"].is_string());

  // A stock change shows at once; the product's own updated_at stays.
  auto adjusted = shop.admin.call("POST", "/products/prod_0002/inventory/adjustments",
                                  {{"warehouse", "icn-1"}, {"delta", -2}, {"reason", "damaged"}});
  ASSERT_EQ(adjusted.status, 200) << adjusted.body;
  json after = admin_json(shop, "/products/prod_0002");
  EXPECT_EQ(after["inventory"]["warehouses"][0],
            (json{{"id", "icn-1"}, {"available", 0}, {"reserved", 0}}));
  EXPECT_EQ(after["inventory"]["available"], 7);
  EXPECT_GE(after["inventory"]["updated_at"].get<std::string>(),
            shown["inventory"]["updated_at"].get<std::string>());
  EXPECT_EQ(after["updated_at"], shown["updated_at"]);

  // A product without stock rows yet.
  json bare = product(10);
  bare.erase("inventory");
  ASSERT_EQ(shop.admin.call("PUT", "/products/prod_0010", bare).status, 201);
  json empty = admin_json(shop, "/products/prod_0010");
  EXPECT_EQ(empty["inventory"], (json{{"available", 0},
                                      {"reserved", 0},
                                      {"warehouses", json::array()},
                                      {"updated_at", nullptr}}));
}

TEST(ProductsAdmin, AnUnknownIdIs404AndAMalformedOne400) {
  Shop shop;
  shop.admin.import(catalog(1));
  auto unknown = admin_get(shop, "/products/prod_9999");
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_EQ(unknown.header("Content-Type"), "application/problem+json");
  json problem = json::parse(unknown.body);
  EXPECT_EQ(problem["code"], "not_found");
  EXPECT_EQ(problem["detail"], "No product with id 'prod_9999'.");
  // The same problem as the other admin product routes give for that id.
  auto put_stock = shop.admin.call("PUT", "/products/prod_9999/inventory",
                                   {{"warehouses", {{{"id", "icn-1"}, {"available", 1}}}}});
  json put_problem = json::parse(put_stock.body);
  for (const char* member : {"type", "title", "status", "code", "detail"}) {
    EXPECT_EQ(problem[member], put_problem[member]) << member;
  }

  auto malformed = admin_get(shop, "/products/bad%20id");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(json::parse(malformed.body)["code"], "invalid_request");
  EXPECT_EQ(field_of_first_error(malformed), "id");
}

TEST(ProductsAdmin, ListsWithThePartnerFiltersAndCursors) {
  Shop shop;
  json items = catalog(25);
  for (int n : {3, 8, 12, 17}) items[n - 1]["status"] = "inactive";
  shop.admin.import(items);

  // Filters and cursors: the same products, in the same order, as the partner list.
  for (std::string filters : {"", "&status=inactive", "&category=kitchen",
                              "&category=audio&status=active", "&q=earbuds%2012"}) {
    std::vector<std::string> admin = admin_walk(shop, filters, 2);
    EXPECT_EQ(admin, walk(shop, filters, 100)) << filters;
    EXPECT_FALSE(admin.empty()) << filters;
  }
  EXPECT_EQ(admin_walk(shop, "&status=inactive", 3),
            (std::vector<std::string>{"prod_0003", "prod_0008", "prod_0012", "prod_0017"}));
  EXPECT_EQ(admin_walk(shop, "", 7).size(), 25u);  // every product, inactive ones included

  // Each item is the operator's view of the product.
  json page = admin_json(shop, "/products?status=inactive&limit=2");
  ASSERT_EQ(page["data"].size(), 2u);
  EXPECT_EQ(page["has_more"], true);
  EXPECT_EQ(page["data"][0], admin_json(shop, "/products/prod_0003"));
  EXPECT_EQ(page["data"][1]["inventory"]["warehouses"].size(), 2u);
  json next = admin_json(
      shop, "/products?status=inactive&limit=2&cursor=" + page["next_cursor"].get<std::string>());
  EXPECT_EQ(ids_of(next), (std::vector<std::string>{"prod_0012", "prod_0017"}));
  EXPECT_EQ(next["has_more"], false);
  EXPECT_TRUE(next["next_cursor"].is_null());

  // A cursor is bound to its filters.
  auto other = admin_get(
      shop, "/products?status=active&limit=2&cursor=" + page["next_cursor"].get<std::string>());
  EXPECT_EQ(other.status, 400) << other.body;
  EXPECT_EQ(field_of_first_error(other), "cursor");
}

TEST(ProductsAdmin, ListRefusesBadQueriesAsThePartnerListDoes) {
  Shop shop;
  shop.admin.import(catalog(3));
  for (auto [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"status=gone", "status"},
                                                        {"limit=0", "limit"},
                                                        {"limit=101", "limit"},
                                                        {"sort=name", "sort"},
                                                        {"updated_since=today", "updated_since"},
                                                        {"q=", "q"},
                                                        {"cursor=bm90LWEtY3Vyc29y", "cursor"}}) {
    auto res = admin_get(shop, "/products?" + query);
    EXPECT_EQ(res.status, 400) << query << ": " << res.body;
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json") << query;
    json problem = json::parse(res.body);
    EXPECT_EQ(problem["code"], "invalid_request") << query;
    EXPECT_EQ(field_of_first_error(res), field) << query;
    json partner = json::parse(shop.get("/v1/products?" + query).body);
    EXPECT_EQ(problem["errors"], partner["errors"]) << query;
    EXPECT_EQ(problem["detail"], partner["detail"]) << query;
  }
}

TEST(ProductsAdmin, BothReadsNeedTheAdminToken) {
  Shop shop;
  shop.admin.import(catalog(1));
  for (std::string path :
       {"/admin/v1/products", "/admin/v1/products/prod_0001", "/admin/v1/products?status=active"}) {
    auto anonymous = http_request(shop.gw.admin_port, "GET", path, {});
    EXPECT_EQ(anonymous.status, 401) << path << ": " << anonymous.body;
    EXPECT_EQ(anonymous.body.find("prod_0001"), std::string::npos) << path;
  }
  EXPECT_EQ(shop.admin.send("GET", "/products/prod_0001", "", "wrong-token").status, 401);
  auto partner_key =
      http_request(shop.gw.admin_port, "GET", "/admin/v1/products", {{"X-API-Key", shop.key}});
  EXPECT_EQ(partner_key.status, 401);
  EXPECT_EQ(admin_get(shop, "/products/prod_0001").status, 200);  // not locked out
}

}  // namespace
}  // namespace portico::test::products
