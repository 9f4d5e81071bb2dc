// Pricing an order from the catalog (exists, active, one currency, no overflow) and allocating
// its stock greedily from the largest warehouse, all or nothing, naming every short line.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "plugins/routes_orders/order_plan.hpp"

namespace {

using portico::FieldError;
namespace ro = portico::routes_orders;

ro::CatalogProducts catalog() {
  ro::CatalogProducts products;
  products["prod_a"] = {"SKU-A", "Earbuds", 129000, "KRW", "active", {{"icn-1", 5}, {"pus-1", 8}}};
  products["prod_b"] = {"SKU-B", "Case", 15000, "KRW", "active", {{"icn-1", 3}}};
  products["prod_c"] = {"SKU-C", "Old", 1000, "KRW", "inactive", {{"icn-1", 10}}};
  products["prod_d"] = {"SKU-D", "Import", 999, "USD", "active", {{"icn-1", 10}}};
  products["prod_e"] = {"SKU-E", "Sold out", 500, "KRW", "active", {}};
  products["prod_f"] = {"SKU-F", "Three", 1, "KRW", "active", {{"b", 4}, {"a", 4}, {"c", 0}}};
  return products;
}

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

TEST(OrderPlan, PricesLinesFromTheCatalog) {
  std::vector<FieldError> errors;
  ro::PricedOrder order = ro::price_order({{"prod_a", 2}, {"prod_b", 3}}, catalog(), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(order.currency, "KRW");
  EXPECT_EQ(order.total_amount, 2 * 129000 + 3 * 15000);
  ASSERT_EQ(order.items.size(), 2u);
  EXPECT_EQ(order.items[0].product_id, "prod_a");
  EXPECT_EQ(order.items[0].sku, "SKU-A");
  EXPECT_EQ(order.items[0].name, "Earbuds");
  EXPECT_EQ(order.items[0].quantity, 2);
  EXPECT_EQ(order.items[0].unit_amount, 129000);
  EXPECT_EQ(order.items[1].product_id, "prod_b");
}

TEST(OrderPlan, UnknownInactiveAndForeignCurrencyProductsAreNamed) {
  std::vector<FieldError> errors;
  ro::price_order({{"prod_a", 1}, {"prod_x", 1}, {"prod_c", 1}, {"prod_d", 1}}, catalog(), errors);
  ASSERT_EQ(fields_of(errors),
            (std::vector<std::string>{"items[1].product_id", "items[2].product_id",
                                      "items[3].product_id"}));
  EXPECT_EQ(errors[0].message, "no product prod_x");
  EXPECT_EQ(errors[1].message, "product prod_c is inactive");
  EXPECT_EQ(errors[2].message,
            "product prod_d is priced in USD, but items[0] in KRW; an order has one currency");
}

TEST(OrderPlan, TheFirstPricedLineSetsTheCurrency) {
  std::vector<FieldError> errors;
  ro::PricedOrder order = ro::price_order({{"prod_x", 1}, {"prod_d", 1}}, catalog(), errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"items[0].product_id"}));
  EXPECT_EQ(order.currency, "USD");
}

TEST(OrderPlan, AmountsBeyond64BitsAreRefused) {
  ro::CatalogProducts products = catalog();
  products["prod_a"].price_amount = std::numeric_limits<std::int64_t>::max() / 500;
  std::vector<FieldError> errors;
  ro::price_order({{"prod_a", 999}}, products, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"items[0].quantity"}));

  errors.clear();
  products["prod_a"].price_amount = std::numeric_limits<std::int64_t>::max() / 999;
  products["prod_b"].price_amount = std::numeric_limits<std::int64_t>::max() / 999;
  ro::price_order({{"prod_a", 999}, {"prod_b", 999}}, products, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"items"}));
  EXPECT_EQ(errors[0].message, "the order total is too large");
}

TEST(OrderPlan, StockComesFromTheLargestWarehouseFirst) {
  std::vector<FieldError> shortages;
  auto allocations = ro::allocate_stock({{"prod_a", 6}, {"prod_b", 3}}, catalog(), shortages);
  EXPECT_TRUE(shortages.empty());
  ASSERT_EQ(allocations.size(), 2u);
  EXPECT_EQ(allocations[0].product_id, "prod_a");
  EXPECT_EQ(allocations[0].warehouse_id, "pus-1");
  EXPECT_EQ(allocations[0].quantity, 6);
  EXPECT_EQ(allocations[1].product_id, "prod_b");
  EXPECT_EQ(allocations[1].warehouse_id, "icn-1");
  EXPECT_EQ(allocations[1].quantity, 3);
}

