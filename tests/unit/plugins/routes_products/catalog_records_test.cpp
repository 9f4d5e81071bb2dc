// The JSON partners see (product, detail with inventory summary, inventory per warehouse), the
// previous_attributes of events, stamps, timestamps, and the stamp-checked cache.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "plugins/routes_products/catalog_records.hpp"
#include "plugins/routes_products/product_cache.hpp"
#include "portico/sdk/time.hpp"

namespace {

using json = nlohmann::json;
namespace rp = portico::routes_products;

rp::Product earbuds() {
  rp::Product p;
  p.id = "prod_0001";
  p.sku = "AUD-0001";
  p.name = "무선 이어폰 / Wireless Earbuds 12";
  p.description = "";
  p.category = "audio";
  p.price = {129000, "KRW"};
  p.updated_at = "2026-11-26T10:00:00.000Z";
  return p;
}

TEST(CatalogJson, TheProductShapeOfTheContract) {
  json j = rp::plain(rp::product_json(earbuds()));
  EXPECT_EQ(j, (json{{"id", "prod_0001"},
                     {"sku", "AUD-0001"},
                     {"name", "무선 이어폰 / Wireless Earbuds 12"},
                     {"description", ""},
                     {"category", "audio"},
                     {"price", {{"amount", 129000}, {"currency", "KRW"}}},
                     {"status", "active"},
                     {"updated_at", "2026-11-26T10:00:00.000Z"}}));
  EXPECT_EQ(rp::product_json(earbuds()).dump().rfind("{\"id\":\"prod_0001\"", 0), 0u);
}

TEST(CatalogJson, DetailAndInventoryViews) {
  std::vector<rp::WarehouseStock> stock = {{"icn-1", 10, 2, "2026-11-26T10:00:00.000Z"},
                                           {"pus-1", 5, 0, "2026-11-26T11:00:00.000Z"}};
  json detail = rp::plain(rp::product_with_inventory_json(earbuds(), rp::totals_of(stock)));
  EXPECT_EQ(detail["inventory"], (json{{"available", 15}, {"reserved", 2}}));
  json inventory = rp::plain(rp::inventory_json("prod_0001", stock));
  EXPECT_EQ(inventory, (json{{"product_id", "prod_0001"},
                             {"available", 15},
                             {"reserved", 2},
                             {"warehouses",
                              {{{"id", "icn-1"}, {"available", 10}, {"reserved", 2}},
                               {{"id", "pus-1"}, {"available", 5}, {"reserved", 0}}}},
                             {"updated_at", "2026-11-26T11:00:00.000Z"}}));
  EXPECT_TRUE(rp::plain(rp::inventory_json("prod_0001", {}))["updated_at"].is_null());
  // The event's object is the same view, built without the ordered copy: same bytes once dumped.
  EXPECT_EQ(rp::inventory_object("prod_0001", stock).dump(), inventory.dump());
  EXPECT_EQ(rp::inventory_object("prod_0001", {}).dump(),
            rp::plain(rp::inventory_json("prod_0001", {})).dump());
}

TEST(CatalogJson, PreviousAttributesHoldTheOldValuesOfChangedFieldsOnly) {
  rp::Product before = earbuds(), after = earbuds();
  EXPECT_TRUE(rp::changed_product_fields(before, after).empty());
  after.price.amount = 99000;
  after.name = "New name";
  after.updated_at = "2026-12-01T00:00:00.000Z";  // not a field partners change
  EXPECT_EQ(rp::changed_product_fields(before, after),
            (json{{"name", "무선 이어폰 / Wireless Earbuds 12"},
                  {"price", {{"amount", 129000}, {"currency", "KRW"}}}}));
  std::vector<rp::WarehouseStock> old_stock = {{"icn-1", 10, 2, "t1"}};
  std::vector<rp::WarehouseStock> new_stock = {{"icn-1", 7, 2, "t2"}};
  EXPECT_EQ(rp::changed_inventory_fields("p", old_stock, new_stock),
            (json{{"available", 10},
                  {"warehouses", {{{"id", "icn-1"}, {"available", 10}, {"reserved", 2}}}}}));
}

TEST(CatalogJson, PreviousInventoryAttributesFollowEveryKindOfChange) {
  using Stock = std::vector<rp::WarehouseStock>;
  const Stock one = {{"icn-1", 10, 2, "t1"}};
  // Only the time moved: nothing partners see changed.
  EXPECT_EQ(rp::changed_inventory_fields("p", one, {{"icn-1", 10, 2, "t2"}}), json::object());
  // A reservation: available and reserved move together.
  EXPECT_EQ(rp::changed_inventory_fields("p", one, {{"icn-1", 9, 3, "t2"}}),
            (json{{"available", 10},
                  {"reserved", 2},
                  {"warehouses", {{{"id", "icn-1"}, {"available", 10}, {"reserved", 2}}}}}));
  // Units moved between warehouses: the totals stay, the list changed.
  const Stock two = {{"icn-1", 5, 0, "t1"}, {"pus-1", 5, 0, "t1"}};
  EXPECT_EQ(rp::changed_inventory_fields("p", two, {{"icn-1", 4, 0, "t2"}, {"pus-1", 6, 0, "t2"}}),
            (json{{"warehouses",
                   {{{"id", "icn-1"}, {"available", 5}, {"reserved", 0}},
                    {{"id", "pus-1"}, {"available", 5}, {"reserved", 0}}}}}));
  // A first stock row: the old list was empty.
  EXPECT_EQ(rp::changed_inventory_fields("p", {}, one),
            (json{{"available", 0}, {"reserved", 0}, {"warehouses", json::array()}}));
  // A warehouse emptied of nothing but dropped from the list still changes the list.
  EXPECT_EQ(rp::changed_inventory_fields("p", {{"icn-1", 0, 0, "t1"}}, {}),
            (json{{"warehouses", {{{"id", "icn-1"}, {"available", 0}, {"reserved", 0}}}}}));
}

TEST(Stamp, NewerMeansNothingOlderAndSomethingNewer) {
  EXPECT_TRUE((rp::Stamp{2, 5}).newer_than({1, 5}));
  EXPECT_TRUE((rp::Stamp{1, 6}).newer_than({1, 5}));
  EXPECT_FALSE((rp::Stamp{1, 5}).newer_than({1, 5}));
  EXPECT_FALSE((rp::Stamp{2, 4}).newer_than({1, 5}));
}

TEST(Timestamps, FixedWidthUtcWithMilliseconds) {
  auto t = portico::sdk::parse_timestamp("2026-11-26T19:00:00.1234+09:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(portico::sdk::format_timestamp(*t), "2026-11-26T10:00:00.123Z");
  EXPECT_EQ(portico::sdk::format_timestamp(*portico::sdk::parse_timestamp("2026-01-02T03:04:05Z")),
            "2026-01-02T03:04:05.000Z");
  EXPECT_EQ(portico::sdk::format_timestamp(*portico::sdk::parse_timestamp("2999-12-31T23:59:59.999Z")),
            "2999-12-31T23:59:59.999Z");  // beyond the nanosecond clock's 2262
  EXPECT_EQ(portico::sdk::format_timestamp(*portico::sdk::parse_timestamp("0001-01-01T00:00:00Z")),
            "0001-01-01T00:00:00.000Z");
  for (const char* bad : {"2026-11-26", "2026-13-01T00:00:00Z", "2026-11-26T10:00:00",
                          "2026-11-26 10:00:00Z", "2026-11-26T10:00:00.Z", "yesterday"}) {
    EXPECT_FALSE(portico::sdk::parse_timestamp(bad)) << bad;
  }
}

std::shared_ptr<const rp::RenderedProduct> rendered(rp::Stamp stamp, std::string body) {
  auto r = std::make_shared<rp::RenderedProduct>();
  r->stamp = stamp;
  r->detail = rp::Representation(std::move(body));
  return r;
}

TEST(ProductCache, ServesAnEntryOnlyForTheStampItWasRenderedFrom) {
  rp::ProductCache cache(1000);
  EXPECT_EQ(cache.find("p", {1, 0}, 1), nullptr);
  cache.store("p", rendered({1, 0}, "v1"), 0);
  ASSERT_NE(cache.find("p", {1, 0}, 1), nullptr);
  EXPECT_EQ(cache.find("p", {1, 0}, 1)->detail.body(), "v1");
  EXPECT_EQ(cache.find("p", {1, 1}, 1), nullptr);  // stock changed since: not served
  EXPECT_EQ(cache.find("p", {2, 0}, 1), nullptr);
}

TEST(ProductCache, WithoutAWriteSinceItsCheckAnEntryNeedsNoStamp) {
  rp::ProductCache cache(1000);
  cache.store("p", rendered({1, 0}, "v1"), 0);
  EXPECT_EQ(cache.find_unchanged("p", 0), nullptr) << "0: stored unconfirmed";
  EXPECT_EQ(cache.find_unchanged("p", 7), nullptr) << "never checked at generation 7";
  ASSERT_NE(cache.find("p", {1, 0}, 7), nullptr);  // the Stamp check confirms it at 7
  ASSERT_NE(cache.find_unchanged("p", 7), nullptr);
  EXPECT_EQ(cache.find_unchanged("p", 8), nullptr) << "something was written since";
  EXPECT_EQ(cache.find("p", {1, 1}, 8), nullptr);
  ASSERT_NE(cache.find_unchanged("p", 7), nullptr);  // a failed check confirms nothing new
  cache.store("p", rendered({1, 1}, "v2"), 8);
  EXPECT_EQ(cache.find_unchanged("p", 8)->detail.body(), "v2");
  EXPECT_EQ(cache.find_unchanged("p", 7), nullptr);
  cache.find("p", {1, 1}, 5);  // an older check never moves the confirmation back
  EXPECT_NE(cache.find_unchanged("p", 8), nullptr);
}

TEST(ProductCache, ASlowReaderNeverReplacesANewerRendering) {
  rp::ProductCache cache(1000);
  cache.store("p", rendered({3, 4}, "new"), 1);
  cache.store("p", rendered({3, 3}, "old"), 2);
  EXPECT_EQ(cache.find("p", {3, 4}, 2)->detail.body(), "new");
  cache.store("p", rendered({3, 5}, "newer"), 3);
  EXPECT_EQ(cache.find("p", {3, 5}, 3)->detail.body(), "newer");
  cache.forget("p");
  EXPECT_EQ(cache.find("p", {3, 5}, 3), nullptr);
  EXPECT_EQ(cache.find_unchanged("p", 3), nullptr);
}

TEST(ProductCache, StaysWithinItsBound) {
  rp::ProductCache cache(64 * 4);
  for (int i = 0; i < 5000; ++i) cache.store("p" + std::to_string(i), rendered({1, 0}, "x"), 1);
  EXPECT_LE(cache.size(), cache.capacity());
  for (int i = 0; i < 5000; ++i) cache.find("missing" + std::to_string(i), {1, 0}, 1);
  EXPECT_LE(cache.size(), cache.capacity());
}

}  // namespace
