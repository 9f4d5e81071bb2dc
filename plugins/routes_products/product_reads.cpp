// Rendering product views and the stamp-checked read-through cache (see product_reads.hpp).
#include "product_reads.hpp"

#include "portico/sdk/sodium.hpp"

namespace portico::routes_products {

std::shared_ptr<const RenderedProduct> render(const ProductView& view) {
  auto rendered = std::make_shared<RenderedProduct>();
  rendered->stamp = view.stamp;
  rendered->detail =
      Representation(product_with_inventory_json(view.product, totals_of(view.stock)).dump());
  rendered->inventory = Representation(inventory_json(view.product.id, view.stock).dump());
  return rendered;
}

std::shared_ptr<const RenderedProduct> ProductReads::current(std::string_view id) {
  // Read first: whatever is read from the database below is at least this recent.
  const std::uint64_t generation = store_.write_generation();
  if (auto hit = cache_.find_unchanged(id, generation)) return hit;
  std::optional<Stamp> stamp = store_.stamp(id);
  if (!stamp) return nullptr;
  if (auto hit = cache_.find(id, *stamp, generation)) return hit;
  // A miss, or changed since it was cached. The view may be newer than `stamp` (a commit in
  // between); it carries its own Stamp, so the cache holds it under the right one.
  std::optional<ProductView> view = store_.view(id);
  if (!view) return nullptr;
  auto rendered = render(*view);
  cache_.store(id, rendered, generation);
  return rendered;
}

void ProductReads::remember(const ProductView& view) {
  // Not confirmed: another write may have followed the one that produced `view`.
  cache_.store(view.product.id, render(view), 0);
}

}  // namespace portico::routes_products
