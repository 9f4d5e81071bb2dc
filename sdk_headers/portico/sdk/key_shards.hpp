// KeyShards: per-key state (rate limiters, caches) in 64 independently locked shards, so requests
// for different keys rarely meet on a lock and no lock is global. Memory is bounded: idle entries
// are swept opportunistically, and a full shard evicts the entries whose loss matters least.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "portico/sdk/text_key.hpp"

namespace portico::sdk {

// State needs: `bool idle_at(std::int64_t now) const` (forgetting it changes no decision) and
// `std::int64_t eviction_rank() const` (lowest evicted first when a shard is full).
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
    auto it = shard.states.find(hashed);
    if (it == shard.states.end()) {
      if (shard.states.size() >= per_shard_capacity_) make_room(shard, now);
      it = shard.states.try_emplace(std::string(key)).first;
    }
    return std::forward<Use>(use)(it->second);
  }

  // Runs `visit(const std::string& key, const State&)` for every entry, holding one shard's lock
  // at a time: each entry is seen whole, but the shards are not one snapshot. Not for the hot path.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      for (const auto& [key, state] : shard.states) visit(key, state);
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
  using StateMap = std::unordered_map<std::string, State, TextHash, TextEqual>;

  // Cache-line aligned so two busy shards never share a line.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    StateMap states;
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
    std::erase_if(shard.states, [now](const auto& entry) { return entry.second.idle_at(now); });
  }

  // Idle entries go first; if none, the lowest-ranked sixteenth (at least one) is evicted, so the
  // O(n) selection is paid once per n/16 new keys.
  void make_room(Shard& shard, std::int64_t now) {
    sweep(shard, now);
    if (shard.states.size() < per_shard_capacity_) return;
    using Ranked = std::pair<std::int64_t, typename StateMap::iterator>;
    std::vector<Ranked> ranked;
    ranked.reserve(shard.states.size());
    for (auto it = shard.states.begin(); it != shard.states.end(); ++it) {
      ranked.emplace_back(it->second.eviction_rank(), it);
    }
    const std::size_t count = std::max<std::size_t>(1, ranked.size() / 16);
    std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count - 1),
                     ranked.end(),
                     [](const Ranked& a, const Ranked& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < count; ++i) shard.states.erase(ranked[i].second);
    shard.evicted += count;
  }

  std::size_t per_shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace portico::sdk
