// TextTable: text keys to State by open addressing, for KeyShards' shards. Each slot holds the
// key's hash, the key and the state inline, in one array (linear probing, at most 3/4 full), so a
// lookup of a key that is not in the cache reads one slot — where std::unordered_map reads the
// bucket array, then the node before the bucket's first, then the node: three dependent loads,
// each a cache miss on a table the request has not touched for a while (a product among
// thousands). An erased entry's followers are shifted back into its place (no tombstones), so
// lookups never probe past dead slots. Not thread-safe: KeyShards holds the shard's lock.
//
// State: default-constructible (a new key's state), move-constructible (growth and erasure move
// entries; the moved-from state is then destroyed).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/sdk/text_key.hpp"

namespace portico::sdk {

template <class State>
class TextTable {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The state of `key`, or null.
  State* find(const HashedText& key) {
    if (size_ == 0) return nullptr;
    for (std::size_t i = key.hash & mask_;; i = (i + 1) & mask_) {
      auto& slot = slots_[i];
      if (!slot) return nullptr;
      if (slot->hash == key.hash && same_text(slot->key, key.text)) return &slot->state;
    }
  }

  // A new, default-constructed state for `key`, which must not be in the table.
  State& add(const HashedText& key) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    std::size_t i = key.hash & mask_;
    while (slots_[i]) i = (i + 1) & mask_;
    slots_[i].emplace(key.hash, key.text);
    ++size_;
    return slots_[i]->state;
  }

  // Erases every entry for which `erase(const std::string& key, const State&)` is true; returns
  // how many. `erase` may be asked twice about one entry that stays (the shift can move an entry
  // already asked about past the slot being looked at), so it must answer the same again.
  template <class Erase>
  std::size_t erase_if(Erase&& erase) {
    std::size_t erased = 0;
    for (std::size_t i = 0; i < slots_.size();) {
      auto& slot = slots_[i];
      if (slot && erase(std::as_const(slot->key), std::as_const(slot->state))) {
        erase_at(i);
        ++erased;
        continue;  // an entry may have moved into slot i: look at it too
      }
      ++i;
    }
    return erased;
  }

  // Runs `visit(const std::string& key, const State&)` for every entry.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const auto& slot : slots_) {
      if (slot) visit(slot->key, slot->state);
    }
  }

 private:
  struct Entry {
    Entry(std::size_t h, std::string_view k) : hash(h), key(k) {}
    std::size_t hash;
    std::string key;
    State state{};
  };

  void grow() {
    std::vector<std::optional<Entry>> old = std::move(slots_);
    slots_ = std::vector<std::optional<Entry>>(old.empty() ? 8 : old.size() * 2);
    mask_ = slots_.size() - 1;
    for (auto& slot : old) {
      if (!slot) continue;
      std::size_t i = slot->hash & mask_;
      while (slots_[i]) i = (i + 1) & mask_;
      slots_[i].emplace(std::move(*slot));
    }
  }

  // Empties slot `hole`, then moves back each following entry of the run that may sit there —
  // one whose home slot is not between the hole and it — so every entry stays reachable from its
  // home without crossing an empty slot.
  void erase_at(std::size_t hole) {
    slots_[hole].reset();
    --size_;
    for (std::size_t j = (hole + 1) & mask_; slots_[j]; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j]->hash & mask_;
      if (((j - home) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole].emplace(std::move(*slots_[j]));
        slots_[j].reset();
        hole = j;
      }
    }
  }

  std::vector<std::optional<Entry>> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace portico::sdk
