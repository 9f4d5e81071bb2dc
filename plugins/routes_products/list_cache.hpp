// Rendered partner list pages (GET /v1/products) kept in memory: per checked list request, the
// page body with its ETag and the database write generation read before the page was queried.
// A page is served only while the write generation still has that value — nothing has been
// written since, so a query would return the same rows — and is otherwise a miss: any write, by
// any plugin (stock reserved by an orders plugin included), retires every cached page at once,
// so a page can be missing but never served stale. Keyed by the request as checked (limit,
// position, filters), not by its raw text, and bounded (sdk::KeyShards, least recently read
// evicted), so distinct queries from a hostile caller cost a bounded amount of memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "list_query.hpp"
#include "representation.hpp"
#include "portico/sdk/key_shards.hpp"

namespace portico::routes_products {

// One answer of GET /v1/products, as sent.
using ListPage = Representation;

class ListPageCache {
 public:
  // Pages kept: every partner's first pages and popular filters fit; each page is at most
  // kMaxLimit products.
  static constexpr std::size_t kDefaultPages = 1024;

  explicit ListPageCache(std::size_t max_pages = kDefaultPages) : pages_(max_pages) {}

  // The canonical text of a checked request: two requests share a key exactly when they ask for
  // the same page (whatever the order of their parameters or the cursor's bytes). Every part is
  // length-prefixed: filter values may hold any character, the separators of filter_key()
  // included, and two different requests must never meet on one key.
  static std::string key_of(const ListRequest& request) {
    std::string key = std::to_string(request.query.limit);
    auto text = [&key](std::string_view value) {
      key += '|';
      key += std::to_string(value.size());
      key += ':';
      key += value;
    };
    text(request.after);
    for (const auto* filter : {&request.query.category, &request.query.status, &request.query.q,
                               &request.query.updated_since}) {
      if (*filter) {
        text(**filter);
      } else {
        key += "|-";
      }
    }
    return key;
  }

  // The page under `key` if it was queried at write generation `generation`
  // (Database::write_generation(), read right before calling); null otherwise.
  std::shared_ptr<const ListPage> find(std::string_view key, std::uint64_t generation) {
    std::shared_ptr<const ListPage> found;
    const std::int64_t now = tick();
    pages_.with(key, now, [&](Slot& slot) {
      if (!slot.page) return;
      if (slot.generation != generation) {
        // Written since: generations only grow, so this page can never be served again; drop it
        // now (its slot becomes idle and is swept) rather than keep it until it is evicted.
        if (slot.generation < generation) slot.page.reset();
        return;
      }
      slot.last_use = now;
      found = slot.page;
    });
    return found;
  }

  // Keeps `page`, queried after reading write generation `generation`. A write that landed while
  // the page was queried has moved the generation already, so such a page is never served. A
  // slower reader does not replace a page queried at a later generation.
  void store(std::string_view key, std::shared_ptr<const ListPage> page, std::uint64_t generation) {
    const std::int64_t now = tick();
    pages_.with(key, now, [&](Slot& slot) {
      if (slot.page && slot.generation > generation) return;
      slot.page = std::move(page);
      slot.generation = generation;
      slot.last_use = now;
    });
  }

  std::size_t size() const { return pages_.size(); }
  std::size_t capacity() const { return pages_.capacity(); }

 private:
  struct Slot {
    std::shared_ptr<const ListPage> page;
    std::uint64_t generation = 0;  // write generation read before `page` was queried
    std::int64_t last_use = 0;
    // Empty slots (lookups that missed, pages dropped as outdated) are swept.
    bool idle_at(std::int64_t) const { return !page; }
    std::int64_t eviction_rank() const { return last_use; }
  };

  // Microseconds of a monotonic clock, as in ProductCache: eviction only needs an order.
  static std::int64_t tick() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  sdk::KeyShards<Slot> pages_;
};

}  // namespace portico::routes_products