TEST(OrderPlan, ALineSplitsAcrossWarehousesWhenOneIsNotEnough) {
  std::vector<FieldError> shortages;
  auto allocations = ro::allocate_stock({{"prod_a", 13}}, catalog(), shortages);
  EXPECT_TRUE(shortages.empty());
  ASSERT_EQ(allocations.size(), 2u);
  EXPECT_EQ(allocations[0].warehouse_id, "pus-1");
  EXPECT_EQ(allocations[0].quantity, 8);
  EXPECT_EQ(allocations[1].warehouse_id, "icn-1");
  EXPECT_EQ(allocations[1].quantity, 5);
}

TEST(OrderPlan, EqualWarehousesAreTakenInIdOrderAndEmptyOnesSkipped) {
  std::vector<FieldError> shortages;
  auto allocations = ro::allocate_stock({{"prod_f", 6}}, catalog(), shortages);
  EXPECT_TRUE(shortages.empty());
  ASSERT_EQ(allocations.size(), 2u);
  EXPECT_EQ(allocations[0].warehouse_id, "a");
  EXPECT_EQ(allocations[0].quantity, 4);
  EXPECT_EQ(allocations[1].warehouse_id, "b");
  EXPECT_EQ(allocations[1].quantity, 2);
}

TEST(OrderPlan, EveryShortLineIsNamed) {
  std::vector<FieldError> shortages;
  ro::allocate_stock({{"prod_a", 14}, {"prod_b", 3}, {"prod_e", 1}}, catalog(), shortages);
  ASSERT_EQ(fields_of(shortages),
            (std::vector<std::string>{"items[0].quantity", "items[2].quantity"}));
  EXPECT_EQ(shortages[0].message, "14 requested, 13 available of prod_a");
  EXPECT_EQ(shortages[1].message, "1 requested, 0 available of prod_e");
}

TEST(OrderPlan, TheLastUnitsCanBeTaken) {
  std::vector<FieldError> shortages;
  auto allocations = ro::allocate_stock({{"prod_b", 3}}, catalog(), shortages);
  EXPECT_TRUE(shortages.empty());
  ASSERT_EQ(allocations.size(), 1u);
  EXPECT_EQ(allocations[0].quantity, 3);
  ro::allocate_stock({{"prod_b", 4}}, catalog(), shortages);
  EXPECT_EQ(fields_of(shortages), (std::vector<std::string>{"items[0].quantity"}));
}

TEST(RecentPrices, AnOrderIsRenderedAheadOnlyWhenEveryProductWasSeen) {
  ro::RecentPrices recent;
  EXPECT_FALSE(recent.lookup({{"prod_a", 1}}).has_value());
  std::vector<FieldError> errors;
  const ro::PricedOrder first = ro::price_order({{"prod_a", 2}}, catalog(), errors);
  ASSERT_TRUE(errors.empty());
  recent.remember(first);
  auto seen = recent.lookup({{"prod_a", 5}});
  ASSERT_TRUE(seen.has_value());
  // Priced from what was remembered: the same lines as from the catalog itself.
  const ro::PricedOrder again = ro::price_order({{"prod_a", 5}}, *seen, errors);
  const ro::PricedOrder direct = ro::price_order({{"prod_a", 5}}, catalog(), errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(again.total_amount, direct.total_amount);
  EXPECT_EQ(again.currency, direct.currency);
  ASSERT_EQ(again.items.size(), 1u);
  EXPECT_EQ(again.items[0].sku, direct.items[0].sku);
  EXPECT_EQ(again.items[0].name, direct.items[0].name);
  EXPECT_EQ(again.items[0].unit_amount, direct.items[0].unit_amount);
  // One unknown line and nothing is rendered ahead.
  EXPECT_FALSE(recent.lookup({{"prod_a", 1}, {"prod_b", 1}}).has_value());
  // A later order's prices replace the earlier ones.
  ro::PricedOrder repriced = first;
  repriced.items[0].unit_amount += 100;
  recent.remember(repriced);
  EXPECT_EQ(recent.lookup({{"prod_a", 1}})->at("prod_a").price_amount,
            first.items[0].unit_amount + 100);
}

TEST(RecentPrices, StartsOverWhenFull) {
  ro::RecentPrices recent;
  ro::PricedOrder order;
  order.currency = "KRW";
  for (std::size_t i = 0; i < ro::RecentPrices::kCapacity; ++i) {
    order.items = {{"prod_" + std::to_string(i), "sku", "name", 1, 100}};
    recent.remember(order);
  }
  EXPECT_EQ(recent.size(), ro::RecentPrices::kCapacity);
  order.items = {{"prod_new", "sku", "name", 1, 100}};
  recent.remember(order);
  EXPECT_EQ(recent.size(), 1u);
  EXPECT_TRUE(recent.lookup({{"prod_new", 1}}).has_value());
}

}  // namespace
