// From checked order lines and what the catalog holds (read inside the creating transaction) to
// the order's items, total and stock allocations. Pure: unit-tested without a database.
//
// Pricing: every product must exist and be active, and all lines must share one currency; the
// items copy the catalog's sku, name and price at order time, and the total is Σ price × quantity,
// checked for overflow. Stock: each line is taken greedily from the warehouse with the most units
// available (ties by warehouse id), split across warehouses when one is not enough. Reservation is
// all-or-nothing: every short line is named, and the caller then writes nothing.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "order_input.hpp"
#include "order_records.hpp"
#include "order_store.hpp"
#include "portico/problem.hpp"

namespace portico::routes_orders {

struct WarehouseAvailable {
  std::string warehouse_id;
  std::int64_t available = 0;
  // The rest of the row, as read with it: the inventory.changed event's previous attributes.
  std::int64_t reserved = 0;
  std::string updated_at{};
};

// One product as the catalog holds it (routes_products' products and stock tables).
struct CatalogProduct {
  std::string sku;
  std::string name;
  std::int64_t price_amount = 0;
  std::string currency;
  std::string status;                     // "active" | "inactive"
  std::vector<WarehouseAvailable> stock;  // any order; warehouses without a row hold nothing
};

// product id → product; products that do not exist are absent.
using CatalogProducts = std::unordered_map<std::string, CatalogProduct>;

struct PricedOrder {
  std::string currency;
  std::int64_t total_amount = 0;
  std::vector<OrderItem> items;  // the request's line order
};

// The items and total, or problems named "items[i].product_id" (no such product, inactive,
// another currency) and "items[i].quantity" / "items" (amounts beyond 64 bits).
inline PricedOrder price_order(const std::vector<OrderLineInput>& lines,
                               const CatalogProducts& catalog, std::vector<FieldError>& errors) {
  PricedOrder order;
  order.items.reserve(lines.size());
  std::size_t currency_line = 0;
  bool overflow = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const OrderLineInput& line = lines[i];
    const std::string at = "items[" + std::to_string(i) + "].";
    auto found = catalog.find(line.product_id);
    if (found == catalog.end()) {
      errors.push_back({at + "product_id", "no product " + line.product_id});
      continue;
    }
    const CatalogProduct& product = found->second;
    if (product.status != "active") {
      errors.push_back({at + "product_id", "product " + line.product_id + " is inactive"});
      continue;
    }
    if (order.currency.empty()) {
      order.currency = product.currency;
      currency_line = i;
    } else if (product.currency != order.currency) {
      errors.push_back({at + "product_id", "product " + line.product_id + " is priced in " +
                                               product.currency + ", but items[" +
                                               std::to_string(currency_line) + "] in " +
                                               order.currency + "; an order has one currency"});
      continue;
    }
    std::int64_t amount = 0;
    if (__builtin_mul_overflow(product.price_amount, line.quantity, &amount)) {
      errors.push_back({at + "quantity", "makes the line amount too large"});
      overflow = true;
      continue;
    }
    if (!overflow && __builtin_add_overflow(order.total_amount, amount, &order.total_amount)) {
      errors.push_back({"items", "the order total is too large"});
      overflow = true;
    }
    order.items.push_back(
        {line.product_id, product.sku, product.name, line.quantity, product.price_amount});
  }
  return order;
}

// Where each line's units come from: allocations in line order (within a line, from the largest
// warehouse down). Every line that cannot be covered is named in `shortages` as
// {"items[i].quantity", "5 requested, 3 available of prod_x"}; the allocations are meaningful only
// when there is none. Products must be in `catalog` (price_order checked that).
inline std::vector<Allocation> allocate_stock(const std::vector<OrderLineInput>& lines,
                                              const CatalogProducts& catalog,
                                              std::vector<FieldError>& shortages) {
  std::vector<Allocation> allocations;
  std::vector<const WarehouseAvailable*> order;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const OrderLineInput& line = lines[i];
    auto found = catalog.find(line.product_id);
    order.clear();
    std::int64_t available = 0;
    if (found != catalog.end()) {
      for (const auto& warehouse : found->second.stock) {
        if (warehouse.available <= 0) continue;
        order.push_back(&warehouse);
        available += warehouse.available;
      }
    }
    if (available < line.quantity) {
      shortages.push_back({"items[" + std::to_string(i) + "].quantity",
                           std::to_string(line.quantity) + " requested, " +
                               std::to_string(available) + " available of " + line.product_id});
      continue;
    }
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
      return a->available != b->available ? a->available > b->available
                                          : a->warehouse_id < b->warehouse_id;
    });
    std::int64_t wanted = line.quantity;
    for (const auto* warehouse : order) {
      const std::int64_t take = std::min(wanted, warehouse->available);
      allocations.push_back({line.product_id, warehouse->warehouse_id, take});
      wanted -= take;
      if (wanted == 0) break;
    }
  }
  return allocations;
}

// The sku, name, price and currency the last orders were written with, by product: what an order
// is rendered from before its transaction (create_route.cpp). Only a guess — the transaction
// prices the order again from the catalog and renders it anew when anything differs — so an entry
// is never invalidated, only replaced by the next order of its product; bounded by starting over
// when full.
class RecentPrices {
 public:
  static constexpr std::size_t kCapacity = 10000;

  // Every line's product as last seen, or nullopt when one of them is not known.
  std::optional<CatalogProducts> lookup(const std::vector<OrderLineInput>& lines) const {
    CatalogProducts products;
    std::lock_guard lock(mutex_);
    for (const auto& line : lines) {
      auto found = products_.find(line.product_id);
      if (found == products_.end()) return std::nullopt;
      products.emplace(line.product_id, found->second);
    }
    return products;
  }

  // The products of an order as its transaction priced them.
  void remember(const PricedOrder& order) {
    std::lock_guard lock(mutex_);
    if (products_.size() + order.items.size() > kCapacity) products_.clear();
    for (const auto& item : order.items) {
      CatalogProduct& product = products_[item.product_id];
      product.sku = item.sku;
      product.name = item.name;
      product.price_amount = item.unit_amount;
      product.currency = order.currency;
      product.status = "active";
    }
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return products_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, CatalogProduct> products_;
};

}  // namespace portico::routes_orders
