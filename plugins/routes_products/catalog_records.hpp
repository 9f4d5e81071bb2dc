// The catalog's records as plain values and their JSON: a product, its stock per warehouse, and
// the views partners see (product, product with inventory summary, inventory) and the one operators
// see (product with inventory per warehouse). Pure, so unit tests and both route files share one
// rendering.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace portico::routes_products {

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

struct WarehouseStock {
  std::string warehouse_id;
  std::int64_t available = 0;
  std::int64_t reserved = 0;
  std::string updated_at;
  bool operator==(const WarehouseStock&) const = default;
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

struct StockTotals {
  std::int64_t available = 0;
  std::int64_t reserved = 0;
};

inline StockTotals totals_of(const std::vector<WarehouseStock>& stock) {
  StockTotals totals;
  for (const auto& row : stock) {
    totals.available += row.available;
    totals.reserved += row.reserved;
  }
  return totals;
}

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

// GET /v1/products/{id}/inventory: {product_id, available, reserved, warehouses, updated_at}.
// updated_at is the latest change of any warehouse, null while the product has no stock rows.
inline nlohmann::ordered_json inventory_json(const std::string& product_id,
                                             const std::vector<WarehouseStock>& stock) {
  StockTotals totals = totals_of(stock);
  nlohmann::ordered_json warehouses = nlohmann::ordered_json::array();
  std::string latest;
  for (const auto& row : stock) {
    warehouses.push_back(
        {{"id", row.warehouse_id}, {"available", row.available}, {"reserved", row.reserved}});
    if (row.updated_at > latest) latest = row.updated_at;
  }
  nlohmann::ordered_json out;
  out["product_id"] = product_id;
  out["available"] = totals.available;
  out["reserved"] = totals.reserved;
  out["warehouses"] = std::move(warehouses);
  out["updated_at"] =
      latest.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(latest);
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

// Events carry plain nlohmann::json (converted value by value, not through text).
inline nlohmann::json plain(const nlohmann::ordered_json& value) { return nlohmann::json(value); }

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

// inventory.changed's previous_attributes: the old values of available, reserved and warehouses
// among those that changed.
inline nlohmann::json changed_inventory_fields(const std::string& product_id,
                                               const std::vector<WarehouseStock>& before,
                                               const std::vector<WarehouseStock>& after) {
  nlohmann::json previous = nlohmann::json::object();
  const auto old_json = inventory_json(product_id, before);
  const auto new_json = inventory_json(product_id, after);
  for (const char* field : {"available", "reserved", "warehouses"}) {
    if (old_json.at(field) != new_json.at(field)) previous[field] = plain(old_json.at(field));
  }
  return previous;
}

}  // namespace portico::routes_products
