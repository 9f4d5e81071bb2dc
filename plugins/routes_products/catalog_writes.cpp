// Catalog writes. Each public call is one transaction holding the change and its events:
// product.updated (object: the product; previous_attributes: the old values of the fields that
// changed; none for a new product) and inventory.changed (object: the inventory view;
// previous_attributes: the old available / reserved / warehouses that changed). Catalog events
// belong to every partner (partner_id empty) and are ordered by product (subject = product id).
// A write that changes nothing writes nothing: no version bump, no event.
#include <set>

#include "catalog_store.hpp"
#include "portico/sdk/problems.hpp"
#include "portico/sdk/sodium.hpp"
#include "portico/sdk/time.hpp"

namespace portico::routes_products {
namespace {

Value attributes_value(const Product& p) {
  return p.attributes.is_object() ? Value(p.attributes.dump()) : Value(nullptr);
}

ProblemError unknown_product(const std::string& id) {
  return sdk::not_found("No product with id '" + id + "'.");
}

const WarehouseStock* find_stock(const std::vector<WarehouseStock>& stock,
                                 const std::string& warehouse_id) {
  for (const auto& row : stock) {
    if (row.warehouse_id == warehouse_id) return &row;
  }
  return nullptr;
}

}  // namespace

CatalogStore::Change CatalogStore::upsert(Session& tx, const std::string& id,
                                          const ProductInput& input, const std::string& now,
                                          const std::string& field) {
  const Product& wanted = input.product;
  Rows owner = tx.query("SELECT id FROM products WHERE sku = ? AND id <> ?", {wanted.sku, id});
  if (!owner.empty()) {
    throw sdk::conflict(
        "duplicate_sku",
        "SKU '" + wanted.sku + "' already belongs to product " + owner.front().text(0) + ".",
        {{field + "sku", "already belongs to " + owner.front().text(0)}});
  }
  std::optional<ProductView> before = load_view(tx, id);
  Change change;
  Product next = wanted;
  next.id = id;
  nlohmann::json previous;
  if (!before) {
    next.updated_at = now;
    tx.execute(
        "INSERT INTO products(id, sku, name, description, category, price_amount, currency,"
        " status, attributes, created_at, updated_at, version, stock_version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0)",
        {id, next.sku, next.name, next.description, next.category, next.price.amount,
         next.price.currency, next.status, attributes_value(next), now, now});
    change.created = change.product_changed = true;
  } else {
    next.updated_at = before->product.updated_at;
    previous = changed_product_fields(before->product, next);
    if (!previous.empty()) {
      next.updated_at = now;
      tx.execute(
          "UPDATE products SET sku = ?, name = ?, description = ?, category = ?,"
          " price_amount = ?, currency = ?, status = ?, attributes = ?, updated_at = ?,"
          " version = version + 1 WHERE id = ?",
          {next.sku, next.name, next.description, next.category, next.price.amount,
           next.price.currency, next.status, attributes_value(next), now, id});
      change.product_changed = true;
    }
  }
  if (change.product_changed) {
    outbox_.append(tx, Event{"product.updated", "", id, plain(product_json(next)), previous});
  }
  if (input.stock) {
    const std::vector<WarehouseStock> no_stock;
    const auto& old_stock = before ? before->stock : no_stock;
    if (apply_stock(tx, id, old_stock, *input.stock, now)) {
      change.stock_changed = true;
      inventory_event(tx, id, old_stock, *load_view(tx, id));
    }
  }
  return change;
}

bool CatalogStore::apply_stock(Session& tx, const std::string& id,
                               const std::vector<WarehouseStock>& before,
                               const std::vector<StockSetting>& settings, const std::string& now) {
  bool changed = false;
  for (const auto& setting : settings) {
    const WarehouseStock* old = find_stock(before, setting.warehouse_id);
    if (old && old->available == setting.available) continue;
    tx.execute("INSERT INTO warehouses(id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
               {setting.warehouse_id, now});
    tx.execute(
        "INSERT INTO stock(product_id, warehouse_id, available, reserved, updated_at)"
        " VALUES (?, ?, ?, 0, ?) ON CONFLICT(product_id, warehouse_id) DO UPDATE SET"
        " available = excluded.available, updated_at = excluded.updated_at",
        {id, setting.warehouse_id, setting.available, now});
    changed = true;
  }
  return changed;
}

void CatalogStore::inventory_event(Session& tx, const std::string& id,
                                   const std::vector<WarehouseStock>& before,
                                   const ProductView& after) {
  outbox_.append(tx, Event{"inventory.changed", "", id, inventory_object(id, after.stock),
                           changed_inventory_fields(id, before, after.stock)});
}

PutOutcome CatalogStore::put_product(const std::string& id, const ProductInput& input) {
  PutOutcome outcome;
  const std::string now = sdk::format_timestamp(clock_());
  db_.transaction([&](Session& tx) {
    outcome.created = upsert(tx, id, input, now, "").created;
    outcome.view = *load_view(tx, id);
  });
  return outcome;
}

ImportOutcome CatalogStore::import_products(const std::vector<ProductInput>& items) {
  ImportOutcome outcome;
  const std::string now = sdk::format_timestamp(clock_());
  db_.transaction([&](Session& tx) {
    std::vector<FieldError> conflicts;
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const ProductInput& item = items[i];
      const std::string field = "[" + std::to_string(i) + "].";
      std::string id;
      if (item.id) {
        id = *item.id;
      } else {
        Rows existing = tx.query("SELECT id FROM products WHERE sku = ?", {item.product.sku});
        id = existing.empty() ? sdk::random_id("prod_") : existing.front().text(0);
      }
      try {
        Change change = upsert(tx, id, item, now, field);
        if (change.created) {
          ++outcome.created;
        } else if (change.product_changed) {
          ++outcome.updated;
        } else {
          ++outcome.unchanged;
        }
        if (change.stock_changed) ++outcome.inventory_changed;
      } catch (const ProblemError& error) {
        for (const auto& e : error.problem().errors) conflicts.push_back(e);
        continue;
      } catch (const ConstraintError& error) {
        // e.g. two items swapping skus in an order the unique index cannot pass through.
        conflicts.push_back({field + "sku", std::string("conflicts: ") + error.what()});
        continue;
      }
      ids.push_back(id);
    }
    if (!conflicts.empty()) {
      throw sdk::conflict("duplicate_sku",
                          std::to_string(conflicts.size()) +
                              " item(s) use a SKU that belongs to another product; nothing was "
                              "imported.",
                          std::move(conflicts));
    }
    for (const auto& id : ids) outcome.views.push_back(*load_view(tx, id));
  });
  return outcome;
}

