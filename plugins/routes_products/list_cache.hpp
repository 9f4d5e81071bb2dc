// Rendered partner list pages (GET /v1/products) kept in memory: per checked list request, the
// page body with its ETag and the database write generation read before the page was queried.
// A page is served only while the write generation still has that value — nothing has been
// written since, so a query would return the same rows — and is otherwise a miss: any write, by
// any plugin (stock reserved by an orders plugin included), retires every cached page at once,
// so a page can be missing but never served stale. Keyed by the request as checked (limit,
// position, filters), not by its raw text, and bounded twice, so distinct queries from a hostile
// caller cost a bounded amount of memory: in pages (sdk::KeyShards, least recently read evicted)
// and in bytes — every kept page is charged its size against a budget, a page that would take
// more than the budget allows is answered without being kept, and a page no write generation can
// serve again is dropped by the next sweep of its shard.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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
  // Bytes of kept pages (their bodies and validators): a thousand pages of 20 products fit; a
  // page over an eighth of it (a hundred products with 16 KiB of attributes each) is never kept.
  static constexpr std::size_t kDefaultBytes = std::size_t{32} << 20;

  explicit ListPageCache(std::size_t max_pages = kDefaultPages,
                         std::size_t max_bytes = kDefaultBytes)
      : max_bytes_(max_bytes), pages_(max_pages) {}

  // What a page is charged: its body, its ETag and the fixed cost of its answer.
  static std::size_t charge_of(const ListPage& page) {
    return page.body().size() + page.etag().size() + sizeof(Response) + sizeof(ListPage);
  }

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
    note_generation(generation);
    pages_.with(key, now, [&](Slot& slot) {
      if (!slot.page) return;
      if (slot.generation != generation) {
        // Written since: generations only grow, so this page can never be served again; drop it
        // now (its slot becomes idle and is swept) rather than keep it until it is evicted.
        if (slot.generation < generation) slot.drop();
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
  // Whether it was kept: not when the budget has no room for it (the caller answers with it all
  // the same).
  bool store(std::string_view key, std::shared_ptr<const ListPage> page,
             std::uint64_t generation) {
    if (!page) return false;
    const std::size_t charge = charge_of(*page);
    if (charge > max_bytes_ / 8) return false;
    const std::int64_t now = tick();
    note_generation(generation);
    return pages_.with(key, now, [&](Slot& slot) {
      if (slot.page && slot.generation > generation) return false;
      slot.drop();  // the page it replaces gives its bytes back first
      if (!take(charge)) return false;
      slot.keep(std::move(page), charge, this);
      slot.generation = generation;
      slot.last_use = now;
      return true;
    });
  }

  std::size_t size() const { return pages_.size(); }
  std::size_t capacity() const { return pages_.capacity(); }
  // Bytes the kept pages are charged now, and the most they may be.
  std::size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  // A slot's page and what it was charged; the bytes go back whenever the page goes (dropped,
  // replaced, swept or evicted with its slot).
  struct Slot {
    Slot() = default;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // Moved within its shard (sdk::TextTable): the charge goes with the page.
    Slot(Slot&& other) noexcept
        : page(std::move(other.page)),
          charged(std::exchange(other.charged, 0)),
          owner(std::exchange(other.owner, nullptr)),
          generation(other.generation),
          last_use(other.last_use) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() { drop(); }

    void keep(std::shared_ptr<const ListPage> kept, std::size_t charge, ListPageCache* cache) {
      page = std::move(kept);
      charged = charge;
      owner = cache;
    }
    void drop() {
      if (owner) owner->give_back(charged);
      page.reset();
      charged = 0;
      owner = nullptr;
    }

    std::shared_ptr<const ListPage> page;
    std::size_t charged = 0;
    ListPageCache* owner = nullptr;  // set while `page` is charged to it
    std::uint64_t generation = 0;    // write generation read before `page` was queried
    std::int64_t last_use = 0;
    // Empty slots (lookups that missed, pages dropped as outdated) are swept, and so are pages a
    // later write generation has been seen for: no request can be served them again.
    bool idle_at(std::int64_t) const {
      return !page || generation < owner->latest_generation_.load(std::memory_order_relaxed);
    }
    std::int64_t eviction_rank() const { return last_use; }
  };

  // Charges `charge` bytes if the budget has room for them.
  bool take(std::size_t charge) {
    std::size_t used = bytes_.load(std::memory_order_relaxed);
    do {
      if (charge > max_bytes_ - std::min(used, max_bytes_)) return false;
    } while (!bytes_.compare_exchange_weak(used, used + charge, std::memory_order_relaxed));
    return true;
  }
  void give_back(std::size_t charge) { bytes_.fetch_sub(charge, std::memory_order_relaxed); }

  void note_generation(std::uint64_t generation) {
    std::uint64_t latest = latest_generation_.load(std::memory_order_relaxed);
    while (latest < generation && !latest_generation_.compare_exchange_weak(
                                      latest, generation, std::memory_order_relaxed)) {
    }
  }

  // Microseconds of a monotonic clock, as in ProductCache: eviction only needs an order.
  static std::int64_t tick() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  const std::size_t max_bytes_;
  std::atomic<std::size_t> bytes_{0};
  std::atomic<std::uint64_t> latest_generation_{0};  // the highest generation asked or stored at
  sdk::KeyShards<Slot> pages_;  // last: its slots give their bytes back to the members above
};

}  // namespace portico::routes_products
