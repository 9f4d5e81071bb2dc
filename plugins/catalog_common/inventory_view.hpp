// The catalog's stock as plugins share it: one row of the `stock` table (routes_products' stock SQL
// contract), the inventory view partners see (GET /v1/products/{id}/inventory and the
// inventory.changed event's data) and inventory.changed's previous_attributes. routes_products
// renders its inventory with it, routes_orders the stock changes its orders make; neither
// includes the other's files. Pure.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace portico::catalog {

// One row of the `stock` table.
struct WarehouseStock {
  std::string warehouse_id;
  std::int64_t available = 0;
  std::int64_t reserved = 0;
  std::string updated_at;  // RFC 3339, fixed width (sdk/time.hpp)
  bool operator==(const WarehouseStock&) const = default;
};

struct StockTotals {
  std::int64_t available = 0;
  std::int64_t reserved = 0;
};

// The sums over all warehouses.
StockTotals totals_of(const std::vector<WarehouseStock>& stock);

// {product_id, available, reserved, warehouses: [{id, available, reserved}], updated_at}, the
// warehouses in the order given (id order as read). updated_at is the latest change of any
// warehouse, null while the product has no stock rows. Members in that order (ordered_json).
nlohmann::ordered_json inventory_json(const std::string& product_id,
                                      const std::vector<WarehouseStock>& stock);

// inventory.changed's data.object: inventory_json() as plain nlohmann::json (what plain() of it
// gives), built directly.
nlohmann::json inventory_object(const std::string& product_id,
                                const std::vector<WarehouseStock>& stock);

// Events carry plain nlohmann::json (converted value by value, not through text).
nlohmann::json plain(const nlohmann::ordered_json& value);

// inventory.changed's previous_attributes: the old values of available, reserved and warehouses
// among those that changed.
nlohmann::json changed_inventory_fields(const std::string& product_id,
                                        const std::vector<WarehouseStock>& before,
                                        const std::vector<WarehouseStock>& after);

}  // namespace portico::catalog
