// The catalog's records as plain values and their JSON: a product, its stock per warehouse, and
// the views partners see (product, product with inventory summary, inventory) and the one operators
// see (product with inventory per warehouse). Pure, so unit tests and both route files share one
// rendering. The stock rows and the inventory view are the catalog's shared view
// (plugins/catalog_common/inventory_view.hpp), which routes_orders renders with too.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "catalog_common/inventory_view.hpp"

namespace portico::routes_products {

using catalog::changed_inventory_fields;
using catalog::inventory_json;
using catalog::inventory_object;
using catalog::plain;
using catalog::StockTotals;
using catalog::totals_of;
using catalog::WarehouseStock;

struct Money {
  std::int64_t amount = 0;  // minor units (KRW has none: won)
  std::string currency;     // ISO 4217, e.g. "KRW"
  bool operator==(const Money&) const = default;
};

struct Product {
  std::string id;
  std::string sku;
  std::string name;
  std::string description;
  std::string category;
  Money price;
  std::string status = "active";  // "active" | "inactive"
  nlohmann::json attributes;      // an object, or null when the product has none
  std::string updated_at;         // RFC 3339, fixed width (sdk/time.hpp)
};

// Changes whenever anything a partner sees of the product changes: `version` with the product's
// own fields (bumped by this plugin), `stock_version` with any stock row of it (bumped by
// triggers, whoever writes the stock table). Both only grow.
struct Stamp {
  std::int64_t version = 0;
  std::int64_t stock_version = 0;
  bool operator==(const Stamp&) const = default;
  // Strictly newer: nothing older, something newer.
  bool newer_than(const Stamp& other) const {
    return version >= other.version && stock_version >= other.stock_version && *this != other;
  }
};

// A product with its stock (warehouses in id order) as one consistent read.
struct ProductView {
  Product product;
  std::vector<WarehouseStock> stock;
  Stamp stamp;
};

// The product shape of the contract: {id, sku, name, description, category, price, status,
// attributes?, updated_at}. Members in that order (ordered_json) for people reading it.
inline nlohmann::ordered_json product_json(const Product& p) {
  nlohmann::ordered_json out;
  out["id"] = p.id;
  out["sku"] = p.sku;
  out["name"] = p.name;
  out["description"] = p.description;
  out["category"] = p.category;
  out["price"] = {{"amount", p.price.amount}, {"currency", p.price.currency}};
  out["status"] = p.status;
  if (p.attributes.is_object()) out["attributes"] = p.attributes;
  out["updated_at"] = p.updated_at;
  return out;
}

// The product with its inventory summary: GET /v1/products/{id} and the list's items.
inline nlohmann::ordered_json product_with_inventory_json(const Product& p,
                                                          const StockTotals& totals) {
  nlohmann::ordered_json out = product_json(p);
  out["inventory"] = {{"available", totals.available}, {"reserved", totals.reserved}};
  return out;
}

// GET /admin/v1/products/{id} and the admin list's items: the partner detail whose `inventory`
// also lists the warehouses and the latest stock change — {…product, inventory: {available,
// reserved, warehouses: [{id, available, reserved}], updated_at}} (the inventory view without
// product_id, so the partner detail is a subset of it).
inline nlohmann::ordered_json admin_product_json(const Product& p,
                                                 const std::vector<WarehouseStock>& stock) {
  nlohmann::ordered_json out = product_json(p);
  nlohmann::ordered_json inventory = inventory_json(p.id, stock);
  inventory.erase("product_id");
  out["inventory"] = std::move(inventory);
  return out;
}

// The product fields that differ between `before` and `after`, with their values in `before`:
// product.updated's previous_attributes. Empty when nothing a partner sees changed.
inline nlohmann::json changed_product_fields(const Product& before, const Product& after) {
  nlohmann::json previous = nlohmann::json::object();
  auto old_json = plain(product_json(before));
  auto new_json = plain(product_json(after));
  for (const char* field :
       {"sku", "name", "description", "category", "price", "status", "attributes"}) {
    const nlohmann::json old_value = old_json.value(field, nlohmann::json());
    const nlohmann::json new_value = new_json.value(field, nlohmann::json());
    if (old_value != new_value) previous[field] = old_value;
  }
  return previous;
}

}  // namespace portico::routes_products