ProductView CatalogStore::set_stock(const std::string& id,
                                    const std::vector<StockSetting>& settings) {
  ProductView after;
  const std::string now = sdk::format_timestamp(clock_());
  db_.transaction([&](Session& tx) {
    std::optional<ProductView> before = load_view(tx, id);
    if (!before) throw unknown_product(id);
    if (apply_stock(tx, id, before->stock, settings, now)) {
      after = *load_view(tx, id);
      inventory_event(tx, id, before->stock, after);
    } else {
      after = std::move(*before);
    }
  });
  return after;
}

ProductView CatalogStore::adjust_stock(const std::string& id, const Adjustment& adjustment) {
  ProductView after;
  const std::string now = sdk::format_timestamp(clock_());
  db_.transaction([&](Session& tx) {
    std::optional<ProductView> before = load_view(tx, id);
    if (!before) throw unknown_product(id);
    const WarehouseStock* row = find_stock(before->stock, adjustment.warehouse_id);
    const std::int64_t available = row ? row->available : 0;
    const std::int64_t result = available + adjustment.delta;
    if (result < 0) {
      throw sdk::problem(
          409, "insufficient_inventory", "Insufficient inventory",
          "Warehouse " + adjustment.warehouse_id + " has " + std::to_string(available) +
              " available; a delta of " + std::to_string(adjustment.delta) + " would leave " +
              std::to_string(result) + ". Nothing was changed.",
          {{"delta", "would take available below zero (" + std::to_string(available) +
                         " available in " + adjustment.warehouse_id + ")"}});
    }
    if (result > kMaxStock) {
      throw sdk::invalid_request("The adjustment would put more than " + std::to_string(kMaxStock) +
                                     " units in one warehouse.",
                                 {{"delta", "too large"}});
    }
    apply_stock(tx, id, before->stock, {{adjustment.warehouse_id, result}}, now);
    tx.execute(
        "INSERT INTO stock_adjustments(product_id, warehouse_id, delta, reason, available_after,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        {id, adjustment.warehouse_id, adjustment.delta, adjustment.reason, result, now});
    after = *load_view(tx, id);
    inventory_event(tx, id, before->stock, after);
  });
  return after;
}

}  // namespace portico::routes_products
