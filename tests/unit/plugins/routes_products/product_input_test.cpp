// Admin bodies checked field by field: a valid product reads whole; every problem is named the
// way the caller wrote it ("[3].price.amount"), all at once.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "plugins/routes_products/product_input.hpp"

namespace {

using json = nlohmann::json;
using portico::FieldError;
namespace rp = portico::routes_products;

json valid_product() {
  return {{"id", "prod_0001"},
          {"sku", "AUD-0001"},
          {"name", "무선 이어폰 / Wireless Earbuds 12"},
          {"description", "Line one\nline two"},
          {"category", "audio"},
          {"price", {{"amount", 129000}, {"currency", "KRW"}}},
          {"status", "inactive"},
          {"attributes", {{"color", "black"}}},
          {"inventory", {{"warehouses", {{{"id", "icn-1"}, {"available", 12}}}}}}};
}

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  return fields;
}

TEST(ProductInput, AValidProductReadsWhole) {
  std::vector<FieldError> errors;
  rp::ProductInput input = rp::read_product(valid_product(), "", true, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(input.id, "prod_0001");
  EXPECT_EQ(input.product.name, "무선 이어폰 / Wireless Earbuds 12");
  EXPECT_EQ(input.product.price, (rp::Money{129000, "KRW"}));
  EXPECT_EQ(input.product.status, "inactive");
  EXPECT_EQ(input.product.attributes, (json{{"color", "black"}}));
  ASSERT_TRUE(input.stock);
  ASSERT_EQ(input.stock->size(), 1u);
  EXPECT_EQ((*input.stock)[0].warehouse_id, "icn-1");
  EXPECT_EQ((*input.stock)[0].available, 12);
}

TEST(ProductInput, OptionalFieldsTakeTheirDefaults) {
  std::vector<FieldError> errors;
  json minimal = {{"sku", "S"}, {"name", "N"}, {"price", {{"amount", 0}, {"currency", "KRW"}}}};
  rp::ProductInput input = rp::read_product(minimal, "", false, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(input.id);
  EXPECT_EQ(input.product.status, "active");
  EXPECT_EQ(input.product.description, "");
  EXPECT_EQ(input.product.category, "");
  EXPECT_TRUE(input.product.attributes.is_null());
  EXPECT_FALSE(input.stock);
}

TEST(ProductInput, NamesEveryBadFieldWithTheItemPrefix) {
  json bad = {{"id", "has space"},   {"sku", ""},
              {"name", 42},          {"price", {{"amount", 12.5}, {"currency", "krw"}}},
              {"status", "deleted"}, {"attributes", json::array()},
              {"colour", "red"}};
  std::vector<FieldError> errors;
  rp::read_product(bad, "[3].", true, errors);
  EXPECT_EQ(
      fields_of(errors),
      (std::vector<std::string>{"[3].colour", "[3].id", "[3].sku", "[3].name", "[3].price.amount",
                                "[3].price.currency", "[3].status", "[3].attributes"}));
}

TEST(ProductInput, MissingRequiredFieldsAreNamed) {
  std::vector<FieldError> errors;
  rp::read_product(json::object(), "[0].", true, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"[0].sku", "[0].name", "[0].price"}));
  errors.clear();
  rp::read_product("not an object", "[7].", true, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"[7]"}));
}

TEST(ProductInput, AmountsAreNonNegativeWholeMinorUnits) {
  for (json amount : {json(-1), json(1.0), json("100"), json(1e18)}) {
    json p = valid_product();
    p["price"]["amount"] = amount;
    std::vector<FieldError> errors;
    rp::read_product(p, "", true, errors);
    EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"price.amount"})) << amount;
  }
}

TEST(ProductInput, InventoryOnlyInImportsAndNamedInside) {
  std::vector<FieldError> errors;
  rp::read_product(valid_product(), "", false, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"inventory"}));
  json p = valid_product();
  p["inventory"] = {{"warehouses",
                     {{{"id", "icn-1"}, {"available", -1}},
                      {{"id", "icn-1"}, {"available", 3}},
                      {{"id", "pus 1"}, {"available", 3}}}}};
  errors.clear();
  rp::read_product(p, "[2].", true, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"[2].inventory.warehouses[0].available",
                                                         "[2].inventory.warehouses[1].id",
                                                         "[2].inventory.warehouses[2].id"}));
}

TEST(StockSettings, NeedANonEmptyListOfWarehouses) {
  std::vector<FieldError> errors;
  rp::read_stock_settings(json{{"warehouses", json::array()}}, "", errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"warehouses"}));
  errors.clear();
  auto settings = rp::read_stock_settings(
      json{{"warehouses",
            {{{"id", "icn-1"}, {"available", 5}}, {{"id", "pus-1"}, {"available", 0}}}}},
      "", errors);
  EXPECT_TRUE(errors.empty());
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(settings[1].warehouse_id, "pus-1");
  EXPECT_EQ(settings[1].available, 0);
}

TEST(Adjustment, NeedsAWarehouseAndANonZeroDelta) {
  std::vector<FieldError> errors;
  rp::Adjustment a = rp::read_adjustment(
      json{{"warehouse", "icn-1"}, {"delta", -3}, {"reason", "damaged in transit"}}, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(a.delta, -3);
  EXPECT_EQ(a.reason, "damaged in transit");
  errors.clear();
  rp::read_adjustment(json{{"delta", 0}, {"why", "x"}}, errors);
  EXPECT_EQ(fields_of(errors), (std::vector<std::string>{"why", "warehouse", "delta"}));
}

}  // namespace
