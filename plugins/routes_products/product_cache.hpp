// Rendered product reads kept in memory: per product id, the detail and inventory bodies with
// their ETags and the Stamp of the database state they were rendered from. A reader serves an
// entry when nothing was written to the database since the entry was confirmed current (the
// database's write generation), else only when its Stamp equals the one it just read from the
// database (catalog_store), so an entry can be late but never served stale. 64 independently locked shards (sdk::KeyShards), a
// hard bound on entries, least recently used evicted first.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "catalog_records.hpp"
#include "representation.hpp"
#include "portico/sdk/key_shards.hpp"

namespace portico::routes_products {

struct RenderedProduct {
  Stamp stamp;
  Representation detail;     // GET /v1/products/{id}
  Representation inventory;  // GET /v1/products/{id}/inventory
};

class ProductCache {
 public:
  explicit ProductCache(std::size_t max_entries) : entries_(max_entries) {}

  // The entry for `id` if it was confirmed current at database write generation `generation`
  // (Database::write_generation(), read before calling): nothing has been written since, so it
  // is served without asking the database. Null otherwise.
  std::shared_ptr<const RenderedProduct> find_unchanged(std::string_view id,
                                                        std::uint64_t generation) {
    std::shared_ptr<const RenderedProduct> found;
    const std::int64_t now = tick();
    entries_.with(id, now, [&](Slot& slot) {
      if (!slot.rendered || slot.confirmed_at == 0 || slot.confirmed_at != generation) return;
      // Eviction needs only a rough order: an entry read in the last few milliseconds is not
      // stamped again, so a product read by every I/O thread is not a line they all write.
      if (now - slot.last_use >= kUseResolutionUs) slot.last_use = now;
      found = slot.rendered;
    });
    return found;
  }

  // The entry for `id` if it was rendered from exactly `current` (a Stamp read after
  // `generation`); the entry is then confirmed current at `generation`. Null otherwise.
  std::shared_ptr<const RenderedProduct> find(std::string_view id, const Stamp& current,
                                              std::uint64_t generation) {
    std::shared_ptr<const RenderedProduct> found;
    const std::int64_t now = tick();
    entries_.with(id, now, [&](Slot& slot) {
      slot.last_use = now;
      if (!slot.rendered || slot.rendered->stamp != current) return;
      found = slot.rendered;
      slot.confirmed_at = std::max(slot.confirmed_at, generation);
    });
    return found;
  }

  // Keeps `rendered` (read after write generation `confirmed_at`; 0 = not confirmed, the next
  // reader checks its Stamp) unless the entry already holds a strictly newer state (a slower
  // reader must not replace what a faster one rendered from a later commit).
  void store(std::string_view id, std::shared_ptr<const RenderedProduct> rendered,
             std::uint64_t confirmed_at) {
    const std::int64_t now = tick();
    entries_.with(id, now, [&](Slot& slot) {
      if (slot.rendered && slot.rendered->stamp.newer_than(rendered->stamp)) return;
      slot.rendered = std::move(rendered);
      slot.confirmed_at = confirmed_at;
      slot.last_use = now;
    });
  }

  void forget(std::string_view id) {
    entries_.with(id, tick(), [](Slot& slot) { slot.rendered.reset(); });
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return entries_.capacity(); }

 private:
  struct Slot {
    std::shared_ptr<const RenderedProduct> rendered;
    std::uint64_t confirmed_at = 0;  // write generation at which `rendered` was known current
    std::int64_t last_use = 0;
    // Empty slots (misses for ids that do not exist, forgotten entries) are swept.
    bool idle_at(std::int64_t) const { return !rendered; }
    std::int64_t eviction_rank() const { return last_use; }
  };

  // How stale an entry's last use may be left by a read (find_unchanged).
  static constexpr std::int64_t kUseResolutionUs = 10'000;

  // Microseconds of a monotonic clock: eviction only needs an order, and no shared counter is
  // written by every reader.
  static std::int64_t tick() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  sdk::KeyShards<Slot> entries_;
};

}  // namespace portico::routes_products
