// Product reads served from memory without ever being stale. While nothing has been written to
// the database since a cached rendering was confirmed (Database::write_generation() unchanged),
// it is served without a query. Otherwise the read asks the database for the product's Stamp
// (one primary-key lookup on a reader connection); the cached rendering is served only if it was
// made from that very Stamp, otherwise the product is read (one statement), rendered, cached and
// served. Writers of this plugin put the fresh rendering in the
// cache before their call returns; any other writer of the stock table (an orders plugin) bumps
// the Stamp through the table's triggers, so its change is visible from the next read on.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "catalog_store.hpp"
#include "product_cache.hpp"

namespace portico::routes_products {

// The bodies and ETags of one product, as partners see it.
std::shared_ptr<const RenderedProduct> render(const ProductView& view);

class ProductReads {
 public:
  ProductReads(CatalogStore& store, std::size_t max_cached) : store_(store), cache_(max_cached) {}

  // The current rendering of product `id`; null when it does not exist. May query the database.
  std::shared_ptr<const RenderedProduct> current(std::string_view id);
  // The same from memory only: null unless nothing was written since it was cached (then it
  // is current). Never blocks, so an I/O thread may call it.
  std::shared_ptr<const RenderedProduct> cached(std::string_view id) {
    return cache_.find_unchanged(id, store_.write_generation());
  }
  // After a write: cache what was just committed, so the next read is a hit.
  void remember(const ProductView& view);

  const ProductCache& cache() const { return cache_; }

 private:
  CatalogStore& store_;
  ProductCache cache_;
};

}  // namespace portico::routes_products
