// Orders read back from their tables, and stock changed through the catalog's SQL contract.
#include "order_store.hpp"

#include <map>
#include <set>

#include "catalog_common/inventory_view.hpp"

namespace portico::routes_orders {

namespace {

std::vector<catalog::WarehouseStock> stock_of(Session& session, const std::string& product_id) {
  std::vector<catalog::WarehouseStock> stock;
  for (const Row& row : session.query(
           "SELECT warehouse_id, available, reserved, updated_at FROM stock WHERE product_id = ?"
           " ORDER BY warehouse_id",
           {product_id})) {
    stock.push_back({row.text(0), row.integer(1), row.integer(2), row.text(3)});
  }
  return stock;
}

}  // namespace

std::optional<Order> load_order(Session& session, std::string_view order_id) {
  const std::string id(order_id);
  Rows rows = session.query(
      "SELECT partner_id, external_id, status, currency, total_amount, shipping_address,"
      " metadata, version, created_at, updated_at FROM orders WHERE id = ?",
      {id});
  if (rows.empty()) return std::nullopt;
  const Row& row = rows.front();
  Order order;
  order.id = id;
  order.partner_id = row.text(0);
  order.external_id = row.optional_text(1);
  order.status = row.text(2);
  order.currency = row.text(3);
  order.total_amount = row.integer(4);
  order.shipping_address = nlohmann::json::parse(row.text(5));
  order.metadata = nlohmann::json::parse(row.text(6));
  order.version = row.integer(7);
  order.created_at = row.text(8);
  order.updated_at = row.text(9);
  for (const Row& item :
       session.query("SELECT product_id, sku, name, quantity, unit_amount FROM order_items"
                     " WHERE order_id = ? ORDER BY line",
                     {id})) {
    order.items.push_back(
        {item.text(0), item.text(1), item.text(2), item.integer(3), item.integer(4)});
  }
  for (const Row& change : session.query(
           "SELECT status, at FROM order_status_history WHERE order_id = ? ORDER BY seq", {id})) {
    order.history.push_back({change.text(0), change.text(1)});
  }
  Rows shipment = session.query(
      "SELECT carrier, tracking_number, status, events, shipped_at, delivered_at, updated_at"
      " FROM shipments WHERE order_id = ?",
      {id});
  if (!shipment.empty()) {
    const Row& s = shipment.front();
    order.shipment = Shipment{
        id,        s.text(0),          s.text(1), s.text(2), nlohmann::json::parse(s.text(3)),
        s.text(4), s.optional_text(5), s.text(6)};
  }
  return order;
}

std::optional<Order> load_partner_order(Session& session, std::string_view partner_id,
                                        std::string_view order_id) {
  auto order = load_order(session, order_id);
  if (!order || order->partner_id != partner_id) return std::nullopt;
  return order;
}

void apply_stock_changes(Session& tx, Outbox& outbox, const std::vector<StockChange>& changes,
                         const std::string& now, const StockRows* known) {
  // Products in first-touched order, so events follow the request's line order.
  std::vector<std::string> products;
  std::set<std::string> seen;
  for (const auto& change : changes) {
    if (seen.insert(change.product_id).second) products.push_back(change.product_id);
  }
  StockRows before;
  for (const auto& product : products) {
    const auto read = known ? known->find(product) : StockRows::const_iterator{};
    before[product] = known && read != known->end() ? read->second : stock_of(tx, product);
  }

  for (const auto& change : changes) {
    const std::int64_t changed = tx.execute(
        "UPDATE stock SET available = available + ?, reserved = reserved + ?, updated_at = ?"
        " WHERE product_id = ? AND warehouse_id = ? AND available + ? >= 0"
        " AND reserved + ? >= 0",
        {change.available_delta, change.reserved_delta, now, change.product_id, change.warehouse_id,
         change.available_delta, change.reserved_delta});
    if (changed != 1) {
      throw DatabaseError("stock of " + change.product_id + " in " + change.warehouse_id +
                          " cannot change by available " + std::to_string(change.available_delta) +
                          ", reserved " + std::to_string(change.reserved_delta));
    }
  }

  // The rows after the updates, from the rows before: each UPDATE above changed exactly one row
  // by exactly its deltas (checked), so reading them back would only cost a statement each.
  for (const auto& product : products) {
    std::vector<catalog::WarehouseStock> after = before[product];
    for (const auto& change : changes) {
      if (change.product_id != product) continue;
      for (auto& row : after) {
        if (row.warehouse_id != change.warehouse_id) continue;
        row.available += change.available_delta;
        row.reserved += change.reserved_delta;
        row.updated_at = now;
      }
    }
    outbox.append(tx, Event{"inventory.changed", "", product,
                            catalog::inventory_object(product, after),
                            catalog::changed_inventory_fields(product, before[product], after)});
  }
}

std::vector<Allocation> order_allocations(Session& session, std::string_view order_id) {
  std::vector<Allocation> out;
  for (const Row& row : session.query(
           "SELECT product_id, warehouse_id, quantity FROM order_allocations WHERE order_id = ?"
           " ORDER BY product_id, warehouse_id",
           {std::string(order_id)})) {
    out.push_back({row.text(0), row.text(1), row.integer(2)});
  }
  return out;
}

void record_status(Session& tx, Order& order, const std::string& status, const std::string& now) {
  tx.execute(
      "INSERT INTO order_status_history (order_id, seq, status, at)"
      " SELECT ?, COALESCE(MAX(seq), -1) + 1, ?, ? FROM order_status_history WHERE order_id = ?",
      {order.id, status, now, order.id});
  order.status = status;
  order.history.push_back({status, now});
}

void touch_order(Session& tx, Order& order, const std::string& now) {
  const std::int64_t changed = tx.execute(
      "UPDATE orders SET status = ?, metadata = ?, version = version + 1, updated_at = ?"
      " WHERE id = ? AND version = ?",
      {order.status, order.metadata.dump(), now, order.id, order.version});
  if (changed != 1) {
    throw DatabaseError("order " + order.id + " changed underneath its transaction");
  }
  order.version += 1;
  order.updated_at = now;
}

void settle_reserved_stock(Session& tx, Outbox& outbox, std::string_view order_id,
                           ReservedStock what, const std::string& now) {
  std::vector<StockChange> changes;
  for (const Allocation& allocation : order_allocations(tx, order_id)) {
    changes.push_back({allocation.product_id, allocation.warehouse_id,
                       what == ReservedStock::release ? allocation.quantity : 0,
                       -allocation.quantity});
  }
  if (!changes.empty()) apply_stock_changes(tx, outbox, changes, now);
}

}  // namespace portico::routes_orders
