// KeyShards: per-key state (rate limiters, caches) in 64 independently locked shards, so requests
// for different keys rarely meet on a lock and no lock is global. Memory is bounded: idle entries
// are swept opportunistically, and a full shard evicts the entries whose loss matters least. Each
// shard's entries sit in one open-addressed array (TextTable): a key is found with the shard's
// line and one slot read.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "portico/sdk/text_key.hpp"
#include "portico/sdk/text_table.hpp"

namespace portico::sdk {

// State needs: `bool idle_at(std::int64_t now) const` (forgetting it changes no decision),
// `std::int64_t eviction_rank() const` (lowest evicted first when a shard is full), a default
// constructor (a new key's state) and a move constructor (entries move within the shard).
template <class State>
class KeyShards {
 public:
  static constexpr std::size_t kShards = 64;
  // A shard sweeps its idle entries after this many uses, or after as many uses as it has
  // entries if that is more, so a sweep costs O(1) per use when amortised.
  static constexpr std::size_t kMinSweepInterval = 256;

  // `max_keys` is a hard bound on tracked keys (split evenly over the shards, at least one each).
  explicit KeyShards(std::size_t max_keys)
      : per_shard_capacity_(std::max<std::size_t>(1, max_keys / kShards)) {}

  // Runs `use(State&)` under the lock of the key's shard, creating the state on first sight.
  template <class Use>
  decltype(auto) with(std::string_view key, std::int64_t now, Use&& use) {
    const HashedText hashed = hashed_text(key);  // for the shard and its map: once
    Shard& shard = shard_of(hashed.hash);
    std::lock_guard lock(shard.mutex);
    if (++shard.uses_since_sweep >= std::max(kMinSweepInterval, shard.states.size())) {
      sweep(shard, now);
    }
    State* state = shard.states.find(hashed);
    if (!state) {
      if (shard.states.size() >= per_shard_capacity_) make_room(shard, now);
      state = &shard.states.add(hashed);
    }
    return std::forward<Use>(use)(*state);
  }

  // Runs `visit(const std::string& key, const State&)` for every entry, holding one shard's lock
  // at a time: each entry is seen whole, but the shards are not one snapshot. Not for the hot path.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      shard.states.for_each(visit);
    }
  }

  // Not for the hot path: locks every shard in turn.
  std::size_t size() const {
    std::size_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.states.size();
    }
    return total;
  }
  std::uint64_t evictions() const {
    std::uint64_t total = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.evicted;
    }
    return total;
  }
  std::size_t capacity() const { return per_shard_capacity_ * kShards; }

 private:
  // Cache-line aligned so two busy shards never share a line.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    TextTable<State> states;
    std::size_t uses_since_sweep = 0;
    std::uint64_t evicted = 0;
  };

  Shard& shard_of(std::size_t hash) {
    // The top bits of a multiplicative mix: independent of the low bits the map buckets use.
    const std::uint64_t mixed = static_cast<std::uint64_t>(hash) * 0x9E3779B97F4A7C15ULL;
    return shards_[static_cast<std::size_t>(mixed >> 58)];
  }

  static void sweep(Shard& shard, std::int64_t now) {
    shard.uses_since_sweep = 0;
    shard.states.erase_if(
        [now](const std::string&, const State& state) { return state.idle_at(now); });
  }

  // Idle entries go first; if none, the lowest-ranked sixteenth (at least one) is evicted, so the
  // O(n) selection is paid once per n/16 new keys: the count-th lowest rank is found, then every
  // entry ranked below it goes, and as many ranked equal to it as make up the count.
  void make_room(Shard& shard, std::int64_t now) {
    sweep(shard, now);
    if (shard.states.size() < per_shard_capacity_) return;
    std::vector<std::int64_t> ranks;
    ranks.reserve(shard.states.size());
    shard.states.for_each(
        [&](const std::string&, const State& state) { ranks.push_back(state.eviction_rank()); });
    const std::size_t count = std::max<std::size_t>(1, ranks.size() / 16);
    const auto cut_at = ranks.begin() + static_cast<std::ptrdiff_t>(count - 1);
    std::nth_element(ranks.begin(), cut_at, ranks.end());
    const std::int64_t cut = *cut_at;
    std::size_t equal_left =
        count - static_cast<std::size_t>(std::count_if(
                    ranks.begin(), ranks.end(), [cut](std::int64_t rank) { return rank < cut; }));
    // A rank is asked again only of an entry that stays: below the cut it would have gone.
    shard.evicted += shard.states.erase_if([&](const std::string&, const State& state) {
      const std::int64_t rank = state.eviction_rank();
      if (rank < cut) return true;
      if (rank > cut || equal_left == 0) return false;
      --equal_left;
      return true;
    });
  }

  std::size_t per_shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace portico::sdk
