// Reading orders back and changing stock, shared by every route of the plugin. All functions take
// the Session they run on: inside Database::transaction() that is the write transaction, so a
// read-modify-write sees one consistent state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "order_records.hpp"
#include "portico/database.hpp"
#include "portico/event.hpp"

namespace portico::catalog {
struct WarehouseStock;  // catalog_common/inventory_view.hpp
}  // namespace portico::catalog

namespace portico::routes_orders {

// The whole order (items, history, shipment), or nullopt when there is no such order.
std::optional<Order> load_order(Session& session, std::string_view order_id);

// The same, but only when it belongs to `partner_id`: another partner's order is exactly as absent
// as one that does not exist (partner isolation).
std::optional<Order> load_partner_order(Session& session, std::string_view partner_id,
                                        std::string_view order_id);

// One change of one stock row, in units: reserve = {-q available, +q reserved}, release on cancel
// = {+q, -q}, ship = {0, -q}.
struct StockChange {
  std::string product_id;
  std::string warehouse_id;
  std::int64_t available_delta = 0;
  std::int64_t reserved_delta = 0;
};

// Applies the changes inside `tx` through the stock SQL contract of routes_products (guarded so a
// row never goes below zero: throws DatabaseError if one would, which rolls the transaction back)
// and appends one `inventory.changed` event per product, with the same object and
// previous_attributes routes_products writes (the catalog's shared view, catalog_common).
// `known`: the changed products' stock rows as this transaction read them already (each
// product's rows by warehouse id), so they are not read again; null reads them here.
using StockRows = std::map<std::string, std::vector<catalog::WarehouseStock>>;
void apply_stock_changes(Session& tx, Outbox& outbox, const std::vector<StockChange>& changes,
                         const std::string& now, const StockRows* known = nullptr);

// Units of one product an order holds reserved in one warehouse (table order_allocations).
struct Allocation {
  std::string product_id;
  std::string warehouse_id;
  std::int64_t quantity = 0;
};

// An order's allocations, by product and warehouse: what a cancel releases and a shipment takes.
std::vector<Allocation> order_allocations(Session& session, std::string_view order_id);

// --- Changing an existing order (PATCH /v1/orders/{id} and the admin routes), inside `tx` -----

// Moves the in-memory `order` to `status` at `now` and appends that to its order_status_history
// (the next seq). The orders row itself is written by touch_order().
void record_status(Session& tx, Order& order, const std::string& status, const std::string& now);

// Bumps the order's version, sets updated_at to `now` and writes the row's changeable columns
// (status, metadata, version, updated_at) from `order`.
void touch_order(Session& tx, Order& order, const std::string& now);

// What happens to an order's reserved units (order_allocations): a cancel gives them back to
// `available`, a shipment takes them out of `reserved`. Writes inventory.changed events.
enum class ReservedStock { release, take_out };
void settle_reserved_stock(Session& tx, Outbox& outbox, std::string_view order_id,
                           ReservedStock what, const std::string& now);

}  // namespace portico::routes_orders
