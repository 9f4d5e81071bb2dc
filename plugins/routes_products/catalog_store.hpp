// The catalog in the database: consistent reads of a product with its stock (one statement each),
// keyset-paginated lists, and the admin writes — each write one transaction that also appends
// its product.updated / inventory.changed events to the outbox, so both commit or neither does.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog_records.hpp"
#include "list_query.hpp"
#include "portico/database.hpp"
#include "portico/event.hpp"
#include "product_input.hpp"

namespace portico::routes_products {

// One row of a list page: the product and its stock totals.
struct ListedProduct {
  Product product;
  StockTotals totals;
};

struct PutOutcome {
  ProductView view;
  bool created = false;
};

struct ImportOutcome {
  int created = 0;
  int updated = 0;
  int unchanged = 0;
  int inventory_changed = 0;
  std::vector<ProductView> views;  // in input order
};

class CatalogStore {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  CatalogStore(Database& db, Outbox& outbox, Clock clock)
      : db_(db), outbox_(outbox), clock_(std::move(clock)) {}

  // --- reads: each one statement, so one consistent snapshot even while writers commit ---------
  // Database::write_generation(): read before a read, it tells whether anything was written since.
  std::uint64_t write_generation() const { return db_.write_generation(); }
  // The product's current Stamp (a primary-key lookup), or nullopt when it does not exist.
  std::optional<Stamp> stamp(std::string_view id) const;
  std::optional<ProductView> view(std::string_view id) const;
  // Products with id > after_id matching the query's filters, in id order, at most `count`.
  std::vector<ListedProduct> list(const ListQuery& query, std::string_view after_id,
                                  int count) const;
  // The same page (same filters, same order), each product with its stock per warehouse: the
  // operator's list.
  std::vector<ProductView> list_views(const ListQuery& query, std::string_view after_id,
                                      int count) const;

  // --- writes (catalog_writes.cpp); throw ProblemError for not-found / conflicts ----------------
  // Creates or replaces product `id`.
  PutOutcome put_product(const std::string& id, const ProductInput& input);
  // Upserts every item in one transaction (items without an id match an existing product by
  // sku, else get a new id). Conflicting skus → 409 naming each item; nothing is written then.
  ImportOutcome import_products(const std::vector<ProductInput>& items);
  // Sets `available` of the listed warehouses; other warehouses keep theirs.
  ProductView set_stock(const std::string& id, const std::vector<StockSetting>& settings);
  // Adds `delta` to one warehouse's available; 409 insufficient_inventory below zero.
  ProductView adjust_stock(const std::string& id, const Adjustment& adjustment);

 private:
  struct Change {
    bool created = false;
    bool product_changed = false;
    bool stock_changed = false;
  };
  // The upsert shared by put_product and import_products, inside `tx`. `field` names the item
  // in errors ("" or "[3].").
  Change upsert(Session& tx, const std::string& id, const ProductInput& input,
                const std::string& now, const std::string& field);
  bool apply_stock(Session& tx, const std::string& id, const std::vector<WarehouseStock>& before,
                   const std::vector<StockSetting>& settings, const std::string& now);
  void inventory_event(Session& tx, const std::string& id,
                       const std::vector<WarehouseStock>& before, const ProductView& after);

  Database& db_;
  Outbox& outbox_;
  Clock clock_;
};

// Reads a product with its stock through `session` (a reader, or a transaction).
std::optional<ProductView> load_view(Session& session, std::string_view id);

}  // namespace portico::routes_products
