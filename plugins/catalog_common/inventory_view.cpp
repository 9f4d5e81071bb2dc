// The catalog's shared stock view (inventory_view.hpp).
#include "inventory_view.hpp"

#include <utility>

namespace portico::catalog {

StockTotals totals_of(const std::vector<WarehouseStock>& stock) {
  StockTotals totals;
  for (const auto& row : stock) {
    totals.available += row.available;
    totals.reserved += row.reserved;
  }
  return totals;
}

nlohmann::ordered_json inventory_json(const std::string& product_id,
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

nlohmann::json plain(const nlohmann::ordered_json& value) {
  return nlohmann::json(value);
}

nlohmann::json changed_inventory_fields(const std::string& product_id,
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

}  // namespace portico::catalog
