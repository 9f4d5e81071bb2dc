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

namespace {

// [{id, available, reserved}] in the order given.
template <class Json>
Json warehouses_json(const std::vector<WarehouseStock>& stock) {
  Json warehouses = Json::array();
  for (const auto& row : stock) {
    warehouses.push_back(
        {{"id", row.warehouse_id}, {"available", row.available}, {"reserved", row.reserved}});
  }
  return warehouses;
}

// The inventory view as either JSON kind: ordered for responses, plain for events (whose members
// are then sorted by name, as plain() of the ordered one would have them).
template <class Json>
Json inventory_view(const std::string& product_id, const std::vector<WarehouseStock>& stock) {
  const StockTotals totals = totals_of(stock);
  std::string latest;
  for (const auto& row : stock) latest = std::max(latest, row.updated_at);
  Json out = Json::object();
  out["product_id"] = product_id;
  out["available"] = totals.available;
  out["reserved"] = totals.reserved;
  out["warehouses"] = warehouses_json<Json>(stock);
  out["updated_at"] = latest.empty() ? Json(nullptr) : Json(latest);
  return out;
}

}  // namespace

nlohmann::ordered_json inventory_json(const std::string& product_id,
                                      const std::vector<WarehouseStock>& stock) {
  return inventory_view<nlohmann::ordered_json>(product_id, stock);
}

nlohmann::json plain(const nlohmann::ordered_json& value) {
  return nlohmann::json(value);
}

nlohmann::json inventory_object(const std::string& product_id,
                                const std::vector<WarehouseStock>& stock) {
  return inventory_view<nlohmann::json>(product_id, stock);
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
  if (!same_warehouses) previous["warehouses"] = warehouses_json<nlohmann::json>(before);
  return previous;
}

}  // namespace portico::catalog
