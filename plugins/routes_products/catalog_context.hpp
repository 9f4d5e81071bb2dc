// What the route handlers share: the store, the cached reads and list pages and the cursor codec,
// built once in init() and owned by the plugin (which outlives every route it hands out).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "catalog_store.hpp"
#include "list_cache.hpp"
#include "portico/host.hpp"
#include "portico/plugin.hpp"
#include "portico/sdk/cursor.hpp"
#include "portico/sdk/sodium.hpp"
#include "product_reads.hpp"

namespace portico::routes_products {

struct CatalogSettings {
  std::size_t cache_entries = 100'000;
  std::size_t max_import_items = 10'000;
};

struct CatalogContext {
  CatalogContext(Host& host, const std::string& cursor_key, const CatalogSettings& settings)
      : store(host.database(), host.outbox(), [&host] { return host.now(); }),
        reads(store, settings.cache_entries),
        cursors([cursor_key](std::string_view message) {
          return sdk::hmac_sha256(cursor_key, message);
        }),
        max_import_items(settings.max_import_items),
        workers(host.workers()) {}

  CatalogStore store;
  ProductReads reads;
  ListPageCache list_pages;  // GET /v1/products pages, served while nothing was written
  sdk::CursorCodec cursors;
  std::size_t max_import_items;
  Executor& workers;  // reads that must ask the database run here, never on an I/O thread
};

// GET /v1/products, /v1/products/{id}, /v1/products/{id}/inventory (scope products:read).
std::vector<Route> partner_routes(CatalogContext& context);
// /admin/v1/products (GET), /import, /{id} (GET, PUT), /{id}/inventory,
// /{id}/inventory/adjustments.
std::vector<Route> admin_routes(CatalogContext& context);

}  // namespace portico::routes_products
