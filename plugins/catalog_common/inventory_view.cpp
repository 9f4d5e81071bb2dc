// The catalog's shared stock view (inventory_view.hpp).
#include "inventory_view.hpp"

#include <algorithm>
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

nlohmann::json inventory_object(const std::string& product_id,
                                const std::vector<WarehouseStock>& stock) {
  const StockTotals totals = totals_of(stock);
  nlohmann::json warehouses = nlohmann::json::array();
  std::string latest;
  for (const auto& row : stock) {
    warehouses.push_back(
        {{"id", row.warehouse_id}, {"available", row.available}, {"reserved", row.reserved}});
    if (row.updated_at > latest) latest = row.updated_at;
  }
  nlohmann::json out = nlohmann::json::object();
  out["product_id"] = product_id;
  out["available"] = totals.available;
  out["reserved"] = totals.reserved;
  out["warehouses"] = std::move(warehouses);
  out["updated_at"] = latest.empty() ? nlohmann::json(nullptr) : nlohmann::json(latest);
  return out;
}

nlohmann::json changed_inventory_fields(const std::string& /*product_id*/,
                                        const std::vector<WarehouseStock>& before,
                                        const std::vector<WarehouseStock>& after) {
  // Compared field by field rather than as two rendered views: this runs inside the writer's
  // transaction for every stock change.
  nlohmann::json previous = nlohmann::json::object();
  const StockTotals old_totals = totals_of(before);
  const StockTotals new_totals = totals_of(after);
  if (old_totals.available != new_totals.available) previous["available"] = old_totals.available;
  if (old_totals.reserved != new_totals.reserved) previous["reserved"] = old_totals.reserved;
  const bool same_warehouses = std::equal(
      before.begin(), before.end(), after.begin(), after.end(),
      [](const WarehouseStock& a, const WarehouseStock& b) {
        return a.warehouse_id == b.warehouse_id && a.available == b.available &&
               a.reserved == b.reserved;
      });
  if (!same_warehouses) {
    nlohmann::json warehouses = nlohmann::json::array();
    for (const auto& row : before) {
      warehouses.push_back(
          {{"id", row.warehouse_id}, {"available", row.available}, {"reserved", row.reserved}});
    }
    previous["warehouses"] = std::move(warehouses);
  }
  return previous;
}

}  // namespace portico::catalog
